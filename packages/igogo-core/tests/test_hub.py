"""The scheduler (_hub): yielder's fast path, ticks and their budget, fairness, timers."""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

import pytest

import igogo
from igogo import _hub
from igogo._hub import SCHED
from igogo.testing import MockClock

# -- yielder: the fast path ---------------------------------------------------------------


def test_yielder_with_no_job_stays_on_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not SCHED.live
    assert _hub._deadline == math.inf
    slow: list[int] = []
    monkeypatch.setattr(SCHED, "yield_slow", lambda: slow.append(1))
    for _ in range(1000):
        igogo.yielder()
    assert slow == []


def test_an_expired_slice_with_no_job_returns_to_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _hub.expire_slice()
    igogo.yielder()  # slow path once: nothing to run, the deadline goes back to infinity
    assert _hub._deadline == math.inf
    slow: list[int] = []
    monkeypatch.setattr(SCHED, "yield_slow", lambda: slow.append(1))
    igogo.yielder()
    assert slow == []


def test_yielder_in_a_job_does_not_switch_before_the_slice_ends() -> None:
    igogo.configure(tick_budget=30.0)  # a slice far longer than the loops below
    log: list[str] = []

    @igogo.job
    def spinner(name: str) -> None:
        for _ in range(2000):
            log.append(name)
            igogo.yielder()

    a, b = spinner("a"), spinner("b")
    assert igogo.wait(a, b, timeout=10)
    assert log == ["a"] * 2000 + ["b"] * 2000


def test_yielder_switches_at_every_call_once_the_slice_is_over() -> None:
    igogo.configure(tick_budget=1e-6)  # every slice is over before the job's next yielder
    log: list[str] = []

    @igogo.job
    def spinner(name: str) -> None:
        for _ in range(5):
            log.append(name)
            igogo.yielder()

    a, b = spinner("a"), spinner("b")
    assert igogo.wait(a, b, timeout=10)
    assert log == ["a", "b"] * 5


def test_an_expired_slice_makes_the_next_yielder_switch() -> None:
    igogo.configure(tick_budget=30.0)
    log: list[str] = []

    @igogo.job
    def first() -> None:
        log.append("a1")
        igogo.yielder()  # slice not over: no switch
        log.append("a2")
        _hub.expire_slice()
        igogo.yielder()  # switches: b runs before a3
        log.append("a3")

    @igogo.job
    def second() -> None:
        log.append("b1")

    a, b = first(), second()
    assert igogo.wait(a, b, timeout=10)
    assert log == ["a1", "a2", "b1", "a3"]


def test_yielder_in_regular_code_runs_the_jobs_only_once_its_slice_is_over() -> None:
    igogo.configure(tick_budget=30.0)
    ran: list[int] = []
    j = igogo.job(lambda: ran.append(1))()
    for _ in range(1000):
        igogo.yielder()  # regular code keeps its 30 s slice: the job does not run
    assert ran == []
    assert j.state == "pending"
    _hub.expire_slice()
    igogo.yielder()  # one round of the jobs
    assert ran == [1]
    assert j.state == "done"


def test_sleep_zero_alternates_jobs_strictly() -> None:
    log: list[tuple[str, int]] = []

    @igogo.job
    def turn(name: str) -> None:
        for i in range(4):
            log.append((name, i))
            igogo.sleep(0)

    jobs = [turn("a"), turn("b"), turn("c")]
    assert igogo.wait(*jobs, timeout=10)
    assert log == [(n, i) for i in range(4) for n in "abc"]


# -- sleeping jobs ------------------------------------------------------------------------


