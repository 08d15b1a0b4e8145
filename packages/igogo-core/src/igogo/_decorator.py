"""The ``@igogo.job`` decorator: a function that starts a job each time it is called.

What a job can run is checked once, when the function is decorated: a class,
an ``async def`` or a generator function would only hand back an object no
one drives, so each is refused with what to write instead.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from ._api import check_job_function, start
from ._job import Job
from ._options import JobOptions

__all__ = ["JobFunction", "job"]

P = ParamSpec("P")
T = TypeVar("T")


class JobFunction(Generic[P, T]):
    """A function decorated with :func:`job`: calling it starts a :class:`Job`."""

    def __init__(self, fn: Callable[P, T], options: JobOptions) -> None:
        check_job_function(fn, "igogo.job", "decorates functions")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.options = options
        self._jobs: dict[int, Job[T]] = {}

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Job[T]:
        job = start(self.fn, args, kwargs, self.options)
        self._jobs[job.id] = job
        job.add_done_callback(self._forget)
        return job

    def _forget(self, job: Job[T]) -> None:
        self._jobs.pop(job.id, None)

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)

    @property
    def jobs(self) -> list[Job[T]]:
        """The unfinished jobs this function started."""
        return [j for j in self._jobs.values() if not j.done()]

    def stop_all(self) -> int:
        """Stop every unfinished job this function started; returns how many."""
        return sum(j.stop() for j in self.jobs)

    def __repr__(self) -> str:
        return f"<igogo.job {getattr(self.fn, '__qualname__', self.fn)!r}>"


@overload
def job(fn: Callable[P, T], /) -> JobFunction[P, T]: ...
@overload
def job(
    *,
    name: str | None = None,
    timeout: float | None = None,
    preempt: bool | None = None,
    **options: Any,
) -> Callable[[Callable[P, T]], JobFunction[P, T]]: ...
def job(fn: Callable[P, T] | None = None, /, **options: Any) -> Any:
    """Make a function start a job each time it is called.

    Use as ``@igogo.job`` or ``@igogo.job(name=..., timeout=...)``.  igogo's own
    options: ``name`` (shown in job lists; default the function's name),
    ``timeout`` (seconds, after which the job is stopped in state ``timed
    out``) and ``preempt`` (True: the job's own loops may be switched out at
    the end of any iteration once its time slice is over, with no
    ``yielder()`` in them; library code is never split; None, the default:
    preemptible if ``igogo.configure(preempt=True)`` is in force when the job
    starts, or if a preemptive job starts it).
    Integrations add theirs: igogo-jupyter ``kind`` (``"text"``,
    ``"markdown"`` or ``"html"``: how the job's printed text is rendered),
    ``displays`` (display slots updated in place, >= 1) and ``warn_rewrite``;
    igogo-mpl ``auto_display_figures``.  An unknown option is refused with the
    list of those installed.
    """
    opts = JobOptions.from_kwargs(options)
    if fn is None:
        return lambda f: JobFunction(f, opts)
    return JobFunction(fn, opts)
