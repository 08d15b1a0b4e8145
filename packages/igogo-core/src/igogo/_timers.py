"""The scheduler's time: its clock, and the timers that fall due on it.

Sleeps, timeouts and :func:`igogo.lowlevel.call_at` are timers in one heap,
ordered by due time and then by arrival.  The hub (:mod:`igogo._hub`) reads the
heap's head directly in its tick (it is a list), fires what is due between job
steps and ends a job's slice early when a timer falls due meanwhile.

A cancelled timer stays in the heap until it falls due, as in asyncio, but
drops its callback (and whatever the callback holds) at once.  The heap is
rebuilt without them once they are most of it, so a churn of satisfied waits
(``Queue.get(timeout=60)`` answered at once, a thousand times) keeps memory
bounded.

The clock is the real monotonic clock unless a test swaps it
(:class:`igogo.testing.MockClock`); time slices are always real time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from typing import TYPE_CHECKING, Final

from . import _foreign as foreign
from ._errors import MisuseError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._hub import Scheduler

__all__ = ["REAL_CLOCK", "Clock", "Timer", "TimerHeap", "set_clock"]


class Clock:
    """The scheduler's clock: its time, and how regular code waits for it.

    This one is the real clock (:func:`time.monotonic`, real waits);
    :class:`igogo.testing.MockClock` is the other.  :func:`set_clock` swaps
    it.  Time slices (:func:`igogo.yielder`) stay on the real clock either
    way: sharing the CPU is a matter of real time.
    """

    def now(self) -> float:
        """This clock's time in seconds; never goes back."""
        return time.monotonic()

    def idle(self, sched: Scheduler, when: float) -> None:
        """Block the regular code that waits for jobs until ``when`` (this clock's time).

        Nothing is ready meanwhile; return early if another thread hands work
        over (``sched._wakeup`` is set).  The caller looks at the jobs again.
        """
        wait = when - self.now()
        sched._wakeup.wait(None if wait == math.inf else max(wait, 0.0))

    def sleep(self, seconds: float) -> None:
        """``igogo.sleep(seconds)`` in regular code while no job runs."""
        time.sleep(seconds)


REAL_CLOCK: Final = Clock()


class Timer:
    """A callback due at a time of the scheduler's clock; cancelling it is O(1)."""

    __slots__ = ("_heap", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], object], heap: TimerHeap) -> None:
        self.when = when
        self.callback: Callable[[], object] | None = callback
        self.cancelled = False
        self._heap = heap

    def cancel(self) -> None:
        """Drop the callback at once; the timer never fires (a no-op once it has)."""
        if not self.cancelled:
            self.cancelled = True
            self.callback = None
            self._heap.cancelled_one()


_COMPACT_AT: Final = 100
"""Cancelled timers below this count are left to fall due; above it, and above
half the heap, the heap is rebuilt without them."""


class TimerHeap:
    """The pending timers: a heap of (due time, arrival number, timer) in :attr:`entries`.

    ``entries`` is a plain list on purpose: the tick reads its head between job
    steps, and CPython specializes indexing for exact lists only.
    """

    __slots__ = ("_seq", "cancelled", "entries")

    def __init__(self) -> None:
        self.entries: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self.cancelled = 0
        """Cancelled timers still in the heap."""

    def __len__(self) -> int:
        return len(self.entries)

    def push(self, when: float, callback: Callable[[], object]) -> Timer:
        timer = Timer(when, callback, self)
        heapq.heappush(self.entries, (when, next(self._seq), timer))
        return timer

    def cancelled_one(self) -> None:
        """Count a cancelled timer; rebuild the heap once they are most of it."""
        self.cancelled += 1
        entries = self.entries
        if self.cancelled > _COMPACT_AT and 2 * self.cancelled > len(entries):
            entries[:] = [t for t in entries if not t[2].cancelled]
            heapq.heapify(entries)
            self.cancelled = 0

    def next_when(self) -> float:
        """When the earliest live timer is due (inf: none is pending)."""
        entries = self.entries
        while entries and entries[0][2].cancelled:
            heapq.heappop(entries)
            self.cancelled -= 1
        return entries[0][0] if entries else math.inf

    def fire_due(self, now: float) -> None:
        """Call, in due order, every timer due at ``now``; one that raises is logged."""
        entries = self.entries
        while entries and entries[0][0] <= now:
            timer = heapq.heappop(entries)[2]
            callback = timer.callback
            if timer.cancelled or callback is None:
                self.cancelled -= 1
                continue
            timer.cancelled, timer.callback = True, None  # fired: a late cancel() is a no-op
            foreign.call(None, "timer callback", callback)  # its failure is its own

    def pending(self) -> bool:
        """Whether a timer that has not been cancelled is waiting."""
        return any(not t[2].cancelled for t in self.entries)

    def shift(self, delta: float) -> None:
        """Move every pending timer by ``delta`` (the clock changed); drop cancelled ones."""
        entries = [(w + delta, n, t) for w, n, t in self.entries if not t.cancelled]
        for _, _, timer in entries:
            timer.when += delta
        heapq.heapify(entries)  # a uniform shift keeps the order; cheap anyway
        self.entries[:] = entries
        self.cancelled = 0

    def clear(self) -> None:
        """Forget every timer (only cancelled ones may be left)."""
        self.entries.clear()
        self.cancelled = 0


def set_clock(sched: Scheduler, clock: Clock | None, *, force: bool = False) -> None:
    """Make ``clock`` the scheduler's clock (None: the real one again).

    Refused while jobs are alive or timers are pending: their deadlines are
    in the old clock's time.  Timers already due fire first (igogo's own report
    of a failed job, due at once, may still wait for a tick when the last job
    has just ended).  Called on the thread that will run the jobs,
    outside any tick (not in a hook or a done callback).  ``force`` swaps
    anyway, keeping each pending timer's remaining time (a deadline a
    waiting job holds itself is not carried over).
    """
    from . import _hub  # it imports this module; the clock it reads is its own global
    from ._waiting import take_handovers

    if clock is None:
        clock = REAL_CLOCK
    if not force:
        if sched._in_tick:
            raise MisuseError(
                "cannot change igogo's clock inside a hook, a timer or a done callback"
            )
        sched.check_thread("changing igogo's clock")
        take_handovers()  # a job another thread has just started counts too
        if sched.live:
            names = ", ".join(repr(j) for j in sorted(sched.live.values(), key=lambda j: j.id))
            raise MisuseError(
                f"cannot change igogo's clock while {len(sched.live)} job(s) are alive "
                f"({names}): their sleeps and timeouts are in the current clock's time; "
                "change it before starting them, or wait for them (igogo.wait_all()) first"
            )
        if sched.timers.pending():
            sched.tick()  # no job is alive: the tick only fires the timers already due
        if sched.timers.pending():
            raise MisuseError(
                "cannot change igogo's clock while timers are pending "
                "(igogo.lowlevel.call_at): cancel them first"
            )
        sched.timers.clear()  # only cancelled ones were left
    else:
        sched.timers.shift(clock.now() - _hub._clock())
    sched.clock = clock
    _hub._clock = time.monotonic if clock is REAL_CLOCK else clock.now
