"""Waiting: a job parked in a list of waiters, and regular code pumping.

A job that waits for something (another job's end, a queue, an event) parks
in that thing's list of waiters (:func:`park_in`), with a timer if it waits
with a deadline; whoever makes the thing ready wakes it.

Outside any job, ``Job.result()``, ``igogo.wait_all()``, ``igogo.sleep()``
and a primitive's ``wait`` cannot park: there is no greenlet to switch away
from.  They pump instead: run ticks (:meth:`Scheduler.tick`) in the caller's
frame until what they wait for is true, and sleep on the scheduler's clock
(:meth:`Clock.idle`) while nothing is ready.  A Ctrl-C meanwhile is the
caller's (``interrupts_to_caller``).  The pump never switches greenlets
itself; the tick does, through the hub's doors.

Other threads hand work over with :meth:`Scheduler.call_soon_threadsafe`: a
job started from a thread, a result for a job that has just ended.  Regular
code runs those hand-overs first (:func:`take_handovers`), so that it never
decides it has nothing to wait for while they are queued.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ._errors import MisuseError
from ._hub import SCHED, now

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._job import Job

__all__ = ["park_in", "pump", "take_handovers"]


def take_handovers() -> None:
    """Run what other threads handed over, before regular code looks at the jobs.

    Otherwise a job just started from a thread would wait for the host's next
    loop turn (and the host stays attached until then).
    """
    sched = SCHED
    if sched._calls and not sched._in_tick and sched.on_owner_thread():
        sched.tick(interrupts_to_caller=True)


def pump(until: Callable[[], bool], deadline: float = math.inf) -> bool:
    """Run jobs from regular code until ``until()`` is true or ``deadline`` passes.

    Returns ``until()``.  Between ticks with nothing ready it sleeps until the
    next timer, or until another thread hands work over.
    """
    sched = SCHED
    if sched._in_tick:
        raise MisuseError(
            "cannot wait for igogo jobs inside a hook or a done callback; "
            "use add_done_callback() to react to a job's end instead"
        )
    sched.check_thread("waiting for jobs")
    take_handovers()
    while not until():
        sched.tick(interrupts_to_caller=True)
        if until():
            return True
        if now() >= deadline:
            return False
        if sched.ready or sched._calls:
            continue
        sched.clock.idle(sched, min(sched.next_deadline(), deadline))
        sched._wakeup.clear()
    return True


def park_in(waiters: list[Job[Any]], deadline: float = math.inf) -> None:
    """Park the current job in ``waiters`` until someone wakes it or ``deadline`` passes.

    The waker removes the job from ``waiters`` (or :meth:`Scheduler.wake` does
    it through the cancel callback); a timed-out job wakes with no value.
    """
    sched = SCHED
    job = sched.current
    assert job is not None
    timer = sched.call_at(deadline, lambda: sched.wake(job)) if deadline < math.inf else None

    def cancel() -> None:
        if timer is not None:
            timer.cancel()
        if job in waiters:
            waiters.remove(job)

    waiters.append(job)
    sched.park("waiting", cancel)
