"""Shared fixtures: every test must leave the scheduler as it found it.

The tests need only pytest and igogo-core; what else some of them use (loky, cloudpickle,
dask, hypothesis, pytest-timeout: ``pip install 'igogo-core[test]'`` has them all) is
optional, and a test that needs a missing one is skipped with the reason.  With ``CI=true``
every test must run: a missing optional dependency fails the tests that need it instead.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import igogo
from igogo import _foreign, _hosts
from igogo._hub import SCHED
from igogo._waiting import pump
from igogo.testing import autojump_clock, mock_clock  # noqa: F401  (fixtures: MockClock)

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # The root pyproject's `timeout = 120` is pytest-timeout's setting. Without the plugin,
    # declare it here (it then does nothing), so that pytest does not warn about an unknown
    # config option.
    if not pluginmanager.has_plugin("timeout"):
        parser.addini("timeout", "pytest-timeout's per-test timeout (ignored: not installed)")


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not config.pluginmanager.has_plugin("timeout"):
        raise pytest.UsageError("CI=true, so the tests run under pytest-timeout: install it")


def needs(module: str, why: str = "") -> None:
    """Skip the test unless ``module`` imports (with ``CI=true``, fail it instead)."""
    try:
        importlib.import_module(module)
    except ImportError as e:
        reason = f"{why}: {e}" if why else str(e)
        if IN_CI:
            pytest.fail(f"CI=true, so every test must run, but {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def no_leaked_jobs() -> Iterator[None]:
    """After each test: no job left alive, no host left attached, settings restored.

    A leaked job is stopped (so the next tests start clean) and the test fails
    with the list of leaked jobs.
    """
    budget = SCHED.tick_budget
    hooks = list(SCHED.hooks.hooks)
    yield
    SCHED.tick_budget = budget
    _foreign.failures.clear()  # what a test's broken hooks left in igogo.plugins()
    for hook in list(SCHED.hooks.hooks):
        if all(hook is not h for h in hooks):
            SCHED.hooks.remove(hook)
    if SCHED._calls and SCHED.on_owner_thread():  # hand-overs from other threads
        pump(lambda: not SCHED._calls, time.monotonic() + 5.0)
    leaked = sorted(SCHED.live.values(), key=lambda j: j.id)
    if leaked:
        listing = "\n".join(f"  {j!r}" for j in leaked)
        for j in leaked:
            j.stop()
        if SCHED.on_owner_thread():
            pump(lambda: not SCHED.live, time.monotonic() + 5.0)
        pytest.fail(f"the test leaked {len(leaked)} igogo job(s):\n{listing}")
    host = SCHED.host
    if host is not None:
        SCHED.host = None
        SCHED.owner = None
        host.detach()
        pytest.fail(f"no job is left, yet host {host!r} is still attached")


@pytest.fixture
def settle() -> Callable[[], None]:
    """``settle()`` runs the jobs until none is ready: each has parked, paused or ended.

    Use it instead of a short sleep to let jobs reach the waits a test is about:
    on a loaded machine a sleep of a few milliseconds may not give them a turn.
    """

    def run_until_settled() -> None:
        deadline = time.monotonic() + 10.0
        igogo.sleep(0)  # one tick
        while SCHED.ready or SCHED._calls:
            if time.monotonic() > deadline:
                pytest.fail(f"the jobs never settled: {SCHED.ready!r}")
            igogo.sleep(0)

    return run_until_settled


@pytest.fixture
def hook() -> Iterator[Callable[[object], object]]:
    """Register hooks for one test: ``hook(obj)`` adds ``obj``; all are removed after."""
    added: list[object] = []

    def add(obj: object) -> object:
        SCHED.hooks.add(obj)
        added.append(obj)
        return obj

    yield add
    for obj in added:
        SCHED.hooks.remove(obj)


@pytest.fixture
def host_factories(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], Any]]:
    """The host factories igogo consults, as a list the test fills (empty: no entry point)."""
    factories: list[Callable[[], Any]] = []
    monkeypatch.setattr(_hosts, "_host_factories", factories)
    return factories


class Recorder:
    """A hook that records every event as ``(event, job name)``."""

    def __init__(self, only: Callable[[Any], bool] = lambda job: True) -> None:
        self.events: list[tuple[str, str]] = []
        self.only = only

    def _add(self, event: str, job: Any) -> None:
        if self.only(job):
            self.events.append((event, job.name))

    def job_started(self, job: Any) -> None:
        self._add("job_started", job)

    def switched_in(self, job: Any) -> None:
        self._add("switched_in", job)

    def switched_out(self, job: Any) -> None:
        self._add("switched_out", job)

    def job_finished(self, job: Any) -> None:
        self._add("job_finished", job)

    def count(self, event: str, name: str) -> int:
        return sum(1 for e in self.events if e == (event, name))


@pytest.fixture
def recorder(hook: Callable[[object], object]) -> Recorder:
    """A registered :class:`Recorder` hook."""
    rec = Recorder()
    hook(rec)
    return rec


# -- workers (tests marked `workers`: igogo.offload and igogo.map) ---------------------------


@pytest.fixture(scope="module")
def two_workers() -> Iterator[None]:
    """igogo's default process pool with two workers, for a whole test module.

    Every test marked ``workers`` uses it: without igogo-core's ``workers`` extra (loky,
    cloudpickle) they are skipped.
    """
    needs("loky", "igogo's default process pool needs loky (pip install 'igogo-core[workers]')")
    needs("cloudpickle", "functions defined in a test file travel to workers with cloudpickle")
    before = igogo.configure()["workers"]
    igogo.configure(workers=2)
    yield
    igogo.configure(workers=before)


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """A client of a real Dask LocalCluster: two worker processes, one thread each."""
    needs("dask.distributed")
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()
