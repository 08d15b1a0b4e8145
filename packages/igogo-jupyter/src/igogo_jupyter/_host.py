"""The kernel host: jobs run on the kernel's own event loop, output goes to their cells.

igogo finds this host through the ``igogo.hosts`` entry point when the first
job starts inside an ipykernel.  It is igogo's :class:`~igogo.AsyncioHost` on
the loop of the kernel's main thread: one tick per loop callback, re-armed
about a millisecond after each tick, so the kernel keeps answering requests
while jobs spin.  Jobs started from another thread (an ipykernel 7 subshell)
are handed to the main thread by the core.

Each job records the header of the request (the cell) that started it.  Its
prints reach that cell by themselves, through the context the job runs in; on
ipykernel 6 the host also re-addresses displays while the job runs (see
:mod:`igogo_jupyter._kernel`).  A Ctrl-C (kernel interrupt) while the kernel is
idle lands in the job that holds the CPU.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

import igogo
from igogo.lowlevel import JOB_ENTRY_CODES, failure

from . import _board
from ._headless import Headless, warn_if_unattended
from ._html import register_formatters
from ._kernel import Header, KernelBridge
from ._magic import _run_cell_body
from ._output import TAIL_LINES, JobStream, RichRender, Tail
from ._requests import RequestWatch

if TYPE_CHECKING:
    from igogo import Job

__all__ = ["JupyterHost"]

_KEY = "igogo_jupyter"
# Frames of igogo's own machinery at the top of a job's traceback: a failing
# job shows its traceback from the user's code on, as a failing cell does.
_INTERNAL_FRAMES = frozenset({*JOB_ENTRY_CODES, _run_cell_body.__code__})


class JobOutput:
    """What the host keeps for one job: its cell, its streams, its display slots."""

    def __init__(self, header: Header, job: Job[Any], host: JupyterHost) -> None:
        self.header = header
        headless = host.headless is not None
        self.tail = Tail(None if headless else TAIL_LINES)
        # A markdown or html job's display renders its stdout only (stderr stays a
        # stream); headless runs write the tail out as text instead.
        rich = job.options.kind != "text"
        self.render = RichRender(host, job, Tail(TAIL_LINES)) if rich and not headless else None
        # Headless, a rich job's stdout is kept apart, to be written out rendered at its end.
        self.rich_tail = Tail(None) if rich and headless else None
        out, err = (None, None) if headless else (sys.stdout, sys.stderr)
        self.stdout = JobStream(out, self.rich_tail or self.tail, self.render)
        self.stderr = JobStream(err, self.tail)
        self.streams: tuple[Any, Any] = (self.stdout, self.stderr)
        """``sys.stdout`` and ``sys.stderr`` while the job runs (it may redirect them)."""
        self.headless_id = f"igogo-{job.id}-headless-{time.time_ns()}"
        self.slot_content: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.new_slots(job)

    def new_slots(self, job: Job[Any]) -> None:
        n = job.options.displays
        self.slot_ids = [f"igogo-{job.id}-{i}-{time.time_ns()}" for i in range(n)]
        self.shown = [False] * n
        self.next_slot = 0
        self.warned = False


def job_output(job: Job[Any]) -> JobOutput | None:
    out: JobOutput | None = job.host_data.get(_KEY)
    return out


class JupyterHost(igogo.AsyncioHost):
    """Drives igogo's jobs from the kernel's loop and routes their output."""

    def __init__(self, bridge: KernelBridge) -> None:
        super().__init__(bridge.loop, thread_id=bridge.main_thread_id, interrupts_to_jobs=True)
        self.bridge = bridge
        self._global_parents = bridge.global_display_parents
        self._saved: Any = None
        self._streams: tuple[Any, Any] | None = None
        self.in_loop_tick = False
        on = os.environ.get("IGOGO_HEADLESS", "") not in ("", "0")
        self.headless = Headless(self) if on else None
        self.board: _board.Board | None = None
        """Refreshes the jobs' control rows (None in headless mode: no widgets there)."""
        self.requests = RequestWatch(bridge.request_fds())
        self._put_off_since: float | None = None
        """When a tick was first put off behind the loop's own work (None: not put off)."""

    # -- lifetime ---------------------------------------------------------------------------

    def attach(self, sched: Any) -> None:
        super().attach(sched)
        igogo.add_hook(self)
        register_formatters(self.bridge.shell)  # jobs and tables as HTML, in both modes
        if self.headless is None:
            self.board = _board.setup(self)
        self.requests.attach()
        self.bridge.shell.events.register("post_run_cell", self._first_steps)

    def detach(self) -> None:
        self.bridge.shell.events.unregister("post_run_cell", self._first_steps)
        self.requests.detach()
        igogo.remove_hook(self)
        super().detach()

    def adopt(self, job: Job[Any]) -> None:
        parent = igogo.current_job()
        parent_out = None if parent is None else job_output(parent)
        if parent is not None and parent_out is not None:
            # Started by a job: it belongs to that job's cell, not to the cell that
            # happens to run now (on ipykernel 6 ``shell.parent_header`` is global).
            job.origin = parent.origin
            header = parent_out.header
        else:
            job.origin = self.bridge.execution_count()
            header = self.bridge.parent_header()
            self.bridge.address_thread_job(job.run_in_context, header)
        out = job.host_data[_KEY] = JobOutput(header, job, self)
        job.output_source = out.tail.text
        if self.headless is not None:
            self.headless.adopt(out)
            return
        if parent is None:
            warn_if_unattended(self)
        if parent is None:  # a job started by a job is in the job table, not in a row of its own
            cell = str(header.get("header", {}).get("msg_id", ""))
            self.bridge.run_for(header, _board.show_row, job, cell)
        if out.render is not None:
            out.render.start()

    # -- hooks: the job's streams (and on ipykernel 6 its display parents) while it runs ------

    # On every switch (measured in bench/): the job's streams, which keep its tail (job.output)
    # on both ipykernel versions; the display parents only on ipykernel 6.

    def switched_in(self, job: Job[Any]) -> None:
        out = job.host_data.get(_KEY)
        if out is not None:
            self._streams = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = out.streams
            if self._global_parents:
                self._saved = self.bridge.enter(out.header)

    def switched_out(self, job: Job[Any]) -> None:
        if self._streams is not None:
            out = job.host_data.get(_KEY)
            if out is not None:  # a job's own redirection (redirect_stdout) outlives a yield
                out.streams = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = self._streams
            self._streams = None
            if self._global_parents:
                self.bridge.leave(self._saved)
                self._saved = None
        if self.board is not None and not self.in_loop_tick:  # regular code drives the jobs
            self.board.maybe_refresh()

    def job_finished(self, job: Job[Any]) -> None:
        _board.finished(job)
        out = job_output(job)
        if out is None:
            return
        if self.headless is not None:
            if job.state != "failed":  # a failed job is written out with its traceback
                self.headless.write_out(job, out)
        elif out.render is not None:
            out.render.flush()

    def _first_steps(self, result: object = None) -> None:
        """``post_run_cell``: the jobs the cell started take their first step now.

        Up to their first switch point, before the kernel reads its next request:
        under Run All that request is already waiting, and ipykernel dispatches it
        without another turn of the loop, so the next cell finds what the jobs set
        up before their loops.
        """
        sched = self.sched
        if sched is not None and sched.unstarted and igogo.current_job() is None:
            sched.tick(first_steps=True)

    def _tick(self) -> None:
        # The loop's own work first (a request being dispatched, a cell's task between
        # two awaits): a tick due meanwhile waits one gap, for at most one budget in a row.
        # And none at all for a moment after a request ended one (its answer goes first).
        # A job just started takes its first step before any of that: the cell after
        # the one that started it (Run All) finds what the job set before its first
        # switch point.
        sched, now = self.sched, self.loop.time()
        later = None
        if sched is not None and not sched.unstarted:
            if now < self.requests.quiet_until:
                later = self.requests.quiet_until
            elif self.bridge.loop_has_work():
                if self._put_off_since is None:
                    self._put_off_since = now
                if now - self._put_off_since < sched.tick_budget:
                    later = 0.0  # one gap from now
        if later is not None:
            self._handle = None
            self.wake(later)
            return
        self._put_off_since = None
        self.requests.turn()
        self.in_loop_tick = True
        try:
            super()._tick()
        finally:
            self.in_loop_tick = False

    # -- output on behalf of a job ------------------------------------------------------------

    def for_job(self, job: Job[Any], fn: Any, *args: Any) -> Any:
        """Run ``fn`` so that what it prints or displays goes to ``job``'s cell."""
        out = job_output(job)
        if out is None:
            return fn(*args)
        if igogo.current_job() is job:  # already inside the job: all is addressed
            return fn(*args)
        return job.run_in_context(self.bridge.run_for, out.header, fn, *args)

    def report_failure(self, job: Job[Any]) -> None:
        exc = failure(job)
        assert exc is not None
        out = job_output(job)
        if self.headless is not None and out is not None:
            self.headless.failure(job, out, self.bridge.format_traceback(exc, _INTERNAL_FRAMES))
        else:
            self.for_job(job, self.bridge.show_traceback, exc, _INTERNAL_FRAMES)

    def display(self, job: Job[Any] | None, objs: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from IPython.display import display, update_display

        out = None if job is None else job_output(job)
        if job is None or out is None or kwargs:
            super().display(job, objs, kwargs)
            return
        n = len(out.slot_ids)
        for obj in objs:
            slot = out.next_slot % n
            if out.next_slot >= n and not out.warned and job.options.warn_rewrite:
                out.warned = True
                warnings.warn(
                    f"igogo job {job.name!r} has {n} display slot(s) and now reuses them "
                    f"from the first; start it with displays=<more> to keep more "
                    f"(or warn_rewrite=False to silence this)",
                    stacklevel=3,
                )
            out.next_slot += 1
            did = out.slot_ids[slot]
            if self.headless is not None:
                self.headless.record(out, slot, obj)
            elif out.shown[slot]:
                self.for_job(job, functools.partial(update_display, obj, display_id=did))
            else:
                out.shown[slot] = True
                self.for_job(job, functools.partial(display, obj, display_id=did))

    def clear_output(self, job: Job[Any] | None, wait: bool) -> None:
        from IPython.display import clear_output

        out = None if job is None else job_output(job)
        if job is None or out is None:
            super().clear_output(job, wait)
            return
        self.for_job(job, clear_output, wait)
        out.new_slots(job)
