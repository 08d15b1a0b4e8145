"""The input hook: igogo's ticks while terminal IPython's prompt waits, beside a GUI's.

IPython runs prompt_toolkit's loop with an *input hook* when a GUI toolkit is
enabled (``%gui qt``): prompt_toolkit calls it whenever its loop would block,
and the hook runs the toolkit's own loop until ``context.input_is_ready()``.
IPython keeps one hook, chosen by name (``IPython.terminal.pt_inputhooks``,
``shell.enable_gui``: its documented extension point), so igogo's host takes
that slot while jobs exist and gives it back when the last one ends.

The hook alternates two things until prompt_toolkit has input (a key, or
output of its own to draw): a tick of the jobs when one is due, and otherwise
a wait, in ``select``, for the next timer, the terminal, or a thread handing
work over (a pipe).  A tick lasts at most ``tick_budget`` (15 ms) unless a job
never yields (then Ctrl-C, :mod:`~igogo_jupyter._ctrl_c`), so keys are read
promptly.

**A GUI's hook** active when the first job starts (``%matplotlib tk``) is kept,
and takes turns: instead of waiting in ``select``, the hook lets the GUI's
hook run its loop, with a context of its own that becomes ready when the wait
would have ended, and after every tick it gives the GUI a turn that is ready
at once (its pending events), so windows stay alive while jobs spin.  GUI hooks
wait on the context's descriptor (tk, gtk, Qt) or poll ``input_is_ready()``;
the context offers both.  IPython names the slot ``igogo`` meanwhile; when the
jobs end, the GUI's own hook is put back, and until this prompt ends the
``igogo`` hook simply runs it.  While a cell runs nobody waits at a prompt, so
the slot is given back to IPython for the cell (``pre_run_cell``) and taken
again after it (``post_run_cell``): a ``%matplotlib tk`` in a cell while jobs
run works as without igogo, and its hook takes turns from the next prompt on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import sys
import threading
from typing import TYPE_CHECKING, Any, Final

from igogo.lowlevel import clock

if TYPE_CHECKING:
    from collections.abc import Callable

    from prompt_toolkit.eventloop.inputhook import InputHookContext

    from ._terminal import TerminalHost

    InputHook = Callable[[InputHookContext], None]

__all__ = ["HOOK_NAME", "install", "uninstall", "wake_hook"]

logger = logging.getLogger("igogo")

HOOK_NAME: Final = "igogo"
"""The hook's name among IPython's event loops (``shell.active_eventloop``)."""
_MAX_WAIT: Final = 0.5
"""The longest the hook waits without looking at the scheduler (a safety net, not a tick)."""
_GUI_WAIT: Final = 0.02
"""The shortest wait the GUI's hook runs through (shorter ones: a turn at once, then select)."""

_host: TerminalHost | None = None
"""The host the hook drives jobs for (None: no job; a prompt may outlive its host)."""
_gui: InputHook | None = None
"""The GUI's hook that takes turns with igogo's, and runs alone once the host has gone."""
_gui_name: str | None = None
_refused: str | None = None
"""The event loop igogo last could not run beside (said once)."""


def install(host: TerminalHost) -> None:
    """Hold IPython's input hook slot for ``host`` at every prompt, until :func:`uninstall`."""
    global _host
    _host = host
    events = host.shell.events
    events.register("pre_run_cell", _cell_starts)
    events.register("post_run_cell", _cell_ended)
    if getattr(host.shell.displayhook, "exec_result", None) is None:
        _take(host.shell)  # no cell runs (a thread started the job): a prompt may wait now
    # else the cell's end takes the slot, and the rest of the cell is as without igogo


def uninstall(host: TerminalHost) -> None:
    """Give the slot back for good (to the GUI's hook, if there was one)."""
    global _host
    if _host is not host:
        return
    _host = None
    events = host.shell.events
    for event, fn in (("pre_run_cell", _cell_starts), ("post_run_cell", _cell_ended)):
        with contextlib.suppress(ValueError):
            events.unregister(event, fn)
    _give_back(host.shell)


def _cell_starts(info: object) -> None:
    # While a cell runs nobody waits at a prompt: the slot is IPython's own, so that a
    # `%gui qt` or `%matplotlib tk` in the cell works as without igogo.
    if _host is not None:
        _give_back(_host.shell)


def _cell_ended(result: object) -> None:
    if _host is not None:
        _take(_host.shell)


