"""Preemption (_preempt): plain loops switched out at their ends, library code never split.

Each test that expects a switch gives the busy loop a way out after a few
seconds, so a failure is an assertion, never a hang.

Real time throughout, no MockClock: time slices are always real time, and while a
busy job runs no virtual time passes, so the sleeps here (regular code's, or a job's
beside busy loops) would never end on a mock clock.
"""

from __future__ import annotations

import itertools
import json
import json.encoder
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import igogo
from igogo import _preempt, _usercode
from igogo._hub import SCHED

LIMIT = 5.0
"""Seconds a busy loop waits for a witness before giving up (the test then fails)."""


@pytest.fixture(autouse=True)
def preempt_settings() -> Iterator[None]:
    """Restore the preemption settings; every test must leave no trace function behind."""
    before = igogo.configure()
    _preempt._said.clear()
    yield
    igogo.configure(
        preempt=before["preempt"],
        preempt_include=before["preempt_include"],
        preempt_exclude=before["preempt_exclude"],
    )
    assert sys.gettrace() is None, "a trace function was left on the thread"
    assert _preempt._job is None


class Witness:
    """A cooperative job that records when it runs; busy loops wait for it."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.job = self._run()

    @igogo.job(name="witness")
    def _run(self) -> None:
        for _ in range(3):
            self.times.append(time.monotonic())
            igogo.sleep(0)

    @property
    def seen(self) -> bool:
        return bool(self.times)


def until_seen(witness: Witness) -> bool:
    """The condition of the busy loops below: False once the witness ran or time is up."""
    return not witness.seen and time.monotonic() < deadline


deadline = float("inf")
"""When the running test's busy loops give up (set by each test)."""


def busy_beside_witness(work: Callable[[Witness], object]) -> Witness:
    """Start ``work`` as a preemptible job, then a witness; both must end."""
    global deadline
    deadline = time.monotonic() + LIMIT
    holder: list[Witness] = []
    job = igogo.job(preempt=True, name="busy")(lambda: work(holder[0]))()
    holder.append(Witness())
    assert igogo.wait(job, holder[0].job, timeout=LIMIT + 5)
    job.result()
    assert holder[0].seen, "the busy job was never switched out"
    assert time.monotonic() < deadline, "the witness ran only after the busy loop gave up"
    return holder[0]


def order_of_busy_and_witness(work: Callable[[], object], preempt: bool = True) -> list[str]:
    """Run ``work`` in a job (preemptible or not) beside a cooperative witness: who ended first."""
    order: list[str] = []

    @igogo.job(preempt=preempt)
    def busy() -> None:
        work()
        order.append("busy")

    @igogo.job
    def witness() -> None:
        order.append("witness")

    jobs = [busy(), witness()]
    assert igogo.wait(*jobs, timeout=10)
    return order


