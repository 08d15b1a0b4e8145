"""Interrupts: where a Ctrl-C (SIGINT) lands while jobs run, and the handler put back after.

igogo takes SIGINT only over Python's default handler.  In-process tests must not
install that one (a stray signal would end the test run), so ``found`` installs a
recording handler and tells igogo to treat it as Python's default: a signal igogo
did not take shows up as a call of it.  Scripts that run with the real default
handler, and with SIGINT ignored, are tested in subprocesses (``test_exit.py``).

The signals here are raised on the test's own thread, so sleeps and timers run on a
MockClock; the tests that play a host tick by hand and move its time with ``jump()``.
Holding the CPU past a slice (``hog_past_the_slice``) stays real time, as slices are.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

import igogo
from igogo import _interrupt
from igogo._hub import SCHED
from igogo.testing import MockClock


class Handler:
    """A SIGINT handler that only records that it was called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.calls += 1


@pytest.fixture
def found(monkeypatch: pytest.MonkeyPatch) -> Iterator[Handler]:
    """A recording SIGINT handler that igogo takes for Python's default one."""
    previous = signal.getsignal(signal.SIGINT)
    handler = Handler()
    monkeypatch.setattr(_interrupt, "_DEFAULT", handler)
    signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not SCHED.interrupt_pending


def hog_past_the_slice() -> None:
    """Hold the CPU past the job's time slice, as a job that never yields does."""
    end = time.monotonic() + 2 * SCHED.tick_budget + 0.01
    while time.monotonic() < end:
        pass


def test_an_idle_interrupt_spares_a_job_taking_its_ordinary_turn(
    ignored: None, mock_clock: MockClock
) -> None:
    """Within its slice a job is not holding the CPU: an idle kernel's interrupt passes it by."""

    @igogo.job
    def polite() -> str:
        igogo.sleep(0.01)
        signal.raise_signal(signal.SIGINT)  # early in its slice
        return "unharmed"

    j = polite()
    deadline = time.monotonic() + 10
    while SCHED.live and time.monotonic() < deadline:
        SCHED.tick(interrupts_to_caller=False)  # as a host with interrupts_to_jobs=True
        mock_clock.jump(0.001)
    assert j.result() == "unharmed"


@pytest.fixture
def ignored() -> Iterator[None]:
    """Install SIG_IGN (as an idle ipykernel does); put the previous handler back after."""
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not SCHED.interrupt_pending


@pytest.mark.parametrize(
    "send",
    [
        lambda: signal.raise_signal(signal.SIGINT),
        lambda: os.kill(os.getpid(), signal.SIGINT),
    ],
    ids=["raise_signal", "os.kill"],
)
def test_ctrl_c_while_regular_code_waits_lands_in_the_waiting_code(
    found: Handler, send: Callable[[], None]
) -> None:
    log: list[str] = []

    @igogo.job
    def worker() -> int:
        log.append("start")
        send()
        log.append("after the signal")  # the job is not interrupted ...
        for _ in range(1000):
            igogo.yielder()  # ... its slice is over: the first yielder switches
        log.append("resumed")
        return 7

    j = worker()
    with pytest.raises(KeyboardInterrupt):
        j.result(timeout=10)
    assert log == ["start", "after the signal"]
    assert j.state == "running"  # not killed: it waits in the ready queue
    assert signal.getsignal(signal.SIGINT) is found
    assert found.calls == 0
    assert j.result(timeout=10) == 7
    assert log == ["start", "after the signal", "resumed"]


def test_a_second_ctrl_c_lands_in_a_job_that_does_not_yield(found: Handler) -> None:
    """Two interrupts, two intents: the stubborn job gets the second, the waiting code the first."""
    log: list[str] = []

    @igogo.job
    def stubborn() -> None:
        signal.raise_signal(signal.SIGINT)  # for the waiting code, once the job yields
        signal.raise_signal(signal.SIGINT)  # it did not yield: this one lands here
        log.append("never")

    j = stubborn()
    with pytest.raises(KeyboardInterrupt):
        igogo.wait(j, timeout=10)
    assert log == []
    assert j.state == "failed"
    assert isinstance(j.exception(), KeyboardInterrupt)
    assert found.calls == 0
    # The Ctrl-C ended the tick before the failure report's timer (due now) fired: a
    # MockClock entered now fires it first instead of refusing to start.
    with MockClock():
        assert not SCHED.timers.pending()


