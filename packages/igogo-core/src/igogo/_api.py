"""The functions users call: starting, waiting for and stopping jobs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from ._errors import MisuseError, NotInJobError, without_igogo_frames
from ._hosts import Host, ensure_host
from ._hub import SCHED, now
from ._job import Job, _deadline_after, current_job
from ._options import JobOptions, check_number
from ._record import JobRecord
from ._waiting import pump, take_handovers

__all__ = [
    "JobList",
    "add_hook",
    "as_completed",
    "clear_output",
    "display",
    "jobs",
    "remove_hook",
    "run",
    "sleep",
    "stop",
    "stop_all",
    "stop_by_cell_id",
    "stop_latest",
    "wait",
    "wait_all",
]

P = ParamSpec("P")
T = TypeVar("T")


def start(
    fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], options: JobOptions
) -> Job[T]:
    return launch(Job(fn, args, kwargs, options))


def check_job_function(fn: object, who: str, takes: str) -> None:
    """Refuse what a job cannot run: a job's function is a plain (synchronous) callable.

    A class is callable, but calling it makes an object, not a job's work; an
    ``async def`` or generator function would only return an object that no
    one awaits or iterates.
    """
    if not callable(fn):
        raise TypeError(f"{who} {takes}; got {fn!r}, which is not callable")
    import inspect  # costly to import, needed only when decorating

    kind = (
        "a class"
        if inspect.isclass(fn)
        else "an async def (coroutine) function"
        if inspect.iscoroutinefunction(fn)
        else "an async generator function"
        if inspect.isasyncgenfunction(fn)
        else "a generator function"
        if inspect.isgeneratorfunction(fn)
        else None
    )
    if kind is None:
        return
    hint = (
        "use a function, or a method of the class, instead"
        if kind == "a class"
        else "call igogo.yielder() or igogo.sleep() inside them to let others run "
        "(await coroutines with asyncio instead)"
    )
    raise TypeError(
        f"{who} cannot run {getattr(fn, '__qualname__', fn)!r}: it is {kind}. "
        f"Jobs run plain functions; {hint}"
    )


def launch(job: Job[T]) -> Job[T]:
    """Hand a new job to the host and the scheduler (on the owner thread, or via it)."""
    host = ensure_host()
    host.adopt(job)
    if SCHED.on_owner_thread():
        SCHED.start(job)
    else:
        SCHED.call_soon_threadsafe(SCHED.start, job)
    return job


def sleep(seconds: float) -> None:
    """Pause for ``seconds`` while other jobs run.

    In a job this parks the job; in regular code it runs the jobs for that long
    (or simply sleeps when there is none).
    """
    if not ((type(seconds) is float or type(seconds) is int) and seconds >= 0):
        check_number("seconds", seconds, unit="seconds")  # the test above: a shortcut only
    me = current_job()
    if me is None:
        if SCHED.live and SCHED.on_owner_thread():
            pump(lambda: False, _deadline_after(seconds))
        elif seconds == math.inf:
            raise ValueError(
                "igogo.sleep(inf) outside a job, with no job running, would never return; "
                "sleep forever only inside a job, or while jobs run"
            )
        elif seconds:
            SCHED.clock.sleep(seconds)
        return
    if seconds == 0:
        SCHED.yield_now()
        return
    timer = SCHED.call_at(now() + seconds, lambda: SCHED.wake(me))
    SCHED.park("sleeping", timer.cancel)


def stop() -> None:
    """Stop the current job (raises :class:`~igogo.Stop` at once)."""
    me = current_job()
    if me is None:
        raise NotInJobError(
            "igogo.stop() stops the job that calls it, and was called outside any job; "
            "use job.stop(), igogo.stop_all() or igogo.stop_latest() to stop other jobs"
        )
    me.stop()


def _live() -> list[Job[Any]]:
    return sorted(SCHED.live.values(), key=lambda j: j.id)


def stop_all() -> int:
    """Stop every unfinished job; returns how many were stopped."""
    me = current_job()
    n = sum(j.stop() for j in _live() if j is not me)
    if me is not None:
        me.stop()
    return n


def stop_latest() -> Job[Any] | None:
    """Stop the most recently started unfinished job and return it (None if none)."""
    live = _live()
    if not live:
        return None
    live[-1].stop()
    return live[-1]


def stop_by_cell_id(cell_id: int) -> int:
    """Stop the unfinished jobs started from cell ``cell_id`` (their ``origin``); returns how many.

    Cell numbers are the ``n`` of ``In [n]``.  Jobs started outside a notebook
    cell (scripts) have no origin: stop those with :func:`stop_all` or ``job.stop()``.
    """
    if isinstance(cell_id, bool) or not isinstance(cell_id, int):
        raise TypeError(
            f"igogo.stop_by_cell_id({cell_id!r}): a cell number is an int, the n of In [n]; "
            "stop jobs by name with %igogo stop <name>, or use job.stop() or igogo.stop_all()"
        )
    if cell_id < 0:
        raise ValueError(
            f"igogo.stop_by_cell_id({cell_id!r}): a cell number is an int >= 0, the n of In [n]"
        )
    return sum(j.stop() for j in _live() if j.origin == cell_id)


def wait(*jobs: Job[Any], timeout: float | None = None) -> bool:
    """Wait until all ``jobs`` end; returns False if ``timeout`` passed first."""
    check_number("timeout", timeout, unit="seconds", none="")
    deadline = _deadline_after(timeout)
    for j in jobs:
        if not isinstance(j, Job):
            raise TypeError(f"igogo.wait() takes Job objects; got {j!r}")
        remaining = None if deadline == math.inf else max(deadline - now(), 0.0)
        if not j.wait(remaining):
            return False
    return True


def as_completed(*jobs: Job[T], timeout: float | None = None) -> Iterator[Job[T]]:
    """Yield ``jobs`` as they end, first ended first (jobs already ended come first).

    ``concurrent.futures.wait`` and ``as_completed`` accept only their own
    futures, so igogo has this one: inside a job it parks between jobs, in
    regular code it runs the jobs meanwhile.  ``TimeoutError`` if ``timeout``
    seconds pass before every job has ended.  From asyncio, ``await job``.
    """
    check_number("timeout", timeout, unit="seconds", none="")
    for j in jobs:
        if not isinstance(j, Job):
            raise TypeError(f"igogo.as_completed() takes Job objects; got {j!r}")
    deadline = _deadline_after(timeout)
    pending = list(dict.fromkeys(jobs))
    ended: list[Job[T]] = []
    from ._sync import Event  # the Event waits the igogo way, in a job or not

    changed = Event()

    def note(job: Job[T]) -> None:
        ended.append(job)
        changed.set()

    for j in pending:
        j.add_done_callback(note)
    while pending:
        while ended:
            job = ended.pop(0)
            if job in pending:
                pending.remove(job)
                yield job
        if not pending:
            return
        remaining = None if deadline == math.inf else max(deadline - now(), 0.0)
        if not changed.wait(remaining):
            raise TimeoutError(
                f"{len(pending)} of {len(jobs)} job(s) still running after {timeout} s"
            )
        changed.clear()


def wait_all(timeout: float | None = None) -> bool:
    """Wait until every job (but the caller) has ended, including jobs started meanwhile."""
    check_number("timeout", timeout, unit="seconds", none="")
    deadline = _deadline_after(timeout)
    me = current_job()
    if me is None:
        take_handovers()  # a job a thread has just started counts too
    while others := [j for j in _live() if j is not me]:
        remaining = None if deadline == math.inf else max(deadline - now(), 0.0)
        if not wait(*others, timeout=remaining):
            return False
    return True


def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` as a job from a script and drive every job until all have ended.

    Returns ``fn``'s result (or raises its exception).  On Ctrl-C every job is
    stopped, their ``finally`` blocks run, and ``KeyboardInterrupt`` propagates.
    """
    if current_job() is not None:
        raise MisuseError(
            f"igogo.run({getattr(fn, '__qualname__', fn)!r}) cannot run in a job: it drives "
            "the jobs from a script; call the job function directly to start a job from a job"
        )
    from ._decorator import JobFunction  # built on this module

    main: Job[T]
    if isinstance(fn, JobFunction):  # a decorated function: its job's result, not the Job
        main = fn(*args, **kwargs)
    else:
        check_job_function(fn, "igogo.run()", "runs a function")
        main = start(fn, args, kwargs, JobOptions())
    main._retrieving += 1  # its failure is raised here, shown once by Python
    guard = SCHED.interrupts
    before, guard.stop_all = guard.stop_all, True  # one Ctrl-C stops everything
    try:
        wait_all()
    except BaseException:
        stop_all()
        pump(lambda: not SCHED.live, now() + 5.0)
        raise
    finally:
        guard.stop_all = before
    failure = main._exception if main._outcome == "failed" else None
    if failure is not None:  # raised as Python shows an uncaught one: the user's frames only
        main._retrieved = True
        failure.__traceback__ = without_igogo_frames(failure.__traceback__)
        raise failure
    return main.result()


