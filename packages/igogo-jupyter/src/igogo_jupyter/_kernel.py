"""Every use of ipykernel internals, with the shims between its versions.

Supported: ipykernel 6.29+ and 7.x.  What differs, and why it matters:

* ipykernel 7 keeps the parent header (the request a message answers) of the
  output streams, the display publisher, the display hook and the shell in
  ContextVars.  A job's greenlet runs in a copy of the context of the cell that
  started it, so everything it prints or displays is addressed to that cell
  with no further work.
* Requests reach the main thread's loop on one ZeroMQ socket: on ipykernel 6
  the shell socket itself, on ipykernel 7 the inproc pair its shell channel
  thread forwards them on (:meth:`KernelBridge.request_fds`; on 7 the shell
  socket too, so a tick ends while that thread is still forwarding).  igogo watches
  that socket's file descriptor from a thread of its own to hand the loop back
  when a request waits (:mod:`igogo_jupyter._requests`).
* ipykernel 6.29 does the same for the output streams only; the display
  publisher's and the display hook's parent headers are global traitlets.  So
  while a job runs, its cell's header is written into them, and the previous
  value put back when it stops running (:meth:`KernelBridge.enter` /
  :meth:`KernelBridge.leave`).  We write the traitlets' stored values directly:
  going through the traitlet machinery costs ~30x more on every switch.

Nothing else in igogo-jupyter touches ipykernel.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Collection
    from types import CodeType, TracebackType

__all__ = ["KernelBridge", "cell_number"]

Header = dict[str, Any]


def cell_number(shell: Any) -> int:
    """The number the running cell shows (``In [n]``); between cells, the last one's.

    ``shell.execution_count`` cannot tell: IPython 9 counts it up *before* it
    runs a cell (so during the cell it is n + 1), older IPython after.  Either
    way the shell hands the running cell's own :class:`ExecutionResult`, which
    carries n, to its display hook for as long as the cell runs.
    """
    result = getattr(shell.displayhook, "exec_result", None)
    count = getattr(result, "execution_count", None)
    if isinstance(count, int):
        return count
    return int(shell.execution_count) - 1


class KernelBridge:
    """The running ipykernel, seen through the few operations igogo needs."""

    def __init__(self, kernel: Any, shell: Any) -> None:
        import ipykernel

        self.kernel = kernel
        self.shell = shell
        release = str(getattr(ipykernel, "__version__", "0")).split(".")[:2]
        self.version = tuple(int(p) for p in release if p.isdigit())
        self.global_display_parents = self.version < (7, 0)
        self.main_thread_id = threading.main_thread().ident or 0

    @classmethod
    def current(cls) -> KernelBridge | None:
        """The bridge to the kernel this process runs, or None outside a kernel."""
        if "ipykernel" not in sys.modules:
            return None
        from ipykernel.kernelapp import IPKernelApp

        if not IPKernelApp.initialized():
            return None
        kernel = getattr(IPKernelApp.instance(), "kernel", None)
        shell = getattr(kernel, "shell", None)
        if kernel is None or shell is None:
            return None
        return cls(kernel, shell)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop of the kernel's main thread (tornado's AsyncIOMainLoop)."""
        loop: asyncio.AbstractEventLoop = self.kernel.io_loop.asyncio_loop
        return loop

    def execution_count(self) -> int:
        """The number of the cell running now (its ``In [n]``); see :func:`cell_number`."""
        return cell_number(self.shell)

    def parent_header(self) -> Header:
        """The header of the request being handled in the calling context.

        Off the main thread it is where that thread's own output goes now (the
        output stream's header: on ipykernel 6 the cell that started the thread,
        kept per thread; else the latest request), not the shell's.
        """
        if threading.get_ident() != self.main_thread_id:
            from ipykernel.iostream import OutStream

            out = sys.stdout
            if isinstance(out, OutStream):
                thread_header: Header = out.parent_header
                return thread_header
        header: Header = self.shell.parent_header
        return header

    def address_thread_job(self, run_in_job: Callable[..., Any], header: Header) -> None:
        """A job started off the main thread prints where that thread does (``header``).

        A thread's context is empty, so the job's copy of it holds no parent for
        the output streams, and on the main thread they would fall back to the
        latest request, whichever cell that is when the job prints.
        ``run_in_job`` (``job.run_in_context``) sets the streams' parent to
        ``header`` in the job's own context.
        """
        if threading.get_ident() == self.main_thread_id:
            return
        import contextvars

        for stream in (sys.stdout, sys.stderr):
            var = getattr(stream, "_parent_header", None)  # OutStream's ContextVar (6.29, 7)
            if isinstance(var, contextvars.ContextVar):
                run_in_job(var.set, header)

    def allows_input(self) -> bool:
        """Whether the client of the running request takes ``input()`` (interactive ones do).

        nbclient, papermill and ``nbconvert --execute`` send ``allow_stdin=False``;
        JupyterLab, Notebook, VS Code and jupyter console send True.
        """
        return bool(getattr(self.kernel, "_allow_stdin", True))

    def request_fds(self) -> list[int]:
        """File descriptors that turn readable when a request waits for the main thread.

        Each is a ZeroMQ socket's ``FD``: readable while the socket has events
        its owner has not looked at.  Only ``select`` may be used on it from
        another thread; the socket itself stays the main thread's.
        """
        import zmq

        thread = getattr(self.kernel, "shell_channel_thread", None)
        if thread is not None:  # ipykernel 7: forwarded by the shell channel thread
            socket = thread.manager.get_shell_channel_to_subshell_pair(None).to_socket
            router = getattr(self.kernel, "shell_stream", None)
            if router is not None:
                return [int(socket.getsockopt(zmq.FD)), int(router.socket.getsockopt(zmq.FD))]
        else:
            stream = getattr(self.kernel, "shell_stream", None)
            socket = None if stream is None else stream.socket
        return [] if socket is None else [int(socket.getsockopt(zmq.FD))]

    def loop_has_work(self) -> bool:
        """Whether the main thread's loop has callbacks ready to run (a request in progress)."""
        ready = getattr(self.loop, "_ready", None)  # asyncio's BaseEventLoop keeps a deque
        return bool(ready)

    # -- ipykernel 6: global display parents ---------------------------------------------

    def enter(self, header: Header) -> tuple[Header, Header] | None:
        """Address displays and tracebacks to ``header``; returns what to restore."""
        if not self.global_display_parents:
            return None
        dp = self.shell.display_pub._trait_values
        dh = self.shell.displayhook._trait_values
        saved = (dp.get("parent_header", {}), dh.get("parent_header", {}))
        dp["parent_header"] = header
        dh["parent_header"] = header
        return saved

    def leave(self, saved: tuple[Header, Header] | None) -> None:
        if saved is not None:
            self.shell.display_pub._trait_values["parent_header"] = saved[0]
            self.shell.displayhook._trait_values["parent_header"] = saved[1]

    def run_for(self, header: Header, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn`` with displays addressed to ``header`` (streams follow the context)."""
        saved = self.enter(header)
        try:
            return fn(*args)
        finally:
            self.leave(saved)

    # -- errors ----------------------------------------------------------------------------

    @staticmethod
    def _trim(exc: BaseException, skip: Collection[CodeType]) -> TracebackType | None:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code in skip:
            tb = tb.tb_next
        return tb

    def show_traceback(self, exc: BaseException, skip: Collection[CodeType] = ()) -> None:
        """Show ``exc`` as IPython shows a failing cell's exception.

        Leading frames whose code is in ``skip`` (the caller's machinery) are left out.
        """
        sys.stdout.flush()
        sys.stderr.flush()
        self.shell.showtraceback((type(exc), _printable(exc), self._trim(exc, skip)))

    def format_traceback(self, exc: BaseException, skip: Collection[CodeType] = ()) -> str:
        """The text :meth:`show_traceback` would show, as one string."""
        stb = self.shell.InteractiveTB.structured_traceback(type(exc), exc, self._trim(exc, skip))
        return "\n".join(stb) + "\n"


class _Unprintable(Exception):
    """Stands in for an exception whose ``str()`` raises, as IPython describes one."""

    def __str__(self) -> str:
        return str(self.args[0])


def _printable(exc: BaseException) -> BaseException:
    """``exc`` itself, or a stand-in if its ``str()`` raises.

    ipykernel builds the error message with ``str(evalue)``: an exception whose
    ``__str__`` raises would make showing it fail, so its cell would show
    nothing.  The stand-in keeps the type's name (passed separately), the
    traceback and the chain, and reads ``<unprintable X object>``.
    """
    try:
        str(exc)
    except Exception:
        stand_in = _Unprintable(f"<unprintable {type(exc).__name__} object>")
        stand_in.__cause__, stand_in.__context__ = exc.__cause__, exc.__context__
        stand_in.__suppress_context__ = exc.__suppress_context__
        return stand_in
    return exc
