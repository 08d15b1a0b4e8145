"""Job: the future API, its states, stopping in every state, timeouts and exceptions."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED
from igogo._record import JobRecord
from igogo.testing import MockClock

# -- the future API ----------------------------------------------------------------------------


def test_result_returns_the_value_and_done_tells_the_end(autojump_clock: MockClock) -> None:
    @igogo.job
    def add(a: int, b: int = 0) -> int:
        igogo.sleep(0.01)
        return a + b

    j = add(2, b=3)
    assert isinstance(j, igogo.Job)
    assert not j.done()
    assert j.result(timeout=10) == 5
    assert autojump_clock.now() == 0.01
    assert j.done()
    assert not j.stopped()
    assert j.exception() is None
    assert j.state == "done"


def test_an_exception_is_kept_on_the_job_and_raised_by_result(
    capsys: pytest.CaptureFixture[str], autojump_clock: MockClock
) -> None:
    error = ValueError("boom")

    @igogo.job
    def fail() -> None:
        igogo.sleep(0.01)
        raise error

    j = fail()
    assert igogo.wait(j, timeout=10)
    assert j.state == "failed"
    assert j.exception() is error
    with pytest.raises(ValueError, match="boom") as info:
        j.result()
    assert info.value is error
    assert j.exception() is error  # still there after being raised
    err = capsys.readouterr().err
    assert "failed" in err
    assert "ValueError: boom" in err  # the host reported it


def test_a_base_exception_in_a_job_is_kept_too() -> None:
    @igogo.job
    def leave() -> None:
        raise SystemExit(3)

    j = leave()
    assert igogo.wait(j, timeout=10)
    assert j.state == "failed"
    assert isinstance(j.exception(), SystemExit)


def test_result_with_a_timeout_raises_timeout_error_and_the_job_goes_on(
    autojump_clock: MockClock,
) -> None:
    @igogo.job
    def slow() -> str:
        igogo.sleep(1)
        return "late"

    j = slow()
    with pytest.raises(TimeoutError, match=r"still sleeping after 0\.25 s"):
        j.result(timeout=0.25)
    assert autojump_clock.now() == 0.25
    with pytest.raises(TimeoutError):
        j.exception(timeout=0.5)
    assert autojump_clock.now() == 0.75
    assert not j.done()
    assert j.result(timeout=10) == "late"
    assert autojump_clock.now() == 1


def test_done_callbacks_run_once_with_the_job_after_it_ends(autojump_clock: MockClock) -> None:
    seen: list[tuple[str, str]] = []

    @igogo.job
    def work() -> int:
        igogo.sleep(0.01)
        return 1

    j = work()
    j.add_done_callback(lambda job: seen.append(("first", job.state)))
    j.add_done_callback(lambda job: seen.append(("second", job.state)))
    assert seen == []
    j.result(timeout=10)
    assert seen == [("first", "done"), ("second", "done")]
    j.add_done_callback(lambda job: seen.append(("after", job.state)))  # ended: called now
    assert seen[-1] == ("after", "done")
    assert len(seen) == 3


def test_done_callbacks_run_for_stopped_jobs(autojump_clock: MockClock) -> None:
    seen: list[str] = []
    j = igogo.job(lambda: igogo.sleep(60))()
    j.add_done_callback(lambda job: seen.append(job.state))
    igogo.sleep(0.01)
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert seen == ["stopped"]


def test_a_done_callback_that_raises_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def bad(job: igogo.Job[Any]) -> None:
        raise RuntimeError("callback broke")

    j = igogo.job(lambda: 7)()
    j.add_done_callback(bad)
    j.add_done_callback(lambda job: seen.append("next"))
    with caplog.at_level(logging.ERROR, logger="igogo"):
        assert j.result(timeout=10) == 7
        j.add_done_callback(bad)  # already ended: called at once, still not raised
    assert seen == ["next"]
    records = [r for r in caplog.records if r.name == "igogo"]
    assert len(records) == 2
    for r in records:
        assert r.levelno == logging.ERROR
        assert "done callback" in r.getMessage()
        assert r.exc_info is not None
        assert isinstance(r.exc_info[1], RuntimeError)


def test_ids_increase_and_names_default_to_the_function_name() -> None:
    @igogo.job
    def worker() -> None:
        pass

    named = igogo.job(name="custom")(lambda: None)
    a, b, c = worker(), worker(), named()
    assert a.id < b.id < c.id
    assert (a.name, c.name) == ("worker", "custom")
    assert a.origin is None  # no display host here
    assert repr(a) == f"<igogo.Job #{a.id} 'worker' pending>"
    assert igogo.wait(a, b, c, timeout=10)
    assert repr(a) == f"<igogo.Job #{a.id} 'worker' done>"
    assert a.elapsed >= 0


def test_a_job_runs_in_a_copy_of_the_context_it_was_started_in() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    token = var.set("starter")
    try:

        @igogo.job
        def read_and_write() -> str:
            seen = var.get()
            var.set("job")
            igogo.sleep(0)
            return seen + "/" + var.get()

        j = read_and_write()
        var.set("changed after start")
        assert j.result(timeout=10) == "starter/job"
        assert var.get() == "changed after start"
    finally:
        var.reset(token)


# -- states ---------------------------------------------------------------------------------------


def test_states_through_a_jobs_life(settle: Callable[[], None], autojump_clock: MockClock) -> None:
    event = igogo.Event()
    release = igogo.Event()
    queue: igogo.Queue[int] = igogo.Queue()
    seen: list[str] = []

    @igogo.job
    def other() -> None:
        release.wait()

    @igogo.job
    def life() -> str:
        me = igogo.current_job()
        assert me is not None
        seen.append(me.state)
        igogo.sleep(0.05)
        seen.append("slept")
        event.wait()
        queue.get()
        helper.result()
        return "ok"

    j = life()
    assert j.state == "pending"
    igogo.sleep(0)  # one tick: the job's first step
    assert seen == ["running"]
    assert j.state == "sleeping"
    igogo.sleep(0.05)
    assert seen == ["running", "slept"]
    assert j.state == "waiting"  # on the event
    event.set()
    settle()
    assert j.state == "waiting"  # on the queue
    helper = other()
    queue.put(1)
    settle()
    assert j.state == "waiting"  # on the other job
    j.pause()
    assert j.state == "paused"
    release.set()
    assert helper.result(timeout=5) is None  # the other job ends; the wake-up is held
    igogo.sleep(0.02)
    assert j.state == "paused"
    j.resume()
    assert j.result(timeout=10) == "ok"
    assert j.state == "done"
    assert set(igogo.STATES) == {
        "pending",
        "running",
        "sleeping",
        "waiting",
        "paused",
        "done",
        "failed",
        "stopped",
        "timed out",
    }


def test_end_states_failed_stopped_and_timed_out(autojump_clock: MockClock) -> None:
    failed = igogo.job(lambda: 1 / 0)()
    stopped = igogo.job(lambda: igogo.sleep(60))()
    timed_out = igogo.job(timeout=0.05)(lambda: igogo.sleep(60))()
    igogo.sleep(0.01)
    stopped.stop()
    assert igogo.wait(failed, stopped, timed_out, timeout=5)
    assert [j.state for j in (failed, stopped, timed_out)] == ["failed", "stopped", "timed out"]
    assert autojump_clock.now() == 0.05
    assert [j.stopped() for j in (failed, stopped, timed_out)] == [False, True, True]
    assert all(j.state in igogo.STATES for j in (failed, stopped, timed_out))


# -- stopping -------------------------------------------------------------------------------------


def test_stop_a_pending_job_before_it_ever_ran() -> None:
    ran: list[int] = []
    j = igogo.job(lambda: ran.append(1))()
    assert j.state == "pending"
    assert j.stop() is True
    assert igogo.wait(j, timeout=5)
    assert ran == []
    assert j.state == "stopped"
    assert j.stop() is False  # already ended


def test_stop_a_ready_job_stops_it_at_its_yield() -> None:
    log: list[str] = []

    @igogo.job
    def busy() -> None:
        try:
            while True:
                igogo.yielder()
        finally:
            log.append("finally")

    j = busy()
    # Real time: a busy job never lets a MockClock's time pass, so this sleep would not end.
    igogo.sleep(0.05)  # it ran and sits in the ready queue
    assert j.state == "running"
    assert SCHED.current is None
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert j.state == "stopped"
    assert log == ["finally"]


def test_stop_a_sleeping_job_wakes_it_at_once(autojump_clock: MockClock) -> None:
    log: list[str] = []

    @igogo.job
    def nap() -> None:
        try:
            igogo.sleep(30)
            log.append("slept")
        finally:
            log.append("finally")

    j = nap()
    igogo.sleep(0.01)
    assert j.state == "sleeping"
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert autojump_clock.now() == 0.01  # at once: not at its 30 s
    assert j.state == "stopped"
    assert log == ["finally"]


def test_stop_a_job_waiting_on_a_queue_event_or_job(
    settle: Callable[[], None], autojump_clock: MockClock
) -> None:
    queue: igogo.Queue[int] = igogo.Queue()
    event = igogo.Event()
    target = igogo.job(lambda: igogo.sleep(30))()
    waiters = [
        igogo.job(name="on queue")(queue.get)(),
        igogo.job(name="on event")(event.wait)(),
        igogo.job(name="on job")(target.result)(),
    ]
    settle()
    assert [w.state for w in waiters] == ["waiting"] * 3
    for w in waiters:
        w.stop()
    assert igogo.wait(*waiters, timeout=5)
    assert autojump_clock.now() == 0  # at once: no wait took any time
    assert [w.state for w in waiters] == ["stopped"] * 3
    # They left the lists they waited in.
    assert queue._getters == []
    assert event._waiters == []
    assert target._waiters == []
    assert target.state == "sleeping"
    target.stop()
    assert igogo.wait(target, timeout=5)


def test_stop_a_paused_job(settle: Callable[[], None], autojump_clock: MockClock) -> None:
    ran: list[str] = []
    pending = igogo.job(lambda: ran.append("pending ran"))()
    pending.pause()
    sleeper = igogo.job(lambda: igogo.sleep(0.05) or ran.append("sleeper woke"))()
    settle()  # the sleeper sleeps; the pending job is held
    assert sleeper.state == "sleeping"
    sleeper.pause()
    igogo.sleep(0.15)  # the sleeper's timer fires; its wake-up is held
    assert (pending.state, sleeper.state) == ("paused", "paused")
    assert ran == []
    pending.stop()
    sleeper.stop()
    assert igogo.wait(pending, sleeper, timeout=5)
    assert (pending.state, sleeper.state) == ("stopped", "stopped")
    assert ran == []


def test_finally_blocks_and_context_managers_run_on_stop(autojump_clock: MockClock) -> None:
    log: list[object] = []

    @contextlib.contextmanager
    def resource() -> Iterator[None]:
        log.append("enter")
        try:
            yield
        except BaseException as e:
            log.append(type(e).__name__)
            raise
        finally:
            log.append("exit")

    @igogo.job
    def holder() -> None:
        try:
            with resource():
                igogo.sleep(30)
        finally:
            log.append("finally")

    j = holder()
    igogo.sleep(0.01)
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert log == ["enter", "Stop", "exit", "finally"]
    assert j.state == "stopped"


@pytest.mark.parametrize("switch", ["sleep", "yielder", "wait"])
def test_a_job_that_catches_stop_is_stopped_at_its_next_switch_point(
    switch: str, autojump_clock: MockClock
) -> None:
    log: list[str] = []
    event = igogo.Event()

    @igogo.job
    def stubborn() -> None:
        try:
            igogo.sleep(30)
        except igogo.Stop:
            log.append("caught")
        log.append("carried on")
        if switch == "sleep":
            igogo.sleep(0.01)
        elif switch == "yielder":
            for _ in range(10_000_000):
                igogo.yielder()
        else:
            event.wait()
        log.append("never")

    j = stubborn()
    igogo.sleep(0.01)
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert autojump_clock.now() == 0.01  # stopped at once: no time passed after the stop
    assert log == ["caught", "carried on"]
    assert j.state == "stopped"


def test_a_job_that_catches_stop_and_returns_is_still_stopped(autojump_clock: MockClock) -> None:
    @igogo.job
    def sneaky() -> str:
        with contextlib.suppress(igogo.Stop):
            igogo.sleep(30)
        return "ignored the stop"

    j = sneaky()
    igogo.sleep(0.01)
    j.stop()
    assert igogo.wait(j, timeout=5)
    assert j.state == "stopped"
    with pytest.raises(igogo.StoppedError):
        j.result()


@pytest.mark.parametrize("how", ["igogo.stop", "job.stop"])
def test_a_job_stopping_itself(how: str) -> None:
    log: list[str] = []

    @igogo.job
    def quitter() -> None:
        try:
            log.append("before")
            if how == "igogo.stop":
                igogo.stop()
            else:
                me = igogo.current_job()
                assert me is not None
                me.stop()
            log.append("after")
        finally:
            log.append("finally")

    j = quitter()
    assert igogo.wait(j, timeout=5)
    assert log == ["before", "finally"]
    assert j.state == "stopped"


def test_a_job_waiting_on_itself_gets_deadlock_error() -> None:
    @igogo.job
    def selfish() -> str:
        me = igogo.current_job()
        assert me is not None
        try:
            me.result()
        except igogo.DeadlockError as e:
            return str(e)
        return "no error"

    message = selfish().result(timeout=5)
    assert "cannot wait for itself" in message

    @igogo.job
    def selfish_wait() -> None:
        me = igogo.current_job()
        assert me is not None
        igogo.wait(me)

    j = selfish_wait()
    assert igogo.wait(j, timeout=5)
    assert j.state == "failed"
    assert isinstance(j.exception(), igogo.DeadlockError)
    assert isinstance(j.exception(), RuntimeError)


def test_result_of_a_stopped_job_raises_stopped_error(autojump_clock: MockClock) -> None:
    j = igogo.job(lambda: igogo.sleep(30))()
    igogo.sleep(0.01)
    j.stop()
    with pytest.raises(igogo.StoppedError, match="was stopped, so it has no result"):
        j.result(timeout=5)
    with pytest.raises(igogo.StoppedError) as info:
        j.exception()
    assert not isinstance(info.value, igogo.JobTimeoutError)


def test_a_timeout_stops_the_job_and_result_raises_job_timeout_error(
    autojump_clock: MockClock,
) -> None:
    log: list[str] = []

    @igogo.job(timeout=0.1)
    def forever() -> None:
        try:
            while True:
                igogo.sleep(0.01)
        finally:
            log.append("finally")

    j = forever()
    with pytest.raises(igogo.JobTimeoutError, match=r"after its timeout of 0\.1 s"):
        j.result(timeout=5)
    assert autojump_clock.now() == 0.1
    assert j.state == "timed out"
    assert log == ["finally"]
    with pytest.raises(igogo.StoppedError):  # a timeout is a kind of stop
        j.result()


def test_a_timeout_stops_a_busy_job_at_its_next_yield() -> None:
    """Real time: under a mock clock no time passes while a job is busy."""

    @igogo.job(timeout=0.05)
    def busy() -> None:
        while True:
            igogo.yielder()

    j = busy()
    assert igogo.wait(j, timeout=5)
    assert j.state == "timed out"


def test_a_job_that_ends_before_its_timeout_is_done(autojump_clock: MockClock) -> None:
    j = igogo.job(timeout=0.2)(lambda: "quick")()
    assert j.result(timeout=5) == "quick"
    igogo.sleep(0.3)
    assert j.state == "done"
    assert j._timeout_timer is None


# -- pause and resume -----------------------------------------------------------------------------


def test_a_paused_job_does_not_run_until_resumed(autojump_clock: MockClock) -> None:
    count = [0]
    running = [True]

    @igogo.job
    def counter() -> None:
        while running[0]:
            count[0] += 1
            igogo.sleep(1 / 64)

    j = counter()
    igogo.sleep(0.25)
    assert count[0] == 17  # at 0, 1/64, ..., 16/64
    j.pause()  # takes effect at once: regular code only runs between the job's steps
    igogo.sleep(0.5)
    assert count[0] == 17
    assert j.state == "paused"
    j.resume()  # its held wake-up: it runs at once, then every 1/64 s again
    igogo.sleep(0.25)
    assert count[0] == 17 + 1 + 16
    running[0] = False
    j.result(timeout=5)


def test_a_job_can_pause_itself_until_resumed_from_outside(autojump_clock: MockClock) -> None:
    log: list[str] = []

    @igogo.job
    def shy() -> str:
        log.append("before")
        me = igogo.current_job()
        assert me is not None
        me.pause()
        log.append("after")
        return "resumed"

    j = shy()
    igogo.sleep(0.05)
    assert log == ["before"]
    assert j.state == "paused"
    j.resume()
    assert j.result(timeout=5) == "resumed"
    assert log == ["before", "after"]


def test_pause_and_resume_a_pending_job(autojump_clock: MockClock) -> None:
    j = igogo.job(lambda: "ran")()
    j.pause()
    assert j.state == "paused"
    igogo.sleep(0.05)
    assert j.state == "paused"
    j.resume()
    assert j.state == "pending"
    assert j.result(timeout=5) == "ran"


def test_a_done_callback_runs_in_the_context_that_registered_it(
    autojump_clock: MockClock,
) -> None:
    """As asyncio's do: what it prints, and the jobs it starts, belong to where it was added."""
    import contextvars

    cell: contextvars.ContextVar[str] = contextvars.ContextVar("cell", default="none")
    seen: list[str] = []

    @igogo.job
    def quick() -> None:
        igogo.sleep(0.01)

    j = quick()
    token = cell.set("cell 7")
    try:
        j.add_done_callback(lambda j: seen.append(cell.get()))
    finally:
        cell.reset(token)
    cell.set("cell 8")  # the cell that runs when the job ends
    j.wait(timeout=5)
    assert seen == ["cell 7"]
    j.add_done_callback(lambda j: seen.append(cell.get()))  # after the end: called at once
    assert seen == ["cell 7", "cell 8"]