class JobList(list["Job[Any] | JobRecord"]):
    """A list of jobs whose repr is a readable table (an HTML table in notebooks).

    Finished jobs that nobody holds any more appear as their :class:`JobRecord`.
    """

    def __repr__(self) -> str:
        if not self:
            return "no igogo jobs"
        rows = [("id", "name", "origin", "state", "elapsed")]
        rows += [
            (
                str(j.id),
                j.name,
                "" if j.origin is None else str(j.origin),
                j.state,
                f"{j.elapsed:.1f}s",
            )
            for j in self
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        )


def jobs() -> JobList:
    """Every unfinished job and the most recent finished ones, oldest first."""
    seen: dict[int, Job[Any] | JobRecord] = {}
    for ref, record in SCHED.history:
        job = ref()
        seen[record.id] = record if job is None else job
    seen.update(SCHED.live)
    return JobList(sorted(seen.values(), key=lambda j: j.id))


def display(*objs: Any, **kwargs: Any) -> None:
    """Show objects in the current job's own output (its cell in a notebook).

    A job started with ``displays=N`` has N display slots that successive calls
    update in place.  Outside a job, and without a display host, this is
    IPython's ``display`` (or ``print`` without IPython).
    """
    job = current_job()
    hooks = SCHED.hooks
    if job is not None and hooks.take_display and not kwargs:
        # Integrations may show some objects their own way (igogo-mpl: figures).
        objs = tuple(o for o in objs if not hooks.take_display_of(job, o))
        if not objs:
            return
    host = SCHED.host or Host()
    host.display(job, objs, kwargs)


def clear_output(wait: bool = False) -> None:
    """Clear the current job's output (or, outside a job, the running cell's, as IPython does)."""
    host = SCHED.host or Host()
    host.clear_output(current_job(), wait)


def add_hook(hook: object) -> None:
    """Register an integration hook (see :class:`igogo.Hooks` for the events)."""
    SCHED.hooks.add(hook)


def remove_hook(hook: object) -> bool:
    """Unregister a hook; returns whether it was registered."""
    return SCHED.hooks.remove(hook)