def spin_for(seconds: float) -> None:
    """A plain loop in this file (user code unless a test excludes it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


# -- plain loops run beside other jobs ------------------------------------------------------------


def test_two_plain_loops_interleave() -> None:
    turns: list[str] = []

    @igogo.job(preempt=True)
    def spin(name: str) -> int:
        n = 0
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            n += 1
            if turns[-1:] != [name]:
                turns.append(name)
        return n

    a, b = spin("a"), spin("b")
    assert igogo.wait(a, b, timeout=10)
    assert a.result() > 0 and b.result() > 0
    assert len(turns) >= 6, turns  # slices of ~7.5 ms over 0.3 s: many turns each
    assert turns[:4] == ["a", "b", "a", "b"]


def test_a_while_loop_with_no_yielder_lets_a_witness_run() -> None:
    def work(w: Witness) -> None:
        x = 0
        while until_seen(w):
            x += 1

    busy_beside_witness(work)


def test_a_for_loop_and_continue_are_switch_points() -> None:
    def work(w: Witness) -> None:
        for i in itertools.count():
            if i % 2:
                continue
            if not until_seen(w):
                break

    busy_beside_witness(work)


def test_hooks_see_every_switch_of_a_preempted_job(recorder: Any) -> None:
    def work(w: Witness) -> None:
        while until_seen(w):
            pass

    busy_beside_witness(work)
    assert recorder.count("switched_out", "busy") >= 2  # preempted, then ended


# -- nested functions, generators, comprehensions, child jobs ----------------------------------


def test_a_loop_in_a_nested_function() -> None:
    def work(w: Witness) -> None:
        def inner() -> None:
            while until_seen(w):
                pass

        inner()

    busy_beside_witness(work)


def test_a_loop_in_a_function_defined_elsewhere_in_user_code() -> None:
    busy_beside_witness(spin_until_seen)  # a module-level function: armed when found on the stack


def spin_until_seen(w: Witness) -> None:
    while until_seen(w):
        pass


def test_a_loop_inside_a_generator() -> None:
    def work(w: Witness) -> None:
        def gen() -> Iterator[int]:
            while until_seen(w):
                pass
            yield 1

        assert next(gen()) == 1

    busy_beside_witness(work)


def test_a_generator_expression_consumed_by_a_builtin() -> None:
    def work(w: Witness) -> None:
        any(not until_seen(w) for _ in itertools.count())

    busy_beside_witness(work)


def test_a_list_comprehension() -> None:
    def work(w: Witness) -> None:
        going = itertools.takewhile(lambda _: until_seen(w), itertools.count())
        assert [None for _ in going]

    busy_beside_witness(work)


def test_a_job_started_by_a_preempted_job_is_preemptible_too() -> None:
    # The child says nothing and the default is cooperative: it takes its parent's way.

    def work(w: Witness) -> None:
        @igogo.job
        def child() -> None:
            while until_seen(w):
                pass

        c = child()
        assert c.preemptive
        while not c.done() and time.monotonic() < deadline:
            pass  # the parent spins too: both are switched out
        assert c.done()

    busy_beside_witness(work)


# -- library code is never split ----------------------------------------------------------------


def big_document() -> list[dict[str, Any]]:
    return [{"id": i, "tags": ["x", "y", "z"], "v": [i, i + 1.5, None]} for i in range(60_000)]


def test_a_long_stdlib_call_is_never_split() -> None:
    doc = big_document()
    spans: list[tuple[float, float]] = []
    witness_times: list[float] = []

    @igogo.job(preempt=True)
    def busy() -> None:
        for _ in range(3):
            t = time.monotonic()
            json.dumps(doc, indent=1)  # pure-Python encoder (indent): stdlib frames only
            spans.append((t, time.monotonic()))

    @igogo.job
    def witness() -> None:
        while not b.done():
            witness_times.append(time.monotonic())
            igogo.sleep(0)

    b = busy()
    w = witness()
    assert igogo.wait(b, w, timeout=60)
    assert all(end - start > 0.03 for start, end in spans), spans  # each call spans slices
    inside = [t for t in witness_times for s, e in spans if s < t < e]
    assert inside == []
    assert len(witness_times) >= 2  # it ran between the calls, at the loop's ends


def test_a_user_callback_under_a_library_frame_is_not_split() -> None:
    spans: list[tuple[float, float]] = []
    witness_times: list[float] = []

    def default(obj: object) -> str:  # user code, called by json's pure-Python encoder
        t = time.monotonic()
        end = t + 0.05
        while time.monotonic() < end:
            pass
        spans.append((t, time.monotonic()))
        return "x"

    @igogo.job(preempt=True)
    def busy() -> None:
        for _ in range(3):
            json.dumps([object()], indent=1, default=default)

    @igogo.job
    def witness() -> None:
        while not b.done():
            witness_times.append(time.monotonic())
            igogo.sleep(0)

    b = busy()
    w = witness()
    assert igogo.wait(b, w, timeout=60)
    assert [t for t in witness_times for s, e in spans if s < t < e] == []
    assert len(witness_times) >= 2


# -- stop, pause, resume, timeout ---------------------------------------------------------------


def test_stop_a_busy_loop() -> None:
    cleaned: list[bool] = []

    @igogo.job(preempt=True)
    def forever() -> None:
        x = 0
        try:
            while True:
                x += 1
        finally:
            cleaned.append(True)

    j = forever()
    igogo.sleep(0.05)
    assert j.state == "running"
    j.stop()
    assert j.wait(5)
    assert j.state == "stopped" and cleaned == [True]


def test_a_timeout_stops_a_busy_loop() -> None:
    @igogo.job(preempt=True, timeout=0.05)
    def forever() -> None:
        while True:
            pass

    j = forever()
    assert j.wait(5)
    assert j.state == "timed out"


def test_pause_and_resume_a_busy_loop() -> None:
    count = [0]

    @igogo.job(preempt=True)
    def counting() -> None:
        while True:
            count[0] += 1

    j = counting()
    igogo.sleep(0.05)
    assert count[0] > 0
    j.pause()
    igogo.sleep(0.02)
    assert j.state == "paused"
    held = count[0]
    igogo.sleep(0.05)
    assert count[0] == held
    j.resume()
    igogo.sleep(0.05)
    assert count[0] > held
    j.stop()
    assert j.wait(5)


def test_stop_all_from_a_job_reaches_busy_loops() -> None:
    @igogo.job(preempt=True)
    def forever() -> None:
        while True:
            pass

    jobs = [forever() for _ in range(3)]

    @igogo.job
    def stopper() -> None:
        igogo.sleep(0.05)
        for j in jobs:
            j.stop()

    s = stopper()
    assert igogo.wait(*jobs, s, timeout=5)
    assert all(j.state == "stopped" for j in jobs)


def test_a_preempted_job_may_still_sleep_and_yield() -> None:
    def work(w: Witness) -> None:
        for i in itertools.count():
            if i % 1000 == 0:
                igogo.sleep(0)  # another door, possibly while a trace is armed (3.11)
            if not until_seen(w):
                break

    busy_beside_witness(work)


def igogo_frames(exc: BaseException) -> list[str]:
    package = os.path.dirname(igogo.__file__)
    return [
        f.name for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(package)
    ]


def test_a_stop_shows_no_more_igogo_frames_than_a_yielder_switch() -> None:
    caught: dict[str, BaseException] = {}

    @igogo.job(preempt=True)
    def preempted() -> None:
        try:
            while True:
                pass
        except igogo.Stop as e:
            caught["preempt"] = e

    @igogo.job
    def cooperative() -> None:
        try:
            while True:
                igogo.yielder()
        except igogo.Stop as e:
            caught["yielder"] = e

    jobs = [preempted(), cooperative()]
    igogo.sleep(0.05)
    for j in jobs:
        j.stop()
    assert igogo.wait(*jobs, timeout=5)
    assert len(igogo_frames(caught["preempt"])) <= len(igogo_frames(caught["yielder"]))


# -- where preemption cannot work -----------------------------------------------------------------


def test_a_trace_function_makes_the_job_cooperative_and_igogo_says_why() -> None:
    order: list[str] = []

    def tracer(frame: Any, event: str, arg: Any) -> None:
        return None

    @igogo.job(preempt=True)
    def busy() -> None:
        end = time.monotonic() + 0.1
        while time.monotonic() < end:
            pass
        order.append("busy")

    @igogo.job
    def witness() -> None:
        order.append("witness")

    sys.settrace(tracer)
    try:
        with pytest.warns(RuntimeWarning, match=r"runs cooperatively.*trace function"):
            b = busy()
        w = witness()
        assert igogo.wait(b, w, timeout=10)
    finally:
        sys.settrace(None)
    assert order == ["busy", "witness"]  # never switched out
    assert b._preempt is False


def test_the_reason_is_said_once() -> None:
    sys.settrace(lambda *a: None)
    try:
        with pytest.warns(RuntimeWarning):
            first = igogo.job(preempt=True)(lambda: None)()
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            second = igogo.job(preempt=True)(lambda: None)()
    finally:
        sys.settrace(None)
    assert igogo.wait(first, second, timeout=5)


def test_cooperative_jobs_are_not_preempted() -> None:
    assert order_of_busy_and_witness(lambda: spin_for(0.1), preempt=False) == ["busy", "witness"]


# -- options and settings -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, "yes", 1, 0.0])
def test_bad_preempt_values_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=rf"preempt={value!r}: must be True or False"):
        igogo.job(preempt=value)(lambda: None)
    with pytest.raises(ValueError, match=rf"preempt={value!r}: must be True or False"):
        igogo.configure(preempt=value)
    assert igogo.configure()["preempt"] is False


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("preempt_include", "mypkg", "must be a list"),
        ("preempt_include", None, "must be a list"),
        ("preempt_exclude", [3], "is not a module name or a path"),
        ("preempt_exclude", [""], "is not a module name or a path"),
        ("preempt_include", ["not a name!"], "neither a module name"),
        ("preempt_include", ["igogo_no_such_module_here"], "no module named"),
    ],
)
def test_bad_scopes_are_refused_and_change_nothing(
    setting: str, value: object, message: str
) -> None:
    before = igogo.configure()
    with pytest.raises(ValueError, match=message):
        igogo.configure(tick_budget=0.5, **{setting: value})
    assert igogo.configure() == before


def test_configure_preempt_is_the_default_of_every_job() -> None:
    assert igogo.configure(preempt=True)["preempt"] is True
    assert igogo.configure()["preempt"] is True  # left unchanged when not given

    def work(w: Witness) -> None:
        while until_seen(w):
            pass

    global deadline
    deadline = time.monotonic() + LIMIT
    holder: list[Witness] = []
    plain = igogo.job(lambda: work(holder[0]))()  # no preempt= option: the default
    holder.append(Witness())
    assert igogo.wait(plain, holder[0].job, timeout=LIMIT + 5)
    assert holder[0].seen and time.monotonic() < deadline
    off = igogo.job(preempt=False)(lambda: None)()
    assert igogo.wait(off, timeout=5) and off._preempt is False


def test_job_options_carry_preempt() -> None:
    assert igogo.JobOptions().preempt is None
    assert igogo.job(preempt=True)(lambda: None).options.preempt is True
    assert "preempt" in igogo.lowlevel.JobOptions.__dataclass_fields__


# -- what counts as user code -------------------------------------------------------------------


def test_user_code_by_default() -> None:
    assert _usercode.is_user_code(__file__)
    assert _usercode.is_user_code("/tmp/ipykernel_12345/2716418393.py")
    assert _usercode.is_user_code("<ipython-input-3-f4b7aa693bf1>")
    assert not _usercode.is_user_code(json.__file__)  # stdlib
    assert not _usercode.is_user_code(pytest.__file__)  # site-packages
    assert not _usercode.is_user_code(_preempt.__file__)  # igogo itself
    assert not _usercode.is_user_code("<string>")
    assert not _usercode.is_user_code("<frozen importlib._bootstrap>")


def test_include_and_exclude_by_module_and_path() -> None:
    here = os.path.dirname(__file__)
    igogo.configure(preempt_exclude=[here], preempt_include=["json", "<string>"])
    assert not _usercode.is_user_code(__file__)
    assert _usercode.is_user_code(json.__file__)
    assert _usercode.is_user_code(json.encoder.__file__)  # the package's directory
    assert _usercode.is_user_code("<string>")
    # The most specific rule wins: this file, included, inside an excluded directory.
    igogo.configure(preempt_include=[__file__])
    assert _usercode.is_user_code(__file__)
    assert not _usercode.is_user_code(os.path.join(here, "conftest.py"))
    assert igogo.configure()["preempt_include"] == [__file__]
    # igogo itself stays out whatever the rules say.
    igogo.configure(preempt_include=["igogo"])
    assert not _usercode.is_user_code(_preempt.__file__)
    igogo.configure(preempt_include=[], preempt_exclude=[])
    assert _usercode.is_user_code(__file__)


def test_excluded_code_is_not_split() -> None:
    assert order_of_busy_and_witness(lambda: spin_for(0.1)) == ["witness", "busy"]  # user code
    igogo.configure(preempt_exclude=[__file__])
    assert order_of_busy_and_witness(lambda: spin_for(0.1)) == ["busy", "witness"]


def test_no_trace_and_no_live_preemptible_job_after_the_jobs_end() -> None:
    def work(w: Witness) -> None:
        while until_seen(w):
            pass

    busy_beside_witness(work)
    assert not SCHED.live
    assert _preempt._job is None and _preempt._until == float("inf")


# -- integrations: library packages, functions that only call user code --------------------


@pytest.fixture
def library(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An importable package outside site-packages (user code until registered)."""
    pkg = tmp_path / "igogo_test_library"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "def run(fn):\n"
        "    return fn()\n"
        "\n"
        "def spin(seconds, clock):\n"
        "    end = clock() + seconds\n"
        "    while clock() < end:\n"
        "        pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_usercode, "_libraries", list(_usercode._libraries))
    monkeypatch.setattr(_usercode, "_passthrough", set(_usercode._passthrough))
    monkeypatch.setattr(_usercode, "_verdicts", {})
    import igogo_test_library

    yield igogo_test_library
    sys.modules.pop("igogo_test_library", None)


