"""igogo.testing.MockClock: virtual time for the scheduler, and the real clock back after."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import pytest

import igogo
from igogo import _hub, _timers
from igogo._hub import SCHED
from igogo.testing import MockClock


def test_time_moves_only_when_told() -> None:
    with MockClock() as clock:
        assert clock.now() == 0.0 == _hub.now()
        clock.jump(1.5)
        assert clock.now() == 1.5 == _hub.now()
        clock.jump(0)
        assert clock.now() == 1.5
    assert MockClock(start=100).now() == 100.0


def test_leaving_the_block_restores_the_real_clock_exactly() -> None:
    with MockClock():
        assert _hub._clock is not time.monotonic
    assert _hub._clock is time.monotonic
    assert SCHED.clock is _timers.REAL_CLOCK
    assert abs(_hub.now() - time.monotonic()) < 1.0


def test_the_real_clock_comes_back_after_an_exception_too() -> None:
    with pytest.raises(ZeroDivisionError), MockClock():
        1 / 0  # noqa: B018
    assert _hub._clock is time.monotonic


def test_jump_wakes_a_sleeper_at_its_next_switch_point(
    mock_clock: MockClock, settle: Callable[[], None]
) -> None:
    woke: list[float] = []
    sleeper = igogo.job(lambda: igogo.sleep(10) or woke.append(mock_clock.now()))()
    settle()
    mock_clock.jump(9.5)
    settle()
    assert woke == [] and sleeper.state == "sleeping"
    mock_clock.jump(0.5)
    assert sleeper.wait(timeout=0)  # due: the wait fires it, taking no virtual time
    assert woke == [10.0]


def test_a_job_that_jumps_lets_the_sleepers_it_made_due_run_next(mock_clock: MockClock) -> None:
    order: list[str] = []

    @igogo.job
    def sleeper() -> None:
        igogo.sleep(5)
        order.append("sleeper")

    @igogo.job
    def jumper() -> None:
        igogo.sleep(0)  # the sleeper has parked
        mock_clock.jump(5)
        igogo.sleep(0)
        order.append("jumper")

    s, j = sleeper(), jumper()
    assert igogo.wait(s, j, timeout=0)
    assert order == ["sleeper", "jumper"]


def test_autojump_goes_straight_to_each_timer(autojump_clock: MockClock) -> None:
    seen: list[tuple[str, float]] = []

    def nap(name: str, seconds: float) -> None:
        igogo.sleep(seconds)
        seen.append((name, autojump_clock.now()))

    jobs = [igogo.job(nap)(n, s) for n, s in [("c", 3600), ("a", 0.25), ("b", 60)]]
    t = time.monotonic()
    assert igogo.wait(*jobs)
    assert time.monotonic() - t < 1.0  # an hour of virtual time
    assert seen == [("a", 0.25), ("b", 60), ("c", 3600)]
    assert autojump_clock.now() == 3600


def test_autojump_in_regular_code_sleeping_with_no_job(autojump_clock: MockClock) -> None:
    igogo.sleep(30)
    assert autojump_clock.now() == 30
    igogo.sleep(0)
    assert autojump_clock.now() == 30


def test_a_wait_in_regular_code_ends_at_its_deadline(autojump_clock: MockClock) -> None:
    forever = igogo.job(lambda: igogo.sleep(math.inf))()
    assert forever.wait(timeout=2.5) is False
    assert autojump_clock.now() == 2.5
    forever.stop()
    assert forever.wait(timeout=0)
    assert autojump_clock.now() == 2.5


def test_a_positive_threshold_waits_that_long_in_real_time_first() -> None:
    with MockClock(autojump_threshold=0.05) as clock:
        j = igogo.job(lambda: igogo.sleep(1000))()
        t = time.monotonic()
        assert j.wait(timeout=5) is False  # a virtual timeout: its deadline comes first
        assert clock.now() == 5
        assert j.wait()
        assert 0.1 <= time.monotonic() - t < 2.0  # two idle waits of 0.05 s
        assert clock.now() == 1000


def test_without_autojump_a_jump_from_another_thread_ends_the_wait(mock_clock: MockClock) -> None:
    j = igogo.job(lambda: igogo.sleep(7))()
    igogo.sleep(0)
    threading.Timer(0.05, mock_clock.jump, (7,)).start()
    assert j.wait()  # blocks in real time until the other thread jumps
    assert mock_clock.now() == 7


def test_the_threshold_can_change_while_regular_code_waits(mock_clock: MockClock) -> None:
    j = igogo.job(lambda: igogo.sleep(3))()
    igogo.sleep(0)
    threading.Timer(0.05, setattr, (mock_clock, "autojump_threshold", 0)).start()
    assert j.wait()
    assert mock_clock.now() == 3


def test_job_timeouts_and_timers_are_in_virtual_time(autojump_clock: MockClock) -> None:
    fired: list[float] = []
    SCHED.call_at(42.0, lambda: fired.append(autojump_clock.now()))
    j = igogo.job(timeout=100)(lambda: igogo.sleep(math.inf))()
    assert j.wait()
    assert j.state == "timed out"
    assert fired == [42.0]
    assert autojump_clock.now() == 100


def test_busy_jobs_still_share_the_cpu_in_real_slices(autojump_clock: MockClock) -> None:
    turns: list[str] = []

    def spin(name: str) -> None:
        end = time.monotonic() + 0.1
        while time.monotonic() < end:
            if not turns or turns[-1] != name:
                turns.append(name)
            igogo.yielder()

    assert igogo.wait(igogo.job(spin)("a"), igogo.job(spin)("b"))
    assert len(turns) > 2  # interleaved by real time slices...
    assert autojump_clock.now() == 0  # ...while no virtual time passed


# -- misuse ------------------------------------------------------------------------------------


def test_refused_while_jobs_are_alive() -> None:
    j = igogo.job(lambda: igogo.sleep(60))()
    with pytest.raises(RuntimeError, match=r"while 1 job\(s\) are alive.*wait_all"):
        MockClock().__enter__()
    assert _hub._clock is time.monotonic
    j.stop()
    assert j.wait(timeout=5)


def test_refused_while_a_timer_is_pending() -> None:
    timer = SCHED.call_at(time.monotonic() + 60, lambda: None)
    with pytest.raises(RuntimeError, match="timers are pending"):
        MockClock().__enter__()
    timer.cancel()
    with MockClock():
        pass


def test_timers_already_due_fire_before_the_clock_changes() -> None:
    # A failed job's report is a timer due at once, which a Ctrl-C ending the last tick
    # can leave pending once no job is alive: entering a clock must not be refused for it.
    fired: list[object] = []
    SCHED.call_at(time.monotonic(), lambda: fired.append(SCHED.clock))
    with MockClock():
        assert fired == [_timers.REAL_CLOCK]  # fired first, under the real clock
        assert not SCHED.timers.pending()


def test_one_mock_clock_at_a_time(mock_clock: MockClock) -> None:
    with pytest.raises(RuntimeError, match="one MockClock at a time"):
        MockClock().__enter__()
    with pytest.raises(RuntimeError, match="already igogo's clock"):
        mock_clock.__enter__()
    assert SCHED.clock is mock_clock


def test_refused_inside_a_done_callback() -> None:
    errors: list[str] = []

    def try_it(_: object) -> None:
        try:
            MockClock().__enter__()
        except RuntimeError as e:
            errors.append(str(e))

    j = igogo.job(lambda: None)()
    j.add_done_callback(try_it)
    assert j.wait(timeout=5)
    assert errors == ["cannot change igogo's clock inside a hook, a timer or a done callback"]


def test_leaving_with_jobs_alive_stops_them_and_says_so() -> None:
    cleaned: list[float] = []

    def tidy() -> None:
        try:
            igogo.sleep(math.inf)
        finally:
            cleaned.append(clock.now())  # runs before the real clock is back

    left = r"1 job\(s\) were still alive.*they were stopped"
    with pytest.raises(RuntimeError, match=left), MockClock() as clock:
        j = igogo.job(tidy)()
        igogo.sleep(0)
    assert j.state == "stopped"
    assert cleaned == [0.0]
    assert _hub._clock is time.monotonic


def test_leaving_with_an_exception_and_jobs_alive_keeps_the_exception() -> None:
    with pytest.raises(KeyError), MockClock():
        j = igogo.job(lambda: igogo.sleep(math.inf))()
        raise KeyError("the test's own failure")
    assert j.state == "stopped"
    assert _hub._clock is time.monotonic


def test_exit_without_enter_is_refused() -> None:
    with pytest.raises(RuntimeError, match="never entered"):
        MockClock().__exit__(None, None, None)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: MockClock().jump(-1), "seconds=-1: must be a number of seconds >= 0"),
        (lambda: MockClock().jump(math.inf), "seconds=inf: must be a finite number"),
        (lambda: MockClock().jump(math.nan), "seconds=nan"),
        (lambda: MockClock(autojump_threshold=-1), "autojump_threshold=-1: must be a number"),
        (lambda: MockClock(autojump_threshold="0"), "autojump_threshold='0'"),
        (lambda: MockClock(start=-5), "start=-5: must be a"),
    ],
)
def test_bad_numbers_are_refused_with_the_allowed_form(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call()


def test_repr_tells_the_time_and_the_autojump() -> None:
    assert repr(MockClock()) == "<igogo.testing.MockClock at 0 s, autojump never>"
    assert (
        repr(MockClock(0, start=2.5))
        == "<igogo.testing.MockClock at 2.5 s, autojump after 0 s idle>"
    )


def test_import_igogo_does_not_load_igogo_testing() -> None:
    import subprocess
    import sys

    code = "import sys, igogo; print('igogo.testing' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_leftovers_names_what_igogo_still_holds() -> None:
    from igogo import lowlevel
    from igogo.testing import leftovers

    assert leftovers() == []
    j = igogo.job(lambda: igogo.sleep(60))()
    found = leftovers()
    assert len(found) == 1 and "1 job(s) still alive" in found[0] and repr(j) in found[0]
    j.stop()
    assert j.wait(timeout=5)

    class Stray:
        def job_started(self, job: object) -> None:
            pass

    stray = Stray()
    lowlevel.add_hook(stray)
    try:
        assert stray in lowlevel.hooks()
        assert any("1 hook(s) remain attached" in f and "Stray" in f for f in leftovers())
    finally:
        lowlevel.remove_hook(stray)
    assert stray not in lowlevel.hooks()
    with MockClock():
        assert any("clock is still <igogo.testing.MockClock" in f for f in leftovers())
    assert leftovers() == []
