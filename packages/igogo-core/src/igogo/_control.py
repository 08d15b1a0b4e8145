"""Stopping, pausing and resuming a job: requests that take effect at its switch points.

None of these switches greenlets; each only changes what the hub does with
the job the next time it reaches the job (``_hub`` stays the one door):

* **stop** sets the reason and makes :class:`~igogo.Stop` the value the job
  resumes with: at once if it is parked (its timer or waiter list is undone),
  at its next step if it is in the ready queue.  The stopped job is moved to
  the front of the queue, so a Stop button beside busy jobs acts within one
  step.  A job stopping itself raises on the spot.
* **pause** is a request (``_paused``); the job is *held* (``_held``) once the
  hub finds it at a switch point, parked in no queue.  What it waited for may
  still happen meanwhile: the wake-up is kept and delivered on resume.
* **resume** clears the request and puts a held job back in the ready queue.

From another thread each is handed to the jobs' thread and done there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from greenlet import getcurrent

from ._errors import Stop
from ._hub import SCHED

if TYPE_CHECKING:
    from ._job import Job

__all__ = ["pause", "resume", "stop"]

_MOVE_UP_TO = 256
"""Past this many ready jobs (``stop_all()`` over thousands) a stop keeps the queue's
order: moving the job costs a scan of the queue."""


def stop(job: Job[Any], reason: str = "stopped") -> bool:
    """Stop ``job`` with :class:`Stop`; returns False if it had already ended."""
    if job._outcome is not None:
        return False
    if not SCHED.on_owner_thread():
        SCHED.call_soon_threadsafe(stop, job, reason)
        return True
    if job._stop_reason is None:
        job._stop_reason = reason
    if job is SCHED.current and job._greenlet is getcurrent():
        raise Stop(job._stop_reason)
    job._paused = False
    SCHED.throw(job, Stop(job._stop_reason))
    ready = SCHED.ready
    if 0 < len(ready) <= _MOVE_UP_TO and ready[0] is not job and job in ready:
        ready.remove(job)
        ready.appendleft(job)
    return True


def pause(job: Job[Any]) -> None:
    """Ask ``job`` to stop taking turns; a job pausing itself parks here at once."""
    if job._outcome is not None:
        return
    if not SCHED.on_owner_thread():
        SCHED.call_soon_threadsafe(pause, job)
        return
    job._paused = True
    if job is SCHED.current and job._greenlet is getcurrent():
        job._held = True
        SCHED.park("paused")


def resume(job: Job[Any]) -> None:
    """Let a paused job take turns again; a held one goes back to the ready queue."""
    if not SCHED.on_owner_thread():
        SCHED.call_soon_threadsafe(resume, job)
        return
    job._paused = False
    if job._held:
        job._held = False
        SCHED.wake(job, job._send_value, job._send_exc)
