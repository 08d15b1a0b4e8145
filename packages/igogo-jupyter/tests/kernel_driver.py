"""A small driver for real ipykernel kernels started through jupyter_client.

Every IOPub message read is kept (``KernelDriver.messages``, stamped with the
monotonic time it arrived) so tests can check, long after the fact, which cell
(execute request) each output was addressed to.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
OUTPUT_TYPES = (
    "stream",
    "display_data",
    "update_display_data",
    "execute_result",
    "error",
    "clear_output",
)


def kernel_time(msg: dict[str, Any]) -> float:
    """When the kernel made ``msg`` (its header's date), in seconds since the epoch.

    Use it to order messages on the kernel's clock: arrival times here depend
    on when the test happened to read them.
    """
    date = msg["header"]["date"]
    if isinstance(date, str):  # jupyter_client normally parses it already
        from datetime import datetime

        date = datetime.fromisoformat(date.replace("Z", "+00:00"))
    return float(date.timestamp())


@dataclass
class Execution:
    """One execute request: its id, its reply, and when it started and ended.

    ``busy_at`` is when the kernel's ``busy`` status for this request arrived
    here: ``busy_at - sent`` is how long the kernel took to start the cell.
    """

    msg_id: str
    sent: float
    code: str = ""
    reply: dict[str, Any] | None = None
    busy_at: float | None = None
    idle_at: float | None = None

    @property
    def status(self) -> str | None:
        return None if self.reply is None else self.reply["content"]["status"]

    @property
    def start_latency(self) -> float:
        assert self.busy_at is not None, "no busy status seen yet"
        return self.busy_at - self.sent


@dataclass
class KernelDriver:
    km: KernelManager
    kc: Any
    messages: list[dict[str, Any]] = field(default_factory=list)
    executions: dict[str, Execution] = field(default_factory=dict)
    control_replies: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def start(cls, extra_env: dict[str, str] | None = None) -> KernelDriver:
        """Start a ``python3`` kernel (this interpreter's ipykernel) and connect to it.

        ``extra_env`` is added to this process's environment (jupyter_client
        would otherwise give the kernel *only* the variables passed).
        """
        km = KernelManager(kernel_name="python3")
        env = dict(os.environ)
        # The kernel must not inherit pytest's or hatch's view of the terminal.
        env.pop("PYTEST_CURRENT_TEST", None)
        env.update(extra_env or {})
        km.start_kernel(env=env)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
        except BaseException:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            raise
        return cls(km, kc)

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def is_alive(self) -> bool:
        return bool(self.km.is_alive())

    # -- reading ------------------------------------------------------------------------

    def _take(self, msg: dict[str, Any]) -> None:
        msg["_received"] = time.monotonic()
        self.messages.append(msg)
        parent = msg["parent_header"].get("msg_id")
        ex = self.executions.get(parent)
        if ex is not None and msg["msg_type"] == "status":
            state = msg["content"]["execution_state"]
            if state == "busy" and ex.busy_at is None:
                ex.busy_at = msg["_received"]
            elif state == "idle":
                ex.idle_at = msg["_received"]

    def _read_shell(self, timeout: float) -> bool:
        try:
            reply = self.kc.get_shell_msg(timeout=timeout)
        except queue.Empty:
            return False
        target = self.executions.get(reply["parent_header"].get("msg_id"))
        if target is not None:
            target.reply = reply
        return True

    def drain(self, timeout: float = 0.05) -> None:
        """Read every IOPub message until none arrives for ``timeout`` seconds."""
        while True:
            try:
                self._take(self.kc.get_iopub_msg(timeout=timeout))
            except queue.Empty:
                return

    def pump(self, seconds: float) -> None:
        """Keep reading IOPub for ``seconds`` (so arrival times stay accurate)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                self._take(self.kc.get_iopub_msg(timeout=min(left, 0.05)))

    def wait_until(self, predicate: Callable[[], object], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("condition not met in time")
            with contextlib.suppress(queue.Empty):
                self._take(self.kc.get_iopub_msg(timeout=0.02))

    # -- executing ------------------------------------------------------------------------

    def send(self, code: str, subshell_id: str | None = None) -> Execution:
        """Send an execute request without waiting; ``finish`` waits for it."""
        if subshell_id is None:
            msg_id = self.kc.execute(code)
        else:
            content = {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            }
            msg = self.kc.session.msg("execute_request", content)
            msg["header"]["subshell_id"] = subshell_id
            self.kc.shell_channel.send(msg)
            msg_id = msg["header"]["msg_id"]
        ex = self.executions[msg_id] = Execution(msg_id, time.monotonic(), code)
        return ex

    def finish(self, ex: Execution, timeout: float = 60.0) -> Execution:
        """Wait for the ``idle`` status and the reply of ``ex``.

        Only IOPub is read until ``idle`` (the kernel sends the reply before
        it), blocking on that socket alone: arrival times stay accurate to well
        under a millisecond.
        """
        end = time.monotonic() + timeout
        try:
            self.wait_until(lambda: ex.idle_at is not None, timeout)
        except TimeoutError:
            raise TimeoutError(f"{ex.code!r} did not finish in {timeout} s") from None
        while ex.reply is None:
            if not self._read_shell(max(end - time.monotonic(), 1.0)):
                raise TimeoutError(f"no reply to {ex.code!r} in {timeout} s")
        return ex

    def run(self, code: str, timeout: float = 60.0, ok: bool = True) -> Execution:
        """Execute ``code`` and wait for it; with ``ok``, fail unless it succeeded."""
        ex = self.finish(self.send(code), timeout)
        if ok:
            assert ex.reply is not None
            content = ex.reply["content"]
            if content["status"] != "ok":
                detail = "\n".join(content.get("traceback", [])) or str(content)
                raise AssertionError(f"cell failed: {code!r}\n{detail}")
        return ex

    def eval(self, expr: str, timeout: float = 60.0) -> Any:
        """The value of ``expr`` in the kernel, read back through a printed repr."""
        marker = "@@igogo-eval@@"
        ex = self.run(f"print({marker!r} + repr({expr}))", timeout)
        text = self.stdout(ex)
        return ast.literal_eval(text[text.index(marker) + len(marker) :].strip())

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def control(self, msg_type: str, content: dict[str, Any], timeout: float = 10.0) -> Any:
        """Send a control request and return its reply's content."""
        msg = self.kc.session.msg(msg_type, content)
        self.kc.control_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        end = time.monotonic() + timeout
        while msg_id not in self.control_replies:
            reply = self.kc.control_channel.get_msg(timeout=max(end - time.monotonic(), 0.01))
            self.control_replies[reply["parent_header"].get("msg_id")] = reply
        return self.control_replies.pop(msg_id)["content"]

    # -- what a cell shows -------------------------------------------------------------------

    def outputs(
        self, ex: Execution, types: tuple[str, ...] = OUTPUT_TYPES, widgets: bool = False
    ) -> list[dict[str, Any]]:
        """The output messages addressed to ``ex``'s cell, in arrival order.

        Displays of widgets (the control row igogo shows for each job it starts) are
        left out unless ``widgets``: tests of what jobs print and display see only that.
        """
        return [
            m
            for m in self.messages
            if m["parent_header"].get("msg_id") == ex.msg_id
            and m["msg_type"] in types
            and (widgets or WIDGET_MIME not in m["content"].get("data", ()))
        ]

    def stdout(self, ex: Execution, name: str = "stdout") -> str:
        return "".join(
            m["content"]["text"]
            for m in self.outputs(ex, ("stream",))
            if m["content"]["name"] == name
        )

    def status_time(self, ex: Execution, state: str) -> float:
        """Kernel time of ``ex``'s ``busy`` or ``idle`` status (see :func:`kernel_time`)."""
        for m in self.messages:
            if (
                m["msg_type"] == "status"
                and m["parent_header"].get("msg_id") == ex.msg_id
                and m["content"]["execution_state"] == state
            ):
                return kernel_time(m)
        raise LookupError(f"no {state!r} status for {ex.code!r} yet")

    def errors(self, ex: Execution) -> list[dict[str, Any]]:
        """The contents of the ``error`` messages in ``ex``'s cell."""
        return [m["content"] for m in self.outputs(ex, ("error",))]

    def texts(self, ex: Execution) -> list[str]:
        """The ``text/plain`` of every display message in ``ex``'s cell."""
        return [
            m["content"]["data"].get("text/plain", "")
            for m in self.outputs(ex, ("display_data", "update_display_data", "execute_result"))
        ]

    def wire_bytes(self, ex: Execution) -> int:
        """Serialized size (header, parent header, metadata, content) of ``ex``'s IOPub messages."""
        return sum(
            len(json.dumps(m[part], default=str))
            for m in self.messages
            if m["parent_header"].get("msg_id") == ex.msg_id
            for part in ("header", "parent_header", "metadata", "content")
        )
