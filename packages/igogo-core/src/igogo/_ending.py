"""A job's ending: the bookkeeping first, then the foreign code, none of it cut short.

A job ends in the hub, right after its greenlet dies (or when a stop reaches it
before it ever ran).  What has to happen then is split in two on purpose:

* **igogo's bookkeeping**, which nothing foreign runs inside: the job leaves
  the live set and its greenlet is dropped, its record goes into the history,
  the jobs waiting on it wake, and its finished flag is set, so ``result()``
  returns in every thread;
* **foreign code**, each piece isolated: the hooks' ``job_finished``, the host's
  failure report, and the done callbacks in the order they were added.  One
  that raises is logged, and the next still runs.

A ``KeyboardInterrupt`` or ``SystemExit`` raised by foreign code (a Ctrl-C
landing in a slow done callback) is kept, not obeyed at once: the remaining
callbacks run, the host is released if this was the last job, and only then is
the first such exception raised, to whoever drives the jobs.  A job is never
left half ended.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from ._hooks import logger
from ._record import JobRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._hosts import Host
    from ._hub import Scheduler
    from ._job import Job

__all__ = ["finalize"]


def finalize(sched: Scheduler, job: Job[Any]) -> None:
    """Complete ``job``'s ending (see the module essay); called by the hub only."""
    job._greenlet = None
    if job._timeout_timer is not None:
        job._timeout_timer.cancel()
        job._timeout_timer = None
    sched.live.pop(job.id, None)
    job.record = record = JobRecord(job)
    sched.history.append((weakref.ref(job), record))
    for waiter in tuple(job._waiters):  # each wake removes the waiter from the list
        sched.wake(waiter)
    job._ended = True
    finished = job._finished  # made only if another thread waits (see Job._wait_in_thread)
    if finished is not None:
        finished.set()
    deferred: BaseException | None = None
    hooks = sched.hooks
    if hooks.job_finished:
        deferred = _keep(deferred, hooks.call, hooks.job_finished, job)
    host = sched.host
    if host is not None and job._exception is not None:
        deferred = _keep(deferred, _report, host, job)
    callbacks, job._callbacks = job._callbacks, []
    for cb in callbacks:
        deferred = _keep(deferred, job._call_back, cb)
    sched._detach_if_idle()
    if deferred is not None:
        raise deferred


def _keep(
    deferred: BaseException | None, fn: Callable[..., object], *args: Any
) -> BaseException | None:
    """Call ``fn(*args)``; keep the first KeyboardInterrupt or SystemExit for later.

    ``fn`` isolates ordinary exceptions itself; what reaches here is an
    interrupt or an exit, which must not cut a job's ending short.
    """
    try:
        fn(*args)
    except (KeyboardInterrupt, SystemExit) as e:
        return deferred or e
    return deferred


def _report(host: Host, job: Job[Any]) -> None:
    try:
        host.report_failure(job)
    except Exception:
        logger.exception("igogo host %r failed to report %r", host, job)
