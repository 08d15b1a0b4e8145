"""Job controls in the notebook: a live row per job, and the job table.

Each job shown in a notebook gets one :class:`JobControls`: a row of ipywidgets
with its cell, name, state, elapsed time, Stop and Pause/Resume buttons and the
last line it printed.  The row is displayed in the cell that starts the job
(from :meth:`JupyterHost.adopt`), and the very same widgets are the job's line
in every job table (``igogo.jobs()``), so one update reaches every view.

Widget state lives in the kernel: after a page reload the front end asks the
kernel for it again, and the rows come back live.  Streamed output of earlier
cells does not (the client forgets those requests), which is why the row
carries the last line of the job's output (hover it for the last lines, and
``job.output`` has the tail).

Updates are driven by one timer on the kernel's loop (:class:`Board`), every
:data:`INTERVAL` seconds while any shown job lives, never by the jobs' own
greenlets; a widget is sent a new value only when its text changed, so a
running job costs about one small message a second (its clock).  While a cell
of yours keeps the loop busy (``igogo.wait_all()``, say) the scheduler's
switches refresh the rows instead.  The buttons' clicks arrive as comm
messages, handled by the kernel between two scheduler ticks: they act at once,
also while other jobs keep the CPU busy.
"""

from __future__ import annotations

import contextvars
import html
import threading
import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Any

import igogo

from ._html import (
    FONT,
    MONO,
    MUTED,
    STATE_ACCENTS,
    elapsed_text,
    error_summary,
    job_html,
    last_line,
    origin_text,
    sendable,
    state_html,
)

if TYPE_CHECKING:
    import asyncio

    from igogo import Job

