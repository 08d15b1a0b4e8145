"""The :class:`Job`: a running function, used like a future."""

from __future__ import annotations

import contextvars
import itertools
import math
import threading
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeAlias, TypeVar, get_args

from greenlet import GreenletExit, getcurrent

from . import _control
from ._errors import DeadlockError, JobTimeoutError, Stop, StoppedError, without_igogo_frames
from ._hooks import logger
from ._hub import SCHED, now
from ._options import check_number
from ._waiting import park_in, pump

if TYPE_CHECKING:
    from greenlet import greenlet

    from ._hub import Timer
    from ._options import JobOptions
    from ._record import JobRecord

__all__ = ["STATES", "Job", "JobState", "Outcome", "current_job"]

T = TypeVar("T")

JobState: TypeAlias = Literal[
    "pending",
    "running",
    "sleeping",
    "waiting",
    "paused",
    "done",
    "failed",
    "stopped",
    "timed out",
]
"""What ``Job.state`` can be."""
Outcome: TypeAlias = Literal["done", "failed", "stopped", "timed out"]
"""How a job ended."""
STATES: Final[tuple[JobState, ...]] = get_args(JobState)
_ids = itertools.count(1)


def current_job() -> Job[Any] | None:
    """The job whose code is running now, or None in regular code."""
    job = SCHED.current
    if job is not None and job._greenlet is getcurrent():
        return job
    return None


_EVENT_LOCK: Final = threading.Lock()
"""Makes a job's ``_finished`` event once, whichever threads wait for it first."""


