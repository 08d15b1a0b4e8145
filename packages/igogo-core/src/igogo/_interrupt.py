"""Interrupt policy: where a Ctrl-C (SIGINT) lands while jobs run.

Greenlets must never be switched inside a signal handler, so the handler here
only raises or sets flags.  While a tick runs on the main thread, the
scheduler installs :class:`InterruptGuard`'s handler over whatever handler it
finds, and puts that exact handler back when the tick ends (unless somebody
replaced ours meanwhile, in which case theirs stays).  The handler decides:

* no job holds the CPU: the handler that was found decides (ignored if it was
  ``SIG_IGN``, as in an idle ipykernel);
* a job holds the CPU and the tick belongs to *waiting regular code* (a cell
  in ``job.result()``, a script in ``igogo.run``): the job's slice is ended and
  ``KeyboardInterrupt`` is raised in the waiting code once the job yields.  A
  second Ctrl-C before that raises inside the job, for jobs that never yield;
* a job holds the CPU and the tick belongs to a host that routes interrupts to
  jobs (the Jupyter host while the kernel is idle): ``KeyboardInterrupt`` is
  raised inside that job, which then fails with it; other jobs go on.

Installing costs a few microseconds, so it is done once per tick, never per
switch.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import FrameType

    from ._hub import Scheduler

__all__ = ["InterruptGuard"]


class InterruptGuard:
    """Installs and restores the scheduler's SIGINT handler around ticks."""

    def __init__(self, sched: Scheduler) -> None:
        self.sched = sched
        self.enabled = True
        self.to_caller = True
        self.found: Any = None

    def install(self, to_caller: bool) -> bool:
        """Install over the current handler; returns whether it did."""
        if not self.enabled or threading.current_thread() is not threading.main_thread():
            return False
        found = signal.getsignal(signal.SIGINT)
        if found is None:  # installed from C, not ours to replace
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

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        sched = self.sched
        if sched.current is None:
            found = self.found
            if callable(found):
                found(signum, frame)
            elif found == signal.SIG_DFL:
                raise KeyboardInterrupt
            return
        if self.to_caller and not sched.interrupt_pending:
            from ._hub import expire_slice

            sched.interrupt_pending = True
            expire_slice()
            return
        sched.interrupt_pending = False
        raise KeyboardInterrupt
