"""Threads: calls from another thread are handed to the owner thread or refused clearly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED
from igogo.testing import MockClock


def in_thread(fn: Callable[[], Any], delay: float = 0.0) -> tuple[threading.Thread, list[Any]]:
    """Run ``fn`` in a new thread (after ``delay``); returns the thread and its [result/error]."""
    out: list[Any] = []

    def target() -> None:
        time.sleep(delay)
        try:
            out.append(fn())
        except BaseException as e:
            out.append(e)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, out


def test_a_job_started_from_another_thread_runs_on_the_owner_thread(
    autojump_clock: MockClock,
) -> None:
    main = threading.get_ident()
    keeper = igogo.job(lambda: igogo.sleep(60))()  # this thread owns the jobs now
    assert SCHED.owner == main

    @igogo.job
    def where() -> int:
        igogo.sleep(0.01)
        return threading.get_ident()

    t, out = in_thread(where)
    t.join(5)
    job = out[0]
    assert isinstance(job, igogo.Job)
    assert job.id not in SCHED.live  # handed over: not started yet
    assert job.result(timeout=5) == main
    assert autojump_clock.now() == 0.01
    keeper.stop()
    assert igogo.wait(keeper, timeout=5)


def test_a_hand_over_arriving_as_the_last_job_ends_does_not_keep_the_host() -> None:
    """A worker's late callback landed as the last job ended: the host stayed attached."""

    @igogo.job
    def last() -> None:
        t = threading.Thread(target=SCHED.call_soon_threadsafe, args=(lambda: None,))
        t.start()
        t.join()

    assert last().wait(timeout=5)
    assert SCHED._calls  # it arrived before the job ended: the host is kept for it
    assert igogo.wait_all(timeout=5)
    assert SCHED.host is None and not SCHED._calls


def test_stop_from_another_thread_is_handed_over_and_wakes_the_job_at_once() -> None:
    """Real time: the stop comes from a thread after a real delay, which autojump would skip."""
    main = threading.get_ident()
    stopped_on: list[int] = []

    @igogo.job
    def nap() -> None:
        try:
            igogo.sleep(30)
        finally:
            stopped_on.append(threading.get_ident())

    j = nap()
    igogo.sleep(0.01)
    t, out = in_thread(j.stop, delay=0.05)
    start = time.monotonic()
    assert igogo.wait(j, timeout=10)  # regular code sleeps until a thread hands work over
    assert time.monotonic() - start < 5
    t.join(5)
    assert out == [True]
    assert j.state == "stopped"
    assert stopped_on == [main]


def test_event_set_from_another_thread_is_handed_over() -> None:
    """Real time: the event is set from a thread after a real delay, which autojump would skip."""
    event = igogo.Event()
    j = igogo.job(event.wait)()
    igogo.sleep(0.01)
    t, out = in_thread(event.set, delay=0.05)
    start = time.monotonic()
    assert j.result(timeout=10) is True
    assert time.monotonic() - start < 5
    t.join(5)
    assert out == [None]
    assert event.is_set()


def test_pause_and_resume_from_another_thread_are_handed_over(autojump_clock: MockClock) -> None:
    count = [0]
    running = [True]

    @igogo.job
    def counter() -> None:
        while running[0]:
            count[0] += 1
            igogo.sleep(0.002)

    j = counter()
    igogo.sleep(0.02)
    t, _ = in_thread(j.pause)
    t.join(5)
    igogo.sleep(0.02)  # the hand-over is processed
    assert j.state == "paused"
    frozen = count[0]
    igogo.sleep(0.05)
    assert count[0] == frozen
    t, _ = in_thread(j.resume)
    t.join(5)
    igogo.sleep(0.05)
    assert count[0] > frozen
    running[0] = False
    j.result(timeout=5)


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.get_nowait(),
        lambda q: q.put_nowait(1),
        lambda q: q.get(),
        lambda q: q.put(2),
    ],
)
def test_queue_operations_from_another_thread_are_refused(
    call: Callable[[igogo.Queue[int]], Any],
) -> None:
    q: igogo.Queue[int] = igogo.Queue()
    q.put_nowait(0)
    keeper = igogo.job(lambda: igogo.sleep(60))()
    t, out = in_thread(lambda: call(q))
    t.join(5)
    assert len(out) == 1
    assert isinstance(out[0], igogo.WrongThreadError)
    assert isinstance(out[0], RuntimeError)
    assert f"thread that runs the jobs (thread id {threading.get_ident()})" in str(out[0])
    assert list(q._items) == [0]
    keeper.stop()
    assert igogo.wait(keeper, timeout=5)


def test_waiting_for_jobs_from_another_thread_is_refused() -> None:
    event = igogo.Event()
    keeper = igogo.job(event.wait)()
    t, out = in_thread(lambda: event.wait(timeout=1))
    t.join(5)
    assert isinstance(out[0], igogo.WrongThreadError)
    event.set()
    assert keeper.result(timeout=5) is True


def test_result_from_another_thread_waits_without_running_the_jobs(
    autojump_clock: MockClock,
) -> None:
    """The job's sleep is virtual; the other thread's waits stay real time."""
    main = threading.get_ident()

    @igogo.job
    def work() -> int:
        igogo.sleep(0.02)
        return threading.get_ident()

    j = work()
    # Nobody drives the jobs yet: the other thread waits, it does not run them.
    t, out = in_thread(lambda: j.result(timeout=0.1))
    t.join(5)
    assert isinstance(out[0], TimeoutError)
    assert j.state == "pending"
    # Now this thread drives them while the other one waits.
    t, out = in_thread(lambda: j.result(timeout=10))
    assert j.result(timeout=10) == main
    t.join(5)
    assert out == [main]


def test_sleep_in_another_thread_does_not_run_the_jobs() -> None:
    """Real time: another thread's sleep is real even under a MockClock."""
    j = igogo.job(lambda: None)()
    t, out = in_thread(lambda: igogo.sleep(0.05))
    t.join(5)
    assert out == [None]
    assert j.state == "pending"
    j.result(timeout=5)


def test_a_thread_with_no_job_around_owns_the_jobs_it_starts_until_they_end() -> None:
    """Regression: the owner stayed that thread's after its jobs ended."""

    def run_jobs() -> tuple[int, int]:
        j = igogo.job(lambda: threading.get_ident())()
        return j.result(timeout=5), threading.get_ident()

    t, out = in_thread(run_jobs)
    t.join(5)
    ran_on, thread = out[0]
    assert ran_on == thread != threading.get_ident()
    assert SCHED.host is None
    # This thread can use queues and events, and run jobs, again.
    q: igogo.Queue[int] = igogo.Queue()
    q.put_nowait(1)
    assert q.get_nowait() == 1
    event = igogo.Event()
    event.set()
    assert event.is_set()
    assert igogo.job(lambda: threading.get_ident())().result(timeout=5) == threading.get_ident()
