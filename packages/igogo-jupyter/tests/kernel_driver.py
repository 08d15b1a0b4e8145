"""A small driver for real ipykernel kernels started through jupyter_client."""

from __future__ import annotations

import contextlib
import queue
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Execution:
    """One execute request: its id, its reply, and when it started and ended."""

    msg_id: str
    sent: float
    reply: dict[str, Any] | None = None
    busy_at: float | None = None
    idle_at: float | None = None


@dataclass
class KernelDriver:
    km: KernelManager
    kc: Any
    messages: list[dict[str, Any]] = field(default_factory=list)
    executions: dict[str, Execution] = field(default_factory=dict)

    @classmethod
    def start(cls, extra_env: dict[str, str] | None = None) -> KernelDriver:
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=extra_env) if extra_env else km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        return cls(km, kc)

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

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

    def drain(self, timeout: float = 0.05) -> None:
        """Read every IOPub message until none arrives for ``timeout`` seconds."""
        while True:
            try:
                self._take(self.kc.get_iopub_msg(timeout=timeout))
            except queue.Empty:
                return

    def wait_until(self, predicate: Any, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("condition not met in time")
            with contextlib.suppress(queue.Empty):
                self._take(self.kc.get_iopub_msg(timeout=0.05))

    # -- executing ------------------------------------------------------------------------

    def send(self, code: str) -> Execution:
        msg_id = self.kc.execute(code)
        ex = self.executions[msg_id] = Execution(msg_id, time.monotonic())
        return ex

    def finish(self, ex: Execution, timeout: float = 60.0) -> Execution:
        end = time.monotonic() + timeout
        while ex.reply is None:
            try:
                reply = self.kc.get_shell_msg(timeout=max(end - time.monotonic(), 0.01))
            except queue.Empty:
                raise TimeoutError(f"no reply to {ex.msg_id}") from None
            target = self.executions.get(reply["parent_header"].get("msg_id"))
            if target is not None:
                target.reply = reply
        self.wait_until(lambda: ex.idle_at is not None, timeout)
        return ex

    def run(self, code: str, timeout: float = 60.0, ok: bool = True) -> Execution:
        ex = self.finish(self.send(code), timeout)
        if ok:
            assert ex.reply is not None
            content = ex.reply["content"]
            assert content["status"] == "ok", "\n".join(content.get("traceback", [])) or content
        return ex

    def eval(self, expr: str) -> Any:
        """The value of ``expr`` in the kernel, read back through a printed repr."""
        import ast

        ex = self.run(f"print(repr({expr}))")
        return ast.literal_eval(self.stdout(ex).strip())

    # -- what a cell shows -------------------------------------------------------------------

    def outputs(
        self,
        ex: Execution,
        types: tuple[str, ...] = (
            "stream",
            "display_data",
            "update_display_data",
            "execute_result",
            "error",
            "clear_output",
        ),
    ) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages
            if m["parent_header"].get("msg_id") == ex.msg_id and m["msg_type"] in types
        ]

    def stdout(self, ex: Execution, name: str = "stdout") -> str:
        return "".join(
            m["content"]["text"]
            for m in self.outputs(ex, ("stream",))
            if m["content"]["name"] == name
        )
