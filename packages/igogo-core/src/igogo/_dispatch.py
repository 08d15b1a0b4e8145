"""How a map's items reach the executor and come back: the machinery of ``igogo.map``.

A map's job runs :meth:`Dispatcher.run`, which only hands items to the
executor and collects what comes back; the work happens in the workers.

How much is out at once: at most ``max_in_flight`` items, when the map has
that limit; otherwise twice as many calls as the executor has workers, so that
each worker finds the next call waiting when it finishes one, and a stop has
little left to cancel.

How many items a call carries: one, until an item's time has been measured;
then enough for a call to last about :data:`CALL_SECONDS`, so that short items
do not pay a round trip each, yet never so many that some worker gets no share
of what is left.  ``chunksize`` fixes the number instead.  When a batch cannot
be pickled its items go one per call until the one at fault is found, and only
that one fails.

Finished calls are decoded on the executor's own thread, queued, and the job
is woken through the scheduler's thread-safe hand-over, once per batch: the
notebook's thread only moves finished results into the table, prints what
the workers printed, and sends the next items.

Retries: an item whose function raised is sent again while it has retries
left; so is an item whose worker died (with loky's default pool every item in
flight when a worker dies fails that way, as the pool is replaced).  Arguments
or results that cannot be pickled are not retried: they would fail again.  An
executor that refuses work stops the sending; the items not yet run stay
``pending``.

An item sent is ``running`` only once a worker has probably taken it up:
executors run calls in the order they get them, so the oldest calls still out,
one per worker, are the ones running.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from . import _foreign as foreign
from ._errors import BrokenExecutorError, WorkerDiedError, WorkerError
from ._hub import SCHED, yielder
from ._plugins import progress_bar
from ._replies import Outcome, decode, replay

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._map import MapJob

__all__ = ["CALL_SECONDS", "Dispatcher"]

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


class Dispatcher:
    """Sends a map's items to its executor and takes their outcomes into its table.

    ``items`` is the map's table, shared with the job: this fills in each
    item's state, result and error.  The map's settings (``fn``, ``pool``,
    ``max_in_flight``, ``chunksize``, ``retries``, ``progress``) are read from
    ``job`` where they are used.
    """

    def __init__(self, job: MapJob[Any, Any], items: list[_Item]) -> None:
        self.job = job
        self.broken: BrokenExecutorError | None = None
        """Set when the executor refused work: the sending stopped."""
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
        self._bar: Any = None
        self._sent_fn: Callable[..., Any] | bytes | None = None  # pickled once per map

    # -- in the job -----------------------------------------------------------------------

    def run(self) -> None:
        """Send and collect until every item has an outcome, or the executor refuses work."""
        job = self.job
        self._workers = job.pool.workers()
        if job.progress:
            self._bar = progress_bar(len(self._items), job.name)
            self._bar_call("update", sum(it.state == "ok" for it in self._items))
        try:
            # Once per map, and a function that cannot be pickled fails the map at once.
            self._sent_fn = job.pool.pickled(job.fn)
            while True:
                self._collect()
                self._send()
                if not self._inflight and (self.broken or not self._queue):
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

    def _room(self) -> int:
        """How many more items may go to the executor now (0: wait for results)."""
        if self.job.max_in_flight is not None:
            return self.job.max_in_flight - len(self._inflight)
        return len(self._queue) if self._calls_out < 2 * self._workers else 0

    def _chunk(self, room: int) -> int:
        """How many items the next call carries: short items travel several at a time."""
        if self._solo:
            n = 1  # finding the item that cannot be pickled
        elif self.job.chunksize is not None:
            n = self.job.chunksize
        elif self._item_seconds is None:
            n = 1  # nothing measured yet
        else:
            # Calls of about CALL_SECONDS, but leave every worker a share of what is left.
            n = int(CALL_SECONDS / max(self._item_seconds, 1e-6))
            n = min(n, len(self._queue) // (2 * self._workers), 1000)
        return max(1, min(n, room, len(self._queue)))

    def _send(self) -> None:
        while self._queue and self.broken is None and (room := self._room()) > 0:
            n = self._chunk(room)
            batch = [self._items[self._queue.popleft()] for _ in range(n)]
            calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [((it.item,), {}) for it in batch]
            try:
                fut = self.job.pool.submit(self.job.fn, calls, self._sent_fn)
            except BrokenExecutorError as e:
                self._queue.extendleft(it.index for it in reversed(batch))
                self.broken = e
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
        self._arrived.append((indices, decode(fut, self.job.fn, len(indices))))
        if not self._notify_pending:
            self._notify_pending = True
            SCHED.call_soon_threadsafe(self._notify)

    def _notify(self) -> None:
        self._notify_pending = False
        if self._parked:
            SCHED.wake(self.job)

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
                if retry and it.tries <= self.job.retries:
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

    # -- from outside ----------------------------------------------------------------------

    def add(self, item: Any) -> int:
        """Put one more item in the table and the queue (before the map ends); its index."""
        it = _Item(len(self._items), item)
        self._items.append(it)
        self._queue.append(it.index)
        bar = self._bar
        if bar is not None:
            bar.total = len(self._items)
            self._bar_call("refresh")
        if self._parked:
            SCHED.wake(self.job)
        return it.index