class Job(Generic[T]):
    """One run of a function as a cooperative job.

    It behaves like a future: :meth:`result`, :meth:`exception`, :meth:`done`,
    :meth:`add_done_callback`, and ``await job`` in asyncio code.  It can be
    stopped, paused and resumed from anywhere, including from other jobs.
    ``state`` is one of :data:`STATES`; ``origin`` tells where it was started
    (a cell number in a notebook).
    """

    def __init__(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: JobOptions,
    ) -> None:
        self.id: int = next(_ids)
        self.name: str = options.name or getattr(fn, "__name__", None) or f"job-{self.id}"
        self.options = options
        self.origin: object = None
        """Where the job was started: the cell number in a notebook, else None."""
        self.function = fn
        self.started_at = time.time()
        self.ended_at: float | None = None
        self.host_data: dict[str, Any] = {}
        """Free space for hosts and integrations, keyed by their package name."""
        self.output_source: Callable[[], str] | None = None
        """Set by a host that keeps the job's output: returns it for :attr:`output`."""
        self._args: tuple[Any, ...] | None = args
        self._kwargs: dict[str, Any] | None = kwargs
        self._context = contextvars.copy_context()
        self._greenlet: greenlet | None = None
        self._state: JobState = "pending"
        self._outcome: Outcome | None = None
        self._result: Any = None
        self._exception: BaseException | None = None
        self._stop_reason: str | None = None
        self._send_value: Any = None
        self._send_exc: BaseException | None = None
        self._cancel: Callable[[], object] | None = None
        # Pausing is two flags.  `_paused` is the request (pause() was called and
        # resume() not yet): the job may still be running or ready, and stops at its
        # next switch point.  `_held` says it has got there: it sits parked in no
        # queue, and resume() must wake it (with the value or exception it was to
        # resume with, kept in _send_value / _send_exc).
        self._paused = False
        self._held = False
        self._timeout_timer: Timer | None = None
        self._waiters: list[Job[Any]] = []
        self._callbacks: list[tuple[Callable[[Job[T]], object], contextvars.Context]] = []
        self._finished: threading.Event | None = None
        """Set once the job has fully ended; made only when another thread waits (it costs
        about 2.5 KiB, a quarter of a sleeping job)."""
        self._ended = False
        """The job has fully ended (set by the hub before it sets ``_finished``)."""
        self._loop: Any = None  # the event loop this job runs itself, if any (asyncio.run)
        self._preempt = False
        """Set when the job starts if its loops may be switched out (see :mod:`igogo._preempt`)."""
        self._retrieved = False
        """Its exception was handed to code (``result()``, ``exception()``): a script's
        host then leaves it to that code to show (``Host.report_failure``)."""
        self._retrieving = 0
        """Callers waiting in ``result()`` or ``exception()``: they will take its exception."""
        self.record: JobRecord | None = None
        """Set when the job ends: what tables and rows keep of it (see :class:`JobRecord`)."""

    # -- inside the greenlet -----------------------------------------------------------

    def _run(self, _: object = None) -> None:
        fn, args, kwargs = self.function, self._args or (), self._kwargs or {}
        self._args = self._kwargs = None
        try:
            result = fn(*args, **kwargs)
        except Stop as e:
            self._set_outcome(e)
        except GreenletExit as e:
            # igogo stops jobs with Stop, never GreenletExit: this one was raised by the
            # job's own code (or by greenlet, collecting an abandoned job).  It is kept,
            # as any exception, and passed on, as greenlet expects.
            self._set_outcome(Stop() if self._stop_reason is not None else e)
            raise
        except BaseException as e:  # kept on the job and reported, never lost
            e.__traceback__ = without_igogo_frames(e.__traceback__)
            self._set_outcome(e)
        else:
            if self._stop_reason is not None:
                self._set_outcome(Stop(self._stop_reason))
            else:
                self._result = result
                self._set_outcome(None)

    def _set_outcome(self, exc: BaseException | None) -> None:
        if exc is None:
            self._outcome = "done"
        elif isinstance(exc, Stop):
            reason = self._stop_reason or exc.reason
            self._outcome = "timed out" if reason == "timed out" else "stopped"
        else:
            self._outcome = "failed"
            self._exception = exc
        self._state = self._outcome
        self.ended_at = time.time()

    # -- state -------------------------------------------------------------------------

    @property
    def state(self) -> JobState:
        """pending, running, sleeping, waiting, paused, done, failed, stopped or timed out."""
        if self._outcome is None and self._paused:
            return "paused"
        return self._state

    @property
    def preemptive(self) -> bool:
        """Whether the job's own loops are switched out when its time slice is over.

        False for a cooperative job, and for a preemptible one that could not be
        (a debugger or a profiler holds the interpreter's hooks: igogo warned
        why, once) or has not started yet.
        """
        return self._preempt

    @property
    def elapsed(self) -> float:
        """Seconds since the job started, up to its end."""
        return (self.ended_at or time.time()) - self.started_at

    @property
    def output(self) -> str:
        """The last lines the job printed (stdout and stderr, in order), as its host keeps them.

        In a Jupyter kernel (igogo-jupyter) that is a bounded tail of the last 200
        lines, kept in the kernel also after the job ends.  Where nothing keeps a
        job's output (a script prints straight to the terminal) this is ``""``.
        Hosts provide it by setting :attr:`output_source`.
        """
        source = self.output_source
        return "" if source is None else source()

    def done(self) -> bool:
        """Whether the job has ended, in any way."""
        return self._outcome is not None

    def stopped(self) -> bool:
        """Whether the job ended by a stop or a timeout."""
        return self._outcome in ("stopped", "timed out")

    # -- control -------------------------------------------------------------------------

    def stop(self) -> bool:
        """Stop the job: :class:`~igogo.Stop` is raised where it waits or at its next yield.

        Returns False if the job had already ended.  Called by the job on itself,
        it raises at once and does not return.
        """
        return _control.stop(self)

    def pause(self) -> None:
        """Hold the job at its next switch point until :meth:`resume`."""
        _control.pause(self)

    def resume(self) -> None:
        """Let a paused job run again."""
        _control.resume(self)

    # -- the future -------------------------------------------------------------------------

    def _wait_in_thread(self, timeout: float | None) -> bool:
        """Block this (not the jobs') thread until the job has fully ended."""
        with _EVENT_LOCK:
            finished = self._finished
            if finished is None:
                finished = self._finished = threading.Event()
        # The hub sets _ended before it looks for the event: either it saw this one and
        # sets it, or it ended before the event existed and _ended tells so now.
        if self._ended:
            return True
        return finished.wait(None if timeout is None else max(timeout, 0.0))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job ends or ``timeout`` seconds pass; returns :meth:`done`.

        Inside a job this parks the caller; in regular code it runs the other
        jobs meanwhile.  ``timeout`` is checked first, as :func:`igogo.wait` does.
        """
        if timeout is not None:  # result() and exception() come here: no call for None
            check_number("timeout", timeout, unit="seconds", none="")
        if self._outcome is not None:
            return True
        deadline = _deadline_after(timeout)
        me = current_job()
        if me is None:
            if not SCHED.on_owner_thread():
                return self._wait_in_thread(timeout)
            return pump(self.done, deadline)
        if me is self:
            raise DeadlockError(f"{self!r} cannot wait for itself; it would never end")
        park_in(self._waiters, deadline)
        return self._outcome is not None

    def result(self, timeout: float | None = None) -> T:
        """The function's return value, waiting up to ``timeout`` seconds for it.

        Raises the job's exception if it failed, :class:`~igogo.StoppedError` if it
        was stopped (:class:`~igogo.JobTimeoutError` if it timed out), and
        ``TimeoutError`` if it is still running after ``timeout``.
        """
        exc = self.exception(timeout)  # waits; raises TimeoutError, StoppedError
        if exc is not None:
            raise exc.with_traceback(without_igogo_frames(exc.__traceback__))
        return self._result  # type: ignore[no-any-return]

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The exception the job failed with, or None if it returned normally."""
        self._retrieving += 1
        try:
            done = self.wait(timeout)
        finally:
            self._retrieving -= 1
        if not done:
            raise TimeoutError(f"{self!r} is still {self.state} after {timeout} s")
        if self._outcome == "timed out":
            raise JobTimeoutError(
                f"{self!r} was stopped after its timeout of {self.options.timeout} s"
            )
        if self._outcome == "stopped":
            raise StoppedError(f"{self!r} was stopped, so it has no result")
        self._retrieved = True
        return self._exception

    def add_done_callback(self, fn: Callable[[Job[T]], object]) -> None:
        """Call ``fn(job)`` on the scheduler's thread when the job ends (now if it has).

        The callback runs in the context of the code that registered it (a copy
        taken now), as asyncio's do: what it prints, and the jobs it starts,
        belong to the cell that registered it, not to whichever cell ran last.
        An exception it raises is logged and never reaches the job or the caller.
        """
        entry = (fn, contextvars.copy_context())
        if self._outcome is None:
            self._callbacks.append(entry)
            return
        self._call_back(entry)

    def _call_back(self, entry: tuple[Callable[[Job[T]], object], contextvars.Context]) -> None:
        fn, context = entry
        context.run(self._call_logged, fn)  # its error, too, shows where it was registered

    def _call_logged(self, fn: Callable[[Job[T]], object]) -> None:
        try:
            fn(self)
        except Exception:
            logger.exception("done callback %r of %r raised", fn, self)

    def run_in_context(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn(*args)`` in the job's context (the one copied where it started).

        For hosts and integrations acting for the job from outside its greenlet,
        for example to send output on behalf of a job that has ended.
        """
        return self._context.run(fn, *args)

    def __await__(self) -> Generator[Any, None, T]:
        if self._outcome is None:
            import asyncio

            from ._hosts import drive_from_loop

            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()

            def done(_: Job[T]) -> None:
                loop.call_soon_threadsafe(_resolve, fut)

            if SCHED.on_owner_thread():
                self.add_done_callback(done)
                drive_from_loop(loop)
            else:
                SCHED.call_soon_threadsafe(self.add_done_callback, done)
            yield from fut
        return self.result()

    def __repr__(self) -> str:
        where = "" if self.origin is None else f" from {self.origin}"
        return f"<igogo.Job #{self.id} {self.name!r}{where} {self.state}>"


def _resolve(fut: Any) -> None:
    if not fut.done():
        fut.set_result(None)


def _deadline_after(timeout: float | None) -> float:
    """The scheduler's time ``timeout`` seconds from now (``timeout`` already checked)."""
    return math.inf if timeout is None else now() + timeout
