"""Queue and Event: waits park the job (no spinning); regular code can wait on them too.

Every test runs on igogo.testing's MockClock with autojump: sleeps and timeouts
take no real time and end at exact virtual times.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED
from igogo._hub import now as clock

pytestmark = pytest.mark.usefixtures("autojump_clock")

# -- Queue -------------------------------------------------------------------------------------


def test_producer_and_consumer_through_a_bounded_queue() -> None:
    q: igogo.Queue[int] = igogo.Queue(maxsize=2)
    sizes: list[int] = []
    producer_states: list[str] = []

    @igogo.job
    def producer() -> None:
        for i in range(20):
            q.put(i)
            sizes.append(q.qsize())
        q.put(-1)

    @igogo.job
    def consumer() -> list[int]:
        got = []
        while True:
            producer_states.append(p.state)
            if (item := q.get()) == -1:
                return got
            got.append(item)
            igogo.sleep(0.001)

    p = producer()
    c = consumer()
    assert c.result(timeout=10) == list(range(20))
    assert p.result(timeout=10) is None
    assert max(sizes) == 2  # never more than maxsize
    assert "waiting" in producer_states  # the producer parked on the full queue
    assert q.empty()


def test_a_waiting_consumer_is_resumed_once_per_item_not_spinning(recorder: Any) -> None:
    q: igogo.Queue[int] = igogo.Queue()

    @igogo.job(name="consumer")
    def consumer() -> list[int]:
        return [q.get() for _ in range(5)]

    @igogo.job(name="producer")
    def producer() -> None:
        for i in range(5):
            igogo.sleep(0.02)
            q.put_nowait(i)

    c, p = consumer(), producer()
    assert c.result(timeout=10) == [0, 1, 2, 3, 4]
    p.result(timeout=10)
    # Started once, then woken by each of the five items: a polling consumer
    # would have been switched in hundreds of times in 0.1 s.
    assert recorder.count("switched_in", "consumer") == 6


def test_get_and_put_with_timeouts_in_a_job() -> None:
    q: igogo.Queue[str] = igogo.Queue(maxsize=1)

    @igogo.job
    def impatient() -> list[str]:
        out = []
        try:
            q.get(timeout=0.25)
        except queue.Empty as e:
            out.append(f"empty at {clock()}: {e}")
        q.put("x")
        try:
            q.put("y", timeout=0.5)
        except queue.Full as e:
            out.append(f"full at {clock()}: {e}")
        out.append(q.get(timeout=0.5))
        return out

    assert impatient().result(timeout=10) == [
        "empty at 0.25: the queue stayed empty for 0.25 s",
        "full at 0.75: the queue stayed full (1 items) for 0.5 s",
        "x",
    ]
    assert q.empty()
    assert clock() == 0.75  # the last get() took no time


def test_get_and_put_with_timeouts_in_regular_code() -> None:
    q: igogo.Queue[int] = igogo.Queue(maxsize=1)
    with pytest.raises(queue.Empty):
        q.get(timeout=0.25)
    assert clock() == 0.25
    q.put(1)
    with pytest.raises(queue.Full):
        q.put(2, timeout=0.5)
    assert clock() == 0.75
    assert q.get(timeout=0.5) == 1
    assert clock() == 0.75


def test_regular_code_waits_on_a_queue_while_jobs_fill_it() -> None:
    q: igogo.Queue[str] = igogo.Queue()

    @igogo.job
    def producer() -> None:
        for word in ("a", "b", "c"):
            igogo.sleep(0.25)
            q.put(word)

    p = producer()
    got = []
    for _ in range(3):
        got.append((q.get(timeout=5), clock()))
    assert got == [("a", 0.25), ("b", 0.5), ("c", 0.75)]
    p.result(timeout=5)


def test_nowait_variants_and_sizes() -> None:
    q: igogo.Queue[int] = igogo.Queue(maxsize=2)
    assert (q.empty(), q.full(), len(q)) == (True, False, 0)
    with pytest.raises(queue.Empty, match="the queue is empty"):
        q.get_nowait()
    q.put_nowait(1)
    q.put_nowait(2)
    assert (q.empty(), q.full(), q.qsize()) == (False, True, 2)
    assert repr(q) == "<igogo.Queue 2/2 items>"
    with pytest.raises(queue.Full, match=r"the queue is full \(2 items\)"):
        q.put_nowait(3)
    assert [q.get_nowait(), q.get_nowait()] == [1, 2]
    unbounded: igogo.Queue[int] = igogo.Queue()
    for i in range(1000):
        unbounded.put_nowait(i)
    assert not unbounded.full()
    assert repr(unbounded) == "<igogo.Queue 1000/inf items>"


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_queue_rejects_a_bad_maxsize(bad: object) -> None:
    with pytest.raises(ValueError, match=r"maxsize=.*integer >= 0 \(0 = unbounded\)"):
        igogo.Queue(maxsize=bad)  # type: ignore[arg-type]


def test_consumers_are_served_in_arrival_order(settle: Callable[[], None]) -> None:
    q: igogo.Queue[int] = igogo.Queue()
    consumers = [igogo.job(q.get)() for _ in range(3)]
    settle()
    for i in range(3):
        q.put_nowait(i)
    assert [c.result(timeout=5) for c in consumers] == [0, 1, 2]


def test_a_stopped_consumer_hands_its_wakeup_to_the_next_one(settle: Callable[[], None]) -> None:
    """Regression: the item must not be stranded while another consumer waits."""
    q: igogo.Queue[str] = igogo.Queue()
    a, b = igogo.job(q.get)(), igogo.job(q.get)()
    settle()
    assert (a.state, b.state) == ("waiting", "waiting")
    q.put_nowait("x")  # wakes a ...
    a.stop()  # ... which is stopped before it takes the item
    assert b.result(timeout=2) == "x"
    assert a.state == "stopped"
    assert q.empty()


def test_a_stopped_producer_hands_its_wakeup_to_the_next_one(settle: Callable[[], None]) -> None:
    q: igogo.Queue[str] = igogo.Queue(maxsize=1)
    q.put_nowait("full")
    a, b = igogo.job(q.put)("a"), igogo.job(q.put)("b")
    settle()
    assert (a.state, b.state) == ("waiting", "waiting")
    assert q.get_nowait() == "full"  # frees a slot and wakes a ...
    a.stop()  # ... which is stopped before it fills it
    b.result(timeout=2)
    assert q.get_nowait() == "b"


# -- Event -------------------------------------------------------------------------------------


def test_event_wait_parks_until_set() -> None:
    event = igogo.Event()
    log: list[str] = []

    @igogo.job
    def waiter() -> bool:
        log.append("waiting")
        ok = event.wait()
        log.append("woken")
        return ok

    j = waiter()
    igogo.sleep(60)
    assert log == ["waiting"]
    assert j.state == "waiting"
    assert repr(event) == "<igogo.Event unset, 1 waiting>"
    event.set()
    assert j.result(timeout=5) is True
    assert log == ["waiting", "woken"]
    assert repr(event) == "<igogo.Event set, 0 waiting>"


def test_event_set_wakes_every_waiter(settle: Callable[[], None]) -> None:
    """Regression: setting the event woke only every other waiter."""
    event = igogo.Event()
    waiters = [igogo.job(event.wait)() for _ in range(5)]
    settle()
    assert [w.state for w in waiters] == ["waiting"] * 5
    event.set()
    assert igogo.wait(*waiters, timeout=2)
    assert [w.result() for w in waiters] == [True] * 5


def test_a_pulse_releases_the_waiters_as_threading_event_does(
    settle: Callable[[], None],
) -> None:
    """set() then clear() before the waiters ran: they were set free, and return True."""
    event = igogo.Event()
    waiters = [igogo.job(event.wait)() for _ in range(3)]
    settle()
    event.set()
    event.clear()
    assert igogo.wait(*waiters, timeout=2)
    assert [w.result() for w in waiters] == [True] * 3
    late = igogo.job(event.wait)()  # started after the pulse: waits for the next set()
    settle()
    assert late.state == "waiting"
    event.set()
    assert late.result(timeout=2) is True


def test_event_wait_with_a_timeout() -> None:
    event = igogo.Event()

    @igogo.job
    def waiter() -> tuple[bool, float]:
        ok = event.wait(timeout=0.25)
        return ok, clock()

    assert waiter().result(timeout=5) == (False, 0.25)
    assert repr(event) == "<igogo.Event unset, 0 waiting>"


def test_event_set_clear_and_wait_on_a_set_event() -> None:
    event = igogo.Event()
    assert not event.is_set()
    event.set()
    assert event.is_set()
    assert event.wait(timeout=0) is True
    assert igogo.job(event.wait)().result(timeout=5) is True
    event.clear()
    assert not event.is_set()
    assert event.wait(timeout=0.5) is False
    assert clock() == 0.5


def test_regular_code_waits_on_an_event_set_by_a_job() -> None:
    event = igogo.Event()

    @igogo.job
    def setter() -> None:
        igogo.sleep(0.03)
        event.set()

    j = setter()
    assert event.wait(timeout=5) is True
    assert clock() == 0.03  # set by the job, not the timeout
    j.result(timeout=5)


def test_many_jobs_waiting_for_one_job_are_all_woken() -> None:
    """Regression: a job's end woke only every other job waiting for it."""
    target = igogo.job(lambda: igogo.sleep(0.02) or "ok")()
    waiters = [igogo.job(target.result)() for _ in range(5)]
    assert igogo.wait(*waiters, timeout=2)
    assert clock() == 0.02
    assert [w.result() for w in waiters] == ["ok"] * 5


