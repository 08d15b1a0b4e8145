"""The terminal host: in terminal IPython, jobs run while the prompt waits for input.

Terminal IPython runs no event loop between cells: it sits in prompt_toolkit,
reading a line.  The one place where code of ours can run there is the *input
hook* IPython offers for GUI toolkits (``%gui qt`` runs Qt's loop that way):
prompt_toolkit calls it whenever its own loop would block, and expects it back
as soon as its input is ready.  This host registers such a hook
(``IPython.terminal.pt_inputhooks.register`` and ``shell.enable_gui``, the
documented extension point) for as long as jobs exist, and the hook runs igogo
ticks until ``context.input_is_ready()``: a key, or output waiting to be drawn.
A tick takes at most ``tick_budget`` (15 ms) unless a job never yields, so
typing stays responsive; with no job ready the hook sleeps in ``select`` until
the next timer, the terminal, or a hand-over from another thread.

**Output.**  While the prompt waits, IPython has replaced ``sys.stdout`` and
``sys.stderr`` by prompt_toolkit's ``patch_stdout`` proxy, which draws what is
written above the prompt and redraws the line being typed, untouched.  That
proxy is new at every prompt and dead after it, so a job never gets it
directly: while a job runs its ``sys.stdout`` and ``sys.stderr`` are the host's
two :class:`TerminalStream` objects, which pass each write on to whatever the
terminal is at that moment (the proxy at the prompt, the real stream while a
cell waits).  A tqdm bar or a logging handler that keeps the stream it found
keeps drawing on later prompts.  All jobs share the two: on a terminal they
share the screen, and igogo-tqdm names and stacks bars by their stream.

**Cells and asyncio.**  The host is igogo's :class:`~igogo.AsyncioHost` on
IPython's own asyncio loop, which runs only while a cell awaits something: an
``await job`` in a cell is then driven by that loop, as everywhere else.  Under
``%gui asyncio`` IPython runs the prompt itself in that loop, so jobs run at the
prompt without any hook of ours.  Another GUI's hook present when the first job
starts is left alone: jobs then advance only while cells wait.

Ctrl-C at the prompt is :mod:`igogo_jupyter._ctrl_c`'s business.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import select
import sys
import threading
from typing import TYPE_CHECKING, Any, Final

import igogo
from igogo.lowlevel import JOB_ENTRY_CODES, clock, failure

from ._ctrl_c import PromptInterrupts
from ._kernel import cell_number
from ._output import TAIL_LINES, Tail
from ._screen import Screen

if TYPE_CHECKING:
    from prompt_toolkit.eventloop.inputhook import InputHookContext

    from igogo import Job

__all__ = ["TerminalHost", "TerminalStream", "find_terminal_host"]

logger = logging.getLogger("igogo")

HOOK_NAME: Final = "igogo"
"""The name of the input hook among IPython's event loops (``shell.active_eventloop``)."""
_MAX_WAIT: Final = 0.5
"""The longest the hook sleeps without looking at the scheduler (a safety net, not a tick)."""
_KEY: Final = "igogo_jupyter.terminal"
"""Where a job's two streams are kept (``job.host_data``)."""

_attached: TerminalHost | None = None
"""The host driving the jobs now, for the hook (a prompt may outlive the host it started with)."""


def find_terminal_host() -> TerminalHost | None:
    """The terminal host, if this process is terminal IPython at a prompt_toolkit prompt."""
    mod = sys.modules.get("IPython.terminal.interactiveshell")
    if mod is None:
        return None
    cls = mod.TerminalInteractiveShell
    if not cls.initialized():
        return None
    shell = cls.instance()
    if shell.simple_prompt or shell.pt_app is None:  # input(): no loop, no hook
        return None
    return TerminalHost(shell)


