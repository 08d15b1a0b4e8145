"""``igogo.offload``: one call in a worker, waited for the igogo way."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any, ParamSpec, TypeVar, overload

from ._hub import SCHED
from ._job import current_job
from ._replies import Outcome, decode
from ._waiting import pump
from ._workers import Pool

__all__ = ["offload", "wait_future"]

P = ParamSpec("P")
T = TypeVar("T")


# A keyword-only `executor` cannot sit between *args: P.args and **kwargs: P.kwargs (PEP 612
# forbids it; mypy: "Arguments not allowed after ParamSpec.args").  So two signatures: with
# `executor=`, only the result is typed; without it, the arguments are checked against fn's.
@overload
def offload(fn: Callable[..., T], /, *args: Any, executor: object, **kwargs: Any) -> T: ...
@overload
def offload(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...
def offload(fn: Callable[..., T], /, *args: Any, executor: object = None, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a worker process and return its result.

    In a job, the job waits parked: the notebook and the other jobs run
    meanwhile, and stopping the job cancels the call if it has not started (a
    call already running in a process pool finishes there and is dropped; a
    Dask task is released).  In regular code it runs the jobs while it waits,
    as ``job.result()`` does; interrupting it stops the wait and drops the call
    the same way.  The kernel's interrupts never reach the default pool's
    workers (see :mod:`igogo._workers`).

    What ``fn`` prints in the worker appears here, in the job's output, when
    the result is back.  If ``fn`` raises, the same exception is raised here
    with the worker's traceback as its cause.  ``executor`` is None (igogo's
    reusable loky process pool), any ``concurrent.futures.Executor``, or a
    ``dask.distributed.Client``.  Problems of the machinery itself raise
    :class:`~igogo.WorkerError`: arguments that cannot be pickled, a worker that
    died (:class:`~igogo.WorkerDiedError`), an executor that was shut down or
    broke (:class:`~igogo.BrokenExecutorError`).
    """
    if not callable(fn):
        raise TypeError(f"igogo.offload(fn, ...): fn must be callable; got {fn!r}")
    pool = Pool(executor)
    fut = pool.submit(fn, [(args, kwargs)])
    return wait_future(fut, fn).unwrap()  # type: ignore[no-any-return]


def wait_future(fut: Future[Any], fn: Callable[..., Any]) -> Outcome:
    """Wait for a submitted call the igogo way: parked in a job, pumping in regular code."""
    me = current_job()
    if me is None:
        if not SCHED.on_owner_thread() or SCHED._in_tick:
            return decode(_wait_blocking(fut), fn)[0]
        fut.add_done_callback(lambda _: SCHED.call_soon_threadsafe(_nothing))
        try:
            pump(fut.done)
        except BaseException:
            fut.cancel()
            raise
        return decode(fut, fn)[0]
    waiting = [True]  # cleared when the job is woken some other way (a stop)

    def deliver(outcome: Outcome) -> None:
        if waiting:
            SCHED.wake(me, outcome)

    def done(f: Future[Any]) -> None:  # on the executor's thread: decode there, deliver here
        SCHED.call_soon_threadsafe(deliver, decode(f, fn)[0])

    fut.add_done_callback(done)
    try:
        return SCHED.park("waiting", waiting.clear)  # type: ignore[no-any-return]
    except BaseException:
        fut.cancel()
        raise


def _wait_blocking(fut: Future[Any]) -> Future[Any]:
    with contextlib.suppress(CancelledError):
        fut.exception()
    return fut


def _nothing() -> None:
    pass