__all__ = [
    "INTERVAL",
    "Board",
    "JobControls",
    "JobTable",
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
TITLE_LINES = 10
"""Lines of output in the tooltip of a row's last line."""

_KEY = "igogo_jupyter.controls"
# Fixed widths of the columns, shared by the rows and the table header so they line up.
_COLUMNS = (("cell", "3.5em"), ("name", "11em"), ("state", "7.5em"), ("elapsed", "4.5em"))
_BUTTONS_WIDTH = "13.5em"


_GRID = "display:grid;grid-template-columns:" + " ".join(w for _, w in _COLUMNS) + ";gap:0.5em"
_ELLIPSIS = "overflow:hidden;text-overflow:ellipsis;white-space:nowrap"


def _info_html(job: Job[Any]) -> str:
    return (
        f'<div class="igogo-info" style="{FONT};{_GRID};align-items:baseline">'
        f'<span class="igogo-cell" style="{MUTED}">{html.escape(origin_text(job))}</span>'
        f'<b class="igogo-name" title="job #{job.id}" style="{_ELLIPSIS}">'
        f"{html.escape(job.name)}</b>{state_html(job.state)}"
        f'<span class="igogo-elapsed" style="font-variant-numeric:tabular-nums">'
        f"{elapsed_text(job.elapsed)}</span></div>"
    )


def _last_html(job: Job[Any]) -> str:
    error = error_summary(job)
    shown = error or last_line(job, 300)
    lines = [ln for ln in job.output.split("\n") if ln.strip()]
    title = "\n".join(ln.rsplit("\r", 1)[-1] for ln in lines[-TITLE_LINES:])
    style = f"color:{STATE_ACCENTS['failed']}" if error else MUTED
    return sendable(
        f'<div class="igogo-last" title="{html.escape(title)}" '
        f'style="{style};{MONO};{_ELLIPSIS}">{html.escape(shown)}</div>'
    )


def _output_version(job: Job[Any]) -> tuple[int, bool]:
    """Changes whenever the job's output (or its end) changes what the row's last line shows."""
    tail = getattr(job.host_data.get("igogo_jupyter"), "tail", None)
    return (-1 if tail is None else tail.writes), job.done()


def _header_html() -> str:
    cols = "".join(f"<span>{label}</span>" for label, _ in _COLUMNS)
    return (
        f'<div class="igogo-header" style="{FONT};{MUTED};font-weight:600;display:flex;'
        f'gap:0.5em;align-items:baseline"><div style="{_GRID}">{cols}</div>'
        f'<span style="width:{_BUTTONS_WIDTH};flex:none">controls</span>'
        f"<span>last output</span></div>"
    )


_shared: dict[str, Any] = {}


def _shared_parts() -> dict[str, Any]:
    """Layouts and styles shared by every row: each is one model, sent once per kernel."""
    if not _shared:
        import ipywidgets as w
        from ipywidgets.widgets.widget_string import HTMLStyle

        _shared.update(
            info=w.Layout(flex="0 0 auto"),
            last=w.Layout(flex="1 1 auto", min_width="0"),
            stop=w.Layout(width="5.5em"),
            pause=w.Layout(width="7.5em"),
            buttons=w.Layout(width=_BUTTONS_WIDTH, flex="0 0 auto"),
            row=w.Layout(align_items="center", width="100%", overflow="hidden"),
            html_style=HTMLStyle(),
            button_style=w.ButtonStyle(),
        )
    return _shared


class JobControls:
    """The widgets of one job: one row, shown in its cell and in every job table."""

    def __init__(self, job: Any) -> None:
        import ipywidgets as w

        parts = _shared_parts()
        self.job = job
        self._info = _info_html(job)
        self._last = _last_html(job)
        self.info = w.HTML(self._info, layout=parts["info"], style=parts["html_style"])
        self.last = w.HTML(self._last, layout=parts["last"], style=parts["html_style"])
        self.stop: Any = None
        self.pause: Any = None
        buttons = []
        if not job.done():
            tip = f"stop job {job.name!r} (raises igogo.Stop in it)"
            self.stop = _button(w, parts, "stop", tip)
            self.stop.on_click(self._on_stop)
            tip = f"pause job {job.name!r} at its next yield, or resume it"
            self.pause = _button(w, parts, "pause", tip)
            self.pause.on_click(self._on_pause)
            buttons = [self.stop, self.pause]
        self.buttons = w.HBox(buttons, layout=parts["buttons"])
        self._seen = _output_version(job)
        self.row = w.HBox(
            [self.info, self.buttons, self.last],
            layout=parts["row"],
            _dom_classes=["igogo-row", f"igogo-job-{job.id}"],
        )
        self.closed = False

    # -- what the user clicks (handled on the kernel's shell handler, between ticks) ----------

    def _on_stop(self, _button: object = None) -> None:
        self.job.stop()
        self.refresh()

    def _on_pause(self, _button: object = None) -> None:
        if self.job.state == "paused":
            self.job.resume()
        else:
            self.job.pause()
        self.refresh()

    # -- updates --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Send whatever changed since the last refresh (nothing if nothing did)."""
        if self.closed:
            return
        job = self.job
        info = _info_html(job)
        if info != self._info:
            self._info = self.info.value = info
        seen = _output_version(job)
        if seen != self._seen:  # rendering the last line only when the output has changed
            self._seen = seen
            last = _last_html(job)
            if last != self._last:
                self._last = self.last.value = last
        if self.pause is not None:
            paused = job.state == "paused"
            label, icon = ("Resume", "play") if paused else ("Pause", "pause")
            if self.pause.description != label:
                with self.pause.hold_sync():  # one message for both
                    self.pause.description = label
                    self.pause.icon = icon

    def finish(self) -> None:
        """The job ended: show its final state, take the buttons away (no dead buttons).

        From now on the row holds the job's record, not the job: a finished row
        kept in the kernel must not pin the job's result or its traceback's frames.
        """
        self.refresh()
        if self.stop is not None:
            self.buttons.children = ()
            self.stop.close()
            self.pause.close()
            self.stop = self.pause = None
        record = getattr(self.job, "record", None)
        if record is not None:
            record.host_data[_KEY] = self
            self.job = record

    def close(self) -> None:
        """Close every widget (their views disappear); used for long-finished jobs."""
        if self.closed:
            return
        self.closed = True
        for widget in (self.stop, self.pause, self.info, self.last, self.buttons, self.row):
            if widget is not None:
                widget.close()

    def bundle(self) -> dict[str, Any]:
        """The row as a display: the widget, with text and HTML for clients without widgets."""
        data = dict(self.row._repr_mimebundle_() or {})
        data["text/plain"] = repr(self.job)
        data["text/html"] = job_html(self.job)
        return data


class JobTable:
    """``igogo.jobs()`` in a notebook: a header and the jobs' own rows, live."""

    def __init__(self, jobs: list[Any]) -> None:
        import ipywidgets as w

        self.header = w.HTML(_header_html())
        rows = [controls_for(j).row for j in jobs]
        self.box = w.VBox([self.header, *rows], layout=w.Layout(width="100%"))
        self.box.add_class("igogo-table")


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


_board: Board | None = None


def setup(host: Any) -> Board:
    """Make the kernel's board and register the displays of ``Job`` and ``JobList``.

    Called by the host when it attaches (not in headless mode); idempotent.
    """
    global _board
    if _board is None or _board.loop is not host.loop:
        _board = Board(host.loop, host.thread_id)
    register_formatters(host.bridge.shell)
    return _board


def controls_for(job: Any) -> JobControls:
    """The job's controls, made (and followed by the board) on first use."""
    controls: JobControls | None = job.host_data.get(_KEY)
    if controls is None or controls.closed:
        controls = job.host_data[_KEY] = JobControls(job)
        if _board is not None:
            _board.add(controls)
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
    if _board is not None and _KEY in job.host_data:
        _board.finished_job(job)


# -- IPython's display of Job and JobList ---------------------------------------------------------


def _job_bundle(job: Job[Any]) -> dict[str, Any]:
    data = controls_for(job).bundle()
    del data["text/html"]  # IPython adds the job's own _repr_html_
    return data


def _table_bundle(jobs: igogo.JobList) -> dict[str, Any] | None:
    if not jobs:
        return None  # IPython falls back to the text and HTML reprs: "no igogo jobs"
    table = JobTable(list(jobs))
    data = dict(table.box._repr_mimebundle_() or {})
    data["text/plain"] = repr(jobs)
    return data


def register_formatters(shell: Any) -> None:
    """Show ``Job`` as its live row and ``JobList`` (``igogo.jobs()``) as a live table."""
    formatter = shell.display_formatter.mimebundle_formatter
    formatter.for_type(igogo.Job, _job_bundle)
    formatter.for_type(igogo.JobList, _table_bundle)


def _button(w: Any, parts: dict[str, Any], action: str, tooltip: str) -> Any:
    """A control row's Stop or Pause button (``action``: its icon, class and part)."""
    return w.Button(
        description=action.capitalize(),
        icon=action,
        tooltip=tooltip,
        layout=parts[action],
        style=parts["button_style"],
        _dom_classes=[f"igogo-{action}"],
    )
