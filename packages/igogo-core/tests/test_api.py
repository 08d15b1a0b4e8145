"""The functions users call: the decorator and its options, sleep, waits, stops, run, jobs()."""

from __future__ import annotations

import collections
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED
from igogo.testing import MockClock

# -- the decorator ---------------------------------------------------------------------------------


def test_the_decorator_without_options() -> None:
    @igogo.job
    def greet(name: str) -> str:
        """Say hello."""
        return f"hello {name}"

    assert isinstance(greet, igogo.JobFunction)
    assert greet.__name__ == "greet"
    assert greet.__doc__ == "Say hello."
    assert repr(greet).startswith("<igogo.job ")
    assert "greet" in repr(greet)
    j = greet("you")
    assert isinstance(j, igogo.Job)
    assert j.options == igogo.JobOptions()
    assert j.result(timeout=5) == "hello you"


@pytest.fixture
def colour_option() -> Iterator[None]:
    """An option registered the way an integration registers its own (igogo.lowlevel)."""
    from igogo import _options

    def check(value: object) -> None:
        if value not in ("red", "blue"):
            raise ValueError(f"colour={value!r}: allowed colours are 'red', 'blue'")

    igogo.lowlevel.register_option("colour", "red", check, owner="test")
    yield
    del _options._registered["colour"]


def test_the_decorator_with_options(colour_option: None) -> None:
    @igogo.job(name="fetcher", timeout=5, colour="blue")
    def fetch() -> int:
        return 1

    j = fetch()
    assert j.name == "fetcher"
    assert j.options == igogo.JobOptions(name="fetcher", timeout=5, extra={"colour": "blue"})
    assert j.options.colour == "blue" and j.options.get("colour") == "blue"
    assert j.result(timeout=5) == 1

    @igogo.job()
    def bare() -> int:
        return 2

    b = bare()
    assert b.options.colour == "red"  # the registered default
    assert b.options.get("nothing", 7) == 7
    with pytest.raises(AttributeError, match="job option 'nothing' is not known; options now: "):
        b.options.nothing  # noqa: B018
    assert b.result(timeout=5) == 2


ALLOWED = "allowed options are name, timeout"  # igogo's own, then the integrations'


@pytest.mark.parametrize(
    ("options", "error", "fragments"),
    [
        ({"size": "red"}, TypeError, ["'size'", ALLOWED]),
        ({"size": 1, "weight": 2}, TypeError, ["'size', 'weight'", ALLOWED]),
        ({"colour": "green"}, ValueError, ["colour='green'", "allowed colours are"]),
        ({"timeout": 0}, ValueError, ["timeout=0", "positive number of seconds, or None"]),
        ({"timeout": -1}, ValueError, ["timeout=-1", "positive number of seconds"]),
        ({"timeout": math.nan}, ValueError, ["timeout=nan", "positive number of seconds"]),
        ({"timeout": math.inf}, ValueError, ["timeout=inf", "positive, finite number of seconds"]),
        ({"timeout": "1"}, ValueError, ["timeout='1'", "positive number of seconds"]),
        ({"timeout": True}, ValueError, ["timeout=True", "positive number of seconds"]),
        ({"name": ""}, ValueError, ["name=''", "non-empty string or None"]),
        ({"name": 3}, ValueError, ["name=3", "non-empty string or None"]),
    ],
)
def test_a_bad_option_is_named_with_what_is_allowed(
    options: dict[str, Any], error: type[Exception], fragments: list[str], colour_option: None
) -> None:
    with pytest.raises(error) as info:
        igogo.job(**options)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert not SCHED.live


def test_an_option_cannot_shadow_igogos_own() -> None:
    with pytest.raises(ValueError, match="option name 'timeout': must be an identifier, and not"):
        igogo.lowlevel.register_option("timeout", 1, lambda v: None, owner="test")


async def _coroutine_function() -> None:
    pass


async def _async_generator() -> AsyncIterator[int]:
    yield 1


def _generator() -> Iterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("fn", "fragments"),
    [
        (_coroutine_function, ["_coroutine_function", "async def", "plain functions"]),
        (_async_generator, ["_async_generator", "async generator function"]),
        (_generator, ["_generator", "a generator function", "plain functions"]),
    ],
)
def test_functions_a_job_cannot_run_are_refused(
    fn: Callable[..., Any], fragments: list[str]
) -> None:
    for decorate in (igogo.job, igogo.job(name="x")):
        with pytest.raises(TypeError) as info:
            decorate(fn)
        for fragment in fragments:
            assert fragment in str(info.value)