def test_sleeping_jobs_wake_in_the_order_of_their_deadlines(autojump_clock: MockClock) -> None:
    """Three jobs whose wake-ups interleave; every sleep ends exactly at slot * step."""
    step = 0.25
    log: list[tuple[str, int, float]] = []

    @igogo.job
    def sleeper(name: str, slots: list[int]) -> None:
        for slot in slots:
            igogo.sleep(slot * step - autojump_clock.now())
            log.append((name, slot, autojump_clock.now()))

    jobs = [sleeper("a", [1, 3, 4, 7]), sleeper("b", [2, 5, 8]), sleeper("c", [0, 6])]
    assert igogo.wait(*jobs, timeout=10)
    order = ["c", "a", "b", "a", "a", "b", "c", "a", "b"]
    assert log == [(name, slot, slot * step) for slot, name in enumerate(order)]


def test_shorter_sleeps_finish_first_whatever_the_start_order(autojump_clock: MockClock) -> None:
    done: list[tuple[float, float]] = []

    @igogo.job
    def nap(seconds: float) -> None:
        igogo.sleep(seconds)
        done.append((seconds, autojump_clock.now()))

    durations = [0.1, 0.08, 0.06, 0.04, 0.02]
    jobs = [nap(d) for d in durations]
    assert igogo.wait(*jobs, timeout=10)
    assert done == [(d, d) for d in sorted(durations)]


def test_a_sleep_in_a_job_lasts_exactly_as_long_as_asked(autojump_clock: MockClock) -> None:
    @igogo.job
    def nap() -> float:
        t = autojump_clock.now()
        igogo.sleep(0.1)
        return autojump_clock.now() - t

    assert nap().result(timeout=10) == 0.1
    assert autojump_clock.now() == 0.1


def test_a_sleep_in_a_job_lasts_about_as_long_as_asked_in_real_time() -> None:
    """The real clock's own check (the mock clock's twin above)."""

    @igogo.job
    def nap() -> float:
        t = time.monotonic()
        igogo.sleep(0.05)
        return time.monotonic() - t

    assert 0.05 <= nap().result(timeout=10) <= 1.0


def test_regular_code_waiting_for_a_sleeping_job_does_not_spin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks: list[int] = []
    tick = SCHED.tick

    def counting_tick(*args: object, **kwargs: object) -> None:
        ticks.append(1)
        tick(*args, **kwargs)

    monkeypatch.setattr(SCHED, "tick", counting_tick)
    # Real time: what must not spin is the real clock's wait (a MockClock would jump).
    j = igogo.job(lambda: igogo.sleep(0.2))()
    t = time.monotonic()
    j.result(timeout=10)
    assert 0.2 <= time.monotonic() - t <= 1.5
    assert 2 <= len(ticks) <= 20  # a spinning pump would tick thousands of times


# -- fairness and the tick budget -----------------------------------------------------------


