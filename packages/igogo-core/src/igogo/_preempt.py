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

**The mechanism, Python 3.12 and later: ``sys.monitoring``.**  igogo takes a
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

**The mechanism, Python 3.11: a trace armed when a slice ends.**  The slice
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
import signal
import sys
import threading
import warnings
import weakref
from types import CodeType
from typing import TYPE_CHECKING, Any, Final

from greenlet import getcurrent

from . import _hub
from ._hub import SCHED
from ._job import Job
from ._usercode import ENTRY as _ENTRY
from ._usercode import is_user_code
from ._usercode import switchable as _switchable

if TYPE_CHECKING:
    from types import FrameType

__all__ = ["admit", "forget_armed", "switched_in", "switched_out"]

_monotonic: Final = _hub._monotonic


def _function_code(fn: object) -> CodeType | None:
    for _ in range(10):  # a bound method's function, a partial's function, a wrapper's
        code = getattr(fn, "__code__", None)
        if isinstance(code, CodeType):
            return code
        fn = getattr(fn, "__func__", None) or getattr(fn, "func", None)
        if fn is None:
            return None
    return None


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
by :func:`_on_signal` alone, when a slice ends and again once per tick after."""

if sys.version_info >= (3, 12):
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

    def _why_not(job: Job[Any]) -> str | None:
        global _tool
        reason = _tracer_in_use()
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

    def _arm_job(job: Job[Any]) -> None:
        code = _function_code(job.function)
        if code is not None:
            _arm(code)

    def _expire() -> None:
        """On the timer's thread: arm the user code on the job's stack, re-enable the jumps."""
        tool = _tool
        if _job is None or tool is None or _mon.get_tool(tool) != "igogo":
            return
        frame = sys._current_frames().get(_thread)
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
            return None if _early else _DISABLE
        job = SCHED.current
        if job is None or not job._preempt or job._greenlet is not getcurrent():
            return _DISABLE  # regular code, or a cooperative job, in user code
        if not _switchable(sys._getframe(1)):
            return _DISABLE  # under a library's frame: wait for the outer loop's end
        reason = _tracer_in_use()
        if reason is not None:  # a debugger attached since the job started
            job._preempt = False
            _say(job, reason)
            return _DISABLE
        tool = _tool
        if tool is None:
            return _DISABLE
        try:
            _switch()
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

    def _disarm() -> None:
        pass

else:
    _SIGNAL: Final = signal.SIGVTALRM
    _last: dict[FrameType, int] = {}
    """Each armed frame's offset at its last line event: a smaller one is a backward jump."""

    def _why_not(job: Job[Any]) -> str | None:
        reason = _tracer_in_use()
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

    def _arm_job(job: Job[Any]) -> None:
        pass  # nothing to prepare: frames are armed when a slice ends

    def forget_armed() -> None:
        """Nothing is armed ahead of a slice's end on 3.11."""

    def _expire() -> None:
        """On the timer's thread: let the main thread arm its trace (the handler below)."""
        main = threading.main_thread().ident
        if _job is not None and _thread == main and main is not None:
            signal.pthread_kill(main, _SIGNAL)

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        """SIGVTALRM on the main thread: arm the trace on the job's user frames (no switch)."""
        global _tracing, _patience
        job = _job
        if job is None or SCHED.current is not job or job._greenlet is not getcurrent():
            return
        if _tracer_in_use() is not None:
            return  # someone else's trace arrived meanwhile: igogo leaves it alone
        if (
            not _tracing
            and frame is not None
            and not is_user_code(frame.f_code.co_filename)
            and _patience > 0
        ):
            # Caught inside library code.  Armed now, the whole library call would run
            # with 3.11's tracing on (several times slower); the timer fires again once
            # per tick, so wait for one that finds the job in its own code, a few times.
            _patience -= 1
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
        if not _tracing:
            _tracing = True
            _hub._before_switch = _disarm
            sys.settrace(_GLOBAL_TRACE)

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
            _disarm()
            return None
        if not _switchable(frame):
            frame.f_trace = None  # under a library's frame: the outer loops' ends will do
            return None
        _disarm()
        _switch()
        return None

    def _disarm() -> None:
        """Take the trace off every frame and the thread, before the job leaves the CPU."""
        global _tracing
        _tracing = False
        _hub._before_switch = None
        sys.settrace(None)
        for frame in _last:
            frame.f_trace = None
        _last.clear()


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
