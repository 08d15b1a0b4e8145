"""Interrupt policy: where a Ctrl-C (SIGINT) lands while jobs run.

This is the one module that decides; the scheduler only asks it to install
its handler around a tick and to put the old one back.

**When igogo takes SIGINT.**  Only over Python's own handler
(``signal.default_int_handler``), for the length of a tick that runs jobs, and
the exact handler found is put back afterwards (unless somebody replaced ours
meanwhile: theirs then stays).  A program that ignores SIGINT (started with
``cmd &``), one whose handler is somebody else's (``asyncio.run`` installs
its own) or one installed from C keeps its handler: igogo never turns an
ignored or otherwise-handled Ctrl-C into a ``KeyboardInterrupt``.  The one
exception is a host that routes interrupts to jobs (``interrupts_to_jobs``):
an idle ipykernel ignores SIGINT between requests, and that host takes it
over ``SIG_IGN`` too, so that an interrupt reaches a job that never yields.

**Where it lands** is decided by the interrupted frame, walking outwards:

* in a job's own code (the walk reaches :meth:`Job._run` first): the job
  holds the CPU;
* in igogo's own machinery (the walk reaches a frame of this package first:
  the tick, a hook igogo calls, a done callback, a timer): never there.  The
  interrupt is *held* and delivered at the next switch point, so no job is
  ever left half switched or half ended;
* anywhere else: in the code that waits (Python's default behaviour).

**Who gets it** depends on who the tick belongs to:

* a host that routes interrupts to jobs (the Jupyter host while the kernel
  is idle): the job that holds the CPU (it has run past its time slice without
  yielding) fails with ``KeyboardInterrupt``; a held one goes to the job that
  was running, at its switch point.  A job taking its ordinary turn within its
  slice does not hold the CPU, nor does anyone between job steps: there the
  idle kernel's ``SIG_IGN`` decides, and nothing happens;
* regular code that waits (a cell in ``job.result()``, a script in
  ``igogo.wait_all()``): the first Ctrl-C is for the waiting code, which gets
  it as soon as the running job reaches a switch point (its slice is ended at
  once), and the job is not harmed.  A job that never yields does not get
  there: the second Ctrl-C is raised inside it, and the waiting code still
  gets the first.  Two interrupts, two intents;
* :func:`igogo.run`, whose Ctrl-C means "stop everything": the running job
  gets it at once and :func:`~igogo.run` stops the others.

The handler never switches greenlets: it raises, or sets flags.  Installing
costs a few microseconds, so it is done once per tick, never per switch.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from types import CodeType, FrameType

    from ._hub import Scheduler
    from ._job import Job

__all__ = ["InterruptGuard", "where"]

_PACKAGE: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep
_job_entry: CodeType | None = None  # Job._run's code, the bottom frame of every job


def where(frame: FrameType | None) -> Literal["job", "igogo", "outside"]:
    """Who was interrupted: a job's own code, igogo's machinery, or other code."""
    global _job_entry
    if _job_entry is None:
        from ._job import Job

        _job_entry = Job._run.__code__
    while frame is not None:
        code = frame.f_code
        if code is _job_entry:
            return "job"
        if code.co_filename.startswith(_PACKAGE):
            return "igogo"
        frame = frame.f_back
    return "outside"


class InterruptGuard:
    """Installs and restores the scheduler's SIGINT handler around ticks."""

    def __init__(self, sched: Scheduler) -> None:
        self.sched = sched
        self.enabled = True
        self.to_caller = True
        self.stop_all = False
        """Set by :func:`igogo.run` while it waits: a Ctrl-C goes to the job at once."""
        self.found: Any = None

    def install(self, to_caller: bool) -> bool:
        """Install over Python's default handler (see the module essay); returns whether it did."""
        if not self.enabled or threading.current_thread() is not threading.main_thread():
            return False
        found = signal.getsignal(signal.SIGINT)
        if found is not _DEFAULT and not (found == signal.SIG_IGN and not to_caller):
            return False
        self.found = found
        self.to_caller = to_caller
        signal.signal(signal.SIGINT, self._handler)
        return True

    def restore(self) -> None:
        """Put back exactly the handler that was found, if ours is still installed."""
        if signal.getsignal(signal.SIGINT) == self._handler:
            signal.signal(signal.SIGINT, self.found)
        self.found = None

    def hold(self) -> None:
        """Keep a Ctrl-C for the next switch point.

        It only sets flags, so the handler may call it anywhere: the running
        party's slice ends, and the tick hands the interrupt to the waiting
        code, or to the job that was running (``interrupt_for``).
        """
        from ._hub import expire_slice

        sched = self.sched
        sched.interrupt_pending = True
        sched.interrupt_for = sched.current
        expire_slice()

    def before_step(self, job: Job[Any], to_caller: bool) -> None:
        """A Ctrl-C is held and ``job`` is about to run.

        One held in the hub itself (no job was running) goes to that job, when
        the tick's host routes interrupts to jobs.
        """
        sched = self.sched
        if not to_caller and sched.interrupt_for is None:
            sched.interrupt_pending = False
            self.deliver(job)

    def after_step(self, job: Job[Any] | None, to_caller: bool) -> None:
        """A Ctrl-C is held and ``job`` (None: the last one) has reached a switch point.

        Waiting code gets it now (raised in the tick, which ends); else the job
        that held the CPU when it came gets it, at the switch point it stands at.
        """
        sched = self.sched
        if to_caller:
            sched.interrupt_pending = False
            raise KeyboardInterrupt
        if job is not None and sched.interrupt_for is job:
            sched.interrupt_pending = False
            sched.interrupt_for = None
            self.deliver(job)

    def deliver(self, job: Job[Any]) -> None:
        """Raise KeyboardInterrupt in ``job`` at the switch point where it stands."""
        if job._outcome is None:
            self.sched.throw(job, KeyboardInterrupt())

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        sched = self.sched
        place = where(frame)
        if place == "outside":
            if self.found == signal.SIG_IGN:
                return  # an idle kernel's host: nothing of ours was running
            raise KeyboardInterrupt
        if place == "igogo":
            if sched.current is None and self.found == signal.SIG_IGN:
                return  # an idle kernel's host, between job steps: no job holds the CPU
            self.hold()
            return
        if not self.to_caller:
            from . import _hub

            if self.found == signal.SIG_IGN and _hub._monotonic() < _hub._deadline:
                # An idle kernel, and the running job is within its slice: it is taking
                # its turn, not holding the CPU (a job that never yields is past it).
                return
            raise KeyboardInterrupt  # the host routes it to the job that holds the CPU
        if self.stop_all or sched.interrupt_pending:
            sched.interrupt_pending = True  # and the waiting code gets one too
            raise KeyboardInterrupt
        self.hold()


_DEFAULT: Final = signal.default_int_handler
