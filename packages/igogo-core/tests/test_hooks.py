"""Hooks: the four events, in order; a hook that raises is disabled and logged, nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED
from igogo.testing import MockClock


class Log:
    """A hook that records every event with the job's name."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def job_started(self, job: igogo.Job[Any]) -> None:
        self.events.append(("job_started", job.name))

    def switched_in(self, job: igogo.Job[Any]) -> None:
        self.events.append(("switched_in", job.name))

    def switched_out(self, job: igogo.Job[Any]) -> None:
        self.events.append(("switched_out", job.name))

    def job_finished(self, job: igogo.Job[Any]) -> None:
        self.events.append(("job_finished", job.name))


def test_the_four_events_fire_in_order(
    hook: Callable[[object], object], autojump_clock: MockClock
) -> None:
    log = Log()
    hook(log)

    @igogo.job(name="napper")
    def napper() -> None:
        igogo.sleep(0.01)

    napper().result(timeout=5)
    assert log.events == [
        ("job_started", "napper"),
        ("switched_in", "napper"),
        ("switched_out", "napper"),  # parked in sleep
        ("switched_in", "napper"),
        ("switched_out", "napper"),
        ("job_finished", "napper"),
    ]


def test_a_job_stopped_before_it_ran_starts_and_finishes_without_switching(
    hook: Callable[[object], object],
) -> None:
    log = Log()
    hook(log)
    j = igogo.job(name="never")(lambda: None)()
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert log.events == [("job_started", "never"), ("job_finished", "never")]


def test_hooks_run_in_the_hub_not_in_the_job(hook: Callable[[object], object]) -> None:
    seen: list[object] = []

    class Probe:
        def switched_in(self, job: igogo.Job[Any]) -> None:
            seen.append(igogo.current_job())

        def job_finished(self, job: igogo.Job[Any]) -> None:
            seen.append(job.state)

    hook(Probe())
    igogo.job(lambda: None)().result(timeout=5)
    assert seen == [None, "done"]


def test_a_hook_may_define_only_some_events(hook: Callable[[object], object]) -> None:
    finished: list[str] = []

    class OnlyFinished:
        def job_finished(self, job: igogo.Job[Any]) -> None:
            finished.append(job.name)

    hook(OnlyFinished())
    igogo.job(name="one")(lambda: None)().result(timeout=5)
    assert finished == ["one"]


@pytest.mark.parametrize("event", ["job_started", "switched_in", "switched_out", "job_finished"])
def test_a_hook_that_raises_is_disabled_and_logged_while_the_job_and_others_go_on(
    event: str, hook: Callable[[object], object], caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    class Broken(Log):
        pass

    def explode(self: Broken, job: igogo.Job[Any]) -> None:
        calls.append(event)
        raise RuntimeError(f"{event} broke")

    explode.__name__ = event
    setattr(Broken, event, explode)
    before, broken, after = Log(), Broken(), Log()
    for h in (before, broken, after):
        hook(h)

    @igogo.job(name="worker")
    def worker() -> str:
        for _ in range(3):
            igogo.sleep(0)
        return "finished"

    with caplog.at_level(logging.ERROR, logger="igogo"):
        j = worker()
        assert j.result(timeout=5) == "finished"
        second = worker()
        assert second.result(timeout=5) == "finished"

    assert calls == [event]  # disabled after its first failure
    assert all(h is not broken for h in SCHED.hooks.hooks)
    assert not igogo.remove_hook(broken)
    # The other hooks saw every event of both jobs.
    expected = (
        [("job_started", "worker")]
        + [("switched_in", "worker"), ("switched_out", "worker")] * 4
        + [("job_finished", "worker")]
    ) * 2
    assert before.events == expected
    assert after.events == expected
    records = [r for r in caplog.records if r.name == "igogo"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR
    assert "disabled" in record.getMessage()
    assert event in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == f"{event} broke"


def test_add_and_remove_hooks() -> None:
    log = Log()
    igogo.add_hook(log)
    igogo.add_hook(log)  # once only
    try:
        assert sum(1 for h in SCHED.hooks.hooks if h is log) == 1
        igogo.job(name="a")(lambda: None)().result(timeout=5)
        assert log.events.count(("job_started", "a")) == 1
    finally:
        assert igogo.remove_hook(log) is True
    assert igogo.remove_hook(log) is False
    igogo.job(name="b")(lambda: None)().result(timeout=5)
    assert all(name != "b" for _, name in log.events)


def test_an_object_with_no_event_is_not_a_hook() -> None:
    with pytest.raises(TypeError, match="is not a hook: it defines none of job_started"):
        igogo.add_hook(object())


def test_a_hook_may_take_over_showing_some_objects(
    hook: Callable[[object], object], capsys: pytest.CaptureFixture[str]
) -> None:
    taken: list[tuple[str, object]] = []

    class Taker:
        def take_display(self, job: igogo.Job[Any], obj: object) -> bool:
            if isinstance(obj, int):
                taken.append((job.name, obj))
                return True
            return False

    hook(Taker())

    @igogo.job(name="shower")
    def shower() -> None:
        igogo.display(1, "two", 3)
        igogo.display(5)  # all taken: the host is not called

    shower().result(timeout=5)
    igogo.display(4)  # regular code: nothing is offered to hooks
    assert taken == [("shower", 1), ("shower", 3), ("shower", 5)]
    out = capsys.readouterr().out
    assert "two" in out and "4" in out
    assert not any(str(n) in out for n in (1, 3, 5))


def test_a_hook_whose_take_display_raises_is_disabled_and_the_object_shown(
    hook: Callable[[object], object],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def take_display(self, job: igogo.Job[Any], obj: object) -> bool:
            raise RuntimeError("take_display broke")

    broken = Broken()
    hook(broken)
    with caplog.at_level(logging.ERROR, logger="igogo"):
        igogo.job(name="shows")(lambda: igogo.display("shown anyway"))().result(timeout=5)
    assert "shown anyway" in capsys.readouterr().out
    assert all(h is not broken for h in SCHED.hooks.hooks)
    (record,) = [r for r in caplog.records if r.name == "igogo"]
    assert "disabled" in record.getMessage() and "take_display" in record.getMessage()
