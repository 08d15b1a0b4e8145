"""igogo.map and MapJob against real process pools and a real Dask LocalCluster."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import igogo
from igogo import _plugins

pytestmark = [pytest.mark.workers, pytest.mark.usefixtures("two_workers")]

try:  # `hatch run core:test` has no cloudpickle, and deselects these tests (-m 'not workers')
    import cloudpickle
except ImportError:
    pass
else:  # functions of this file travel by value, as a notebook's do
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def slow_square(x: int) -> int:
    time.sleep(0.02 * (5 - x % 5))  # later items often finish first
    return x * x


def flaky(args: tuple[int, str]) -> int:
    """Fails the first time it sees an item listed in the marker directory."""
    x, marker_dir = args
    marker = Path(marker_dir) / f"{x}"
    Path(marker_dir, f"calls-{x}-{time.monotonic_ns()}").touch()
    if x % 3 == 0 and not marker.exists():
        marker.touch()
        raise ValueError(f"item {x} failed once")
    return x


def calls(marker_dir: Path, x: int) -> int:
    return len(list(marker_dir.glob(f"calls-{x}-*")))


def die_once(args: tuple[int, str]) -> int:
    x, marker_dir = args
    marker = Path(marker_dir) / "died"
    if x == 2 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def sleep_and_mark(args: tuple[float, str]) -> None:
    seconds, path = args
    time.sleep(seconds)
    Path(path).touch()


def echo(x: int) -> int:
    print(f"item {x}")
    return x


# -- results ------------------------------------------------------------------------------------


def test_results_come_in_input_order() -> None:
    m = igogo.map(slow_square, range(12))
    assert isinstance(m, igogo.MapJob) and isinstance(m, igogo.Job)
    assert m.results(timeout=60) == [x * x for x in range(12)]
    assert m.state == "done"
    rows = m.status()
    assert [r.state for r in rows] == ["ok"] * 12
    assert all(r.attempts == 1 and r.seconds is not None for r in rows)
    assert rows.counts()["ok"] == 12 and "12/12 ok" in repr(rows)


def test_the_map_runs_beside_other_jobs_and_regular_code() -> None:
    seen = []

    @igogo.job
    def ticker() -> None:
        while True:
            seen.append(1)
            igogo.sleep(0.01)

    t = ticker()
    m = igogo.map(slow_square, range(10))
    assert m.state == "pending"  # map() returned at once
    assert m.results(timeout=60)[-1] == 81
    assert len(seen) >= 5
    t.stop()
    t.wait()


def test_worker_prints_come_back(capsys: pytest.CaptureFixture[str]) -> None:
    igogo.map(echo, range(5), max_in_flight=1).results(timeout=60)
    assert capsys.readouterr().out == "".join(f"item {x}\n" for x in range(5))


# -- failures, retries, restart ------------------------------------------------------------------


def test_failures_are_kept_per_item_and_restart_runs_only_those(tmp_path: Path) -> None:
    items = [(x, str(tmp_path)) for x in range(7)]
    m = igogo.map(flaky, items)
    with pytest.raises(igogo.MapError, match=r"3 of 7 items .* failed.*item 0") as info:
        m.results(timeout=60)
    assert m.state == "failed"
    assert sorted(info.value.errors) == [0, 3, 6]
    assert isinstance(info.value.__cause__, ValueError)
    errors = m.exceptions()
    assert sorted(errors) == [0, 3, 6]
    assert str(errors[3]) == "item 3 failed once"
    assert isinstance(errors[3].__cause__, igogo.WorkerTraceback)
    status = m.status()
    assert [r.state for r in status] == ["error", "ok", "ok", "error", "ok", "ok", "error"]
    assert status[3].error == "ValueError: item 3 failed once"
    assert "ValueError: item 3 failed once" in repr(status)

    again = m.restart()
    assert again is not m and m.state == "failed"
    assert again.results(timeout=60) == list(range(7))
    assert [calls(tmp_path, x) for x in range(7)] == [2, 1, 1, 2, 1, 1, 2]
    assert [r.attempts for r in again.status()] == [2, 1, 1, 2, 1, 1, 2]


def test_the_map_error_shows_a_long_item_shortened() -> None:
    m = igogo.map(int, ["x" * 500], max_in_flight=1)
    with pytest.raises(igogo.MapError) as info:
        m.results(timeout=60)
    message = str(info.value)
    assert "item 0 ('xxx" in message and "…)" in message and len(message) < 400


def test_return_exceptions_puts_them_in_the_results(tmp_path: Path) -> None:
    m = igogo.map(flaky, [(x, str(tmp_path)) for x in range(4)], return_exceptions=True)
    results = m.results(timeout=60)
    assert m.state == "done"
    assert isinstance(results[0], ValueError) and isinstance(results[3], ValueError)
    assert results[1:3] == [1, 2]


def test_retries_run_a_failed_item_again(tmp_path: Path) -> None:
    m = igogo.map(flaky, [(x, str(tmp_path)) for x in range(4)], retries=1)
    assert m.results(timeout=60) == [0, 1, 2, 3]
    assert [r.attempts for r in m.status()] == [2, 1, 1, 2]


def test_a_killed_worker_fails_its_item_and_the_others_carry_on(tmp_path: Path) -> None:
    m = igogo.map(die_once, [(x, str(tmp_path)) for x in range(6)], max_in_flight=1)
    with pytest.raises(igogo.MapError):
        m.results(timeout=60)
    status = m.status()
    assert [r.state for r in status] == ["ok", "ok", "error", "ok", "ok", "ok"]
    assert isinstance(m.exceptions()[2], igogo.WorkerDiedError)
    assert "died" in status[2].error
    assert m.restart().results(timeout=60) == list(range(6))


def test_a_killed_worker_is_retried(tmp_path: Path) -> None:
    m = igogo.map(die_once, [(x, str(tmp_path)) for x in range(6)], retries=1)
    assert m.results(timeout=60) == list(range(6))
    assert m.status()[2].attempts == 2


def test_an_item_that_cannot_be_pickled_fails_alone_and_is_not_retried() -> None:
    import threading

    m = igogo.map(len, [[1], threading.Lock(), [1, 2]], retries=3)
    with pytest.raises(igogo.MapError, match="1 of 3 items"):
        m.results(timeout=60)
    assert [r.state for r in m.status()] == ["ok", "error", "ok"]
    assert [r.attempts for r in m.status()] == [1, 1, 1]
    assert isinstance(m.exceptions()[1], igogo.WorkerError)


def test_a_function_that_cannot_be_pickled_fails_the_map_at_once() -> None:
    import threading

    lock = threading.Lock()
    m = igogo.map(lambda x: (lock, x), range(5))  # the lambda carries the lock along
    message = r"cannot send .*<lambda> to a worker.*_thread\.lock"
    with pytest.raises(igogo.WorkerError, match=message):
        m.results(timeout=60)
    assert m.state == "failed"
    assert [r.state for r in m.status()] == ["pending"] * 5
    assert [r.attempts for r in m.status()] == [0] * 5


def test_a_broken_executor_ends_the_map_and_restart_takes_a_new_one() -> None:
    pool = ProcessPoolExecutor(1)
    pool.shutdown()
    m = igogo.map(slow_square, range(4), executor=pool)
    with pytest.raises(igogo.BrokenExecutorError, match="4 of 4 items were not run"):
        m.results(timeout=60)
    assert [r.state for r in m.status()] == ["pending"] * 4
    with ProcessPoolExecutor(2) as fresh:
        assert m.restart(executor=fresh).results(timeout=60) == [0, 1, 4, 9]


# -- interrupts ---------------------------------------------------------------------------------
# Jupyter interrupts a kernel with SIGINT to its whole process group, workers included.  A test
# must not signal its own group (pytest is in it), so these send SIGINT to the workers' pids:
# what the workers do with it is what a group interrupt would do to them.


def burn_and_report(args: tuple[int, float, str]) -> tuple[int, int]:
    """Leaves a file named after the item and the worker, then keeps the CPU busy."""
    x, seconds, started_dir = args
    Path(started_dir, f"{x}-{os.getpid()}").touch()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return x, os.getpid()


def started(started_dir: Path) -> dict[int, int]:
    """The items that began so far, and the pid of the worker that took each."""
    pairs = (p.name.split("-") for p in started_dir.iterdir())
    return {int(x): int(pid) for x, pid in pairs}


def interrupt(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # died: the map's outcome says so
            os.kill(pid, signal.SIGINT)


def test_items_in_flight_finish_when_their_workers_get_sigint(tmp_path: Path) -> None:
    m = igogo.map(burn_and_report, [(x, 1.0, str(tmp_path)) for x in range(4)], progress=False)
    deadline = time.monotonic() + 30
    while len(started(tmp_path)) < 2:  # both workers are in an item
        assert time.monotonic() < deadline, "the workers never started the items"
        igogo.sleep(0.02)
    workers = set(started(tmp_path).values())
    for _ in range(5):
        interrupt(workers)
        igogo.sleep(0.05)
    results = m.results(timeout=60)  # a killed item would fail the map (retries=0)
    assert [x for x, _ in results] == [0, 1, 2, 3]
    assert m.state == "done" and [r.attempts for r in m.status()] == [1] * 4
    assert {pid for _, pid in results} <= workers | set(started(tmp_path).values())
    assert len(list(tmp_path.iterdir())) == 4  # each item ran once


def test_workers_that_are_still_starting_keep_sigint_for_later(tmp_path: Path) -> None:
    """An interrupt before a new worker's initializer ran is held, then discarded.

    A fresh loky worker imports for a while before it runs the initializer that
    makes it ignore SIGINT: without the signal blocked meanwhile it died there.
    """
    from igogo._workers import _default_executor

    _default_executor(fresh=True)  # no worker yet: the map's first call starts them
    m = igogo.map(burn_and_report, [(x, 0.2, str(tmp_path)) for x in range(4)], progress=False)
    deadline = time.monotonic() + 30
    pids: list[int] = []
    while len(pids) < 2:
        assert time.monotonic() < deadline, "loky started no workers"
        igogo.sleep(0)  # the map sends its first calls: loky starts the workers
        pids = list(_default_executor()._processes)  # loky's own table of its workers
    while not started(tmp_path) and time.monotonic() < deadline:
        interrupt(pids)  # all through their start, until an item runs
        time.sleep(0.005)
    interrupt(pids)
    assert [x for x, _ in m.results(timeout=60)] == [0, 1, 2, 3]
    assert [r.attempts for r in m.status()] == [1] * 4


# -- several items per call ----------------------------------------------------------------------


class CountingPool(ProcessPoolExecutor):
    """A real process pool that counts the tasks it is given."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.tasks = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.tasks += 1
        return super().submit(*args, **kwargs)


