"""Bad input to the public API: refused at once, with the exact error and a message that helps.

Every row of ``CASES`` is one bad input.  The test checks the exception's exact type
(not a subclass's parent), that the message names the bad value as its ``repr``, and
that it says what is allowed.  The conventions the rows pin down:

* a number or a flag with a bad value, of whatever type, is a :class:`ValueError`
  worded ``name=<repr>: must be ...`` (the form :func:`igogo._options.check_number`
  writes for every number igogo takes);
* an object of the wrong kind where igogo needs a function, a job, a hook, an
  executor or a cell number is a :class:`TypeError`;
* misuse of where a call is made (``igogo.stop()`` outside a job) is an
  :class:`igogo.IgogoError`.

Nothing here starts a worker: ``igogo.map`` and ``igogo.offload`` check their arguments
before they touch an executor, so these rows also run in ``hatch run core:test``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED

# igogo's own options come first; the installed integrations add theirs after them.
OPTIONS = "allowed options are name, timeout"
SECONDS_OR_NONE = "must be a number of seconds >= 0, or None"
POSITIVE_SECONDS = "must be a positive number of seconds"


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[], object]
    error: type[BaseException]
    shown: str  # the bad value, as its repr appears in the message
    allowed: tuple[str, ...]  # what the message must say is allowed
    uses_a_job: bool  # the call itself starts a job (to wait for, or to call from)


def case(
    id: str, call: Callable[[], object], error: type[BaseException], shown: str, *allowed: str
) -> Case:
    return Case(id, call, error, shown, allowed, getattr(call, "uses_a_job", False))


# -- things a job cannot run --------------------------------------------------------------------


class Widget:
    def run(self) -> None:
        pass


async def fetch() -> int:
    return 1


def count() -> Iterator[int]:
    yield 1


async def stream() -> AsyncIterator[int]:
    yield 1


def square(x: int) -> int:
    return x * x


# -- helpers for calls that need a job ----------------------------------------------------------


def with_live_job(call: Callable[[igogo.Job[Any]], object]) -> Callable[[], object]:
    """A call made on a job that is still running (a finished job answers without waiting)."""

    def run() -> object:
        j = igogo.job(igogo.sleep)(60)
        try:
            return call(j)
        finally:
            j.stop()
            igogo.wait(j, timeout=5)

    run.uses_a_job = True  # type: ignore[attr-defined]
    return run


def in_a_job(call: Callable[[], object]) -> Callable[[], object]:
    """A call made inside a job; the job's exception comes back out of ``result()``."""

    def run() -> object:
        return igogo.job(call)().result(timeout=5)

    run.uses_a_job = True  # type: ignore[attr-defined]
    return run


def get_from_a_queue_with_an_item(timeout: float) -> object:
    q: igogo.Queue[int] = igogo.Queue()
    q.put_nowait(1)
    return q.get(timeout=timeout)


def options(**kw: Any) -> Callable[[], object]:
    return lambda: igogo.job(**kw)


def a_map(*args: Any, **kw: Any) -> Callable[[], object]:
    return lambda: igogo.map(*args, **kw)


