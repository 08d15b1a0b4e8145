"""``igogo.map``: a job that runs a function over many items in worker processes.

The :class:`MapJob` is an ordinary job whose greenlet only hands items to the
executor and collects what comes back (:mod:`igogo._dispatch` does that); the
work happens in the workers.  This module is the map as users see it: the
arguments it takes, the table of items it keeps, and what it ends with.

Each item keeps its own result, error, prints and attempts, so one failing
item does not lose the others: the map runs every item, then ends with the
results in input order, or with a :class:`~igogo.MapError` that holds every
failed item's exception (with ``return_exceptions=True``, those exceptions
take the failed items' places in the results instead).  An executor that
refuses work ends the map with the items not yet run still ``pending``, for
:meth:`MapJob.restart` with a new executor; restart() also runs again what
failed, and keeps what succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, Literal, TypeVar, overload

from ._api import launch
from ._dispatch import Dispatcher, _Item
from ._errors import BrokenExecutorError, IgogoError, MapError, error_text
from ._hub import SCHED
from ._job import Job
from ._options import JobOptions, check_flag, check_number
from ._status import ItemStatus, MapStatus, short_repr
from ._workers import Pool

__all__ = ["MapJob", "map"]

Item = TypeVar("Item")
R = TypeVar("R")


class MapJob(Job[list[R]], Generic[Item, R]):
    """The job started by :func:`igogo.map`: a :class:`~igogo.Job` with a table of items.

    ``MapJob[Item, R]``: items of type ``Item``, results of type ``R`` (with
    ``return_exceptions=True``, ``R`` includes ``BaseException``).

    Its result is the list of results in input order.  :meth:`results` waits
    for it; :meth:`status` and :meth:`exceptions` tell where things stand at
    any time; :meth:`submit` adds items while it runs; :meth:`restart` runs
    again what failed or never finished.
    """

    def __init__(
        self,
        fn: Callable[[Item], Any],
        items: list[_Item],
        pool: Pool,
        max_in_flight: int | None,
        retries: int,
        return_exceptions: bool,
        progress: bool,
        name: str | None,
        chunksize: int | None = None,
    ) -> None:
        name = name or f"map({getattr(fn, '__name__', None) or type(fn).__name__})"
        super().__init__(self._drive, (), {}, JobOptions(name=name))
        self.fn = fn
        self.pool = pool
        self.max_in_flight = max_in_flight
        self.chunksize = chunksize
        self.retries = retries
        self.return_exceptions = return_exceptions
        self.progress = progress
        self._items = items
        self._dispatch = Dispatcher(self, items)

    # -- in the job -----------------------------------------------------------------------

    def _drive(self) -> list[R]:
        self._dispatch.run()
        return self._outcome_list()

    def _outcome_list(self) -> list[R]:
        items = self._items
        broken = self._dispatch.broken
        if broken is not None:
            left = sum(it.state == "pending" for it in items)
            raise BrokenExecutorError(
                f"{self.name}: {broken} -- {left} of {len(items)} items were not run; "
                "restart(executor=...) runs them on a new executor"
            ) from broken
        errors = {it.index: it.error for it in items if it.state == "error" and it.error}
        if errors and not self.return_exceptions:
            first = next(iter(errors))
            raise MapError(
                f"{len(errors)} of {len(items)} items of {self.name} failed; the first, item "
                f"{first} ({short_repr(items[first].item)}): {error_text(errors[first])}. "
                "status() lists every item, restart() runs the failed ones again",
                errors,
            ) from errors[first]
        # Errors only with return_exceptions=True, whose MapJob's R includes BaseException.
        values: list[Any] = [it.value if it.state == "ok" else it.error for it in items]
        return values

    # -- from outside ----------------------------------------------------------------------

    def results(self, timeout: float | None = None) -> list[R]:
        """The results in input order, waiting for the map to end (like :meth:`result`).

        Raises :class:`~igogo.MapError` if items failed (unless the map was
        started with ``return_exceptions=True``: their exceptions are then in
        the list), and :class:`~igogo.StoppedError` if the map was stopped.
        """
        return self.result(timeout)

    def exceptions(self) -> dict[int, BaseException]:
        """The exception of every failed item by index, as things stand now (no waiting)."""
        return {it.index: it.error for it in self._items if it.state == "error" and it.error}

    def status(self) -> MapStatus:
        """Every item now: state, attempts, time and last error; a table in a notebook."""
        now = time.monotonic()
        rows = MapStatus()
        for it in self._items:
            state, seconds = it.state, it.seconds
            if state == "running":
                if it.started is None:
                    state, seconds = "pending", None  # sent, waiting at the executor
                else:
                    seconds = now - it.started
            rows.append(
                ItemStatus(it.index, it.item, state, it.attempts, seconds, error_text(it.error))
            )
        return rows

    def submit(self, item: Item) -> int:
        """Add one more item to the running map; returns its index."""
        SCHED.check_thread("MapJob.submit()")
        if self.done():
            raise IgogoError(
                f"{self!r} has ended and takes no more items; start a new igogo.map() "
                "or restart() it"
            )
        return self._dispatch.add(item)

    def restart(self, executor: object = None) -> MapJob[Item, R]:
        """Start a new map over the same items that runs only those that failed or never finished.

        Items that succeeded keep their results.  Returns the new
        :class:`MapJob` (this one stays as it ended); ``executor`` replaces the
        executor, for example after one broke.
        """
        if not self.done():
            raise IgogoError(f"{self!r} is still running; stop it or wait for it before restart()")
        items = []
        for old in self._items:
            it = _Item(old.index, old.item)
            if old.state == "ok":
                it.state, it.value, it.seconds = "ok", old.value, old.seconds
            it.attempts = old.attempts  # go on counting; `tries` starts again
            items.append(it)
        pool = self.pool if executor is None else Pool(executor)
        job: MapJob[Item, R] = MapJob(
            self.fn,
            items,
            pool,
            self.max_in_flight,
            self.retries,
            self.return_exceptions,
            self.progress,
            self.name,
            self.chunksize,
        )
        launch(job)
        return job

    def __repr__(self) -> str:
        where = "" if self.origin is None else f" from {self.origin}"
        summary = self.status().summary()
        return f"<igogo.MapJob #{self.id} {self.name!r}{where} {self.state}: {summary}>"


@overload
def map(
    fn: Callable[[Item], R],
    iterable: Iterable[Item],
    *,
    executor: object = None,
    max_in_flight: int | None = None,
    retries: int = 0,
    return_exceptions: Literal[False] = False,
    progress: bool = True,
    name: str | None = None,
    chunksize: int | None = None,
) -> MapJob[Item, R]: ...
@overload
def map(
    fn: Callable[[Item], R],
    iterable: Iterable[Item],
    *,
    executor: object = None,
    max_in_flight: int | None = None,
    retries: int = 0,
    return_exceptions: bool,
    progress: bool = True,
    name: str | None = None,
    chunksize: int | None = None,
) -> MapJob[Item, R | BaseException]: ...
def map(
    fn: Callable[[Item], Any],
    iterable: Iterable[Item],
    *,
    executor: object = None,
    max_in_flight: int | None = None,
    retries: int = 0,
    return_exceptions: bool = False,
    progress: bool = True,
    name: str | None = None,
    chunksize: int | None = None,
) -> MapJob[Item, Any]:
    """Run ``fn(item)`` for every item in worker processes; returns the running :class:`MapJob`.

    The items are read at once.  ``executor`` is as for :func:`igogo.offload`
    (None: igogo's reusable loky pool; a ``concurrent.futures.Executor``; a
    ``dask.distributed.Client``).  Short items go to a worker several at a
    time, so that a call lasts about 50 ms (``chunksize=n``: always ``n``
    items per call; ``1``: one by one); each item keeps its own result, error,
    prints and retries.  At most ``max_in_flight`` items are at the executor at
    once (default: as many as twice its workers' calls carry).  An item whose function
    raises, or whose worker dies, is run again up to ``retries`` times.  With
    ``return_exceptions=True`` the results list holds failed items'
    exceptions instead of the map failing with :class:`~igogo.MapError`.
    ``progress`` shows a progress bar in the job's output when a plugin makes
    them (igogo-tqdm).  What ``fn`` prints in the workers appears there too.
    """
    if not callable(fn):
        raise TypeError(f"igogo.map(fn, iterable): fn must be callable; got {fn!r}")
    try:
        values = list(iterable)
    except TypeError:
        raise TypeError(
            f"igogo.map(fn, iterable): iterable must be iterable; got {iterable!r}"
        ) from None
    if not values:
        raise ValueError(
            f"igogo.map(fn, iterable): the iterable is empty (iterable={short_repr(iterable)}), "
            "so there is nothing to run; give at least one item (submit() adds more to a "
            "running map)"
        )
    check_number("max_in_flight", max_in_flight, minimum=1, whole=True, none="")
    check_number("retries", retries, whole=True)
    check_number("chunksize", chunksize, minimum=1, whole=True, none="auto")
    check_flag("return_exceptions", return_exceptions)
    check_flag("progress", progress)
    JobOptions(name=name)  # a bad name is refused before the default pool starts
    pool = Pool(executor)
    items = [_Item(i, v) for i, v in enumerate(values)]
    job: MapJob[Item, Any] = MapJob(
        fn, items, pool, max_in_flight, retries, return_exceptions, progress, name, chunksize
    )
    launch(job)
    return job
