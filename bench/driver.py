"""A small driver for benchmark kernels: any interpreter's ipykernel, through jupyter_client.

jupyter_client starts the kernel and carries the shell channel; IOPub is read by
a thread of our own from a SUB socket with no high-water mark.  A kernel's IOPub
socket silently drops messages for a subscriber that falls 1,000 messages behind
(ZeroMQ's default limit on both ends), which a benchmark receiving tens of
megabytes on a busy machine would: here the kernel runs with no limit either
(``kernel_launcher.py``), ZeroMQ's I/O thread queues everything, and each message
is stamped with the time its frames arrived.

Each IOPub message becomes a :class:`Msg` record (type, parent, size of its
serialized frames as they came over the wire, arrival time); message bodies are
not kept, except the stdout and the latest text of each display of the cells sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

__all__ = ["Cell", "CellError", "Kernel", "LimitExceeded", "Msg", "kernel_env"]

MARKER = "@@bench-eval@@"
IGNORED = ("status", "execute_input")
"""IOPub message types that every cell produces alike: left out of output counts."""


class CellError(RuntimeError):
    """A cell sent by the benchmark failed in the kernel."""


class LimitExceeded(RuntimeError):
    """The kernel outgrew the memory allowed to it (see :meth:`Kernel.finish`)."""


@dataclass(frozen=True)
class Msg:
    """One IOPub message, as a record: its size is that of its frames after the signature
    (header, parent header, metadata, content, and binary buffers if any)."""

    msg_type: str
    parent: str | None
    nbytes: int
    received: float
    png: int = 0
    """Bytes of ``image/png`` data it carries (base64 text), 0 if none."""
    display_id: str | None = None
    """The display it shows or updates (``transient.display_id``), if any."""


@dataclass
class Cell:
    """One execute request: when it was sent, when its busy/idle statuses arrived."""

    msg_id: str
    code: str
    sent: float
    busy_at: float | None = None
    idle_at: float | None = None
    reply: dict[str, Any] | None = None
    stdout: list[str] = field(default_factory=list)
    displays: dict[str, str] = field(default_factory=dict)
    """The latest ``text/plain`` of each display (by display id) addressed to this cell."""

    @property
    def start_latency(self) -> float:
        """Seconds from sending the request to its ``busy`` status arriving."""
        assert self.busy_at is not None, "no busy status seen yet"
        return self.busy_at - self.sent


DELIM = b"<IDS|MSG>"


class _IOPubReader(threading.Thread):
    """Receives every IOPub message's frames, stamped with their arrival time, into a queue."""

    def __init__(self, url: str) -> None:
        super().__init__(name="bench-iopub", daemon=True)
        self.url = url
        self.frames: queue.SimpleQueue[tuple[float, list[bytes]]] = queue.SimpleQueue()
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        sock = zmq.Context.instance().socket(zmq.SUB)
        try:
            sock.setsockopt(zmq.RCVHWM, 0)  # no limit: never drop
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(self.url)
            self.ready.set()
            while not self.stopping.is_set():
                if sock.poll(50):
                    frames = sock.recv_multipart()
                    self.frames.put((time.monotonic(), frames))
        finally:
            sock.close()


def kernel_env(python: str) -> dict[str, str]:
    """This process's environment, adjusted to run ``python``'s virtual environment.

    Hatch activates the benchmark's own environment for this process; a kernel
    of another environment gets that one's ``bin`` first on PATH instead.
    """
    env = dict(os.environ)
    for key in ("PYTEST_CURRENT_TEST", "MPLBACKEND", "PYTHONPATH", "IGOGO_HEADLESS"):
        env.pop(key, None)
    venv = Path(python).parent.parent
    if (venv / "pyvenv.cfg").exists():
        old = env.get("VIRTUAL_ENV")
        parts = [p for p in env.get("PATH", "").split(os.pathsep) if p]
        if old:
            parts = [p for p in parts if Path(p) != Path(old) / "bin"]
        env["PATH"] = os.pathsep.join([str(venv / "bin"), *parts])
        env["VIRTUAL_ENV"] = str(venv)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