def test_satisfied_timed_waits_leave_no_timers_behind() -> None:
    """20,000 Queue.get(timeout=60) satisfied by a producer: the heap stays small (compacted)."""
    q: igogo.Queue[int] = igogo.Queue(maxsize=1)
    peak = [0]

    @igogo.job
    def consumer() -> int:
        total = 0
        for _ in range(20_000):
            total += q.get(timeout=60)  # parks with a timer; the producer wakes it
            peak[0] = max(peak[0], len(SCHED.timers))
        return total

    @igogo.job
    def producer() -> None:
        for i in range(20_000):
            q.put(i, timeout=60)

    c, p = consumer(), producer()
    assert c.result(timeout=120) == sum(range(20_000))
    p.result(timeout=10)
    assert peak[0] <= 1_000, f"{peak[0]} timers were kept for waits that ended long ago"
    assert len(SCHED.timers) <= 1_000


def test_get_and_put_without_blocking_as_queue_queue_does() -> None:
    q: igogo.Queue[int] = igogo.Queue(maxsize=1)
    with pytest.raises(queue.Empty):
        q.get(block=False)
    q.put(1, block=False)
    with pytest.raises(queue.Full):
        q.put(2, False)
    assert q.get(False) == 1
    with pytest.raises(ValueError, match="block='no': must be True or False"):
        q.get(block="no")  # type: ignore[arg-type]