def _take(shell: Any) -> None:
    """Put igogo's hook in the slot, keeping the GUI's hook found there to take turns."""
    global _gui, _gui_name, _refused
    from IPython.terminal import pt_inputhooks

    active = shell.active_eventloop
    if active in (HOOK_NAME, "asyncio"):  # asyncio: the prompt runs on the host's own loop
        return
    gui = None
    if active is not None:
        try:
            gui = pt_inputhooks.get_inputhook_name_and_func(active)[1]
        except Exception:  # IPython cannot name its own hook: leave the slot to it
            if _refused != active:
                _refused = active
                logger.warning(
                    "igogo: cannot run jobs beside IPython's %r event loop at the prompt; "
                    "they run while a cell waits for them",
                    active,
                    exc_info=True,
                )
            return
        shell.enable_gui(None)
    _gui, _gui_name = gui, active
    pt_inputhooks.register(HOOK_NAME, _inputhook)
    shell.enable_gui(HOOK_NAME)


def _give_back(shell: Any) -> None:
    if shell.active_eventloop == HOOK_NAME:
        shell.enable_gui(None)
        if _gui_name is not None:
            shell.enable_gui(_gui_name)


def wake_hook() -> None:
    """Wake the hook from its wait: a thread has handed work over (safe from any thread)."""
    with contextlib.suppress(OSError):  # full: it is woken already
        os.write(_wake_pipe()[1], b"x")


def _inputhook(context: InputHookContext) -> None:
    """What IPython calls while the prompt waits (registered as ``igogo``)."""
    try:
        if _host is not None:
            _run(_host, context)
        elif _gui is not None:  # the jobs ended during this prompt: the GUI alone, as before
            _gui(context)
    except Exception:  # never take the prompt down: the jobs wait for the next cell instead
        logger.exception("igogo: running jobs at the prompt failed")
    except KeyboardInterrupt:  # a stray one (not from a job): the prompt must survive it
        pass


def _run(host: TerminalHost, context: InputHookContext) -> None:
    """Run ticks until prompt_toolkit has input (or output to draw); wait, or let the GUI run."""
    ready = context.input_is_ready
    wake = _wake_pipe()[0]
    fd = _terminal_fd()
    gui = _gui
    keys = host.watch_keys(context.fileno())
    while not ready():
        sched = host.sched
        if sched is None or _host is not host:
            return
        delay = sched.next_deadline() - clock()
        if delay <= 0:
            keys.turn()
            with host.interrupts.tick(fd):
                sched.tick(interrupts_to_caller=False)
            host.screen.draw()
            if host.sched is not None:  # an `await` in a later cell finds a tick armed
                host.wake(sched.next_deadline())
            if gui is None:
                continue
            delay = 0.0  # the GUI's pending events, however busy the jobs are
        timeout = min(delay, _MAX_WAIT)
        if gui is not None:
            # A turn that waits costs a thread: for short waits (a job sleeping 1 ms) the
            # GUI gets a turn at once and igogo waits alone.
            long = timeout >= _GUI_WAIT
            _gui_turn(gui, context, wake, timeout if long else 0.0)
            if long:
                continue
        if wake in _wait([context.fileno(), wake], timeout):
            _drain(wake)


def _gui_turn(gui: InputHook, context: InputHookContext, wake: int, timeout: float) -> None:
    """Let the GUI's hook run until prompt_toolkit is ready, ``timeout`` passes or work comes."""
    from prompt_toolkit.eventloop import InputHookContext

    ended = threading.Event()
    r, w = os.pipe()
    stop_r, stop_w = os.pipe()

    def watch() -> None:  # a thread: ends the turn the way the GUI's hook can see
        _wait([context.fileno(), wake, stop_r], timeout)
        ended.set()
        os.write(w, b"x")

    watcher = None
    if timeout > 0:
        watcher = threading.Thread(target=watch, name="igogo-gui-turn", daemon=True)
        watcher.start()
    else:
        ended.set()
        os.write(w, b"x")
    try:
        gui(InputHookContext(r, lambda: ended.is_set() or context.input_is_ready()))
    finally:
        os.write(stop_w, b"x")
        if watcher is not None:
            watcher.join()
        for end in (r, w, stop_r, stop_w):
            os.close(end)
        _drain(wake)


def _wait(fds: list[int], timeout: float) -> list[int]:
    """The descriptors of ``fds`` readable within ``timeout`` seconds (poll: any number)."""
    if not hasattr(select, "poll"):  # pragma: no cover (not on Linux or macOS)
        return select.select(fds, [], [], timeout)[0]
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    return [fd for fd, _ in poller.poll(timeout * 1000)]


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
    """The pipe threads wake the hook through: one per process, never closed (a thread may
    write to it at any moment, and a closed descriptor's number is soon somebody else's)."""
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
    except OSError:  # empty (BlockingIOError) or closed
        pass
