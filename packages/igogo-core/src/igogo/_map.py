"""``igogo.map``: a job that runs a function over many items in worker processes.

The :class:`MapJob` is an ordinary job whose greenlet only hands items to the
executor and collects what comes back; the work happens in the workers.  At
most ``max_in_flight`` items are at the executor at once (twice its workers by
default: each worker has the next item waiting when it finishes one, and
there is little left to cancel on a stop).

Finished calls are decoded on the executor's own thread, queued, and the job
is woken through the scheduler's thread-safe hand-over, once per batch: the
notebook's thread only moves finished results into the table, prints what
the workers printed, and sends the next items.

Failure policy: an item whose function raised is sent again while it has
retries left; so is an item whose worker died (with loky's default pool every
item in flight when a worker dies fails that way, as the pool is replaced).
Arguments or results that cannot be pickled are not retried: they would fail
again.  An executor that refuses work ends the map with the items not yet run
still ``pending``, for :meth:`MapJob.restart` with a new executor.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, Generic, Literal, TypeVar, overload

from . import _foreign as foreign
from ._api import launch
from ._errors import (
    BrokenExecutorError,
    IgogoError,
    MapError,
    WorkerDiedError,
    WorkerError,
    error_text,
)
from ._hub import SCHED, yielder
from ._job import Job
from ._options import JobOptions, check_flag, check_number
from ._plugins import progress_bar
from ._replies import Outcome, decode, replay
from ._status import ItemStatus, MapStatus, short_repr
from ._workers import Pool

__all__ = ["CALL_SECONDS", "MapJob", "map"]

Item = TypeVar("Item")
R = TypeVar("R")

CALL_SECONDS = 0.05
"""What a call to a worker should last when items are short: they then go several at once."""


class _Item:
    __slots__ = (
        "attempts",
        "error",
        "future",
        "index",
        "item",
        "seconds",
        "sent",
        "started",
        "state",
        "tries",
        "value",
    )

    def __init__(self, index: int, item: Any) -> None:
        self.index = index
        self.item = item
        self.state = "pending"
        self.attempts = 0  # in all runs (restarts included), as status() shows
        self.tries = 0  # in this run, against `retries`
        self.seconds: float | None = None
        self.sent = 0.0
        self.started: float | None = None  # when a worker (probably) took it up
        self.value: Any = None
        self.error: BaseException | None = None
        self.future: Future[Any] | None = None


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
        self._queue: deque[int] = deque(it.index for it in items if it.state != "ok")
        self._inflight: dict[int, _Item] = {}
        self._arrived: deque[tuple[list[int], list[Outcome]]] = deque()  # from executor threads
        self._calls_out = 0  # calls at the executor (each carries one item or more)
        self._out: deque[tuple[Future[Any], list[_Item]]] = deque()  # the calls, in send order
        self._workers = 1
        self._item_seconds: float | None = None  # running average of one item's time
        self._solo = 0  # items to send one per call (to find one that cannot be pickled)
        self._parked = False
        self._notify_pending = False
        self._broken: BrokenExecutorError | None = None
        self._bar: Any = None
        self._sent_fn: Callable[..., Any] | bytes | None = None  # pickled once per map

    # -- in the job -----------------------------------------------------------------------

    def _drive(self) -> list[R]:
        self._workers = self.pool.workers()
        if self.progress:
            self._bar = progress_bar(len(self._items), self.name)
            self._bar_call("update", sum(it.state == "ok" for it in self._items))
        try:
            # Once per map, and a function that cannot be pickled fails the map at once.
            self._sent_fn = self.pool.pickled(self.fn)
            while True:
                self._collect()
                self._send()
                if not self._inflight and (self._broken or not self._queue):
                    break
                if not self._arrived:
                    self._parked = True
                    SCHED.park("waiting", self._unpark)
        finally:
            for it in self._inflight.values():  # only on a stop: cancel what is still out
                if it.future is not None:
                    it.future.cancel()
                it.state = "cancelled"
            self._inflight.clear()
            self._bar_call("close")
        return self._outcome_list()

    def _room(self) -> int:
        """How many more items may go to the executor now (0: wait for results)."""
        if self.max_in_flight is not None:
            return self.max_in_flight - len(self._inflight)
        return len(self._queue) if self._calls_out < 2 * self._workers else 0

    def _chunk(self, room: int) -> int:
        """How many items the next call carries: short items travel several at a time."""
        if self._solo:
            n = 1  # finding the item that cannot be pickled
        elif self.chunksize is not None:
            n = self.chunksize
        elif self._item_seconds is None:
            n = 1  # nothing measured yet
        else:
            # Calls of about CALL_SECONDS, but leave every worker a share of what is left.
            n = int(CALL_SECONDS / max(self._item_seconds, 1e-6))
            n = min(n, len(self._queue) // (2 * self._workers), 1000)
        return max(1, min(n, room, len(self._queue)))

    def _send(self) -> None:
        while self._queue and self._broken is None and (room := self._room()) > 0:
            n = self._chunk(room)
            batch = [self._items[self._queue.popleft()] for _ in range(n)]
            calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [((it.item,), {}) for it in batch]
            try:
                fut = self.pool.submit(self.fn, calls, self._sent_fn)
            except BrokenExecutorError as e:
                self._queue.extendleft(it.index for it in reversed(batch))
                self._broken = e
                return
            except WorkerError as e:
                if n > 1:  # one of them cannot be pickled: send them alone to find it
                    self._queue.extendleft(it.index for it in reversed(batch))
                    self._solo += n
                    continue
                batch[0].attempts += 1
                self._finish(batch[0], None, e)  # it cannot be pickled: no retry would help
                continue
            for it in batch:
                it.attempts += 1
                it.tries += 1
            self._solo = max(self._solo - n, 0)
            now = time.monotonic()
            for it in batch:
                it.state, it.sent, it.future, it.started = "running", now, fut, None
                self._inflight[it.index] = it
            self._calls_out += 1
            self._out.append((fut, batch))
            fut.add_done_callback(functools.partial(self._arrive, [it.index for it in batch]))
        self._mark_started()

    def _mark_started(self) -> None:
        # Executors run calls in the order they get them, one per worker: the oldest
        # calls still out are the ones running (a pool's future says "running" as soon
        # as the call is queued next to a worker, which is not what a user means).
        out = self._out
        while out and out[0][1][0].future is not out[0][0]:  # answered (or cancelled)
            out.popleft()
        now = time.monotonic()
        for i, (fut, batch) in enumerate(out):
            if i >= self._workers:
                break
            if batch[0].future is fut:
                for it in batch:
                    if it.started is None:
                        it.started = now

    def _arrive(self, indices: list[int], fut: Future[Any]) -> None:
        # On the executor's thread: decode there, then wake the job once per batch.
        self._arrived.append((indices, decode(fut, self.fn, len(indices))))
        if not self._notify_pending:
            self._notify_pending = True
            SCHED.call_soon_threadsafe(self._notify)

    def _notify(self) -> None:
        self._notify_pending = False
        if self._parked:
            SCHED.wake(self)

    def _unpark(self) -> None:
        self._parked = False

    def _collect(self) -> None:
        arrived = self._arrived
        while arrived:
            indices, outcomes = arrived.popleft()
            self._calls_out -= 1
            for index, out in zip(indices, outcomes, strict=True):
                it = self._inflight.pop(index, None)
                if it is None:  # cancelled meanwhile
                    continue
                it.future = None
                if out.seconds is None:
                    it.seconds = time.monotonic() - it.sent
                else:
                    it.seconds = out.seconds
                    avg, now = self._item_seconds, out.seconds
                    self._item_seconds = now if avg is None else 0.8 * avg + 0.2 * now
                replay(out.output)
                exc = out.exception
                retry = exc is not None and (
                    isinstance(exc, WorkerDiedError) or not isinstance(exc, WorkerError)
                )
                if retry and it.tries <= self.retries:
                    it.state, it.error = "pending", exc
                    self._queue.append(index)
                else:
                    self._finish(it, out.value, exc)
            yielder()

    def _finish(self, it: _Item, value: Any, exc: BaseException | None) -> None:
        it.state = "ok" if exc is None else "error"
        it.value, it.error = value, exc
        self._bar_call("update", 1)

    def _bar_call(self, method: str, *args: Any) -> None:
        bar = self._bar
        if bar is not None:  # a broken bar must not break the map: dropped, reported once
            foreign.call(
                bar, f"progress bar {method}", getattr(bar, method), *args,
                disable=lambda: setattr(self, "_bar", None),
            )  # fmt: skip

    def _outcome_list(self) -> list[R]:
        items = self._items
        if self._broken is not None:
            left = sum(it.state == "pending" for it in items)
            raise BrokenExecutorError(
                f"{self.name}: {self._broken} -- {left} of {len(items)} items were not run; "
                "restart(executor=...) runs them on a new executor"
            ) from self._broken
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
        it = _Item(len(self._items), item)
        self._items.append(it)
        self._queue.append(it.index)
        bar = self._bar
        if bar is not None:
            bar.total = len(self._items)
            self._bar_call("refresh")
        if self._parked:
            SCHED.wake(self)
        return it.index

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
