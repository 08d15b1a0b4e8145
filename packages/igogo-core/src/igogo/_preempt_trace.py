"""Preemption's mechanism on Python 3.11: a trace function armed when a slice ends.

The slice
timer sends ``SIGVTALRM`` to the main thread; its handler (which never
switches) sets ``frame.f_trace`` on the user frames of the job's stack, and
``getattr`` as the thread's trace function: CPython needs one to deliver line
events, and ``getattr(frame, "call", None)`` answers every new frame with None
at C speed.  The next ``line`` event that jumps backwards in an armed frame
disarms everything and switches.  The trace is never left on: it is disarmed
before the job leaves the CPU by any door (``_hub._before_switch``), since
greenlet keeps 3.11's tracing flag per greenlet.  While it is on, the code the
job runs is traced (CPython 3.11's slow path, about 2-3 times slower), so a
slice end that finds the job inside library code waits for the next tick's
(up to three times) to find it in its own code.  Only jobs on the main thread
can be preempted on 3.11.

The policy (what a switch point is, the slice timer, admission) is
:mod:`igogo._preempt`'s; this module only arms frames and switches.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, Final

from greenlet import getcurrent

from . import _hub
from . import _preempt as state
from ._hub import SCHED
from ._usercode import ENTRY as _ENTRY
from ._usercode import is_user_code
from ._usercode import switchable as _switchable

if TYPE_CHECKING:
    from types import FrameType

    from ._job import Job

__all__ = ["arm_job", "disarm", "expire", "forget_armed", "why_not"]

_monotonic: Final = _hub._monotonic
_SIGNAL: Final = signal.SIGVTALRM
_last: dict[FrameType, int] = {}
"""Each armed frame's offset at its last line event: a smaller one is a backward jump."""


def why_not(job: Job[Any]) -> str | None:
    reason = state._tracer_in_use()
    if reason is not None:
        return reason
    if threading.current_thread() is not threading.main_thread():
        return "on Python 3.11 only jobs that run on the main thread can be preempted"
    if not hasattr(signal, "pthread_kill"):
        return "on Python 3.11 preemption needs POSIX signals"
    handler = signal.getsignal(_SIGNAL)
    if handler is not _on_signal:
        if handler not in (signal.SIG_DFL, None):
            return f"SIGVTALRM, which igogo uses on Python 3.11, has a handler: {handler!r}"
        signal.signal(_SIGNAL, _on_signal)
        signal.siginterrupt(_SIGNAL, False)  # system calls it lands in restart
    return None


def arm_job(job: Job[Any]) -> None:
    pass  # nothing to prepare: frames are armed when a slice ends


def forget_armed() -> None:
    """Nothing is armed ahead of a slice's end on 3.11."""


def expire() -> None:
    """On the timer's thread: let the main thread arm its trace (the handler below)."""
    main = threading.main_thread().ident
    if state._job is not None and state._thread == main and main is not None:
        signal.pthread_kill(main, _SIGNAL)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGVTALRM on the main thread: arm the trace on the job's user frames (no switch)."""
    job = state._job
    if job is None or SCHED.current is not job or job._greenlet is not getcurrent():
        return
    if state._tracer_in_use() is not None:
        return  # someone else's trace arrived meanwhile: igogo leaves it alone
    if (
        not state._tracing
        and frame is not None
        and not is_user_code(frame.f_code.co_filename)
        and state._patience > 0
    ):
        # Caught inside library code.  Armed now, the whole library call would run
        # with 3.11's tracing on (several times slower); the timer fires again once
        # per tick, so wait for one that finds the job in its own code, a few times.
        state._patience -= 1
        return
    found = []
    while frame is not None and frame.f_code is not _ENTRY:
        if frame not in _last and is_user_code(frame.f_code.co_filename):
            found.append(frame)
        frame = frame.f_back
    if frame is None:
        return  # not inside the job after all
    for f in found:
        f.f_trace = _on_line
        _last[f] = f.f_lasti
    if not state._tracing:
        state._tracing = True
        _hub._before_switch = disarm
        sys.settrace(state._GLOBAL_TRACE)


def _on_line(frame: FrameType, event: str, arg: object) -> Any:
    """An armed user frame: switch at its first backward jump once the slice is over."""
    if event != "line":
        return _on_line
    lasti = frame.f_lasti
    previous = _last.get(frame)
    _last[frame] = lasti
    if previous is None or lasti > previous or _monotonic() < _hub._deadline:
        return _on_line
    job = SCHED.current
    if job is None or not job._preempt or job._greenlet is not getcurrent():
        disarm()
        return None
    if not _switchable(frame):
        frame.f_trace = None  # under a library's frame: the outer loops' ends will do
        return None
    disarm()
    state._switch()
    return None


def disarm() -> None:
    """Take the trace off every frame and the thread, before the job leaves the CPU."""
    state._tracing = False
    _hub._before_switch = None
    sys.settrace(None)
    for frame in _last:
        frame.f_trace = None
    _last.clear()