def test_a_registered_package_is_library_code_and_never_split(library: Any) -> None:
    assert _usercode.is_user_code(library.__file__)  # outside site-packages: user code
    assert order_of_busy_and_witness(lambda: library.spin(0.1, time.monotonic)) == [
        "witness",
        "busy",
    ]
    igogo.lowlevel.register_library("igogo_test_library")
    assert not _usercode.is_user_code(library.__file__)
    assert order_of_busy_and_witness(lambda: library.spin(0.1, time.monotonic)) == [
        "busy",
        "witness",
    ]
    # The user's rules cannot make it user code again.
    igogo.configure(preempt_include=["igogo_test_library"])
    assert not _usercode.is_user_code(library.__file__)


def test_user_code_called_by_a_function_marked_calls_user_code_is_split(library: Any) -> None:
    igogo.lowlevel.register_library("igogo_test_library")

    def spin_here() -> None:
        end = time.monotonic() + 0.1
        while time.monotonic() < end:
            pass

    # Under a library frame, the user's loop waits for the library to return...
    assert order_of_busy_and_witness(lambda: library.run(spin_here)) == ["busy", "witness"]
    # ...unless that frame only calls the user's code.
    assert igogo.lowlevel.calls_user_code(library.run) is library.run

    def work(w: Witness) -> None:
        def loop() -> None:
            while until_seen(w):
                pass

        library.run(loop)

    busy_beside_witness(work)


