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

A row is refreshed by the kernel's board (:mod:`igogo_jupyter._board`); a
widget is sent a new value only when its text changed.  The buttons' clicks
arrive as comm messages, handled by the kernel between two scheduler ticks:
they act at once, also while other jobs keep the CPU busy.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

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
    from igogo import Job

__all__ = ["KEY", "JobControls", "JobTable"]

TITLE_LINES = 10
"""Lines of output in the tooltip of a row's last line."""

KEY = "igogo_jupyter.controls"
"""Where a job's (and then its record's) ``host_data`` keeps its controls."""
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
            record.host_data[KEY] = self
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

    def __init__(self, rows: list[Any]) -> None:
        import ipywidgets as w

        self.header = w.HTML(_header_html())
        self.box = w.VBox([self.header, *rows], layout=w.Layout(width="100%"))
        self.box.add_class("igogo-table")


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
