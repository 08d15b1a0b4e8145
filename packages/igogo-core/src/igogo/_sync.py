"""Queue and Event for jobs: waiting parks the job instead of spinning.

In regular code (not a job) the same waits run the jobs until they can
proceed, like :meth:`Job.result`.  They belong to the scheduler's thread:
``Event.set()`` from another thread is handed over to it, and the other
operations raise :class:`~igogo.WrongThreadError` there.
"""

from __future__ import annotations

import queue
from collections import deque
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._hub import SCHED, now
from ._job import _deadline_after, current_job
from ._options import check_flag, check_number
from ._waiting import park_in, pump

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._job import Job

__all__ = ["Event", "Queue"]

T = TypeVar("T")


def _wait_until(ready: Callable[[], bool], waiters: list[Job[Any]], timeout: float | None) -> bool:
    """Wait until ``ready()``; returns False if ``timeout`` passed first.

    ``timeout`` is checked first, also when there is nothing to wait for, as
    :class:`queue.Queue` does: a negative one is a :class:`ValueError`.
    """
    check_number("timeout", timeout, unit="seconds", none="")
    if ready():
        return True
    deadline = _deadline_after(timeout)
    if current_job() is None:
        return pump(ready, deadline)
    while not ready():
        if now() >= deadline:
            return False
        try:
            park_in(waiters, deadline)
        except BaseException:
            # Stopped (or failed) after a waker picked this job: hand the wakeup to
            # the next waiter, or it would stay parked while the queue could serve it.
            if waiters and ready():
                SCHED.wake(waiters[0])
            raise
    return True


class Event:
    """A flag that jobs can wait for; like :class:`threading.Event`."""

    def __init__(self) -> None:
        self._flag = False
        self._sets = 0  # how many times set() ran: a waiter set free stays free after clear()
        self._waiters: list[Job[Any]] = []

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        """Set the flag and wake every waiter; from another thread, handed to the owner."""
        if not SCHED.on_owner_thread():
            SCHED.call_soon_threadsafe(self.set)
            return
        self._flag = True
        self._sets += 1
        # Waking a job removes it from the list (its cancel callback does), so
        # iterate over a copy; keep the list itself: a woken job that finds the
        # flag cleared again parks in it once more.
        for job in tuple(self._waiters):
            SCHED.wake(job)

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the flag is set; True once it was, False after a timeout.

        As with :class:`threading.Event`, a ``set()`` followed at once by
        ``clear()`` still releases every job that was waiting.
        """
        sets = self._sets
        return _wait_until(lambda: self._flag or self._sets != sets, self._waiters, timeout)

    def __repr__(self) -> str:
        return f"<igogo.Event {'set' if self._flag else 'unset'}, {len(self._waiters)} waiting>"


class Queue(Generic[T]):
    """A FIFO queue between jobs; ``maxsize=0`` means unbounded.

    ``get()`` on an empty queue and ``put()`` on a full one park the job;
    ``*_nowait`` raise :class:`queue.Empty` / :class:`queue.Full` instead.
    """

    def __init__(self, maxsize: int = 0) -> None:
        check_number("maxsize", maxsize, whole=True, form="must be an integer >= 0 (0 = unbounded)")
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._getters: list[Job[Any]] = []
        self._putters: list[Job[Any]] = []

    def qsize(self) -> int:
        return len(self._items)

    __len__ = qsize

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    @staticmethod
    def _wake_one(waiters: list[Job[Any]]) -> None:
        if waiters:
            SCHED.wake(waiters.pop(0))

    def put_nowait(self, item: T) -> None:
        SCHED.check_thread("Queue.put_nowait()")
        if self.full():
            raise queue.Full(f"the queue is full ({self.maxsize} items)")
        self._items.append(item)
        self._wake_one(self._getters)

    def get_nowait(self) -> T:
        SCHED.check_thread("Queue.get_nowait()")
        if not self._items:
            raise queue.Empty("the queue is empty")
        item = self._items.popleft()
        self._wake_one(self._putters)
        return item

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        """Add ``item``, waiting while the queue is full (as :meth:`queue.Queue.put`).

        With ``block=False`` it never waits: a full queue raises ``queue.Full``.
        """
        check_flag("block", block)
        if not block:
            self.put_nowait(item)
            return
        if not _wait_until(lambda: not self.full(), self._putters, timeout):
            raise queue.Full(f"the queue stayed full ({self.maxsize} items) for {timeout} s")
        self.put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Remove and return the oldest item, waiting while the queue is empty.

        As :meth:`queue.Queue.get`: with ``block=False`` it never waits, and an
        empty queue raises ``queue.Empty``.
        """
        check_flag("block", block)
        if not block:
            return self.get_nowait()
        if not _wait_until(lambda: bool(self._items), self._getters, timeout):
            raise queue.Empty(f"the queue stayed empty for {timeout} s")
        return self.get_nowait()

    def __repr__(self) -> str:
        return f"<igogo.Queue {len(self._items)}/{self.maxsize or 'inf'} items>"