def quick(x: int) -> int:
    if x == 13:
        raise ValueError("unlucky")
    print(f"q{x}")
    return -x


def test_short_items_travel_several_per_call_and_keep_their_own_outcomes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with CountingPool(2) as pool:
        m = igogo.map(quick, range(400), executor=pool, return_exceptions=True)
        results = m.results(timeout=60)
        assert pool.tasks < 100  # 400 items of microseconds: far fewer calls than items
    assert results[:13] == [-x for x in range(13)] and results[14:] == [-x for x in range(14, 400)]
    assert isinstance(results[13], ValueError)
    assert [r.state for r in m.status()].count("ok") == 399
    # Each item's prints, whole; items in the order they came back (not input order).
    printed = capsys.readouterr().out.splitlines()
    assert sorted(printed) == sorted(f"q{x}" for x in range(400) if x != 13)


def test_chunksize_fixes_the_items_per_call() -> None:
    with CountingPool(2) as pool:
        m = igogo.map(quick, range(20), executor=pool, chunksize=5, return_exceptions=True)
        assert m.results(60)[19] == -19
        assert pool.tasks == 4
    with CountingPool(2) as pool:
        igogo.map(quick, range(12), executor=pool, chunksize=1).results(60)
        assert pool.tasks == 12
    with pytest.raises(ValueError, match=r"chunksize=0: must be a whole number >= 1"):
        igogo.map(quick, [1], chunksize=0)


