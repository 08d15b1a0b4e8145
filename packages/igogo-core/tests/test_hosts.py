"""Hosts and plugins: asyncio interop, the blocking fallback, entry points, release."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

import igogo
from igogo import _hosts, _plugins
from igogo._hub import SCHED
from igogo.testing import MockClock

# -- asyncio -------------------------------------------------------------------------------------
# Real time in this section: a MockClock never jumps by itself under an asyncio loop (only
# regular code's waits autojump), and what these tests check is that loop driving the jobs.


def test_await_a_job_inside_asyncio_run() -> None:
    @igogo.job
    def compute(x: int) -> int:
        igogo.sleep(0.01)
        return x * 2

    async def main() -> int:
        return await compute(21)

    assert asyncio.run(main()) == 42


def test_await_a_failed_or_stopped_job_raises() -> None:
    @igogo.job
    def fail() -> None:
        igogo.sleep(0.01)
        raise KeyError("missing")

    @igogo.job
    def forever() -> None:
        igogo.sleep(60)

    async def main() -> list[str]:
        out = []
        try:
            await fail()
        except KeyError as e:
            out.append(f"KeyError {e}")
        j = forever()
        asyncio.get_running_loop().call_later(0.02, j.stop)
        try:
            await j
        except igogo.StoppedError:
            out.append("stopped")
        return out

    assert asyncio.run(main()) == ["KeyError 'missing'", "stopped"]


def test_await_a_job_that_already_ended() -> None:
    j = igogo.job(lambda: "early")()
    j.result(timeout=5)

    async def main() -> str:
        return await j

    assert asyncio.run(main()) == "early"


def test_a_job_started_in_a_running_loop_gets_an_asyncio_host(
    host_factories: list[Callable[[], Any]],
) -> None:
    async def main() -> tuple[object, object, int, str]:
        j = igogo.job(lambda: igogo.sleep(0.01) or "ok")()
        host = SCHED.host
        loop = asyncio.get_running_loop()
        return host, loop, getattr(host, "thread_id", 0), await j

    host, loop, thread_id, result = asyncio.run(main())
    assert isinstance(host, igogo.AsyncioHost)
    assert host.loop is loop
    assert thread_id == threading.get_ident()
    assert result == "ok"
    assert SCHED.host is None  # released with the last job


def test_the_asyncio_host_drives_jobs_while_the_loop_awaits_something_else() -> None:
    log: list[int] = []

    @igogo.job
    def background() -> None:
        for i in range(3):
            log.append(i)
            igogo.sleep(0.02)

    async def main() -> tuple[str, list[int]]:
        j = background()
        await asyncio.sleep(0.4)  # not awaiting the job: the host's ticks drive it
        return j.state, list(log)

    state, seen = asyncio.run(main())
    assert state == "done"
    assert seen == [0, 1, 2]


def test_the_loop_stays_responsive_while_a_job_spins() -> None:
    spins = [0]
    running = [True]

    @igogo.job
    def spinner() -> None:
        while running[0]:
            spins[0] += 1
            igogo.yielder()

    async def main() -> int:
        j = spinner()
        host = SCHED.host
        assert isinstance(host, igogo.AsyncioHost)
        assert type(host._handle) is asyncio.TimerHandle  # call_at, never call_soon
        beats = 0
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            await asyncio.sleep(0.005)
            beats += 1
        running[0] = False
        await j
        return beats

    beats = asyncio.run(main())
    assert spins[0] > 0
    # Each tick gives the loop back after one budget (15 ms): about 15 beats on
    # an idle machine; a tick that kept the loop while the job spins gives none.
    assert beats >= 3


def test_await_a_job_started_outside_the_loop(host_factories: list[Callable[[], Any]]) -> None:
    j = igogo.job(lambda: igogo.sleep(0.02) or "outside")()
    assert isinstance(SCHED.host, igogo.BlockingHost)

    async def main() -> tuple[str, object]:
        # Nobody pumps: awaiting hands the jobs to this loop's host.
        result = await j
        return result, SCHED.host

    result, host = asyncio.run(main())
    assert result == "outside"
    assert host is None  # the AsyncioHost that took over was released at the end


def test_jobs_left_when_asyncio_run_returns_are_driven_by_regular_code(
    host_factories: list[Callable[[], Any]],
) -> None:
    """Regression: starting a job after the loop closed raised 'Event loop is closed'."""

    async def main() -> igogo.Job[str]:
        j = igogo.job(lambda: igogo.sleep(0.05) or "left over")()
        await asyncio.sleep(0)
        return j

    left = asyncio.run(main())
    assert not left.done()
    newer = igogo.job(lambda: "newer")()
    assert isinstance(SCHED.host, igogo.BlockingHost)
    assert newer.result(timeout=5) == "newer"
    assert left.result(timeout=5) == "left over"


def test_a_job_left_on_a_closed_loop_can_be_stopped(
    host_factories: list[Callable[[], Any]],
) -> None:
    async def main() -> igogo.Job[None]:
        j = igogo.job(lambda: igogo.sleep(60))()
        await asyncio.sleep(0.01)
        return j

    left = asyncio.run(main())
    assert left.state == "sleeping"
    left.stop()
    assert igogo.wait(left, timeout=5)
    assert left.state == "stopped"


# -- the blocking fallback, host factories, release ---------------------------------------------


class RecordingHost(igogo.BlockingHost):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, object]] = []

    def attach(self, sched: Any) -> None:
        self.calls.append(("attach", sched))
        super().attach(sched)

    def detach(self) -> None:
        self.calls.append(("detach", None))
        super().detach()

    def wake(self, when: float) -> None:
        self.calls.append(("wake", when))

    def report_failure(self, job: igogo.Job[Any]) -> None:
        self.calls.append(("report_failure", job))


def test_with_no_host_entry_point_jobs_get_a_blocking_host(
    host_factories: list[Callable[[], Any]], autojump_clock: MockClock
) -> None:
    assert SCHED.host is None
    j = igogo.job(lambda: igogo.sleep(0.01))()
    host = SCHED.host
    assert type(host) is igogo.BlockingHost
    assert host.sched is SCHED
    assert SCHED.owner == threading.get_ident()
    j.result(timeout=5)
    assert SCHED.host is None  # released when the last job ended
    assert host.sched is None


def test_the_host_is_kept_while_any_job_lives(
    host_factories: list[Callable[[], Any]], autojump_clock: MockClock
) -> None:
    short = igogo.job(lambda: None)()
    long = igogo.job(lambda: igogo.sleep(0.05))()
    host = SCHED.host
    short.result(timeout=5)
    assert SCHED.host is host
    assert autojump_clock.now() == 0
    long.result(timeout=5)
    assert SCHED.host is None
    igogo.job(lambda: None)().result(timeout=5)  # the next job finds a new host
    assert SCHED.host is None


def test_the_first_host_factory_that_applies_drives_the_jobs(
    host_factories: list[Callable[[], Any]],
    caplog: pytest.LogCaptureFixture,
    autojump_clock: MockClock,
) -> None:
    host = RecordingHost()

    def broken() -> None:
        raise RuntimeError("factory broke")

    host_factories.extend([broken, lambda: None, lambda: host, RecordingHost])
    with caplog.at_level(logging.ERROR, logger="igogo"):
        j = igogo.job(lambda: igogo.sleep(0.05))()
    assert SCHED.host is host
    assert [r.getMessage() for r in caplog.records if r.name == "igogo"] == [
        f"igogo host factory {broken!r} failed; skipped"
    ]
    j.result(timeout=5)
    calls = host.calls
    assert calls[0] == ("attach", SCHED)
    assert calls[1] == ("wake", 0.0)  # asked to tick now: the new job is ready
    assert calls[-1] == ("detach", None)


def test_the_host_reports_failed_jobs(
    host_factories: list[Callable[[], Any]],
    caplog: pytest.LogCaptureFixture,
    autojump_clock: MockClock,
) -> None:
    host = RecordingHost()
    host_factories.append(lambda: host)
    j = igogo.job(lambda: 1 / 0)()
    assert igogo.wait(j, timeout=5)
    assert ("report_failure", j) in host.calls

    class BrokenReporter(igogo.BlockingHost):
        def report_failure(self, job: igogo.Job[Any]) -> None:
            raise RuntimeError("cannot report")

    host_factories[:] = [BrokenReporter]
    waiter_result: list[str] = []
    with caplog.at_level(logging.ERROR, logger="igogo"):
        failing = igogo.job(lambda: igogo.sleep(0.01) or 1 / 0)()
        waiter = igogo.job(lambda: waiter_result.append(type(failing.exception()).__name__))()
        assert igogo.wait(failing, waiter, timeout=5)
    assert failing.state == "failed"
    assert waiter_result == ["ZeroDivisionError"]
    assert any("failed to report" in r.getMessage() for r in caplog.records)


def test_host_factories_are_found_through_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = RecordingHost()
    module = types.ModuleType("fake_igogo_host")
    module.find_host = lambda: host  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_igogo_host", module)
    eps = [
        importlib.metadata.EntryPoint(
            name="fake", value="fake_igogo_host:find_host", group="igogo.hosts"
        )
    ]
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda *, group: eps if group == "igogo.hosts" else [],
    )
    monkeypatch.setattr(_hosts, "_host_factories", None)  # not looked up yet
    j = igogo.job(lambda: None)()
    assert SCHED.host is host
    j.result(timeout=5)
    assert _hosts._host_factories == [module.find_host]  # type: ignore[attr-defined]


# -- plugins -----------------------------------------------------------------------------------


class Plugin:
    def __init__(self) -> None:
        self.active = 0

    def activate(self) -> None:
        self.active += 1

    def deactivate(self) -> None:
        self.active -= 1


class FailingPlugin:
    def activate(self) -> None:
        raise RuntimeError("cannot activate")

    def deactivate(self) -> None:
        raise AssertionError("never activated")


def test_plugins_are_activated_once_per_process(
    monkeypatch: pytest.MonkeyPatch,
    host_factories: list[Callable[[], Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = Plugin()
    module = types.ModuleType("fake_igogo_plugins")
    module.good = good  # type: ignore[attr-defined]
    module.failing = FailingPlugin()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_igogo_plugins", module)
    eps = [
        importlib.metadata.EntryPoint(name=n, value=v, group="igogo.plugins")
        for n, v in [
            ("good", "fake_igogo_plugins:good"),
            ("failing", "fake_igogo_plugins:failing"),
            ("missing", "no_such_module_for_igogo_tests:plugin"),
        ]
    ]
    lookups: list[str] = []

    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        lookups.append(group)
        return eps if group == "igogo.plugins" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(_plugins, "_loaded", False)
    monkeypatch.setattr(_plugins, "_active", {})
    monkeypatch.setattr(_plugins, "_errors", {})
    with caplog.at_level(logging.ERROR, logger="igogo"):
        for _ in range(3):  # each job finds a new host; plugins are looked up once
            igogo.job(lambda: None)().result(timeout=5)
    assert lookups == ["igogo.plugins"]
    assert good.active == 1
    status = igogo.plugins()
    assert status["good"] == "active"
    assert status["failing"] == "failed to activate: RuntimeError('cannot activate')"
    assert status["missing"].startswith("failed to load: ModuleNotFoundError(")
    assert len([r for r in caplog.records if r.name == "igogo"]) == 2

    igogo.deactivate_plugin("good")
    assert good.active == 0
    assert igogo.plugins()["good"] == "deactivated"
    with pytest.raises(KeyError, match="no active igogo plugin named 'good'; active plugins: none"):
        igogo.deactivate_plugin("good")
    igogo.job(lambda: None)().result(timeout=5)
    assert good.active == 0  # stays off


def test_with_no_plugin_installed_entry_points_are_still_looked_up_once(
    monkeypatch: pytest.MonkeyPatch, host_factories: list[Callable[[], Any]]
) -> None:
    lookups: list[str] = []

    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        lookups.append(group)
        return []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(_plugins, "_loaded", False)
    monkeypatch.setattr(_plugins, "_active", {})
    monkeypatch.setattr(_plugins, "_errors", {})
    for _ in range(3):  # each job finds a new host
        igogo.job(lambda: None)().result(timeout=5)
    assert lookups == ["igogo.plugins"]
    assert igogo.plugins() == {}


def test_a_jobs_own_event_loop_stays_its_own_across_switches() -> None:
    """Two jobs each in asyncio.run(), switching mid-loop: neither sees the other's loop."""
    import asyncio

    async def count(n: int) -> int:
        total = 0
        for i in range(n):
            total += i
            igogo.yielder()  # switches to the other job while this loop runs
            await asyncio.sleep(0)
        return total

    @igogo.job
    def runner(n: int) -> int:
        return asyncio.run(count(n))

    igogo.configure(tick_budget=0.0005)
    a, b = runner(2_000), runner(2_000)
    assert (a.result(timeout=30), b.result(timeout=30)) == (sum(range(2_000)),) * 2
    assert asyncio.events._get_running_loop() is None