class TerminalStream(io.TextIOBase):
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

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return int(self.host.terminal(self.index).fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.host.terminal(self.index), "encoding", None) or "utf-8")

    @property
    def name(self) -> str:
        return "<stdout>" if self.index == 0 else "<stderr>"


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
        self._hooked = False
        self._wake_pending = False

    # -- lifetime -------------------------------------------------------------------------------

    def attach(self, sched: Any) -> None:
        global _attached
        super().attach(sched)
        igogo.add_hook(self)
        _attached = self
        self._install_hook()

    def detach(self) -> None:
        global _attached
        igogo.remove_hook(self)
        if _attached is self:
            _attached = None
        self._uninstall_hook()
        self.interrupts.close()
        self.screen.draw()
        super().detach()

    def _install_hook(self) -> None:
        shell = self.shell
        active = shell.active_eventloop
        if active is not None:
            if active != "asyncio":  # under %gui asyncio the prompt runs on our loop anyway
                logger.warning(
                    "igogo: IPython runs the %r event loop at the prompt; igogo's jobs advance "
                    "only while a cell waits for them (%%gui to turn it off, before starting jobs)",
                    active,
                )
            return
        from IPython.terminal import pt_inputhooks

        pt_inputhooks.register(HOOK_NAME, _inputhook)
        shell.enable_gui(HOOK_NAME)
        self._hooked = True

    def _uninstall_hook(self) -> None:
        if self._hooked and self.shell.active_eventloop == HOOK_NAME:
            self.shell.enable_gui(None)
        self._hooked = False

    # -- jobs and their output ------------------------------------------------------------------

    def adopt(self, job: Job[Any]) -> None:
        parent = igogo.current_job()
        job.origin = parent.origin if parent is not None else cell_number(self.shell)
        tail = Tail(TAIL_LINES)
        job.output_source = tail.text
        streams = TerminalStream(self, job.id, 0, tail), TerminalStream(self, job.id, 1, tail)
        job.host_data[_KEY] = streams

    def switched_in(self, job: Job[Any]) -> None:
        streams = job.host_data.get(_KEY)
        if streams is not None:
            self._found = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = streams
        self.interrupts.step_began()

    def switched_out(self, job: Job[Any]) -> None:
        self.interrupts.step_ended()
        if self._found is not None:
            job.host_data[_KEY] = (
                sys.stdout,
                sys.stderr,
            )  # a redirection of its own outlives a yield
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
        streams = job.host_data.get(_KEY)
        err = streams[1] if streams is not None else self.terminal(1)
        where = "" if job.origin is None else f" (In [{job.origin}])"
        err.write(f"igogo: job {job.name!r}{where} failed:\n{text}\n")
        err.flush()
        self.screen.draw()

    # -- waking ---------------------------------------------------------------------------------

    def wake_threadsafe(self) -> None:
        # The hook sleeps in select() on this pipe; IPython's loop gets one call at most,
        # for a cell that awaits (it would pile up while no cell runs it otherwise).
        with contextlib.suppress(OSError):  # full: the hook is woken already
            os.write(_wake_pipe()[1], b"x")
        if not self._wake_pending and not self.loop.is_closed():
            self._wake_pending = True
            self.loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        self._wake_pending = False
        self.wake(0.0)

    # -- the input hook -------------------------------------------------------------------------

    def run_at_prompt(self, context: InputHookContext) -> None:
        """Run ticks until prompt_toolkit has input (or output to draw); sleep when idle."""
        ready = context.input_is_ready
        wake = _wake_pipe()[0]
        waits = [context.fileno(), wake]
        fd = _terminal_fd()
        while not ready():
            sched = self.sched
            if sched is None or _attached is not self:
                return
            delay = sched.next_deadline() - clock()
            if delay > 0:
                timeout = min(delay, _MAX_WAIT) if delay < math.inf else _MAX_WAIT
                woke, _, _ = select.select(waits, [], [], timeout)
                if wake in woke:
                    _drain(wake)
                continue
            with self.interrupts.tick(fd):
                sched.tick(interrupts_to_caller=False)
            self.screen.draw()
            if self.sched is not None:  # an `await` in a later cell finds a tick armed
                self.wake(sched.next_deadline())


def _inputhook(context: InputHookContext) -> None:
    """The hook IPython calls while the prompt waits (registered as ``igogo``)."""
    host = _attached
    if host is None:
        return
    try:
        host.run_at_prompt(context)
    except Exception:  # never take the prompt down: the jobs wait for the next cell instead
        logger.exception("igogo: running jobs at the prompt failed")
    except KeyboardInterrupt:  # a stray one (not from a job): the prompt must survive it
        pass


def _terminal_fd() -> int:
    """The terminal prompt_toolkit reads from, or -1 if there is none."""
    from prompt_toolkit.application import get_app_or_none

    app = get_app_or_none()
    try:
        fd = app.input.fileno() if app is not None else sys.stdin.fileno()
    except (AttributeError, OSError, ValueError, NotImplementedError):
        return -1
    return fd if os.isatty(fd) else -1


_pipe: tuple[int, int] | None = None


def _wake_pipe() -> tuple[int, int]:
    """The pipe other threads wake the hook through: one per process, never closed (a thread
    may write to it at any moment, and a closed descriptor's number is soon somebody else's)."""
    global _pipe
    if _pipe is None:
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        _pipe = r, w
    return _pipe


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, OSError):
        pass