def test_an_item_that_cannot_be_pickled_in_a_chunk_fails_alone() -> None:
    import threading

    m = igogo.map(len, [[1], [2, 2], threading.Lock(), [3], [4]], chunksize=5)
    with pytest.raises(igogo.MapError, match="1 of 5 items"):
        m.results(timeout=60)
    assert [r.state for r in m.status()] == ["ok", "ok", "error", "ok", "ok"]
    assert [r.attempts for r in m.status()] == [1, 1, 1, 1, 1]


# -- control ------------------------------------------------------------------------------------


def test_stopping_the_map_cancels_what_has_not_run(tmp_path: Path) -> None:
    items = [(0.3, str(tmp_path / f"ran-{i}")) for i in range(20)]
    m = igogo.map(sleep_and_mark, items, max_in_flight=2)
    igogo.sleep(0.5)
    m.stop()
    assert m.wait(timeout=10) and m.state == "stopped"
    with pytest.raises(igogo.StoppedError):
        m.results()
    counts = m.status().counts()
    assert counts["cancelled"] + counts["pending"] >= 15
    # Real time: the items run in worker processes, where no MockClock reaches.
    time.sleep(0.8)  # what was already running finishes in its worker; nothing new starts
    assert len(list(tmp_path.glob("ran-*"))) <= 6
    assert m.restart().results(timeout=60) == [None] * 20