class _Big:
    """Stands for a large array in a job's local."""


@pytest.mark.parametrize("ending", ["failed", "done", "stopped"])
def test_what_igogo_keeps_of_a_finished_job_pins_no_frames_or_results(
    ending: str, autojump_clock: MockClock
) -> None:
    """The history and the job table keep a record; only the user's Job keeps the rest."""
    import gc
    import weakref

    refs: list[weakref.ref[_Big]] = []

    @igogo.job
    def work() -> _Big:
        big = _Big()
        refs.append(weakref.ref(big))
        if ending == "failed":
            raise ValueError("with a big local")
        if ending == "stopped":
            igogo.sleep(60)
        return big

    j = work()
    igogo.sleep(0.01)
    if ending == "stopped":
        j.stop()
    j.wait(timeout=5)
    assert j.state == ending
    if ending != "stopped":  # a stopped job keeps neither a result nor an exception
        assert refs[0]() is not None  # the Job the user holds keeps its result or frames
    listed = igogo.jobs()
    assert listed[-1] is j
    del j, listed
    gc.collect()
    assert refs[0]() is None, gc.get_referrers(refs[0]())
    record = igogo.jobs()[-1]
    assert isinstance(record, JobRecord) and record.state == ending
    assert record.done() and (ending != "failed" or record.error == "ValueError: with a big local")
    assert "work" in repr(igogo.jobs()) and ending in repr(igogo.jobs())
