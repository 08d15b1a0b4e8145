"""The scheduler: the one module that switches greenlets.

Every job is a greenlet.  A job leaves the CPU only here, through one of two
doors: :meth:`Scheduler.park` (wait for something; someone later calls
:meth:`Scheduler.wake` with a value or an exception) and the slow path of
:func:`yielder` (the time slice is over; go to the back of the ready queue).
The hub is whatever greenlet calls :meth:`Scheduler.tick`: a host's loop
callback between cells, or regular code that waits for jobs (the pump,
:mod:`igogo._waiting`).

Preemption (:mod:`igogo._preempt`) adds no door: a preemptible job whose slice
is over is switched out at the end of a loop body by calling
:meth:`Scheduler.yield_now` from a monitoring callback (or a trace function on
3.11), exactly as the slow path of :func:`yielder` does.  The hub only tells
that module when such a job is switched in and out (:meth:`Scheduler._step`),
so that it can arm the end of the slice, and lets it disarm a trace function
before the job leaves the CPU by another door (``_before_switch``).

Time is shared in ticks.  A tick fires due timers, then runs the ready jobs in
FIFO order, each until its slice ends, all within one budget
(``tick_budget``): a host then gets its loop back for a moment, so a kernel
answers new cells while jobs spin.  The end of the running job's slice is the
module global ``_deadline``; :func:`yielder` compares the clock against it and
returns when there is time left, which is what makes it nearly free.  While no
job exists ``_deadline`` is infinite, so regular code never leaves the fast
path.

Stopping is an exception (:class:`~igogo.Stop`) thrown where the job is parked,
or at its next switch point if it is in the ready queue; nothing is ever
interrupted between two switch points, except by a host's interrupt handler.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Final, Literal

from greenlet import getcurrent, greenlet

from . import _foreign as foreign
from . import _loops as loops
from ._ending import finalize
from ._errors import Stop, WrongThreadError
from ._hooks import Hooks
from ._interrupt import InterruptGuard
from ._timers import REAL_CLOCK, Clock, Timer, TimerHeap

if TYPE_CHECKING:
    import weakref
    from collections.abc import Callable

    from ._hosts import Host
    from ._job import Job
    from ._record import JobRecord

__all__ = ["SCHED", "Clock", "Scheduler", "Timer", "expire_slice", "now", "yielder"]

_monotonic: Final = time.monotonic
"""The real clock.  Time slices are always real time, whatever the scheduler's clock."""
_clock: Callable[[], float] = _monotonic
"""The scheduler's clock: timers, sleeps, timeouts and waits are measured in it.

The real clock unless a test swaps it (:func:`igogo._timers.set_clock`, the one
writer, for :class:`igogo.testing.MockClock`); code outside this module reads
it through :func:`now`."""
_deadline: float = math.inf
"""End of the running party's time slice (real monotonic seconds)."""
_before_switch: Callable[[], object] | None = None
"""Called by a job just before it parks or yields, while igogo._preempt has a trace
function armed in it (Python 3.11 only): the trace must not leave with the job."""


def now() -> float:
    """The scheduler's time in seconds: what sleeps, timeouts and timers are measured in."""
    return _clock()


def expire_slice() -> None:
    """End the running party's slice: its next :func:`yielder` takes the slow path.

    Safe inside a signal handler: it only stores a float.
    """
    global _deadline
    _deadline = -math.inf


def yielder() -> None:
    """Let other jobs run if this job's time slice is over; otherwise return at once.

    Call it as often as you like, even on every iteration of a tight loop: until
    the slice ends it costs one clock read.  In regular code (not a job) it runs
    one round of the jobs when the slice is over, and returns at once when no
    job exists.
    """
    if _monotonic() < _deadline:
        return
    SCHED.yield_slow()