CASES = [
    # -- job options -----------------------------------------------------------------------------
    case("name-empty", options(name=""), ValueError, "name=''", "non-empty string or None"),
    case("name-blank", options(name="  "), ValueError, "name='  '", "non-empty string or None"),
    case("name-int", options(name=3), ValueError, "name=3", "non-empty string or None"),
    case("timeout-0", options(timeout=0), ValueError, "timeout=0", POSITIVE_SECONDS, "or None"),
    case("timeout-neg", options(timeout=-1), ValueError, "timeout=-1", POSITIVE_SECONDS),
    case("timeout-nan", options(timeout=math.nan), ValueError, "timeout=nan", POSITIVE_SECONDS),
    case(
        "timeout-inf",
        options(timeout=math.inf),
        ValueError,
        "timeout=inf",
        "must be a positive, finite number of seconds, or None",
    ),
    case("timeout-str", options(timeout="10"), ValueError, "timeout='10'", POSITIVE_SECONDS),
    case("timeout-bool", options(timeout=True), ValueError, "timeout=True", POSITIVE_SECONDS),
    case("unknown-option", options(colour="red"), TypeError, "'colour'", OPTIONS),
    # -- what @igogo.job and igogo.run take ------------------------------------------------------
    case("job-of-int", lambda: igogo.job(42), TypeError, "got 42", "decorates functions"),
    case(
        "job-of-str",
        lambda: igogo.job(name="x")("f"),
        TypeError,
        "got 'f'",
        "decorates functions",
        "not callable",
    ),
    case(
        "job-of-class",
        lambda: igogo.job(Widget),
        TypeError,
        "'Widget'",
        "it is a class",
        "Jobs run plain functions",
        "a method of the class",
    ),
    case(
        "job-of-class-with-options",
        lambda: igogo.job(name="w")(Widget),
        TypeError,
        "'Widget'",
        "it is a class",
    ),
    case(
        "job-of-async-def",
        lambda: igogo.job(fetch),
        TypeError,
        "'fetch'",
        "async def (coroutine) function",
        "Jobs run plain functions",
    ),
    case(
        "job-of-generator",
        lambda: igogo.job(count),
        TypeError,
        "'count'",
        "a generator function",
        "Jobs run plain functions",
    ),
    case(
        "job-of-async-generator",
        lambda: igogo.job(stream),
        TypeError,
        "'stream'",
        "async generator function",
    ),
    case(
        "run-of-int", lambda: igogo.run(42), TypeError, "got 42", "runs a function", "not callable"
    ),
    case("run-of-class", lambda: igogo.run(Widget), TypeError, "'Widget'", "it is a class"),
    case("run-of-async-def", lambda: igogo.run(fetch), TypeError, "'fetch'", "async def"),
    case(
        "run-in-a-job",
        in_a_job(lambda: igogo.run(square, 2)),
        igogo.MisuseError,
        "igogo.run('square')",
        "cannot run in a job",
        "call the job function directly",
    ),
    # -- configure -------------------------------------------------------------------------------
    *(
        case(
            f"tick-budget-{bad!r}",
            lambda bad=bad: igogo.configure(tick_budget=bad),
            ValueError,
            f"tick_budget={bad!r}",
            "must be a positive",
            "number of seconds",
        )
        for bad in (0, -0.5, math.inf, math.nan, "0.1", True)
    ),
    *(
        case(
            f"workers-{bad!r}",
            lambda bad=bad: igogo.configure(workers=bad),
            ValueError,
            f"workers={bad!r}",
            "must be a whole number >= 1, or None (one per CPU)",
        )
        for bad in (0, -2, 1.5, "4", True)
    ),
    # -- sleep -----------------------------------------------------------------------------------
    *(
        case(
            f"sleep-{bad!r}",
            lambda bad=bad: igogo.sleep(bad),
            ValueError,
            f"seconds={bad!r}",
            "must be a number of seconds >= 0",
        )
        for bad in (-1, -0.001, math.nan, "1", None, True)
    ),
    case(
        "sleep-forever-outside-a-job",
        lambda: igogo.sleep(math.inf),
        ValueError,
        "igogo.sleep(inf)",
        "sleep forever only inside a job, or while jobs run",
    ),
    # -- waits -----------------------------------------------------------------------------------
    case(
        "wait-timeout-neg",
        lambda: igogo.wait(timeout=-1),
        ValueError,
        "timeout=-1",
        SECONDS_OR_NONE,
    ),
    case(
        "wait-timeout-str",
        lambda: igogo.wait(timeout="soon"),
        ValueError,
        "timeout='soon'",
        SECONDS_OR_NONE,
    ),
    case(
        "wait-timeout-neg-with-a-job",
        with_live_job(lambda j: igogo.wait(j, timeout=-0.5)),
        ValueError,
        "timeout=-0.5",
        SECONDS_OR_NONE,
    ),
    case("wait-not-a-job", lambda: igogo.wait(3), TypeError, "got 3", "takes Job objects"),
    case(
        "wait-all-timeout-neg",
        lambda: igogo.wait_all(timeout=-1),
        ValueError,
        "timeout=-1",
        SECONDS_OR_NONE,
    ),
    case(
        "wait-all-timeout-nan",
        lambda: igogo.wait_all(timeout=math.nan),
        ValueError,
        "timeout=nan",
        SECONDS_OR_NONE,
    ),
    case(
        "result-timeout-str",
        with_live_job(lambda j: j.result(timeout="1")),
        ValueError,
        "timeout='1'",
        "must be a number of seconds",
    ),
    case(
        "exception-timeout-nan",
        with_live_job(lambda j: j.exception(timeout=math.nan)),
        ValueError,
        "timeout=nan",
        "must be a number of seconds",
    ),
    case(
        "job-wait-timeout-bool",
        with_live_job(lambda j: j.wait(timeout=True)),
        ValueError,
        "timeout=True",
        "must be a number of seconds",
    ),
    # -- Queue and Event -------------------------------------------------------------------------
    *(
        case(
            f"queue-maxsize-{bad!r}",
            lambda bad=bad: igogo.Queue(maxsize=bad),
            ValueError,
            f"maxsize={bad!r}",
            "must be an integer >= 0 (0 = unbounded)",
        )
        for bad in (-1, 1.5, "3", True, None)
    ),
    case(
        "queue-get-timeout-neg",
        lambda: igogo.Queue().get(timeout=-1),
        ValueError,
        "timeout=-1",
        SECONDS_OR_NONE,
    ),
    case(
        # refused even when it would not wait, as queue.Queue does
        "queue-get-timeout-neg-with-an-item",
        lambda: get_from_a_queue_with_an_item(-1),
        ValueError,
        "timeout=-1",
        SECONDS_OR_NONE,
    ),
    case(
        "queue-put-timeout-neg",
        lambda: igogo.Queue[int]().put(1, timeout=-1),
        ValueError,
        "timeout=-1",
        SECONDS_OR_NONE,
    ),
    case(
        "queue-put-timeout-nan",
        lambda: igogo.Queue[int](maxsize=1).put(1, timeout=math.nan),
        ValueError,
        "timeout=nan",
        SECONDS_OR_NONE,
    ),
    case(
        "queue-get-timeout-str",
        lambda: igogo.Queue[int]().get(timeout="1"),
        ValueError,
        "timeout='1'",
        SECONDS_OR_NONE,
    ),
    case(
        "event-wait-timeout-neg",
        lambda: igogo.Event().wait(timeout=-1),
        ValueError,
        "timeout=-1",
        SECONDS_OR_NONE,
    ),
    case(
        "event-wait-timeout-str",
        lambda: igogo.Event().wait(timeout="x"),
        ValueError,
        "timeout='x'",
        SECONDS_OR_NONE,
    ),
    # -- stopping --------------------------------------------------------------------------------
    case(
        "stop-outside-a-job",
        igogo.stop,
        igogo.NotInJobError,
        "igogo.stop()",
        "outside any job",
        "use job.stop()",
    ),
    *(
        case(
            f"stop-by-cell-id-{bad!r}",
            lambda bad=bad: igogo.stop_by_cell_id(bad),
            TypeError,
            f"igogo.stop_by_cell_id({bad!r})",
            "a cell number is an int, the n of In [n]",
        )
        for bad in ("x", "3", None, 2.0, True)
    ),
    case(
        "stop-by-cell-id-negative",
        lambda: igogo.stop_by_cell_id(-1),
        ValueError,
        "igogo.stop_by_cell_id(-1)",
        "a cell number is an int >= 0",
    ),
    # -- hooks and plugins -----------------------------------------------------------------------
    case(
        "add-hook-int",
        lambda: igogo.add_hook(42),
        TypeError,
        "42 is not a hook",
        "job_started, switched_in",
    ),
    case(
        "add-hook-str",
        lambda: igogo.add_hook("tqdm"),
        TypeError,
        "'tqdm' is not a hook",
        "job_finished",
    ),
    case(
        "deactivate-unknown-plugin",
        lambda: igogo.deactivate_plugin("no-such-plugin"),
        igogo.UnknownPluginError,
        "'no-such-plugin'",
        "active plugins:",
    ),
    # -- offload and map -------------------------------------------------------------------------
    case("offload-of-int", lambda: igogo.offload(42), TypeError, "got 42", "fn must be callable"),
    case(
        "offload-executor-str",
        lambda: igogo.offload(square, 2, executor="pool"),
        TypeError,
        "executor='pool'",
        "a concurrent.futures.Executor or a dask.distributed.Client",
    ),
    case("map-of-int", a_map(42, [1]), TypeError, "got 42", "fn must be callable"),
    case("map-not-iterable", a_map(square, 5), TypeError, "got 5", "iterable must be iterable"),
    case("map-empty", a_map(square, []), ValueError, "iterable=[]", "give at least one item"),
    case(
        "map-empty-range",
        a_map(square, range(0)),
        ValueError,
        "iterable=range(0, 0)",
        "give at least one item",
    ),
    case(
        "map-retries-neg",
        a_map(square, [1], retries=-1),
        ValueError,
        "retries=-1",
        "must be a whole number >= 0",
    ),
    case(
        "map-retries-float",
        a_map(square, [1], retries=1.5),
        ValueError,
        "retries=1.5",
        "must be a whole number >= 0",
    ),
    case(
        "map-max-in-flight-0",
        a_map(square, [1], max_in_flight=0),
        ValueError,
        "max_in_flight=0",
        "must be a whole number >= 1, or None",
    ),
    case(
        "map-max-in-flight-str",
        a_map(square, [1], max_in_flight="2"),
        ValueError,
        "max_in_flight='2'",
        "must be a whole number >= 1, or None",
    ),
    case(
        "map-chunksize-0",
        a_map(square, [1], chunksize=0),
        ValueError,
        "chunksize=0",
        "must be a whole number >= 1, or None (auto)",
    ),
    case(
        "map-chunksize-auto-str",
        a_map(square, [1], chunksize="auto"),
        ValueError,
        "chunksize='auto'",
        "must be a whole number >= 1, or None (auto)",
    ),
    case(
        "map-return-exceptions-str",
        a_map(square, [1], return_exceptions="yes"),
        ValueError,
        "return_exceptions='yes'",
        "must be True or False",
    ),
    case(
        "map-progress-none",
        a_map(square, [1], progress=None),
        ValueError,
        "progress=None",
        "must be True or False",
    ),
    case(
        "map-executor-str",
        a_map(square, [1], executor="pool"),
        TypeError,
        "executor='pool'",
        "a concurrent.futures.Executor or a dask.distributed.Client",
    ),
    case(
        "map-name-empty",
        a_map(square, [1], name=""),
        ValueError,
        "name=''",
        "non-empty string or None",
    ),
]


