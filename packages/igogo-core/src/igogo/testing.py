"""Tools for testing code that uses igogo: a virtual clock, and a check for what a test left.

``igogo.testing`` is imported explicitly (``import igogo`` never loads it).

:class:`MockClock` replaces the scheduler's clock while it is in use.  Its time
moves only when told: by :meth:`MockClock.jump`, or, with
``autojump_threshold=0``, by itself each time igogo would otherwise wait for the
next timer.  A test that sleeps for an hour then runs in a millisecond, and
every sleep, timeout and wait ends at an exact virtual time::

    from igogo.testing import MockClock

    def test_timeout():
        with MockClock(autojump_threshold=0) as clock:
            job = igogo.job(timeout=30)(igogo.sleep)(60)
            assert job.wait() and job.state == "timed out"
            assert clock.now() == 30

Everything the scheduler times follows it: ``igogo.sleep``, job timeouts,
``Job.result(timeout=)``/``Job.wait``/``igogo.wait``/``igogo.wait_all``,
``Queue``/``Event`` timeouts, :func:`igogo.lowlevel.call_at` timers, and the
waits of regular code driving the jobs.  What it does not change:

* **Time slices** stay real: a busy job still yields after its real slice
  (``yielder()`` costs the same with or without a mock clock).  Virtual time
  does not pass while jobs run; a busy job therefore never lets a sleeper's
  timer fall due unless someone calls :meth:`~MockClock.jump`.
* **Other threads** wait in real time (``Job.result()`` from a thread, worker
  pools), and ``Job.elapsed`` / ``started_at`` are wall-clock times.
* **Autojump** happens where igogo itself waits: in regular code waiting for
  jobs (``result()``, ``wait()``, ``igogo.sleep()``, ``igogo.run()``, queue and
  event waits).  Under a host's event loop (asyncio, a Jupyter kernel) time
  moves with :meth:`~MockClock.jump` only.

With ``autojump_threshold=0`` the clock also jumps while a worker thread or
process computes a result regular code waits for, if a timer is pending; give
real work in flight a threshold of a few tenths of a second instead.

For pytest, two fixtures (like pytest-trio's): ``mock_clock`` (time moves only
with ``jump()``) and ``autojump_clock`` (``autojump_threshold=0``).  Make them
available in a ``conftest.py``::

    from igogo.testing import autojump_clock, mock_clock  # noqa: F401  (fixtures)

:func:`leftovers` is the check a suite runs after each test: once every job has
ended, igogo must hold nothing for them (igogo's own packages run it in every
kernel their tests use).
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

from ._errors import MisuseError
from ._hub import SCHED, Scheduler, expire_slice
from ._options import check_number
from ._timers import REAL_CLOCK, Clock, set_clock
from ._waiting import pump

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

__all__ = ["MockClock", "leftovers"]


class MockClock(Clock):
    """A virtual clock for igogo's scheduler, used as a context manager.

    ``with MockClock() as clock:`` makes it the scheduler's clock; leaving the
    block puts the real clock back.  Its time starts at ``start`` (0.0) and
    moves only forward, by :meth:`jump` or by autojump.

    ``autojump_threshold`` (seconds of *real* time, default ``inf``: never):
    when regular code waits for jobs and nothing is ready to run for that long,
    the clock jumps straight to the next timer (or to the end of the wait).
    ``0`` jumps at once, which makes timing tests instant and deterministic.

    Entering is refused while jobs are alive or timers are pending (their
    deadlines are in the real clock's time), inside a hook or a done callback,
    and while another :class:`MockClock` is in use.  Jobs still alive when the
    block ends are stopped and run to their end in virtual time; the real clock
    is then restored and a :class:`RuntimeError` names them (unless the block
    is already ending with an exception, which then propagates alone).
    """

    def __init__(self, autojump_threshold: float = math.inf, *, start: float = 0.0) -> None:
        check_number("start", start, finite=True, unit="seconds")
        self._now = float(start)
        self._lock = threading.Lock()
        self._thread: int | None = None
        self.autojump_threshold = autojump_threshold

    # -- time ------------------------------------------------------------------------

    @property
    def autojump_threshold(self) -> float:
        """Real seconds of idleness after which the clock jumps to the next timer.

        ``0``: at once; ``inf``: never (time then moves only with :meth:`jump`).
        It may be changed at any time.
        """
        return self._threshold

    @autojump_threshold.setter
    def autojump_threshold(self, seconds: float) -> None:
        check_number(
            "autojump_threshold", seconds, unit="seconds",
            form="must be a number of real seconds >= 0 (0: at once, inf: never)",
        )  # fmt: skip
        self._threshold = float(seconds)
        SCHED._wakeup.set()  # a waiting pump picks the new threshold up

    def now(self) -> float:
        """The virtual time in seconds."""
        return self._now

    def jump(self, seconds: float) -> None:
        """Move the virtual time forward by ``seconds`` (>= 0, finite); any thread.

        The timers that fall due fire at the next switch point: a job that
        jumps the clock yields at its next ``yielder()``, ``igogo.sleep(0)`` or
        wait, and regular code waiting for jobs looks at them at once.
        """
        check_number("seconds", seconds, finite=True, unit="seconds")
        with self._lock:
            self._now += seconds
        self._poke()

    def _advance_to(self, when: float) -> None:
        with self._lock:
            if when > self._now:
                self._now = when

    def _poke(self) -> None:
        """Make whoever drives the jobs look at the timers again."""
        if SCHED.clock is not self:
            return
        if SCHED.live:
            expire_slice()
        SCHED._wakeup.set()
        host = SCHED.host
        if host is not None:
            host.wake_threadsafe()

    # -- waiting (the Clock protocol: called by the scheduler) -------------------------

    def idle(self, sched: Scheduler, when: float) -> None:
        """Nothing is ready until ``when``: jump there, at once or after the threshold."""
        threshold = self._threshold
        if when == math.inf or threshold == math.inf:
            sched._wakeup.wait()  # only another thread (a hand-over, a jump) can change that
            return
        if threshold > 0 and sched._wakeup.wait(threshold):
            return  # a hand-over or a jump came first: look again
        self._advance_to(when)

    def sleep(self, seconds: float) -> None:
        """``igogo.sleep`` in regular code with no job: virtual on the clock's thread."""
        if threading.get_ident() != self._thread:
            super().sleep(seconds)  # another thread: real time, as for its other waits
            return
        deadline = self._now + seconds
        while self._now < deadline:
            self.idle(SCHED, deadline)
            SCHED._wakeup.clear()

    # -- in use -------------------------------------------------------------------------

    def __enter__(self) -> MockClock:
        current = SCHED.clock
        if current is self:
            raise MisuseError(f"{self!r} is already igogo's clock; enter it once")
        if current is not REAL_CLOCK:
            raise MisuseError(
                f"another clock is igogo's clock ({current!r}); use one MockClock at a time"
            )
        set_clock(SCHED, self)
        self._thread = threading.get_ident()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if SCHED.clock is not self:
            raise MisuseError(f"{self!r} is not igogo's clock; it was never entered")
        left = sorted(SCHED.live.values(), key=lambda j: j.id)
        try:
            if left and SCHED.on_owner_thread() and not SCHED._in_tick:
                for job in left:
                    job.stop()
                threshold, self._threshold = self._threshold, 0.0  # no real waiting now
                try:
                    pump(lambda: not SCHED.live, self._now + 60.0)
                finally:
                    self._threshold = threshold
        finally:
            set_clock(SCHED, None, force=True)
            self._thread = None
        if left and exc is None:
            names = ", ".join(repr(j) for j in left)
            raise MisuseError(
                f"{len(left)} job(s) were still alive when the MockClock was left: {names}; "
                "they were stopped.  Wait for every job inside the block (igogo.wait_all())"
            )

    def __repr__(self) -> str:
        jump = "never" if self._threshold == math.inf else f"after {self._threshold:g} s idle"
        return f"<igogo.testing.MockClock at {self._now:g} s, autojump {jump}>"


def leftovers() -> list[str]:
    """What igogo still holds once no job is alive, as messages (empty: nothing).

    Jobs still alive come first (a suite stops them, then asks again); with none,
    igogo must have let go of its host (a kernel's, a thread's loop) and of every
    hook but the active plugins' (which keep theirs for the next job), and the
    scheduler's clock must be the real one.
    """
    from ._plugins import _active

    if SCHED.live:
        alive = sorted(SCHED.live.values(), key=lambda j: j.id)
        return [f"{len(alive)} job(s) still alive: {', '.join(map(repr, alive))}"]
    found = []
    if SCHED.host is not None:
        found.append(f"no job is left, yet the host {SCHED.host!r} is still attached")
    plugins = {id(p) for p in _active.values()}
    if hooks := [h for h in SCHED.hooks.hooks if id(h) not in plugins]:
        found.append(f"no job is left, yet {len(hooks)} hook(s) remain attached: {hooks!r}")
    if SCHED.clock is not REAL_CLOCK:
        found.append(f"the scheduler's clock is still {SCHED.clock!r}, not the real one")
    return found


try:
    import pytest  # type: ignore[import-not-found,unused-ignore]  # not in the lint env
except ImportError:  # pragma: no cover - MockClock itself needs no pytest
    pass
else:

    @pytest.fixture  # type: ignore[untyped-decorator,unused-ignore]  # (when pytest is untyped)
    def mock_clock() -> Iterator[MockClock]:
        """A :class:`MockClock` in use for one test; time moves only with ``jump()``."""
        with MockClock() as clock:
            yield clock

    @pytest.fixture  # type: ignore[untyped-decorator,unused-ignore]  # (when pytest is untyped)
    def autojump_clock() -> Iterator[MockClock]:
        """A :class:`MockClock` in use for one test that jumps to the next timer when idle."""
        with MockClock(autojump_threshold=0) as clock:
            yield clock

    __all__ += ["autojump_clock", "mock_clock"]
