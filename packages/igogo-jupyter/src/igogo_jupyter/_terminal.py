"""The terminal host: in terminal IPython, jobs run while the prompt waits for input.

Terminal IPython runs no event loop between cells: it sits in prompt_toolkit,
reading a line.  The one place where code of ours can run there is the *input
hook* IPython offers for GUI toolkits (``%gui qt`` runs Qt's loop that way):
prompt_toolkit calls it whenever its own loop would block, and expects it back
as soon as its input is ready.  While jobs exist this host holds that hook
(:mod:`~igogo_jupyter._prompt`, which also keeps a GUI's hook running beside
it), and the hook runs igogo's ticks until a key arrives.  While a cell runs,
jobs run when it waits for them, as in a notebook.

**Output.**  At the prompt IPython has replaced ``sys.stdout`` and
``sys.stderr`` by prompt_toolkit's ``patch_stdout`` proxy, which draws what it
is given above the prompt and redraws the line being typed, untouched.  That
proxy is new at every prompt and dead after it, and it draws half a line (a
progress bar) on the prompt's own line.  So a job never gets it: while a job
runs, its ``sys.stdout`` and ``sys.stderr`` are its two :class:`TerminalStream`
objects, which hand the text at the prompt to the :class:`~igogo_jupyter._screen.Screen`
(finished lines above the prompt, each job's live lines just above it) and
while a cell runs to the terminal's stream as it is.  A tqdm bar or a logging
handler that keeps the stream it found keeps drawing on later prompts, and the
streams keep the tail ``job.output`` reads.

**Cells and asyncio.**  The host is igogo's :class:`~igogo.AsyncioHost` on
IPython's own asyncio loop, which runs only while a cell awaits something: an
``await job`` in a cell is then driven by that loop, as everywhere else.  Under
``%gui asyncio`` IPython runs the prompt itself in that loop, so jobs run at the
prompt with no hook of ours.

**A person at the prompt** is regular code here, and says ``interactive =
True``: igogo-mpl then keeps a finished job's figures in the job's own pyplot
instead of handing them to regular code as it does for scripts.  Ctrl-C at the
prompt is :mod:`~igogo_jupyter._ctrl_c`'s business.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any, Final

import igogo
from igogo.lowlevel import JOB_ENTRY_CODES, failure

from . import _prompt
from ._ctrl_c import PromptInterrupts
from ._kernel import cell_number
from ._output import TAIL_LINES, StreamView, Tail
from ._requests import RequestWatch
from ._screen import Screen

if TYPE_CHECKING:
    from igogo import Job

__all__ = ["JobIO", "TerminalHost", "TerminalStream", "find_terminal_host"]

_KEY: Final = "igogo_jupyter.terminal"
"""Where a job's :class:`JobIO` is kept (``job.host_data``)."""


def find_terminal_host() -> TerminalHost | None:
    """The terminal host, if this process is terminal IPython at a prompt_toolkit prompt.

    Entry point ``igogo.hosts`` (``terminal``): cheap anywhere else, it imports nothing.
    POSIX only (terminal modes, ``poll``); on Windows jobs run while cells wait.
    """
    mod = sys.modules.get("IPython.terminal.interactiveshell")
    if mod is None or sys.platform == "win32":
        return None
    cls = mod.TerminalInteractiveShell
    if not cls.initialized():
        return None
    shell = cls.instance()
    if shell.simple_prompt or shell.pt_app is None:  # input(): no loop, no hook
        return None
    return TerminalHost(shell)


class TerminalStream(StreamView):
    """A job's ``sys.stdout`` or ``sys.stderr``: each write goes to the terminal as it is now.

    At the prompt that is the job's block on the :class:`~igogo_jupyter._screen.Screen`;
    while a cell runs, the cell's own stream.  ``job.output`` reads the tail it keeps.
    """

    def __init__(self, host: TerminalHost, key: int, index: int, tail: Tail) -> None:
        self.host = host
        self.key = key  # the job's id
        self.index = index  # 0: stdout, 1: stderr
        self.tail = tail

    @property
    def igogo_screen(self) -> object:
        """What this stream draws on: the same for every job's streams (igogo-tqdm names
        the bars of different jobs that share it)."""
        return self.host.screen

    def write(self, s: str) -> int:
        self.tail.add(s)
        host = self.host
        target = host.terminal(self.index)
        if host.at_prompt(target) and threading.get_ident() == host.thread_id:
            host.screen.feed(self.key, s, target)
        else:  # a cell runs (or another thread writes): the terminal as it is
            target.write(s)
        return len(s)

    def flush(self) -> None:
        host = self.host
        target = host.terminal(self.index)
        if not host.at_prompt(target) or threading.get_ident() != host.thread_id:
            target.flush()  # (at the prompt the screen draws when the jobs are at rest)

    def isatty(self) -> bool:
        return bool(self.host.terminal(self.index).isatty())

    def fileno(self) -> int:
        return int(self.host.terminal(self.index).fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.host.terminal(self.index), "encoding", None) or "utf-8")

    @property
    def name(self) -> str:
        return "<stdout>" if self.index == 0 else "<stderr>"