class Scheduler:
    """Owns the ready queue, the timers and the switching; one per process."""

    def __init__(self) -> None:
        self.ready: deque[Job[Any]] = deque()
        self.timers = TimerHeap()
        self.live: dict[int, Job[Any]] = {}
        self.history: deque[tuple[weakref.ref[Job[Any]], JobRecord]] = deque(maxlen=200)
        """Recent finished jobs: each Job while it is alive, its record always."""
        self.current: Job[Any] | None = None
        self.hooks = Hooks()
        self.host: Host | None = None
        self.owner: int | None = None
        self.tick_budget = 0.015
        self.preempt_default = False
        """Whether a job started without ``preempt=`` is preemptible (``configure(preempt=)``)."""
        self.preempter: Any = None
        """igogo._preempt, once a preemptible job has started: what :meth:`_step` tells."""
        self.interrupt_pending = False
        self.interrupt_for: Job[Any] | None = None
        """The job that held the CPU when a Ctrl-C was held (None: igogo's own code)."""
        self.interrupts = InterruptGuard(self)
        self._hub: greenlet | None = None
        self._in_tick = False
        self._end_tick = False
        """Set by :meth:`end_tick` (any thread): the running tick ends at the next switch."""
        self.unstarted: set[Job[Any]] = set()
        """Ready jobs that have not taken their first step: :meth:`end_tick` waits for them."""
        self._calls: deque[tuple[Callable[..., object], tuple[object, ...]]] = deque()
        self._wakeup = threading.Event()
        self.clock: Clock = REAL_CLOCK
        """The scheduler's clock (``_timers.set_clock``); its ``now`` is the module's ``_clock``."""

    # -- threads -----------------------------------------------------------------

    def on_owner_thread(self) -> bool:
        return self.owner is None or self.owner == threading.get_ident()

    def call_soon_threadsafe(self, fn: Callable[..., object], *args: object) -> None:
        """Run ``fn(*args)`` on the scheduler's thread at the start of the next tick."""
        self._calls.append((fn, args))
        self._wakeup.set()
        host = self.host
        if host is not None:
            host.wake_threadsafe()

    def check_thread(self, what: str) -> None:
        if not self.on_owner_thread():
            raise WrongThreadError(
                f"{what} must be called on the thread that runs the jobs "
                f"(thread id {self.owner}), not on thread {threading.get_ident()}"
            )

    def end_tick(self) -> None:
        """End the running slice and tick: the host gets its loop back at the next switch point.

        For a host whose loop has work waiting (a kernel that received a
        request).  Safe from any thread: it stores a flag and a float, and a
        preemptible job on the CPU is told as its slice timer would tell it.  A
        tick that starts later runs normally.
        """
        global _deadline
        self._end_tick = True
        _deadline = -math.inf
        preempter = self.preempter
        if preempter is not None:
            preempter.expire_now()

    # -- starting and finishing jobs ----------------------------------------------

    def start(self, job: Job[Any]) -> None:
        """Enter a new job in the ready queue (on the owner thread)."""
        global _deadline
        self.live[job.id] = job
        preempt = job.options.preempt
        if preempt is None:  # the default, or the preemptive job starting it (a cell's helpers)
            parent = self.current
            preempt = self.preempt_default or (parent is not None and parent._preempt)
        if preempt:
            from . import _preempt  # imported only once a job asks for it

            job._preempt = _preempt.admit(job)  # False, said once why, if it cannot be
        if job.options.timeout is not None:
            job._timeout_timer = self.call_at(
                _clock() + job.options.timeout, lambda: _time_out(job)
            )
        if self.hooks.job_started:
            self.hooks.call(self.hooks.job_started, job)
        self.unstarted.add(job)
        self.wake(job)
        if _deadline == math.inf:
            _deadline = _monotonic() + self.tick_budget

    def _detach_if_idle(self) -> None:
        global _deadline
        if not self.live and not self._calls:
            _deadline = math.inf
            host = self.host
            if host is not None:
                self.host = None
                self.owner = None  # no job left: the next host's thread owns the next jobs
                host.detach()

    # -- the two doors ----------------------------------------------------------------

    def park(
        self,
        state: Literal["sleeping", "waiting", "paused"],
        cancel: Callable[[], object] | None = None,
    ) -> Any:
        """Suspend the current job until :meth:`wake`; return the value it is woken with.

        ``cancel`` undoes the registration the job waits on (a timer, a waiter
        list) when the job is woken another way, for example by a stop.
        """
        job = self.current
        assert job is not None and job._greenlet is getcurrent()
        if job._stop_reason is not None:
            if cancel is not None:
                cancel()
            raise Stop(job._stop_reason)
        job._state = state
        job._cancel = cancel
        assert self._hub is not None
        if _before_switch is not None:
            _before_switch()
        return self._hub.switch()

    def yield_now(self) -> None:
        """Go to the back of the ready queue now, whatever the slice says."""
        job = self.current
        assert job is not None and job._greenlet is getcurrent()
        if job._stop_reason is not None:
            raise Stop(job._stop_reason)
        self.ready.append(job)
        assert self._hub is not None
        if _before_switch is not None:
            _before_switch()
        self._hub.switch()

    def yield_slow(self) -> None:
        """The slow path of :func:`yielder`: the slice is over."""
        global _deadline
        job = self.current
        if job is not None and job._greenlet is getcurrent():
            self.yield_now()
            return
        if not self.live:
            _deadline = math.inf
        elif not self._in_tick and self.on_owner_thread():
            self.tick(interrupts_to_caller=True)

    def throw(self, job: Job[Any], exc: BaseException) -> None:
        """Make ``job`` raise ``exc`` where it stands: at once if it is parked or held, at
        its next step if it is in the ready queue (a stop, an interrupt)."""
        if job._held or job._cancel is not None or job._state in ("sleeping", "waiting"):
            job._held = False
            self.wake(job, exc=exc)
        elif job._send_exc is None:
            job._send_exc = exc

    def wake(self, job: Job[Any], value: object = None, exc: BaseException | None = None) -> None:
        """Make a parked (or new) job ready; it resumes with ``value`` or raises ``exc``."""
        cancel = job._cancel
        if cancel is not None:
            job._cancel = None
            cancel()
        job._send_value = value
        job._send_exc = exc
        if job._paused and exc is None:
            job._held = True
            return
        if job._state != "pending":
            job._state = "running"
        self.ready.append(job)
        if not self._in_tick and self.host is not None:
            self.host.wake(0.0)

    # -- timers --------------------------------------------------------------------------

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        """Call ``callback()`` between job steps once the clock reaches ``when``."""
        timer = self.timers.push(when, callback)
        if not self._in_tick and self.host is not None:
            self.host.wake(when)
        return timer

    def next_deadline(self) -> float:
        """When the next tick is due: now if jobs are ready, else the next timer."""
        if self.ready or self._calls:
            return 0.0
        return self.timers.next_when()

    # -- ticks ------------------------------------------------------------------------------

    def tick(self, interrupts_to_caller: bool = False, first_steps: bool = False) -> None:
        """Run due timers, then ready jobs for at most ``tick_budget`` seconds.

        A job's slice also ends when the next timer is due, due timers fire
        between job steps, and the jobs they wake run next, so sleepers wake on
        time beside busy jobs.  With ``first_steps`` the tick is ended from the
        start (as by :meth:`end_tick`): it lasts until each job that has not run
        yet took its first step, up to its first switch point.
        """
        global _deadline
        if self._in_tick:
            return
        self._in_tick = True
        self._hub = hub = getcurrent()
        ready = self.ready
        guard = False
        try:
            calls = self._calls
            now = _clock()
            timers = self.timers.entries  # a plain list: read between every two job steps
            if not (ready or calls or (timers and timers[0][0] <= now)):
                return  # nothing to do: the SIGINT handler is left alone
            # From here on igogo's own code runs: a Ctrl-C is held, never cuts it short.
            guard = self.interrupts.install(to_caller=interrupts_to_caller)
            if calls:
                while calls:
                    fn, args = calls.popleft()
                    foreign.call(None, "hand-over from another thread", fn, *args)
                if not self.live:  # late hand-overs (a result for a stopped job): now idle
                    self._detach_if_idle()
                    return
            self._fire_timers(now)
            if not ready:
                return
            hub_loop = loops.running()
            budget = self.tick_budget
            # Slices are real time; under another clock (a test's MockClock) the
            # timers are in its time, and only its jumps make them due.
            virtual = _clock is not _monotonic
            real = _monotonic() if virtual else now
            end = real + budget
            share = budget / len(ready)
            self._end_tick = first_steps
            while ready:
                job = ready.popleft()
                if job._paused and job._send_exc is None:
                    job._held = True
                    self.unstarted.discard(job)  # paused before it began: not waited for
                    continue
                d = real + share
                if d > end:
                    d = end
                if timers and timers[0][0] < d and not virtual:
                    d = timers[0][0]
                _deadline = -math.inf if job._stop_reason or self._end_tick else d
                if self.interrupt_pending:  # a Ctrl-C held: _interrupt decides who gets it
                    self.interrupts.before_step(job, interrupts_to_caller)
                self._step(job, hub, hub_loop)
                if self.interrupt_pending:
                    self.interrupts.after_step(job, interrupts_to_caller)
                if self._end_tick and not self.unstarted:  # the host's loop has work waiting
                    break
                real = _monotonic()
                now = _clock() if virtual else real
                if real >= end:
                    break
                if timers and timers[0][0] <= now:
                    self._fire_timers(now)
            if self.interrupt_pending:  # one that came after the last step
                self.interrupts.after_step(None, interrupts_to_caller)
        finally:
            if guard:
                self.interrupts.restore()
            if self.interrupt_pending and not self.live:
                self.interrupt_pending = False  # held for a job, and none is left to take it
            self._in_tick = False
            self.current = None
            _deadline = _monotonic() + self.tick_budget if self.live else math.inf

    def _fire_timers(self, now: float) -> None:
        ready = self.ready
        n = len(ready)
        self.timers.fire_due(now)
        if len(ready) > n:
            # The jobs these timers woke run next, in due order, not behind every
            # busy job's slice: that is what makes a sleeper wake on time.
            ready.rotate(len(ready) - n)

    def _step(self, job: Job[Any], hub: greenlet, hub_loop: object = None) -> None:
        g = job._greenlet
        exc = job._send_exc
        value = job._send_value
        job._send_exc = job._send_value = None
        if g is None:
            self.unstarted.discard(job)
            if exc is not None:  # stopped before it ever ran
                job._set_outcome(exc)
                finalize(self, job)
                return
            g = job._greenlet = greenlet(job._run, hub)
            g.gr_context = job._context
        elif g.parent is not hub:
            g.parent = hub
        self.current = job
        job._state = "running"
        hooks = self.hooks
        if hooks.switched_in:
            hooks.call(hooks.switched_in, job)
        if job._loop is not None:
            loops.put_back(job)
        preempter = self.preempter if job._preempt else None
        if preempter is not None:
            preempter.switched_in(job, _deadline)  # arms the end of this slice
        try:
            if exc is None:
                g.switch(value)
            else:
                g.throw(exc)
        finally:
            self.current = None
            if preempter is not None:
                preempter.switched_out()
            # Only a hub without a running loop can have jobs that run their own
            # (asyncio refuses to start a loop inside a running one): a kernel's
            # switches skip this entirely.
            if hub_loop is None and (loops.bound or "asyncio" in sys.modules):
                loops.take_away(job)
            if hooks.switched_out:
                hooks.call(hooks.switched_out, job)
        if g.dead:
            finalize(self, job)


def _time_out(job: Job[Any]) -> None:
    from ._control import stop  # it builds on this module

    stop(job, "timed out")


SCHED: Final = Scheduler()