def test_busy_jobs_take_turns_round_robin_and_share_the_cpu(recorder: Any) -> None:
    counts: Counter[str] = Counter()
    running = [True]

    def make(name: str) -> igogo.JobFunction[[], None]:
        @igogo.job(name=name)
        def busy() -> None:
            while running[0]:
                counts[name] += 1
                igogo.yielder()

        return busy

    jobs = [make(n)() for n in "abc"]
    # Real time: slices are real, and busy jobs never let a MockClock's time pass.
    igogo.sleep(0.3)  # regular code drives the jobs
    running[0] = False
    assert igogo.wait(*jobs, timeout=10)

    turns = [e[1] for e in recorder.events if e[0] == "switched_in"]
    # Strict rotation: a, b, c, a, b, c, ...
    assert turns == ["a", "b", "c"] * (len(turns) // 3) + ["a", "b", "c"][: len(turns) % 3]
    assert len(turns) >= 9
    # Each slice is a share of the same budget: the work done is comparable.
    assert min(counts.values()) * 3 >= max(counts.values()), counts


def spinning(names: str, running: list[bool], preempt: bool = False) -> list[igogo.Job[None]]:
    """One job per letter of ``names``, each looping while ``running[0]``: on ``yielder()``,
    or as a plain loop when ``preempt`` (the loop ends are its switch points)."""

    def make(name: str) -> igogo.JobFunction[[], None]:
        @igogo.job(name=name, preempt=preempt)
        def busy() -> None:
            while running[0]:
                if not preempt:
                    igogo.yielder()

        return busy

    return [make(n)() for n in names]


def test_one_tick_runs_every_ready_job_within_its_budget(recorder: Any) -> None:
    igogo.configure(tick_budget=0.2)
    running = [True]
    a, b = spinning("ab", running)
    t = time.monotonic()
    SCHED.tick()
    elapsed = time.monotonic() - t
    # Both jobs got a slice (half the budget each) in this one tick, and the tick
    # gave the CPU back once the budget was spent.
    assert recorder.events == [
        ("job_started", "a"),
        ("job_started", "b"),
        ("switched_in", "a"),
        ("switched_out", "a"),
        ("switched_in", "b"),
        ("switched_out", "b"),
    ]
    assert 0.2 <= elapsed <= 1.5
    running[0] = False
    assert igogo.wait(a, b, timeout=10)


def test_configure_reads_and_changes_the_tick_budget() -> None:
    before = igogo.configure()
    assert before["tick_budget"] == SCHED.tick_budget and before["workers"] is None
    assert igogo.configure(tick_budget=0.05) == {**before, "tick_budget": 0.05}
    assert SCHED.tick_budget == 0.05
    assert igogo.configure()["tick_budget"] == 0.05


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan, True, "0.1"])
def test_configure_rejects_a_bad_tick_budget(bad: object) -> None:
    before = SCHED.tick_budget
    with pytest.raises(ValueError, match=r"tick_budget=.*positive(, finite)? number of seconds"):
        igogo.configure(tick_budget=bad)
    assert SCHED.tick_budget == before


def test_regular_code_keeps_a_slice_of_one_budget_between_rounds(
    autojump_clock: MockClock,
) -> None:
    """The sleeps are virtual; the slice they leave regular code is real time."""
    igogo.configure(tick_budget=0.5)
    running = [True]

    @igogo.job
    def spin() -> None:
        while running[0]:
            igogo.sleep(0.01)

    j = spin()
    igogo.sleep(0.02)  # ticks; the last one sets regular code's slice
    assert autojump_clock.now() == 0.02
    now = time.monotonic()
    assert now < _hub._deadline <= now + 0.5
    running[0] = False
    j.result(timeout=10)
    assert _hub._deadline == math.inf  # no job left: the fast path is free again


# -- timers ------------------------------------------------------------------------------------


def test_timers_fire_in_due_order_and_cancelled_timers_never_fire(mock_clock: MockClock) -> None:
    fired: list[str] = []
    now = 10.0
    mock_clock.jump(now)
    SCHED.call_at(now - 0.001, lambda: fired.append("b"))
    SCHED.call_at(now - 0.003, lambda: fired.append("a"))
    cancelled = SCHED.call_at(now - 0.002, lambda: fired.append("cancelled"))
    SCHED.call_at(now - 0.001, lambda: fired.append("c"))  # same time as b: after it
    later = SCHED.call_at(now + 60, lambda: fired.append("later"))  # virtual time: never due
    cancelled.cancel()
    assert SCHED.next_deadline() == now - 0.003
    SCHED.tick()
    assert fired == ["a", "b", "c"]
    assert SCHED.next_deadline() == later.when
    later.cancel()
    assert SCHED.next_deadline() == math.inf
    assert fired == ["a", "b", "c"]


def test_a_sleeper_wakes_on_time_beside_a_busy_job() -> None:
    """A slice ends when the next timer is due, and timers fire between job steps.

    Real time: under a MockClock no time passes while the busy job runs, so the
    sleeper's timer would never fall due (the slice is cut short on the real clock only).
    """
    igogo.configure(tick_budget=2.0)  # each slice could last up to 1 s
    running = [True]

    @igogo.job
    def busy() -> None:
        while running[0]:
            igogo.yielder()

    @igogo.job
    def sleeper() -> list[float]:
        lateness = []
        for _ in range(3):
            t = time.monotonic()
            igogo.sleep(0.05)
            lateness.append(time.monotonic() - t - 0.05)
        running[0] = False  # ends the busy job within this tick
        return lateness

    s = sleeper()
    b = busy()
    lateness = s.result(timeout=10)
    b.result(timeout=10)
    assert all(0 <= late < 0.5 for late in lateness), lateness


