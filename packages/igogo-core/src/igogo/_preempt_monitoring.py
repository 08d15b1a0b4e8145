"""Preemption's mechanism on Python 3.12 and later: ``sys.monitoring`` JUMP events.

igogo takes a
tool id nobody holds (4, else 3; never one in use) and sets *local* ``JUMP``
events on user code objects only: the job's function and every code object
nested in it (inner functions, lambdas, generator expressions, class bodies),
at the start; any other user code found on the job's stack (a function of a
local module, code ``exec``'d at run time) when a slice ends.  Library code
has no events at all.  The callback returns ``sys.monitoring.DISABLE`` while
the slice is not over, which turns the event off at that jump; when the slice
ends, igogo's *slice timer* calls ``sys.monitoring.restart_events()``, and the
next backward jump in user code switches (the callback calls
:meth:`Scheduler.yield_now`, the hub's own door).  Between slice ends a loop
pays no callback; per slice it pays one callback per jump location.  One cost
stays on Python 3.12 only: giving a code object local events makes CPython
3.12 drop its combined fast-path instructions for good, so armed user code runs
about 5% slower there, in jobs and in regular code (measured in ``bench/``);
3.13 keeps them.  Armed code is tracked by identity: equal code objects (the
same cell run twice) each get their own events.  An exception
the job is resumed with (a stop, an interrupt) is not raised by the ``JUMP``
callback: CPython would look its handler up outside the loop, and the loop's
``try``/``finally`` would be skipped.  It is raised by a one-shot
``INSTRUCTION`` event at the next instruction, inside the loop.

The policy (what a switch point is, the slice timer, admission) is
:mod:`igogo._preempt`'s; this module only arms code and switches.
"""

from __future__ import annotations

import sys
import weakref
from types import CodeType
from typing import TYPE_CHECKING, Any, Final

from greenlet import getcurrent

from . import _hub
from . import _preempt as state
from ._hub import SCHED
from ._usercode import ENTRY as _ENTRY
from ._usercode import is_user_code
from ._usercode import switchable as _switchable

if TYPE_CHECKING:
    from ._job import Job

__all__ = ["arm_job", "disarm", "expire", "forget_armed", "why_not"]

assert sys.version_info >= (3, 12)  # imported by igogo._preempt on 3.12 and later only

_monotonic: Final = _hub._monotonic
_mon = sys.monitoring
_JUMP: Final = _mon.events.JUMP
_INSTRUCTION: Final = _mon.events.INSTRUCTION
_DISABLE: Final = _mon.DISABLE
_TOOL_IDS: Final = (4, 3)  # never 0, 1, 2 or 5: debuggers', coverage's, profilers', JITs'
_tool: int | None = None
_armed: weakref.WeakValueDictionary[int, CodeType] = weakref.WeakValueDictionary()
"""The code objects given JUMP events, by identity: code objects compare equal by value
(the same cell run twice), yet each copy needs its own events."""
_pending: dict[Any, tuple[CodeType, BaseException]] = {}
"""Per greenlet: what it was resumed with (a Stop, an interrupt), to raise at its next
instruction, where the frame's ``try`` blocks see it."""


def why_not(job: Job[Any]) -> str | None:
    global _tool
    reason = state._tracer_in_use()
    if reason is not None:
        return reason
    if _tool is not None and _mon.get_tool(_tool) == "igogo":
        return None
    _tool = None
    for tool in _TOOL_IDS:
        if _mon.get_tool(tool) is None:
            _mon.use_tool_id(tool, "igogo")
            _mon.register_callback(tool, _JUMP, _on_jump)
            _mon.register_callback(tool, _INSTRUCTION, _on_instruction)
            _tool = tool
            _armed.clear()
            return None
    held = ", ".join(f"{t}: {_mon.get_tool(t)!r}" for t in _TOOL_IDS)
    return f"the sys.monitoring tool ids igogo may use are all held by others ({held})"


def _arm(code: CodeType) -> None:
    """Give ``code`` and the code nested in it local JUMP events."""
    tool = _tool
    if tool is None or id(code) in _armed or not is_user_code(code.co_filename):
        return
    todo = [code]
    while todo:
        c = todo.pop()
        if id(c) in _armed:
            continue
        _armed[id(c)] = c
        _mon.set_local_events(tool, c, _JUMP)
        todo.extend(k for k in c.co_consts if isinstance(k, CodeType))


def forget_armed() -> None:
    """Take the events off every armed code object (the rules changed)."""
    tool = _tool
    if tool is not None and _mon.get_tool(tool) == "igogo":
        for code in list(_armed.values()):
            _mon.set_local_events(tool, code, 0)
    _armed.clear()


def arm_job(job: Job[Any]) -> None:
    code = _function_code(job.function)
    if code is not None:
        _arm(code)


def expire() -> None:
    """On the timer's thread: arm the user code on the job's stack, re-enable the jumps."""
    tool = _tool
    if state._job is None or tool is None or _mon.get_tool(tool) != "igogo":
        return
    frame = sys._current_frames().get(state._thread)
    while frame is not None and frame.f_code is not _ENTRY:
        if id(frame.f_code) not in _armed:
            _arm(frame.f_code)
        frame = frame.f_back
    _mon.restart_events()


def _on_jump(code: CodeType, offset: int, dest: int) -> object:
    """A jump in user code: switch if it goes backwards and the slice is over."""
    if dest > offset:
        return _DISABLE  # a forward jump never ends a loop's iteration
    if _monotonic() < _hub._deadline:
        return None if state._early else _DISABLE
    job = SCHED.current
    if job is None or not job._preempt or job._greenlet is not getcurrent():
        return _DISABLE  # regular code, or a cooperative job, in user code
    if not _switchable(sys._getframe(1)):
        return _DISABLE  # under a library's frame: wait for the outer loop's end
    reason = state._tracer_in_use()
    if reason is not None:  # a debugger attached since the job started
        job._preempt = False
        state._say(job, reason)
        return _DISABLE
    tool = _tool
    if tool is None:
        return _DISABLE
    try:
        state._switch()
    except BaseException as e:
        # Raised here, it would skip the frame's except and finally blocks: CPython
        # looks the handler up as if the jump had already left the loop.  Raised by
        # the next instruction's event, it lands inside the loop like any exception.
        _pending[getcurrent()] = (code, e)
        _mon.set_local_events(tool, code, _JUMP | _INSTRUCTION)
    return None


def _on_instruction(code: CodeType, offset: int) -> object:
    """The instruction after a switch point in a job resumed with an exception: raise it."""
    me = getcurrent()
    entry = _pending.get(me)
    if entry is None or entry[0] is not code:
        return None  # another greenlet in the same code: its own turn will come
    del _pending[me]
    tool = _tool
    if tool is not None and all(c is not code for c, _ in _pending.values()):
        _mon.set_local_events(tool, code, _JUMP)
    # Its traceback so far is igogo's switching frames; the user's frame is where it lands.
    raise entry[1].with_traceback(None)


def disarm() -> None:
    pass


def _function_code(fn: object) -> CodeType | None:
    for _ in range(10):  # a bound method's function, a partial's function, a wrapper's
        code = getattr(fn, "__code__", None)
        if isinstance(code, CodeType):
            return code
        fn = getattr(fn, "__func__", None) or getattr(fn, "func", None)
        if fn is None:
            return None
    return None