def test_there_are_at_least_forty_bad_inputs_each_with_its_own_id() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids), "two rows share an id"


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_the_value_and_what_is_allowed(bad: Case) -> None:
    before = len(igogo.jobs())
    with pytest.raises(BaseException) as info:
        bad.call()
    assert type(info.value) is bad.error, f"{type(info.value).__name__}: {info.value}"
    # KeyError's str() is the repr of its message; its first argument is the message itself.
    message = info.value.args[0] if isinstance(info.value, KeyError) else str(info.value)
    assert bad.shown in message
    for allowed in bad.allowed:
        assert allowed in message
    if not bad.uses_a_job:
        assert len(igogo.jobs()) == before, "a refused call started a job"


# -- what a refusal leaves behind ---------------------------------------------------------------


def test_a_class_is_refused_when_decorated_so_calling_it_never_starts_a_job() -> None:
    with pytest.raises(TypeError, match=r"\.Decorated': it is a class"):

        @igogo.job
        class Decorated(Widget):
            pass

    assert not SCHED.live


def test_a_bad_setting_beside_a_good_one_changes_neither() -> None:
    before = igogo.configure()
    with pytest.raises(ValueError, match="workers=0"):
        igogo.configure(tick_budget=before["tick_budget"] * 2, workers=0)
    assert igogo.configure() == before


