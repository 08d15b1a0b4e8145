"""Preemption: a job's own loops become switch points, with no ``yielder()`` in them.

**The promise.**  A preemptible job (``@igogo.job(preempt=True)``, or every job
after ``igogo.configure(preempt=True)``) may be switched out at the end of an
iteration of any loop in user code, a backward jump (``for``, ``while``,
``continue``, a comprehension's or a generator's loop), once its time slice is
over: as if ``igogo.yielder()`` stood at the end of every loop body.  Between
slice ends nothing happens: the loop runs at full speed.  Stop, pause, resume
and timeouts reach a preempted job where it was switched out, as they reach a
cooperative job at its ``yielder()``; a job that also calls ``yielder()``,
sleeps or waits keeps doing so.

**Entering a function is not a switch point.**  Recursion without a loop is
never preempted.  A call sits in the middle of the caller's statement (its
arguments evaluated, its result not yet stored); a loop's end is a statement
boundary of the frame that switches, exactly where a user would have put the
``yielder()``.  Keeping one kind of switch point keeps the promise one
sentence long, and the code it describes is the code that holds a notebook:
loops.  Recursive code can call ``igogo.yielder()`` itself.

**Library code is never split.**  A switch happens only when *every* Python
frame between the job's function and the loop is user code.  A loop in a
user's callback that a library calls (``json.dumps(default=...)``, a
decorator's wrapper, ``pandas.apply``) waits until the library returns, so a
library's locks, context managers and invariants hold around every switch.
Builtins written in C (``sorted(key=...)``, ``map``) have no frame and do not
count: a switch inside their Python callback is what a ``yielder()`` there
would do today.

**What counts as user code** is :mod:`igogo._usercode`'s decision: cells,
files outside the standard library and site-packages, and the user's
``preempt_include`` / ``preempt_exclude`` rules; never igogo or its
integrations.

**The mechanism** is one of two modules, chosen at import:
:mod:`igogo._preempt_monitoring` on Python 3.12 and later (``sys.monitoring``
``JUMP`` events on user code only, re-enabled when a slice ends) and
:mod:`igogo._preempt_trace` on 3.11 (a trace function armed by a signal when a
slice ends; main thread only).  Each says how, and what it costs.

**Switching from a callback.**  CPython marks the thread "inside a callback"
while a monitoring callback or a trace function runs, and delivers no event to
anyone meanwhile; greenlet does not keep that mark per greenlet.  The switch
goes through ``sys.call_tracing``, which clears the mark for the call and puts
it back when this job resumes, so the other jobs and the hub keep theirs.

**The slice timer** is one daemon thread that sleeps until the running
preemptible job's slice ends (``_hub._deadline``, the same slices and ticks as
cooperative jobs), and again once per ``tick_budget`` while that job stays on
the CPU past it (user code it entered since is then armed too).  Waking a
thread costs a GIL hand-over, which a busy main thread grants only after
``sys.getswitchinterval()``: the thread asks that much early.  If it gets the
GIL early anyway (the job was blocked in C), the callbacks keep firing until
the deadline (``_early``) rather than disabling themselves and missing it.  It
never touches a job: it only re-enables events (3.12+) or sends the signal
(3.11); every decision is taken again in the job's own thread, so a late or
stale wake-up is harmless.

**It lives with debuggers, coverage tools and profilers.**  igogo never takes
a tool id or a trace function someone else holds.  If a trace or profile
function is set (pdb, coverage.py's tracer, cProfile on 3.11), if both tool ids
are taken, or if SIGVTALRM has another handler (3.11), the job runs
cooperatively and igogo says why once, with a :class:`RuntimeWarning`.
``restart_events()`` also re-enables events other tools disabled; it is only
called while a preemptible job runs.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import warnings
from typing import TYPE_CHECKING, Any, Final

from . import _hub
from ._hub import SCHED
from ._job import Job

if TYPE_CHECKING:
    pass

__all__ = ["admit", "forget_armed", "switched_in", "switched_out"]

_monotonic: Final = _hub._monotonic


# -- saying why a job runs cooperatively ---------------------------------------------------------

_said: set[str] = set()


def _say(job: Job[Any], reason: str) -> None:
    if reason not in _said:
        _said.add(reason)
        warnings.warn(
            f"igogo: {job!r} runs cooperatively, not preemptively: {reason}. "
            "Its loops are switched out only where they call igogo.yielder().",
            RuntimeWarning,
            stacklevel=5,
        )


def _tracer_in_use() -> str | None:
    for what, fn in (("trace", sys.gettrace()), ("profile", sys.getprofile())):
        if fn is not None and not (fn is _GLOBAL_TRACE and _tracing):
            name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
            return (
                f"a {what} function is set (sys.set{what}: {name}, a debugger, "
                "a coverage tool or a profiler), and igogo never takes it over"
            )
    return None


# -- the slice timer ------------------------------------------------------------------------------

_job: Job[Any] | None = None
"""The preemptible job switched in now (None: none)."""
_until = math.inf
"""The end of its slice (real monotonic seconds)."""
_thread = 0
"""The thread it runs on."""
_early = False
"""The timer woke before ``_until``: the callbacks keep firing until it passes."""
_PATIENCE: Final = 3
_patience = _PATIENCE
"""Slice ends that may still skip arming while the job is inside library code (3.11)."""
_watching = math.inf
"""What the timer sleeps towards (inf: idle until poked)."""
_poke = threading.Event()
_timer: threading.Thread | None = None


def switched_in(job: Job[Any], deadline: float) -> None:
    """The hub is about to switch ``job`` in, with its slice ending at ``deadline``."""
    global _job, _until, _thread, _early, _patience
    _job, _until, _early, _patience = job, deadline, False, _PATIENCE
    _thread = threading.get_ident()
    if deadline < _watching:  # the timer sleeps towards a later time, or nothing: wake it
        _poke.set()


def switched_out() -> None:
    """The job is off the CPU (yielded, parked, paused or ended)."""
    global _job, _until
    _job, _until = None, math.inf
    if _tracing:  # ended (or failed) between a slice's end and its next loop end
        _disarm()


def expire_now() -> None:
    """The running slice was ended early from another thread (``Scheduler.end_tick``).

    A preemptible job on the CPU is then armed at once, as the slice timer arms
    it at a slice's end: its next loop end in user code switches.
    """
    if _job is not None:
        _expire()


def _watch() -> None:
    """The slice timer's thread: wake at each slice's end and re-arm the switch points.

    While the same job stays on the CPU past its slice (inside library code, or
    in user code it has not reached a loop end of), it fires again once per
    ``tick_budget``: user code that job has entered since is then armed too.
    """
    global _watching, _early
    fired = math.nan
    again = math.inf
    while True:
        until = _until
        if until == math.inf:
            _watching = math.inf
            _poke.wait()
            _poke.clear()
            continue
        target = again if until == fired else until
        _watching = target
        # Ask for the GIL one switch interval early: a busy thread hands it over that late.
        wait = target - _monotonic() - sys.getswitchinterval()
        if wait > 0:
            _poke.wait(wait)
            _poke.clear()
            continue
        if until != _until:
            continue
        fired = until
        _early = _monotonic() < until
        again = _monotonic() + SCHED.tick_budget
        try:
            _expire()
        except Exception:  # never let the timer die: the jobs would just stop being preempted
            from ._hooks import logger

            logger.exception("igogo's slice timer failed to end a slice")


def _start_timer() -> None:
    global _timer
    if _timer is None or not _timer.is_alive():
        _timer = threading.Thread(target=_watch, name="igogo-slice-timer", daemon=True)
        _timer.start()


def _after_fork() -> None:
    global _timer, _job, _until
    _timer, _job, _until = None, None, math.inf  # the thread did not survive the fork
    _poke.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _switch() -> None:
    """Leave the CPU from inside a callback or a trace function, through the hub's door.

    CPython marks the thread as "inside a callback" (``tstate->tracing``) while
    one runs, and delivers no event to anyone meanwhile; greenlet does not keep
    that mark per greenlet.  Switching out with it set would leave every other
    job, and the hub, without events until this job resumed.
    ``sys.call_tracing`` clears it for the call and puts it back afterwards, in
    this job's greenlet, when the job resumes.
    """
    sys.call_tracing(SCHED.yield_now, ())


# -- the mechanism: sys.monitoring (3.12+) or a trace function armed at the slice's end (3.11) --

_tracing = False
"""A trace is armed in the running job (3.11)."""
_GLOBAL_TRACE: Final = getattr
"""The thread's trace function while armed (3.11).  CPython calls it for every new
frame; ``getattr(frame, "call", None)`` is None at C speed, so library code called
meanwhile pays no Python call and new frames get no local trace.  Frames are armed
by the 3.11 mechanism's signal handler alone, when a slice ends and again once per
tick after."""

# The mechanism last: it reads the state above when its functions run.
if sys.version_info >= (3, 12):
    from ._preempt_monitoring import arm_job as _arm_job
    from ._preempt_monitoring import disarm as _disarm
    from ._preempt_monitoring import expire as _expire
    from ._preempt_monitoring import forget_armed
    from ._preempt_monitoring import why_not as _why_not
else:
    from ._preempt_trace import arm_job as _arm_job
    from ._preempt_trace import disarm as _disarm
    from ._preempt_trace import expire as _expire
    from ._preempt_trace import forget_armed
    from ._preempt_trace import why_not as _why_not

# -- admission ------------------------------------------------------------------------------------


def admit(job: Job[Any]) -> bool:
    """Make ``job`` preemptible if this interpreter and its tools allow it; else say why, once."""
    reason = _why_not(job)
    if reason is not None:
        _say(job, reason)
        return False
    SCHED.preempter = sys.modules[__name__]
    _arm_job(job)
    _start_timer()
    return True