@pytest.mark.parametrize("thing", [42, "name", object()])
def test_decorating_something_not_callable_is_refused(thing: object) -> None:
    with pytest.raises(TypeError, match=r"decorates functions; got .* not callable"):
        igogo.job(thing)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="not callable"):
        igogo.job(name="x")(thing)


def test_decorating_methods() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        @igogo.job
        def count(self, upto: int) -> int:
            for _ in range(upto):
                self.n += 1
                igogo.sleep(0)
            return self.n

        @igogo.job
        def forever(self) -> None:
            igogo.sleep(60)

    assert isinstance(Counter.count, igogo.JobFunction)
    c = Counter()
    j = c.count(3)
    assert j.name == "count"
    assert j.result(timeout=5) == 3
    assert c.n == 3

    a, b = Counter(), Counter()
    jobs = [a.forever(), b.forever()]
    assert len(Counter.forever.jobs) == 2
    assert a.forever.stop_all() == 2  # one function: the jobs of every instance
    assert igogo.wait(*jobs, timeout=5)
    assert [j.state for j in jobs] == ["stopped", "stopped"]


# -- sleep and yielder from regular code -----------------------------------------------------------


def test_sleep_in_regular_code_drives_the_jobs(autojump_clock: MockClock) -> None:
    ticks: list[float] = []

    @igogo.job
    def ticker() -> None:
        for _ in range(100):
            ticks.append(autojump_clock.now())
            igogo.sleep(1 / 64)

    j = ticker()
    igogo.sleep(0.25)
    assert autojump_clock.now() == 0.25
    # Woken by its timers again and again while regular code slept, on time.
    assert ticks == [i / 64 for i in range(17)]
    assert not j.done()
    autojump_clock.jump(1)
    time.sleep(0.01)  # a plain sleep runs no job
    assert len(ticks) == 17
    j.stop()
    assert igogo.wait(j, timeout=5)


def test_sleep_with_no_job_just_sleeps() -> None:
    """Real time: time.sleep (the mock clock's case is in test_testing.py)."""
    t = time.monotonic()
    igogo.sleep(0.05)
    assert 0.05 <= time.monotonic() - t <= 1.0


def test_sleeping_forever_with_nothing_to_wake_regular_code_is_refused() -> None:
    with pytest.raises(ValueError, match=r"igogo.sleep\(inf\) outside a job.*never return"):
        igogo.sleep(math.inf)


