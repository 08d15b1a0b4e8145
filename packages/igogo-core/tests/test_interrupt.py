"""Interrupts: where a Ctrl-C (SIGINT) lands while jobs run, and the handler put back after.

Every test runs with a SIGINT handler of its own installed (never Python's default
one), so that a signal that went astray fails a test instead of ending the run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED


class Handler:
    """A SIGINT handler that only records that it was called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.calls += 1


@pytest.fixture
def found() -> Iterator[Handler]:
    """Install a recording SIGINT handler for the test; put the previous one back after."""
    previous = signal.getsignal(signal.SIGINT)
    handler = Handler()
    signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not SCHED.interrupt_pending


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
    log: list[str] = []

    @igogo.job
    def stubborn() -> None:
        signal.raise_signal(signal.SIGINT)  # for the waiting code, once the job yields
        signal.raise_signal(signal.SIGINT)  # it did not yield: this one lands here
        log.append("never")

    j = stubborn()
    assert igogo.wait(j, timeout=10)  # no KeyboardInterrupt left for the waiting code
    assert log == []
    assert j.state == "failed"
    assert isinstance(j.exception(), KeyboardInterrupt)
    assert found.calls == 0


def test_ctrl_c_in_igogo_run_stops_every_job_and_propagates(found: Handler) -> None:
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
                igogo.yielder()
        finally:
            log.append("main finally")

    with pytest.raises(KeyboardInterrupt):
        igogo.run(main)
    assert sorted(log) == ["helper finally", "main finally"]
    last_two = igogo.jobs()[-2:]
    assert [j.state for j in last_two] == ["stopped", "stopped"]
    assert signal.getsignal(signal.SIGINT) is found


@pytest.mark.parametrize("kind", ["custom", "SIG_IGN", "default_int_handler"])
def test_the_handler_found_is_put_back_exactly_after_ticks(kind: str) -> None:
    previous = signal.getsignal(signal.SIGINT)
    handler: Any = {
        "custom": Handler(),
        "SIG_IGN": signal.SIG_IGN,
        "default_int_handler": signal.default_int_handler,
    }[kind]
    signal.signal(signal.SIGINT, handler)
    try:
        during: list[object] = []

        @igogo.job
        def worker() -> None:
            for _ in range(3):
                during.append(signal.getsignal(signal.SIGINT))
                igogo.sleep(0.005)

        j = worker()
        j.result(timeout=10)
        assert signal.getsignal(signal.SIGINT) is handler
        assert len(during) == 3
        assert all(h is not handler for h in during)  # igogo's own, only during ticks
        igogo.sleep(0.01)
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_between_job_steps_goes_to_the_handler_found(found: Handler) -> None:
    igogo.configure(tick_budget=1.0)
    handlers: list[object] = []

    def timer() -> None:
        handlers.append(signal.getsignal(signal.SIGINT))
        signal.raise_signal(signal.SIGINT)

    @igogo.job
    def busy() -> None:
        while not handlers:
            igogo.yielder()  # the slice ends when the timer is due

    j = busy()
    SCHED.call_at(time.monotonic() + 0.01, timer)
    SCHED.tick()  # the timer fires between two steps of the job: no job holds the CPU
    assert len(handlers) == 1
    assert handlers[0] is not found  # igogo's guard was installed ...
    assert found.calls == 1  # ... and passed the signal to the handler it found
    assert signal.getsignal(signal.SIGINT) is found
    j.result(timeout=5)
    assert found.calls == 1


def test_a_tick_with_only_timers_leaves_the_handler_alone(found: Handler) -> None:
    handlers: list[object] = []
    SCHED.call_at(time.monotonic() - 1, lambda: handlers.append(signal.getsignal(signal.SIGINT)))
    SCHED.tick()
    assert handlers == [found]


def test_a_host_that_routes_interrupts_to_jobs_fails_only_the_running_job(
    ignored: None,
) -> None:
    log: list[int] = []

    @igogo.job(name="victim")
    def victim() -> None:
        igogo.sleep(0.01)
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
        time.sleep(0.001)
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
        signal.raise_signal(signal.SIGINT)
        while True:
            igogo.yielder()

    @igogo.job
    def bystander() -> str:
        igogo.sleep(0.05)
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