def test_bad_registrations_are_refused() -> None:
    with pytest.raises(ValueError, match="not an imported package"):
        igogo.lowlevel.register_library("igogo_no_such_package")
    with pytest.raises(ValueError, match="not an imported package"):
        igogo.lowlevel.register_library("json.encoder")  # a module, not a package
    with pytest.raises(TypeError, match="package name"):
        igogo.lowlevel.register_library(json)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Python function"):
        igogo.lowlevel.calls_user_code(len)


def test_a_child_that_says_preempt_false_stays_cooperative() -> None:
    @igogo.job(preempt=False)
    def child() -> None:
        pass

    @igogo.job(preempt=True)
    def parent() -> bool:
        c = child()
        return c.preemptive

    p = parent()
    assert igogo.wait(p, timeout=10)
    assert p.result() is False


def test_a_job_says_whether_it_is_preemptive() -> None:
    @igogo.job(preempt=True)
    def plain() -> None:
        pass

    @igogo.job
    def cooperative() -> None:
        pass

    p, c = plain(), cooperative()
    assert p.preemptive and not c.preemptive
    assert igogo.wait(p, c, timeout=10)


def test_equal_code_compiled_twice_is_preempted_in_each_copy() -> None:
    """The same cell run twice: equal code objects, each needs its own switch points."""
    source = "def spin(w, until_seen):\n    while until_seen(w):\n        pass\n"

    def make() -> Any:
        ns: dict[str, Any] = {}
        exec(compile(source, __file__, "exec"), ns)  # this file: user code
        return ns["spin"]

    first, second = make(), make()
    assert first.__code__ == second.__code__ and first.__code__ is not second.__code__
    for fn in (first, second):
        busy_beside_witness(lambda w, fn=fn: fn(w, until_seen))