def nap(x: int) -> int:
    time.sleep(0.4)  # real time: it runs in a worker process
    return x


def test_status_counts_as_running_only_what_the_workers_can_run() -> None:
    with ProcessPoolExecutor(1) as pool:
        m = igogo.map(nap, range(4), executor=pool, chunksize=1)
        igogo.sleep(0.2)  # two calls are out (twice the workers), one worker runs one
        rows = m.status()
        assert rows.counts()["running"] == 1 and rows.counts()["pending"] == 3
        assert rows[0].state == "running" and rows[0].seconds is not None
        assert rows[1].state == "pending" and rows[1].seconds is None
        assert "running" in repr(rows).splitlines()[2].split()
        assert m.results(timeout=60) == [0, 1, 2, 3]


def test_submit_adds_items_while_the_map_runs() -> None:
    m = igogo.map(slow_square, range(3))
    assert m.submit(10) == 3
    assert m.submit(11) == 4
    assert m.results(timeout=60) == [0, 1, 4, 100, 121]
    with pytest.raises(igogo.IgogoError, match="has ended and takes no more items"):
        m.submit(12)


def test_restart_of_a_running_map_is_refused() -> None:
    m = igogo.map(slow_square, range(4))
    with pytest.raises(igogo.IgogoError, match="still running"):
        m.restart()
    m.results(timeout=60)


def test_a_progress_plugin_gets_a_bar_that_counts_items(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, Any]] = []

    class Bar:
        total = 0

        def update(self, n: int) -> None:
            events.append(("update", n))

        def refresh(self) -> None:
            events.append(("refresh", self.total))

        def close(self) -> None:
            events.append(("close", None))

    class Plugin:
        def progress_bar(self, *, total: int, desc: str) -> Bar:
            events.append(("new", (total, desc, igogo.current_job() is not None)))
            return Bar()

    monkeypatch.setattr(_plugins, "_active", {"test-bars": Plugin()})
    m = igogo.map(slow_square, range(4), name="squares")
    igogo.sleep(0)  # one round: the map's job has started and made its bar
    m.submit(4)
    m.results(timeout=60)
    assert events[0] == ("new", (4, "squares", True))  # made inside the map's job
    assert ("refresh", 5) in events
    assert sum(n for what, n in events if what == "update") == 5
    assert events[-1] == ("close", None)


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fn": 3, "iterable": [1]}, TypeError, "fn must be callable; got 3"),
        ({"fn": abs, "iterable": 5}, TypeError, "iterable must be iterable; got 5"),
        ({"fn": abs, "iterable": []}, ValueError, "the iterable is empty"),
        ({"fn": abs, "iterable": [1], "max_in_flight": 0}, ValueError, "max_in_flight=0"),
        ({"fn": abs, "iterable": [1], "retries": -1}, ValueError, "retries=-1"),
        ({"fn": abs, "iterable": [1], "return_exceptions": 1}, ValueError, "return_exceptions=1"),
        ({"fn": abs, "iterable": [1], "executor": "dask"}, TypeError, "executor='dask'"),
    ],
)
def test_bad_input_is_refused_before_anything_starts(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    fn, iterable = kwargs.pop("fn"), kwargs.pop("iterable")
    with pytest.raises(error, match=message):
        igogo.map(fn, iterable, **kwargs)
    assert not igogo.jobs() or all(j.done() for j in igogo.jobs())


# -- Dask ----------------------------------------------------------------------------------------


def test_map_on_a_dask_cluster(dask_client: Any) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}  # as a notebook defines it
    exec("def inverse(x):\n    return 1 / x\n", namespace)
    m = igogo.map(namespace["inverse"], [1, 2, 0, 4], executor=dask_client)
    with pytest.raises(igogo.MapError, match="1 of 4 items"):
        m.results(timeout=60)
    assert isinstance(m.exceptions()[2], ZeroDivisionError)
    assert [r.state for r in m.status()] == ["ok", "ok", "error", "ok"]
    ok = igogo.map(namespace["inverse"], [1, 2, 4], executor=dask_client)
    assert ok.results(timeout=60) == [1.0, 0.5, 0.25]