class Kernel:
    """An ipykernel run by ``python`` (any environment's interpreter), and a client.

    A temporary kernelspec points at that interpreter, which runs ipykernel through
    ``kernel_launcher.py`` (ZeroMQ without high-water marks: the kernel drops no
    IOPub message); a temporary IPython directory keeps the user's profile
    (startup files, extensions) out of it.
    """

    def __init__(self, python: str, name: str = "bench") -> None:
        self.python = python
        self.messages: list[Msg] = []
        self.cells: dict[str, Cell] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix=f"igogo-bench-{name}-")
        root = Path(self._tmp.name)
        spec_dir = root / "kernels" / name
        spec_dir.mkdir(parents=True)
        launcher = Path(__file__).resolve().with_name("kernel_launcher.py")
        spec = {
            "argv": [python, str(launcher), "-f", "{connection_file}"],
            "display_name": name,
            "language": "python",
            "interrupt_mode": "signal",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        ksm = KernelSpecManager(kernel_dirs=[str(root / "kernels")])
        self.km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
        env = kernel_env(python)
        env["IPYTHONDIR"] = str(root / "ipython")
        env["JUPYTER_RUNTIME_DIR"] = str(root / "runtime")
        self.log_path = root / "kernel.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in shutdown)
        self.km.start_kernel(env=env, cwd=str(root), stdout=self._log, stderr=self._log)
        self.kc = self.km.client()
        self.kc.start_channels()
        self._reader: _IOPubReader | None = None
        try:
            self.kc.wait_for_ready(timeout=120)
            # From here on IOPub is read by our own socket (see the module's docstring).
            self.kc.iopub_channel.stop()
            info = self.km.get_connection_info()
            if info["transport"] == "tcp":
                url = f"tcp://{info['ip']}:{info['iopub_port']}"
            else:
                url = f"{info['transport']}://{info['ip']}-{info['iopub_port']}"
            self._reader = _IOPubReader(url)
            self._reader.start()
            self._reader.ready.wait(10)
            self._subscribed()
        except BaseException as exc:
            tail = self.log_tail()
            self.shutdown()
            raise RuntimeError(f"kernel {python} did not start: {exc}\n{tail}") from exc
        self.drain(0.2)

    def _subscribed(self) -> None:
        """Ask for kernel info until its status messages reach our IOPub socket."""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            self.kc.kernel_info()
            if self._read_one(0.5):
                return
        raise TimeoutError("no IOPub message reached the benchmark's socket")

    @property
    def pid(self) -> int | None:
        prov = getattr(self.km, "provisioner", None)
        proc = getattr(prov, "process", None)
        return getattr(proc, "pid", None)

    def shutdown(self) -> None:
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.stopping.set()
            reader.join(2)
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            self._log.close()
        with contextlib.suppress(Exception):
            self._tmp.cleanup()

    def log_tail(self, chars: int = 2000) -> str:
        """The end of what the kernel process wrote to its stdout and stderr."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- reading ------------------------------------------------------------------------

    def _take(self, received: float, frames: list[bytes]) -> None:
        i = frames.index(DELIM)
        header, parent_header, _metadata, content = frames[i + 2 : i + 6]
        mtype = json.loads(header)["msg_type"]
        parent = json.loads(parent_header).get("msg_id")
        nbytes = sum(len(f) for f in frames[i + 2 :])  # the four parts and any buffers
        png = 0
        display_id = None
        body: dict[str, Any] | None = None
        if mtype in ("display_data", "update_display_data", "execute_result"):
            body = json.loads(content)
            png_data = body.get("data", {}).get("image/png")
            png = len(png_data) if isinstance(png_data, str) else 0
            display_id = (body.get("transient") or {}).get("display_id")
        self.messages.append(Msg(mtype, parent, nbytes, received, png, display_id))
        cell = self.cells.get(parent) if parent else None
        if cell is None or mtype not in ("status", "stream", "display_data",
                                         "update_display_data", "error"):  # fmt: skip
            return
        if body is None:
            body = json.loads(content)
        if mtype == "status":
            state = body["execution_state"]
            if state == "busy" and cell.busy_at is None:
                cell.busy_at = received
            elif state == "idle":
                cell.idle_at = received
        elif mtype == "stream" and body["name"] == "stdout":
            cell.stdout.append(body["text"])
        elif mtype in ("display_data", "update_display_data"):
            display_id = (body.get("transient") or {}).get("display_id")
            text = body.get("data", {}).get("text/plain")
            if display_id and isinstance(text, str):
                cell.displays[display_id] = text
        elif mtype == "error":
            cell.stdout.append("\n".join(body.get("traceback", [])))

    def _read_one(self, timeout: float) -> bool:
        if self._reader is None:
            return False
        try:
            received, frames = self._reader.frames.get(timeout=timeout)
        except queue.Empty:
            return False
        self._take(received, frames)
        return True

    def drain(self, quiet: float = 0.1, limit: float = 60.0) -> None:
        """Read IOPub until nothing arrives for ``quiet`` seconds (at most ``limit`` s)."""
        end = time.monotonic() + limit
        while time.monotonic() < end and self._read_one(quiet):
            pass

    def pump(self, seconds: float) -> None:
        """Keep reading IOPub for ``seconds`` (so that arrival times stay accurate)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._read_one(min(left, 0.05))

    def rss(self) -> int | None:
        """The kernel process's resident memory in bytes (None if unknown)."""
        pid = self.pid
        if pid is None:
            return None
        try:
            import psutil

            return int(psutil.Process(pid).memory_info().rss)
        except Exception:
            return None

    def wait_until(
        self, predicate: Callable[[], object], timeout: float, rss_limit: int | None = None
    ) -> None:
        """Read IOPub until ``predicate()``; past ``timeout`` s raise TimeoutError.

        With ``rss_limit``, the kernel's memory is checked twice a second and
        :class:`LimitExceeded` raised as soon as it is above.
        """
        end = time.monotonic() + timeout
        next_check = 0.0
        while not predicate():
            now = time.monotonic()
            if now > end:
                raise TimeoutError(f"not done within {timeout:g} s")
            if rss_limit is not None and now >= next_check:
                next_check = now + 0.5
                rss = self.rss()
                if rss is not None and rss > rss_limit:
                    raise LimitExceeded(
                        f"kernel memory {rss / 2**30:.2f} GiB > limit {rss_limit / 2**30:.2f} GiB"
                    )
            self._read_one(0.02)

    # -- executing ----------------------------------------------------------------------

    def send(self, code: str) -> Cell:
        """Send an execute request without waiting for it."""
        msg_id = self.kc.execute(code, store_history=True)
        cell = self.cells[msg_id] = Cell(msg_id, code, time.monotonic())
        return cell

    def finish(self, cell: Cell, timeout: float = 120.0, rss_limit: int | None = None) -> Cell:
        """Wait for ``cell``'s idle status and its reply; raise :class:`CellError` if it failed."""
        end = time.monotonic() + timeout
        self.wait_until(lambda: cell.idle_at is not None, timeout, rss_limit)
        while cell.reply is None:
            try:
                reply = self.kc.get_shell_msg(timeout=max(end - time.monotonic(), 1.0))
            except queue.Empty:
                raise TimeoutError(f"no reply within {timeout:g} s") from None
            target = self.cells.get(reply["parent_header"].get("msg_id"))
            if target is not None:
                target.reply = reply
        content = cell.reply["content"]
        if content["status"] != "ok":
            detail = "\n".join(content.get("traceback", [])) or str(content)
            raise CellError(f"cell failed: {cell.code[:300]!r}\n{detail}")
        return cell

    def run(self, code: str, timeout: float = 120.0, rss_limit: int | None = None) -> Cell:
        return self.finish(self.send(code), timeout, rss_limit)

    def eval(self, expr: str, timeout: float = 120.0) -> Any:
        """The value of ``expr`` in the kernel, passed back as JSON through stdout."""
        code = (
            f"import json as _bench_json\nprint({MARKER!r} + _bench_json.dumps({expr}), flush=True)"
        )
        cell = self.run(code, timeout)
        self.drain(0.02)
        text = "".join(cell.stdout)
        if MARKER not in text:
            raise CellError(f"no value printed for {expr!r}: {text[:300]!r}")
        return json.loads(text[text.index(MARKER) + len(MARKER) :].strip().splitlines()[0])

    # -- what arrived ---------------------------------------------------------------------

    def since(self, t0: float, t1: float | None = None) -> Iterator[Msg]:
        """Messages that arrived in ``[t0, t1]``."""
        for m in self.messages:
            if m.received >= t0 and (t1 is None or m.received <= t1):
                yield m
