"""The kernel's board: which jobs have a row, where it is shown, and keeping it live.

Rows (:class:`~igogo_jupyter._widgets.JobControls`) are made on first use and
followed by one :class:`Board` per kernel.  Updates are driven by one timer on
the kernel's loop, every :data:`INTERVAL` seconds while any shown job lives,
never by the jobs' own greenlets, so a running job costs about one small
message a second (its clock).  While a cell of yours keeps the loop busy
(``igogo.wait_all()``, say) the scheduler's switches refresh the rows instead.

A job's row is shown in the cell that starts it (up to
:data:`MAX_ROWS_PER_CELL` a cell: a loop that starts a thousand jobs gets a
note, not a thousand rows), and ``Job`` and ``JobList`` display as their rows
through IPython's display formatters.  Rows of finished jobs hold the job's
record, and only the last :data:`KEEP_FINISHED` stay open.
"""

from __future__ import annotations

import contextvars
import html
import threading
import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Any

import igogo

from ._html import FONT, MUTED
from ._widgets import KEY, JobControls, JobTable

if TYPE_CHECKING:
    import asyncio

    from igogo import Job

__all__ = [
    "INTERVAL",
    "KEEP_FINISHED",
    "MAX_ROWS_PER_CELL",
    "Board",
    "controls_for",
    "finished",
    "register_formatters",
    "setup",
    "show_row",
]

INTERVAL = 0.25
"""Seconds between two refreshes of the rows: at most 4 updates a second."""
KEEP_FINISHED = 200
"""Rows of finished jobs kept alive in the kernel; older ones are closed."""
MAX_ROWS_PER_CELL = 20
"""Jobs started by one cell that get a row there (a loop starting 1,000 jobs gets 20 rows)."""


class Board:
    """Refreshes the rows of live jobs from one timer on the kernel's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, thread_id: int) -> None:
        self.loop = loop
        self.thread_id = thread_id
        self.live: dict[int, JobControls] = {}
        self.finished: deque[JobControls] = deque()
        self.handle: asyncio.TimerHandle | None = None
        self.last_refresh = time.monotonic()
        # Refreshes run in a context of their own, not in the one of whichever cell armed them.
        self._context = contextvars.Context()

    def add(self, controls: JobControls) -> None:
        if controls.job.done():  # shown after it ended (a table): a finished row from the start
            controls.finish()
            self._retire(controls)
            return
        self.live[controls.job.id] = controls
        self._arm()

    def _arm(self) -> None:
        if threading.get_ident() != self.thread_id:  # a subshell's thread: hop to the loop's
            self.loop.call_soon_threadsafe(self._arm)
            return
        if self.handle is None and self.live and not self.loop.is_closed():
            self.handle = self.loop.call_later(INTERVAL, self._tick, context=self._context)

    def _tick(self) -> None:
        self.handle = None
        self.refresh()
        self._arm()

    def refresh(self) -> None:
        self.last_refresh = time.monotonic()
        for controls in tuple(self.live.values()):
            job = controls.job
            if not job.done():
                controls.refresh()
            elif job.record is not None:  # ended without the host's hook (a host of another kind)
                self.finished_job(job)
            # Done but with no record yet: this refresh runs in the job's last switch-out
            # (regular code drives the jobs).  The job ends fully next and the host's hook
            # finishes the row then, with the record in hand: finishing it now would make
            # the row keep the job itself, and with it the result and the traceback.

    def maybe_refresh(self) -> None:
        """Refresh if the loop's timer is late: a cell keeps the loop busy while jobs run."""
        if self.live and time.monotonic() - self.last_refresh > 2 * INTERVAL:
            self.refresh()

    def finished_job(self, job: Job[Any]) -> None:
        controls = self.live.pop(job.id, None)
        if controls is not None:
            controls.finish()
            self._retire(controls)

    def _retire(self, controls: JobControls) -> None:
        self.finished.append(controls)
        while len(self.finished) > KEEP_FINISHED:
            self.finished.popleft().close()


_the_board: Board | None = None


def setup(host: Any) -> Board:
    """Make the kernel's board and register the displays of ``Job`` and ``JobList``.

    Called by the host when it attaches (not in headless mode); idempotent.
    """
    global _the_board
    if _the_board is None or _the_board.loop is not host.loop:
        _the_board = Board(host.loop, host.thread_id)
    register_formatters(host.bridge.shell)
    return _the_board


def controls_for(job: Any) -> JobControls:
    """The job's controls, made (and followed by the board) on first use."""
    controls: JobControls | None = job.host_data.get(KEY)
    if controls is None or controls.closed:
        controls = job.host_data[KEY] = JobControls(job)
        if _the_board is not None:
            _the_board.add(controls)
    return controls


def show_row(job: Job[Any], cell: str) -> None:
    """Display the job's row in the cell running now (``cell``: its request's id).

    A cell shows the rows of the first :data:`MAX_ROWS_PER_CELL` jobs it starts, then
    one note; the job table lists them all.
    """
    from IPython.display import display

    n = _rows_per_cell[cell] = _rows_per_cell.get(cell, 0) + 1
    _rows_per_cell.move_to_end(cell)
    while len(_rows_per_cell) > 1000:
        _rows_per_cell.popitem(last=False)
    if n <= MAX_ROWS_PER_CELL:
        display(controls_for(job).bundle(), raw=True)
    elif n == MAX_ROWS_PER_CELL + 1:
        note = (
            f"This cell started more than {MAX_ROWS_PER_CELL} jobs: the others have no row "
            "here; igogo.jobs() lists every job with its controls."
        )
        html_note = f'<div class="igogo-more" style="{FONT};{MUTED}">{html.escape(note)}</div>'
        display({"text/plain": note, "text/html": html_note}, raw=True)


_rows_per_cell: OrderedDict[str, int] = OrderedDict()


def finished(job: Job[Any]) -> None:
    """Called by the host when a job ends: its row shows the end at once."""
    if _the_board is not None and KEY in job.host_data:
        _the_board.finished_job(job)


# -- IPython's display of Job and JobList ---------------------------------------------------------


def _job_bundle(job: Job[Any]) -> dict[str, Any]:
    data = controls_for(job).bundle()
    del data["text/html"]  # IPython adds the job's own _repr_html_
    return data


def _table_bundle(jobs: igogo.JobList) -> dict[str, Any] | None:
    if not jobs:
        return None  # IPython falls back to the text and HTML reprs: "no igogo jobs"
    table = JobTable([controls_for(j).row for j in jobs])
    data = dict(table.box._repr_mimebundle_() or {})
    data["text/plain"] = repr(jobs)
    return data


def register_formatters(shell: Any) -> None:
    """Show ``Job`` as its live row and ``JobList`` (``igogo.jobs()``) as a live table."""
    formatter = shell.display_formatter.mimebundle_formatter
    formatter.for_type(igogo.Job, _job_bundle)
    formatter.for_type(igogo.JobList, _table_bundle)