def test_next_deadline_is_now_while_a_job_is_ready() -> None:
    j = igogo.job(lambda: None)()
    assert SCHED.next_deadline() == 0.0
    j.result(timeout=10)
    assert SCHED.next_deadline() == math.inf


def test_a_stopped_sleeper_leaves_no_live_timer_behind(mock_clock: MockClock) -> None:
    j = igogo.job(lambda: igogo.sleep(60))()
    igogo.sleep(0)
    assert j.state == "sleeping"
    assert SCHED.next_deadline() == 60
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert SCHED.next_deadline() == math.inf
    assert mock_clock.now() == 0


# -- handing the loop back: end_tick() ------------------------------------------------------------


@pytest.mark.parametrize("preempt", [False, True], ids=["cooperative", "preemptible"])
def test_end_tick_from_another_thread_ends_the_tick_at_the_next_switch_point(
    recorder: Any, preempt: bool
) -> None:
    """A host's thread that sees work waiting for the loop hands it back mid-tick."""
    import threading

    from igogo.lowlevel import end_tick

    igogo.configure(tick_budget=30.0)  # a tick that would otherwise hold the CPU for 30 s
    running = [True]
    a, b = spinning("ab", running, preempt)
    timer = threading.Timer(0.1, end_tick)
    timer.start()
    t = time.monotonic()
    SCHED.tick()
    elapsed = time.monotonic() - t
    timer.join()
    # The job on the CPU stopped at its next switch point; the next job only took its
    # first step (it had not run yet), and the tick did not come back to the first.
    assert 0.09 <= elapsed < 5, elapsed
    assert [e for e in recorder.events if e[0] != "job_started"] == [
        ("switched_in", "a"),
        ("switched_out", "a"),
        ("switched_in", "b"),
        ("switched_out", "b"),
    ]
    # The next tick runs normally: end_tick() ended one tick, not the ones after it.
    igogo.configure(tick_budget=0.1)
    t = time.monotonic()
    SCHED.tick()
    assert time.monotonic() - t >= 0.09
    running[0] = False
    assert igogo.wait(a, b, timeout=10)


def test_a_first_steps_tick_lasts_until_each_new_job_took_its_first_step(recorder: Any) -> None:
    """What a kernel runs as a cell ends: the jobs it started set up before the next cell."""
    igogo.configure(tick_budget=30.0)
    running = [True]
    (a,) = spinning("a", running)
    SCHED.tick(first_steps=True)  # a ran up to its first yielder(), and no further
    assert not SCHED.unstarted
    b, c = spinning("bc", running)
    recorder.events.clear()
    t = time.monotonic()
    SCHED.tick(first_steps=True)
    assert time.monotonic() - t < 5  # not the 30 s budget
    assert [e[1] for e in recorder.events if e[0] == "switched_in"] == ["a", "b", "c"]
    assert not SCHED.unstarted
    igogo.configure(tick_budget=0.015)
    running[0] = False
    assert igogo.wait(a, b, c, timeout=10)


def test_a_stopped_job_runs_next_instead_of_after_the_other_ready_jobs(recorder: Any) -> None:
    running = [True]
    jobs = spinning("abcd", running)
    igogo.configure(tick_budget=0.02)
    SCHED.tick()  # each ran once; the queue is a, b, c, d again
    jobs[2].stop()
    assert SCHED.ready[0] is jobs[2]
    recorder.events.clear()
    SCHED.tick()
    assert recorder.events[:2] == [("switched_in", "c"), ("switched_out", "c")]
    assert jobs[2].state == "stopped"
    running[0] = False
    assert igogo.wait(*jobs, timeout=10)
