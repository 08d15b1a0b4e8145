"""Hosts drive the scheduler; they are found lazily, at the first job.

The scheduler never owns the process.  When the first job starts, igogo asks
the factories registered under the entry-point group ``igogo.hosts`` (the
Jupyter host is one) whether they apply here; the first that returns a
:class:`Host` drives the jobs.  Otherwise jobs run on the running asyncio loop
(:class:`AsyncioHost`) or, with no loop, whenever regular code yields, sleeps or
waits (:class:`BlockingHost`).  When the last job ends the host is released,
so the next job finds the host that fits at that moment.

Plugins are activated at the same moment (:mod:`igogo._plugins`).  At
interpreter exit the jobs still alive are stopped, so that their ``finally``
blocks run.  Nothing here runs at import time.
"""

from __future__ import annotations

import atexit
import contextvars
import math
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from . import _control
from ._hooks import logger
from ._hub import SCHED, Scheduler, now
from ._plugins import activate_plugins, load_entry_points
from ._waiting import pump

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from ._job import Job

__all__ = ["AsyncioHost", "BlockingHost", "Host", "drive_from_loop", "ensure_host"]


class Host:
    """Drives ticks of the scheduler from some event source.

    Subclasses override :meth:`wake` (tick no later than a monotonic time) and
    :meth:`wake_threadsafe`; they may override :meth:`origin` (what a new job
    records as where it came from) and :meth:`report_failure`.
    """

    interrupts_to_jobs = False
    """Whether a Ctrl-C during a tick of this host lands in the running job."""

    def __init__(self, thread_id: int | None = None) -> None:
        self.thread_id = threading.get_ident() if thread_id is None else thread_id
        self.sched: Scheduler | None = None

    def attach(self, sched: Scheduler) -> None:
        """Start driving ``sched``: called once, when the first job finds this host.

        A subclass registers what it needs for the jobs' lifetime here (hooks,
        display formatters) and must call ``super().attach(sched)``.
        """
        self.sched = sched

    def detach(self) -> None:
        """Stop driving the scheduler: called when the last job has ended.

        Undo what :meth:`attach` did and cancel pending wake-ups; the next job
        finds a host anew (perhaps another kind: an asyncio loop has started).
        """
        self.sched = None

    def wake(self, when: float) -> None:
        """Tick no later than ``when`` (monotonic seconds); called on the owner thread."""

    def wake_threadsafe(self) -> None:
        """Tick soon; may be called from any thread."""

    def adopt(self, job: Job[Any]) -> None:
        """Record where a new job comes from (``job.origin``); called in the starting thread."""

    def display(self, job: Job[Any] | None, objs: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Show ``objs`` for ``job`` (None: regular code); by default as IPython or print would."""
        if "IPython" in sys.modules:
            from IPython.display import display

            display(*objs, **kwargs)
        else:
            print(*objs)

    def clear_output(self, job: Job[Any] | None, wait: bool) -> None:
        """Clear what ``job`` (None: regular code) has shown; by default only under IPython."""
        if "IPython" in sys.modules:
            from IPython.display import clear_output

            clear_output(wait=wait)

    def report_failure(self, job: Job[Any]) -> None:
        """Show a failed job's exception; by default as a traceback on stderr, once.

        It is shown at the next tick, or at exit, unless code took it first
        (``job.result()`` or ``job.exception()``: a job or :func:`igogo.run`
        waiting for it): that code raises or handles it, so a script shows
        each failure once, with no igogo frames.
        """
        if not _unreported:
            SCHED.call_at(now(), _report_unretrieved)
        _unreported.append(job)


class BlockingHost(Host):
    """For scripts: jobs run while regular code yields, sleeps or waits."""


class AsyncioHost(Host):
    """Runs one tick per loop callback, re-armed ``gap`` seconds after each tick.

    Never a chain of ``call_soon``: the gap lets the loop block in ``select``
    with the GIL released, so the loop's other work (and other threads) keep
    their latency while jobs spin.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        thread_id: int | None = None,
        gap: float = 0.001,
        interrupts_to_jobs: bool = False,
    ) -> None:
        super().__init__(thread_id)
        self.loop = loop
        self.gap = gap
        self.interrupts_to_jobs = interrupts_to_jobs
        self._handle: asyncio.TimerHandle | None = None
        # Ticks run in a context of their own, not in a copy of whichever
        # context happened to arm them: jobs carry their own contexts.
        self._context = contextvars.Context()

    def wake(self, when: float) -> None:
        loop = self.loop
        if loop.is_closed():  # asyncio.run() returned with jobs left: regular code drives them
            return
        t = max(when, loop.time() + self.gap)
        h = self._handle
        if h is not None:
            if h.when() <= t:
                return
            h.cancel()
        self._handle = loop.call_at(t, self._tick, context=self._context)

    def wake_threadsafe(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.wake, 0.0)

    def detach(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        super().detach()

    def _tick(self) -> None:
        self._handle = None
        sched = self.sched
        if sched is None:
            return
        try:
            sched.tick(interrupts_to_caller=not self.interrupts_to_jobs)
        finally:
            if self.sched is not None:
                when = sched.next_deadline()
                if when < math.inf:
                    self.wake(when)


_host_factories: list[Callable[[], Host | None]] | None = None
"""The ``igogo.hosts`` factories, loaded at the first job."""


def _find_host() -> Host:
    global _host_factories
    if _host_factories is None:
        _host_factories = [f for _, f in load_entry_points("igogo.hosts")]
    for factory in _host_factories:
        try:
            host = factory()
        except Exception:
            logger.exception("igogo host factory %r failed; skipped", factory)
            continue
        if host is not None:
            return host
    loop = _running_loop()
    return BlockingHost() if loop is None else AsyncioHost(loop)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    # Only a program that already imported asyncio can have a running loop.
    if "asyncio" not in sys.modules:
        return None
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def ensure_host(sched: Scheduler = SCHED) -> Host:
    """The host driving ``sched``, attaching one (and the plugins) if there is none."""
    host = sched.host
    if isinstance(host, AsyncioHost) and host.loop.is_closed():
        # Its loop is gone (asyncio.run() returned while jobs were left): the jobs
        # get the host that fits now, as if they had just started.
        host.detach()
        sched.host = host = None
    if host is None:
        activate_plugins()  # once per process, even when no plugin is installed
        host = _find_host()
        _attach(sched, host)
    return host


def _attach(sched: Scheduler, host: Host) -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(_at_exit, sched)
    sched.host = host
    sched.owner = host.thread_id
    host.attach(sched)
    when = sched.next_deadline()
    if when < math.inf:
        host.wake(when)


_exit_registered = False
_unreported: list[Job[Any]] = []
"""Failed jobs to report at the next tick unless their exception is taken first."""


def _report_unretrieved() -> None:
    import traceback

    jobs, _unreported[:] = list(_unreported), []
    for job in jobs:
        exc = job._exception
        if exc is not None and not job._retrieved and not job._retrieving:
            print(f"igogo job {job.name!r} failed:", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)


def _at_exit(sched: Scheduler) -> None:
    """At interpreter exit: stop the jobs still alive, so that their ``finally`` blocks run.

    Jobs that never ran are named in a warning first (as asyncio warns about
    pending tasks): a script that ends without waiting for them has lost them.
    """
    _report_unretrieved()  # failures nobody took and no tick came to report
    live = sorted(sched.live.values(), key=lambda j: j.id)
    if not live or not sched.on_owner_thread() or sched._in_tick:
        return
    never = [j for j in live if j._greenlet is None and j._outcome is None]
    if never:
        import warnings

        names = ", ".join(repr(j) for j in never)
        warnings.warn(
            f"igogo: {len(never)} job(s) never ran before the interpreter exited: {names}. "
            "Wait for them (igogo.wait_all() or igogo.run(main)) to let them run",
            RuntimeWarning,
            stacklevel=1,
        )
    # The interpreter is exiting, often because of the Ctrl-C that stopped the script: a
    # Ctrl-C still held for the jobs has had its effect and must not cut this pump short.
    sched.interrupt_pending = False
    for job in live:
        _control.stop(job, "stopped at exit")
    try:
        pump(lambda: not sched.live, time.monotonic() + 5.0)
    except BaseException:  # a second Ctrl-C at exit: leave the rest as it is
        logger.exception("igogo: stopping the jobs at exit was interrupted")


def drive_from_loop(loop: asyncio.AbstractEventLoop, sched: Scheduler = SCHED) -> None:
    """Make sure the jobs run while ``loop`` awaits them (for ``await job``)."""
    host = sched.host
    if isinstance(host, AsyncioHost) and host.loop is loop:
        return
    if host is not None and not isinstance(host, BlockingHost):
        if isinstance(host, AsyncioHost) and (host.loop.is_closed() or not host.loop.is_running()):
            host.detach()
        else:
            return
    elif host is not None:
        host.detach()
    _attach(sched, AsyncioHost(loop))