@pytest.mark.parametrize("yields", [True, False], ids=["main yields", "main never yields"])
def test_one_ctrl_c_in_igogo_run_stops_every_job_and_propagates(
    found: Handler, yields: bool, autojump_clock: MockClock
) -> None:
    log: list[str] = []

    @igogo.job
    def helper() -> None:
        try:
            igogo.sleep(60)
        finally:
            log.append("helper finally")

    def main() -> None:
        helper()
        igogo.sleep(0.01)
        try:
            signal.raise_signal(signal.SIGINT)
            while True:
                if yields:
                    igogo.yielder()
        finally:
            log.append("main finally")

    with pytest.raises(KeyboardInterrupt):
        igogo.run(main)
    assert sorted(log) == ["helper finally", "main finally"]
    main_job, helper_job = igogo.jobs()[-2:]
    # The running job gets the Ctrl-C, as the running code of a plain script would.
    assert main_job.state == "failed" and isinstance(main_job.exception(), KeyboardInterrupt)
    assert helper_job.state == "stopped"
    assert signal.getsignal(signal.SIGINT) is found
    assert found.calls == 0


@pytest.mark.parametrize("kind", ["custom", "SIG_IGN", "default"])
def test_igogo_takes_sigint_only_over_pythons_default_handler(
    kind: str, monkeypatch: pytest.MonkeyPatch, autojump_clock: MockClock
) -> None:
    """And puts back exactly what it found; SIG_IGN (``cmd &``) and custom handlers stay."""
    previous = signal.getsignal(signal.SIGINT)
    handler: Any = {"custom": Handler(), "SIG_IGN": signal.SIG_IGN, "default": Handler()}[kind]
    if kind == "default":
        monkeypatch.setattr(_interrupt, "_DEFAULT", handler)
    signal.signal(signal.SIGINT, handler)
    try:
        during: list[object] = []

        @igogo.job
        def worker() -> None:
            for _ in range(3):
                during.append(signal.getsignal(signal.SIGINT))
                igogo.sleep(0.005)

        worker().result(timeout=10)
        assert signal.getsignal(signal.SIGINT) is handler
        assert len(during) == 3
        if kind == "default":
            assert all(h is not handler for h in during)  # igogo's own, only during ticks
        else:
            assert all(h is handler for h in during)  # never replaced
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_ignored_ctrl_c_stays_ignored(ignored: None) -> None:
    @igogo.job
    def worker() -> str:
        signal.raise_signal(signal.SIGINT)
        for _ in range(100):
            igogo.yielder()
        return "unharmed"

    assert worker().result(timeout=10) == "unharmed"


@pytest.mark.parametrize("place", ["timer", "hook", "done callback"])
def test_ctrl_c_in_igogos_machinery_is_held_for_the_waiting_code(
    found: Handler, place: str, hook: Callable[[object], object], autojump_clock: MockClock
) -> None:
    """It never cuts a tick short: no job is left running in no queue."""
    fired: list[str] = []

    def interrupt(*_: object) -> None:
        if not fired:
            fired.append(place)
            signal.raise_signal(signal.SIGINT)

    @igogo.job
    def busy() -> str:
        while not fired:
            igogo.sleep(0.001)
        for _ in range(3):
            igogo.sleep(0.001)
        return "done"

    j = busy()
    if place == "timer":
        SCHED.call_at(autojump_clock.now() + 0.01, interrupt)
    elif place == "hook":

        class Interrupting:
            def switched_out(self, job: object) -> None:
                interrupt()

        hook(Interrupting())
    else:
        igogo.job(lambda: None)().add_done_callback(interrupt)
    with pytest.raises(KeyboardInterrupt):
        j.result(timeout=10)
    assert fired == [place]
    assert j.state in ("running", "sleeping")
    assert j.id in SCHED.live and (j in SCHED.ready or j._cancel is not None)
    assert j.result(timeout=10) == "done"
    assert found.calls == 0