@pytest.mark.parametrize("bad", [-1, math.nan, "1", True, None])
def test_sleep_rejects_a_bad_duration(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^seconds=.*: must be a number of seconds >= 0$"):
        igogo.sleep(bad)  # type: ignore[arg-type]


def test_current_job_is_none_in_regular_code_and_the_job_inside_one() -> None:
    assert igogo.current_job() is None
    j = igogo.job(lambda: igogo.current_job())()
    assert j.result(timeout=5) is j


# -- waiting ---------------------------------------------------------------------------------------


def test_wait_for_several_jobs(autojump_clock: MockClock) -> None:
    a = igogo.job(lambda: igogo.sleep(0.25))()
    b = igogo.job(lambda: igogo.sleep(0.5))()
    assert igogo.wait(a, b, timeout=5) is True
    assert a.done() and b.done()
    assert autojump_clock.now() == 0.5
    assert igogo.wait() is True


def test_wait_with_a_timeout_returns_false_while_jobs_run(autojump_clock: MockClock) -> None:
    slow = igogo.job(lambda: igogo.sleep(60))()
    assert igogo.wait(slow, timeout=0.05) is False
    assert autojump_clock.now() == 0.05
    assert slow.state == "sleeping"
    slow.stop()
    assert igogo.wait(slow, timeout=5)


def test_wait_takes_only_jobs() -> None:
    with pytest.raises(TypeError, match=r"igogo.wait\(\) takes Job objects; got 3"):
        igogo.wait(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout="):
        igogo.wait(timeout="soon")  # type: ignore[arg-type]


def test_wait_all_includes_jobs_started_meanwhile(autojump_clock: MockClock) -> None:
    children: list[igogo.Job[Any]] = []

    @igogo.job
    def child() -> None:
        igogo.sleep(0.5)

    @igogo.job
    def parent() -> None:
        igogo.sleep(0.25)
        children.append(child())

    p = parent()
    assert igogo.wait_all(timeout=5) is True
    assert autojump_clock.now() == 0.75
    assert p.done()
    assert len(children) == 1
    assert children[0].state == "done"


def test_wait_all_with_a_timeout(autojump_clock: MockClock) -> None:
    slow = igogo.job(lambda: igogo.sleep(60))()
    assert igogo.wait_all(timeout=0.05) is False
    assert autojump_clock.now() == 0.05
    slow.stop()
    assert igogo.wait_all(timeout=5) is True
    assert igogo.wait_all() is True  # nothing left


def test_wait_all_inside_a_job_waits_for_the_others_only(autojump_clock: MockClock) -> None:
    others = [igogo.job(lambda: igogo.sleep(0.03))() for _ in range(2)]

    @igogo.job
    def overseer() -> list[str]:
        assert igogo.wait_all(timeout=5)
        return [o.state for o in others]

    assert overseer().result(timeout=5) == ["done", "done"]
    assert autojump_clock.now() == 0.03


# -- stopping --------------------------------------------------------------------------------------


def test_stop_outside_a_job_is_an_error() -> None:
    with pytest.raises(igogo.NotInJobError, match=r"igogo.stop\(\) .* outside any job") as info:
        igogo.stop()
    assert isinstance(info.value, RuntimeError)
    assert "stop_all()" in str(info.value)


def test_stop_all_stops_every_job_and_counts_them() -> None:
    jobs = [igogo.job(lambda: igogo.sleep(60))() for _ in range(3)]
    done = igogo.job(lambda: None)()
    assert done.result(timeout=5) is None
    assert igogo.stop_all() == 3
    assert igogo.wait(*jobs, timeout=5)
    assert [j.state for j in jobs] == ["stopped"] * 3
    assert igogo.stop_all() == 0


def test_stop_all_from_a_job_stops_the_others_then_itself() -> None:
    log: list[str] = []
    others = [igogo.job(lambda: igogo.sleep(60))() for _ in range(2)]

    @igogo.job
    def killer() -> None:
        try:
            igogo.stop_all()
            log.append("after stop_all")
        finally:
            log.append("finally")

    k = killer()
    assert igogo.wait(k, *others, timeout=5)
    assert log == ["finally"]
    assert [j.state for j in (k, *others)] == ["stopped"] * 3


def test_stop_latest_stops_the_most_recent_job() -> None:
    assert igogo.stop_latest() is None
    first = igogo.job(lambda: igogo.sleep(60))()
    second = igogo.job(lambda: igogo.sleep(60))()
    assert igogo.stop_latest() is second
    assert igogo.wait(second, timeout=5)
    assert second.state == "stopped"
    assert first.state != "stopped"
    assert igogo.stop_latest() is first
    assert igogo.wait(first, timeout=5)


def test_stop_by_cell_id_stops_the_jobs_of_one_origin(
    host_factories: list[Callable[[], Any]],
) -> None:
    class CellHost(igogo.BlockingHost):
        cell = 1

        def adopt(self, job: igogo.Job[Any]) -> None:
            job.origin = self.cell

    host = CellHost()
    host_factories.append(lambda: host)
    forever = igogo.job(lambda: igogo.sleep(60))
    a1, a2 = forever(), forever()
    host.cell = 2
    b = forever()
    assert [j.origin for j in (a1, a2, b)] == [1, 1, 2]
    assert igogo.stop_by_cell_id(1) == 2
    assert igogo.wait(a1, a2, timeout=5)
    assert not b.done()
    assert igogo.stop_by_cell_id(1) == 0
    assert igogo.stop_by_cell_id(2) == 1
    assert igogo.wait(b, timeout=5)
    assert [j.state for j in (a1, a2, b)] == ["stopped"] * 3


def test_a_job_functions_stop_all_stops_only_its_own_jobs() -> None:
    @igogo.job
    def mine() -> None:
        igogo.sleep(60)

    @igogo.job
    def theirs() -> None:
        igogo.sleep(60)

    m1, m2, t = mine(), mine(), theirs()
    assert mine.jobs == [m1, m2]
    assert mine.stop_all() == 2
    assert igogo.wait(m1, m2, timeout=5)
    assert mine.jobs == []
    assert not t.done()
    assert theirs.stop_all() == 1
    assert igogo.wait(t, timeout=5)


# -- run -------------------------------------------------------------------------------------------


def test_run_returns_the_result_after_every_job_ended(autojump_clock: MockClock) -> None:
    spawned: list[igogo.Job[Any]] = []

    def main(a: int, *, b: int) -> int:
        spawned.append(igogo.job(lambda: igogo.sleep(0.5))())
        igogo.sleep(0.25)
        return a * b

    assert igogo.run(main, 6, b=7) == 42
    assert autojump_clock.now() == 0.5
    assert spawned[0].state == "done"
    assert not SCHED.live


def test_run_raises_the_exception_of_the_function(autojump_clock: MockClock) -> None:
    def main() -> None:
        igogo.sleep(0.01)
        raise LookupError("nope")

    with pytest.raises(LookupError, match="nope"):
        igogo.run(main)


def test_run_inside_a_job_is_an_error() -> None:
    @igogo.job
    def nested() -> str:
        try:
            igogo.run(lambda: None)
        except RuntimeError as e:
            return str(e)
        return "no error"

    assert "cannot run in a job" in nested().result(timeout=5)


# -- jobs() ----------------------------------------------------------------------------------------


def test_jobs_lists_live_and_finished_jobs_as_a_table(autojump_clock: MockClock) -> None:
    done = igogo.job(name="finisher")(lambda: None)()
    done.result(timeout=5)
    sleeper = igogo.job(name="sleeper")(lambda: igogo.sleep(60))()
    igogo.sleep(0.01)
    listing = igogo.jobs()
    assert isinstance(listing, igogo.JobList)
    assert listing[-2:] == [done, sleeper]
    assert [j.id for j in listing] == sorted(j.id for j in listing)
    lines = repr(listing).splitlines()
    assert lines[0].split() == ["id", "name", "origin", "state", "elapsed"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[str(done.id)][1:3] == ["finisher", "done"]
    assert rows[str(sleeper.id)][1:3] == ["sleeper", "sleeping"]
    assert rows[str(sleeper.id)][3].endswith("s")
    sleeper.stop()
    assert igogo.wait(sleeper, timeout=5)


def test_jobs_repr_when_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SCHED, "history", collections.deque(maxlen=200))
    assert igogo.jobs() == []
    assert repr(igogo.jobs()) == "no igogo jobs"


def test_run_of_a_decorated_function_returns_its_result_not_the_job(
    autojump_clock: MockClock,
) -> None:
    @igogo.job(name="main")
    def main(x: int) -> int:
        igogo.sleep(0.01)
        return x * 2

    assert igogo.run(main, 21) == 42
    assert autojump_clock.now() == 0.01


def test_as_completed_yields_jobs_in_the_order_they_end(autojump_clock: MockClock) -> None:
    @igogo.job
    def nap(seconds: float) -> float:
        igogo.sleep(seconds)
        return seconds

    slow, fast, mid = nap(0.15), nap(0.01), nap(0.08)
    seen = [
        (j.result(), autojump_clock.now()) for j in igogo.as_completed(slow, fast, mid, timeout=10)
    ]
    assert seen == [(0.01, 0.01), (0.08, 0.08), (0.15, 0.15)]  # each as soon as it ended

    @igogo.job
    def collector() -> list[str]:  # in a job it parks between jobs
        a, b = nap(0.05), nap(0.01)
        return ["a" if j is a else "b" for j in igogo.as_completed(a, b)]

    assert collector().result(timeout=10) == ["b", "a"]
    assert autojump_clock.now() == 0.15 + 0.05


def test_as_completed_times_out_and_refuses_what_is_not_a_job(autojump_clock: MockClock) -> None:
    @igogo.job
    def long() -> None:
        igogo.sleep(60)

    j = long()
    with pytest.raises(TimeoutError, match="1 of 1 job"):
        list(igogo.as_completed(j, timeout=0.05))
    assert autojump_clock.now() == 0.05
    j.stop()
    with pytest.raises(TypeError, match="takes Job objects; got 42"):
        list(igogo.as_completed(42))  # type: ignore[arg-type]
    assert j.wait(5)
