"""The kernel driver: one real ipykernel, started through jupyter_client, and what it sent.

See the package's docstring (``igogo_jupyter.testing``) for why it is built this way.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

Message = dict[str, Any]
"""An IOPub message as jupyter_client's session deserializes it, plus ``_received``
(``time.monotonic()`` when it was read) and ``_bytes`` (its frames' size on the wire)."""

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
OUTPUT_TYPES = (
    "stream",
    "display_data",
    "update_display_data",
    "execute_result",
    "error",
    "clear_output",
)
LAUNCHER = Path(__file__).with_name("_launcher.py")
# Variables of the driving process that a kernel must not inherit: pytest's, and for a kernel
# of another environment, those that would point it at this one's modules or settings.
_DROPPED_ENV = ("PYTEST_CURRENT_TEST",)
_DROPPED_ENV_ELSEWHERE = ("MPLBACKEND", "PYTHONPATH", "IGOGO_HEADLESS")


def kernel_time(msg: Message) -> float:
    """When the kernel made ``msg`` (its header's date), in seconds since the epoch.

    Use it to order messages on the kernel's clock: arrival times here depend
    on when the caller happened to read them.
    """
    date = msg["header"]["date"]
    if isinstance(date, str):  # jupyter_client normally parses it already
        date = datetime.fromisoformat(date.replace("Z", "+00:00"))
    return float(date.timestamp())


def _kernel_env(python: str, extra: dict[str, str] | None) -> dict[str, str]:
    """This process's environment, adjusted so that ``python``'s virtual environment runs.

    jupyter_client would otherwise give the kernel *only* the variables passed.  A
    kernel of another virtual environment gets that one's ``bin`` first on PATH.
    """
    dropped = _DROPPED_ENV + (_DROPPED_ENV_ELSEWHERE if python != sys.executable else ())
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    venv = Path(python).parent.parent
    if (venv / "pyvenv.cfg").exists() and Path(env.get("VIRTUAL_ENV", "")) != venv:
        old = env.get("VIRTUAL_ENV")
        parts = [p for p in env.get("PATH", "").split(os.pathsep) if p]
        if old:
            parts = [p for p in parts if Path(p) != Path(old) / "bin"]
        env["PATH"] = os.pathsep.join([str(venv / "bin"), *parts])
        env["VIRTUAL_ENV"] = str(venv)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.update(extra or {})
    return env


@dataclass
class Execution:
    """One execute request: its id, its reply, and when it started and ended.

    ``busy_at`` is when the kernel's ``busy`` status for this request arrived
    here: ``busy_at - sent`` is how long the kernel took to start the cell.
    """

    msg_id: str
    sent: float
    code: str = ""
    reply: Message | None = None
    busy_at: float | None = None
    idle_at: float | None = None

    @property
    def status(self) -> str | None:
        return None if self.reply is None else str(self.reply["content"]["status"])

    @property
    def start_latency(self) -> float:
        assert self.busy_at is not None, "no busy status seen yet"
        return self.busy_at - self.sent


@dataclass
class KernelDriver:
    """A started kernel and its client; every IOPub message read is kept in ``messages``."""

    km: KernelManager
    kc: Any
    messages: list[Message] = field(default_factory=list)
    executions: dict[str, Execution] = field(default_factory=dict)
    control_replies: dict[str, Message] = field(default_factory=dict)
    home: Path | None = None
    """The kernel's private directory (kernelspec, IPython profile), removed at shutdown."""

    @classmethod
    def start(
        cls,
        extra_env: dict[str, str] | None = None,
        *,
        python: str | None = None,
        timeout: float = 60.0,
    ) -> KernelDriver:
        """Start an ipykernel run by ``python`` (default: this interpreter) and connect to it.

        ``extra_env`` is added to this process's environment.  The kernel runs through
        ``_launcher.py`` (ZeroMQ without high-water marks), with a private IPython
        directory, so the user's profile and startup files stay out of it; ``python``
        may be any environment's interpreter that has ipykernel.
        """
        python = python or sys.executable
        home = Path(tempfile.mkdtemp(prefix="igogo-kernel-"))
        spec_dir = home / "kernels" / "igogo-testing"
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [python, str(LAUNCHER), "-f", "{connection_file}"],
            "display_name": "igogo-testing",
            "language": "python",
            "interrupt_mode": "signal",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        ksm = KernelSpecManager(kernel_dirs=[str(home / "kernels")])
        km = KernelManager(kernel_name="igogo-testing", kernel_spec_manager=ksm)
        env = _kernel_env(python, extra_env)
        env.setdefault("IPYTHONDIR", str(home / "ipython"))
        env["IGOGO_TESTING_STACKS"] = str(home / "stacks.txt")
        try:
            km.start_kernel(env=env)
        except BaseException:
            shutil.rmtree(home, ignore_errors=True)
            raise
        kc = km.client()
        kc.context.setsockopt(zmq.RCVHWM, 0)  # our end never drops a message either
        kc.start_channels()
        driver = cls(km, kc, home=home)
        try:
            kc.wait_for_ready(timeout=timeout)
        except BaseException:
            driver.shutdown()
            raise
        return driver

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)

    def stacks(self) -> str:
        """Where each of the kernel's threads is now, as a stall report ("" if unknown).

        The kernel writes its threads' stacks (:mod:`faulthandler`) when sent ``SIGUSR1``.
        """
        pid, home = self.pid, self.home
        if pid is None or home is None or not self.is_alive():
            return ""
        path = home / "stacks.txt"
        with contextlib.suppress(OSError):
            before = path.stat().st_size if path.exists() else 0
            os.kill(pid, signal.SIGUSR1)
            end = time.monotonic() + 2
            while time.monotonic() < end:
                time.sleep(0.1)
                if path.exists() and path.stat().st_size > before:
                    time.sleep(0.2)  # let it finish writing
                    return "\nthe kernel's threads:\n" + path.read_bytes()[before:].decode(
                        errors="replace"
                    )
        return ""

    def is_alive(self) -> bool:
        return bool(self.km.is_alive())

    @property
    def pid(self) -> int | None:
        """The kernel process's id (None if unknown)."""
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        pid = getattr(proc, "pid", None)
        return pid if isinstance(pid, int) else None

    # -- reading ------------------------------------------------------------------------

    def _read_iopub(self, timeout: float) -> bool:
        """Read one IOPub message (waiting up to ``timeout`` s); False if none came."""
        sock = self.kc.iopub_channel.socket
        if not sock.poll(int(timeout * 1000)):
            return False
        received = time.monotonic()
        _idents, parts = self.kc.session.feed_identities(sock.recv_multipart())
        msg: Message = self.kc.session.deserialize(parts)
        msg["_received"] = received
        # After the signature: header, parent header, metadata, content, buffers.
        msg["_bytes"] = sum(len(p) for p in parts[1:])
        self._take(msg)
        return True

    def _take(self, msg: Message) -> None:
        self.messages.append(msg)
        ex = self.executions.get(msg["parent_header"].get("msg_id"))
        if ex is not None and msg["msg_type"] == "status":
            state = msg["content"]["execution_state"]
            if state == "busy" and ex.busy_at is None:
                ex.busy_at = msg["_received"]
            elif state == "idle":
                ex.idle_at = msg["_received"]

    def _read_shell(self, timeout: float) -> bool:
        try:
            reply = self.kc.get_shell_msg(timeout=timeout)
        except Exception:  # queue.Empty
            return False
        target = self.executions.get(reply["parent_header"].get("msg_id"))
        if target is not None:
            target.reply = reply
        return True

    def drain(self, timeout: float = 0.05, limit: float = 120.0) -> None:
        """Read IOPub until none arrives for ``timeout`` seconds (at most ``limit`` s)."""
        end = time.monotonic() + limit
        while self._read_iopub(timeout) and time.monotonic() < end:
            pass

    def pump(self, seconds: float) -> None:
        """Keep reading IOPub for ``seconds`` (so arrival times stay accurate)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._read_iopub(min(left, 0.05))

    def wait_until(self, predicate: Callable[[], object], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("condition not met in time")
            self._read_iopub(0.02)

    # -- executing ------------------------------------------------------------------------

    def send(self, code: str, subshell_id: str | None = None) -> Execution:
        """Send an execute request without waiting; ``finish`` waits for it."""
        if subshell_id is None:
            msg_id = str(self.kc.execute(code))
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
            raise TimeoutError(
                f"{ex.code[:300]!r} did not finish in {timeout} s{self.stacks()}"
            ) from None
        while ex.reply is None:
            if not self._read_shell(max(end - time.monotonic(), 1.0)):
                raise TimeoutError(f"no reply to {ex.code[:300]!r} in {timeout} s")
        return ex

    def run(self, code: str, timeout: float = 60.0, ok: bool = True) -> Execution:
        """Execute ``code`` and wait for it; with ``ok``, fail unless it succeeded."""
        ex = self.finish(self.send(code), timeout)
        if ok:
            assert ex.reply is not None
            content = ex.reply["content"]
            if content["status"] != "ok":
                detail = "\n".join(content.get("traceback", [])) or str(content)
                raise AssertionError(f"cell failed: {code[:300]!r}\n{detail}")
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

    def of(self, ex: Execution) -> Iterator[Message]:
        """Every IOPub message addressed to ``ex``'s cell, in arrival order."""
        return (m for m in self.messages if m["parent_header"].get("msg_id") == ex.msg_id)

    def outputs(
        self, ex: Execution, types: tuple[str, ...] = OUTPUT_TYPES, widgets: bool = False
    ) -> list[Message]:
        """The output messages addressed to ``ex``'s cell, in arrival order.

        Displays of widgets (the control row igogo shows for each job it starts) are
        left out unless ``widgets``: tests of what jobs print and display see only that.
        """
        return [
            m
            for m in self.of(ex)
            if m["msg_type"] in types
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
        for m in self.of(ex):
            if m["msg_type"] == "status" and m["content"]["execution_state"] == state:
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
        """Bytes of ``ex``'s IOPub messages as they came over the wire (all parts but the
        signature: header, parent header, metadata, content and any buffers)."""
        return sum(int(m["_bytes"]) for m in self.of(ex))


@contextlib.contextmanager
def running_kernel(setup: str = "", **start: Any) -> Iterator[KernelDriver]:
    """A newly started kernel in which ``setup`` ran (if given); shut down on exit.

    ``start`` is passed to :meth:`KernelDriver.start` (``extra_env``, ``python``).
    """
    driver = KernelDriver.start(**start)
    try:
        if setup:
            driver.run(setup)
        yield driver
    finally:
        driver.shutdown()