def test_a_timed_get_that_would_not_wait_still_refuses_a_negative_timeout_and_keeps_the_item() -> (
    None
):
    q: igogo.Queue[int] = igogo.Queue()
    q.put_nowait(7)
    with pytest.raises(
        ValueError, match=r"^timeout=-1: must be a number of seconds >= 0, or None$"
    ):
        q.get(timeout=-1)
    assert q.get(timeout=0) == 7


def test_stop_by_cell_id_still_stops_the_jobs_of_a_cell_number() -> None:
    j = igogo.job(igogo.sleep)(60)
    j.origin = 12
    assert igogo.stop_by_cell_id(11) == 0
    assert igogo.stop_by_cell_id(12) == 1
    assert igogo.wait(j, timeout=5)
    assert j.state == "stopped"


# -- every number check, over arbitrary bad values (hypothesis) ---------------------------------

NUMBER_CHECKS: list[tuple[str, str, bool, Callable[[Any], object]]] = [
    # (the parameter's name, what is allowed, whether None is allowed, a call with the value)
    ("timeout", SECONDS_OR_NONE, True, lambda v: igogo.Queue[int]().get(timeout=v)),
    ("timeout", SECONDS_OR_NONE, True, lambda v: igogo.Queue[int]().put(1, timeout=v)),
    ("timeout", SECONDS_OR_NONE, True, lambda v: igogo.Event().wait(v)),
    ("timeout", SECONDS_OR_NONE, True, lambda v: igogo.wait(timeout=v)),
    ("timeout", SECONDS_OR_NONE, True, lambda v: igogo.wait_all(v)),
    ("seconds", "must be a number of seconds >= 0", False, igogo.sleep),
    ("maxsize", "must be an integer >= 0", False, lambda v: igogo.Queue(v)),
    ("retries", "must be a whole number >= 0", False, lambda v: igogo.map(square, [1], retries=v)),
]


def test_every_number_check_names_any_bad_value_and_the_allowed_form() -> None:
    hypothesis = pytest.importorskip("hypothesis")  # not in `hatch run core:test`
    st = hypothesis.strategies
    bad_values = st.one_of(
        st.integers(max_value=-1),
        st.floats(max_value=-1e-9) | st.just(math.nan),
        st.text(max_size=8),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
        st.complex_numbers(),
    )

    @hypothesis.settings(max_examples=150, deadline=None)
    @hypothesis.given(bad_values, st.sampled_from(NUMBER_CHECKS))
    def check(value: object, check: tuple[str, str, bool, Callable[[Any], object]]) -> None:
        name, allowed, none_ok, call = check
        if value is None and none_ok:
            return
        with pytest.raises(ValueError) as info:
            call(value)
        assert type(info.value) is ValueError
        assert str(info.value).startswith(f"{name}={value!r}: {allowed}")

    check()