def test_ctrl_c_in_a_done_callback_lets_the_job_end_completely(
    found: Handler, autojump_clock: MockClock
) -> None:
    """Every callback runs, waiters wake, result() returns in every thread; then the caller
    gets the interrupt.  (The other thread's wait is real time, the job's sleep virtual.)"""
    seen: list[str] = []

    @igogo.job
    def work() -> int:
        igogo.sleep(0.05)
        return 42

    @igogo.job
    def waiter(j: igogo.Job[int]) -> int:
        return j.result() + 1

    j = work()
    w = waiter(j)
    j.add_done_callback(lambda j: signal.raise_signal(signal.SIGINT))
    j.add_done_callback(lambda j: seen.append("second"))
    in_thread: list[int] = []
    t = threading.Thread(target=lambda: in_thread.append(j.result(timeout=10)), daemon=True)
    t.start()
    with pytest.raises(KeyboardInterrupt):
        j.wait()
    assert j.state == "done" and seen == ["second"]
    t.join(5)
    assert in_thread == [42]
    assert w.result(timeout=10) == 43
    assert found.calls == 0


@pytest.mark.parametrize("handler", ["ignored (an idle kernel)", "Python's default"])
def test_ctrl_c_between_steps_when_jobs_get_interrupts(
    handler: str, monkeypatch: pytest.MonkeyPatch, mock_clock: MockClock
) -> None:
    """Ignored where SIGINT was ignored (no job holds the CPU); else the next job gets it."""
    previous = signal.getsignal(signal.SIGINT)
    default = Handler()
    if handler.startswith("ignored"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        monkeypatch.setattr(_interrupt, "_DEFAULT", default)
        signal.signal(signal.SIGINT, default)
    fired: list[bool] = []

    @igogo.job
    def victim() -> None:
        while not fired or len(fired) < 50:
            fired.append(False)
            igogo.sleep(0.001)

    v = victim()

    def interrupt() -> None:
        fired.append(True)
        signal.raise_signal(signal.SIGINT)

    try:
        SCHED.call_at(mock_clock.now() + 0.01, interrupt)
        deadline = time.monotonic() + 10
        while SCHED.live and time.monotonic() < deadline:
            SCHED.tick(interrupts_to_caller=False)  # as a host with interrupts_to_jobs=True
            mock_clock.jump(0.001)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert True in fired and default.calls == 0
    if handler.startswith("ignored"):
        assert v.state == "done"
    else:
        assert v.state == "failed" and isinstance(v.exception(), KeyboardInterrupt)
    assert not SCHED.interrupt_pending


def test_a_tick_with_nothing_due_leaves_the_handler_alone(found: Handler) -> None:
    seen: list[object] = []
    SCHED.call_at(time.monotonic() + 60, lambda: None).cancel()
    SCHED.tick()
    seen.append(signal.getsignal(signal.SIGINT))
    assert seen == [found]
    SCHED.timers.clear()


def test_a_host_that_routes_interrupts_to_jobs_fails_only_the_running_job(
    ignored: None, mock_clock: MockClock
) -> None:
    log: list[int] = []

    @igogo.job(name="victim")
    def victim() -> None:
        igogo.sleep(0.01)
        hog_past_the_slice()
        signal.raise_signal(signal.SIGINT)  # lands here, as KeyboardInterrupt
        while True:
            igogo.yielder()

    @igogo.job(name="bystander")
    def bystander() -> str:
        for i in range(5):
            log.append(i)
            igogo.sleep(0.01)
        return "unharmed"

    v, b = victim(), bystander()
    deadline = time.monotonic() + 10
    while SCHED.live and time.monotonic() < deadline:
        SCHED.tick(interrupts_to_caller=False)  # as a host with interrupts_to_jobs=True
        mock_clock.jump(0.001)
    assert v.state == "failed"
    assert isinstance(v.exception(), KeyboardInterrupt)
    assert b.result() == "unharmed"
    assert log == [0, 1, 2, 3, 4]
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_an_asyncio_host_with_interrupts_to_jobs(
    ignored: None, host_factories: list[Callable[[], Any]]
) -> None:
    host_factories.append(
        lambda: igogo.AsyncioHost(asyncio.get_running_loop(), interrupts_to_jobs=True)
    )

    @igogo.job
    def victim() -> None:
        hog_past_the_slice()
        signal.raise_signal(signal.SIGINT)
        while True:
            igogo.yielder()

    @igogo.job
    def bystander() -> str:
        igogo.sleep(0.05)  # real time: the asyncio loop drives it (a MockClock would not jump)
        return "unharmed"

    async def main() -> tuple[igogo.Job[None], str]:
        v, b = victim(), bystander()
        assert isinstance(SCHED.host, igogo.AsyncioHost)
        assert SCHED.host.interrupts_to_jobs
        return v, await b

    v, result = asyncio.run(main())
    assert result == "unharmed"
    assert v.state == "failed"
    assert isinstance(v.exception(), KeyboardInterrupt)