class JobIO:
    """A job's two streams, and what ``sys.stdout``/``sys.stderr`` are while it runs."""

    __slots__ = ("err", "streams")

    def __init__(self, out: TerminalStream, err: TerminalStream) -> None:
        self.err = err
        """Where igogo reports the job's failure, whatever the job redirected."""
        self.streams: tuple[Any, Any] = (out, err)
        """Its own two, or what it redirected them to (``redirect_stdout`` outlives a yield)."""


class TerminalHost(igogo.AsyncioHost):
    """Drives igogo's jobs from terminal IPython's prompt (an input hook) and its cells."""

    interactive = True
    """A person at a prompt is regular code (igogo-mpl: a finished job's figures stay its own)."""

    def __init__(self, shell: Any) -> None:
        from IPython.core.async_helpers import get_asyncio_loop
        from prompt_toolkit.patch_stdout import StdoutProxy

        main = threading.main_thread().ident or 0
        super().__init__(get_asyncio_loop(), thread_id=main)
        self.shell = shell
        self.screen = Screen()
        self.interrupts = PromptInterrupts()
        self._proxy_type: type = StdoutProxy
        self._found: tuple[Any, Any] | None = None  # sys.stdout/err when the running job came in
        self._wake_pending = False
        self.keys: RequestWatch | None = None
        """Ends a tick at the prompt when a key arrives (made at the first prompt)."""

    # -- lifetime -------------------------------------------------------------------------------

    def attach(self, sched: Any) -> None:
        super().attach(sched)
        igogo.add_hook(self)
        _prompt.install(self)

    def detach(self) -> None:
        igogo.remove_hook(self)
        _prompt.uninstall(self)
        if self.keys is not None:
            self.keys.detach()
        self.interrupts.close()
        self.screen.draw()
        super().detach()

    def watch_keys(self, fd: int) -> RequestWatch:
        """The watch on the prompt's input: a key ends the running tick, as a request does in
        a kernel (one thread per host, attached while it has jobs)."""
        if self.keys is None:
            self.keys = RequestWatch([fd])
        self.keys.attach()
        return self.keys

    # -- jobs and their output ------------------------------------------------------------------

    def adopt(self, job: Job[Any]) -> None:
        parent = igogo.current_job()
        job.origin = parent.origin if parent is not None else cell_number(self.shell)
        tail = Tail(TAIL_LINES)
        job.output_source = tail.text
        out, err = TerminalStream(self, job.id, 0, tail), TerminalStream(self, job.id, 1, tail)
        job.host_data[_KEY] = JobIO(out, err)

    def switched_in(self, job: Job[Any]) -> None:
        jio: JobIO | None = job.host_data.get(_KEY)
        if jio is not None:
            self._found = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = jio.streams
        self.interrupts.step_began()

    def switched_out(self, job: Job[Any]) -> None:
        self.interrupts.step_ended()
        jio: JobIO | None = job.host_data.get(_KEY)
        if self._found is not None:
            if jio is not None:
                jio.streams = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = self._found
            self._found = None
        self.screen.draw()

    def job_finished(self, job: Job[Any]) -> None:
        self.screen.end(job.id)

    def terminal(self, index: int) -> Any:
        """The terminal's stdout (0) or stderr (1) as it is now: where a job's write goes."""
        found = self._found
        stream = found[index] if found is not None else (sys.stdout, sys.stderr)[index]
        if isinstance(stream, TerminalStream):  # a job writing into another job's stream
            return sys.__stdout__ if index == 0 else sys.__stderr__
        return stream

    def at_prompt(self, stream: Any) -> bool:
        """Whether ``stream`` is a prompt's output (prompt_toolkit's proxy): the prompt is up."""
        return isinstance(stream, self._proxy_type)

    def report_failure(self, job: Job[Any]) -> None:
        exc = failure(job)
        assert exc is not None
        try:
            from ._magic import _run_cell_body

            # igogo's frames at the top of the traceback go, as a failed cell's do.
            skip = {*JOB_ENTRY_CODES, _run_cell_body.__code__}
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code in skip:
                tb = tb.tb_next
            itb = self.shell.InteractiveTB
            text = itb.stb2text(itb.structured_traceback(type(exc), exc, tb))
        except Exception:  # IPython could not format it: the plain traceback then
            super().report_failure(job)
            return
        jio: JobIO | None = job.host_data.get(_KEY)
        err = jio.err if jio is not None else self.terminal(1)
        where = "" if job.origin is None else f" (In [{job.origin}])"
        err.write(f"igogo: job {job.name!r}{where} failed:\n{text}\n")
        err.flush()
        self.screen.draw()

    # -- waking ---------------------------------------------------------------------------------

    def wake_threadsafe(self) -> None:
        # The input hook waits on a pipe; IPython's loop gets one call at most, for a
        # cell that awaits (calls would pile up there while no cell runs it).
        _prompt.wake_hook()
        if not self._wake_pending and not self.loop.is_closed():
            self._wake_pending = True
            self.loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        self._wake_pending = False
        self.wake(0.0)
