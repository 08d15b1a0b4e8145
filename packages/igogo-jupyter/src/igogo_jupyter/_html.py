"""HTML for jobs, job lists and map status tables in notebooks.

Plain strings: :func:`register_formatters` makes IPython show
:class:`~igogo.Job`, :class:`~igogo.lowlevel.JobRecord`,
:class:`~igogo.JobList` and :class:`~igogo.MapStatus` with them.  The styling
is JupyterLab's, so it lives here, with the Jupyter host, and not in igogo's
core (whose reprs are plain text).
Every colour but the state accents comes from JupyterLab's theme variables
(``var(--jp-ui-font-color1)`` and friends), so the same HTML reads well in the
light and the dark theme; the fallbacks after the comma apply where those
variables are not defined (an exported HTML page, for example).  The accents
are JupyterLab's own status colours, with fallbacks that work on light and dark
backgrounds alike.  igogo-jupyter's widgets build their rows from the same
pieces, so a live row and a static repr look alike.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Final

import igogo
from igogo.lowlevel import JobRecord, error_line, failure

if TYPE_CHECKING:
    from collections.abc import Iterable

    from igogo import Job

__all__ = [
    "BORDER",
    "FONT",
    "MONO",
    "MUTED",
    "STATE_ACCENTS",
    "TABLE_COLUMNS",
    "elapsed_text",
    "error_summary",
    "job_html",
    "jobs_html",
    "last_line",
    "map_status_html",
    "origin_text",
    "register_formatters",
    "sendable",
    "state_html",
]

STATE_ACCENTS: Final = {
    "pending": "var(--jp-ui-font-color2, #8a8a8a)",
    "running": "var(--jp-success-color1, #2e9e44)",
    "sleeping": "var(--jp-info-color1, #2a8fd6)",
    "waiting": "var(--jp-info-color1, #2a8fd6)",
    "paused": "var(--jp-warn-color1, #e08a00)",
    "done": "var(--jp-success-color1, #2e9e44)",
    "failed": "var(--jp-error-color1, #e0463c)",
    "stopped": "var(--jp-ui-font-color2, #8a8a8a)",
    "timed out": "var(--jp-warn-color1, #e08a00)",
}
"""The colour of each state: JupyterLab's status colours (theme-aware), then a fallback."""

FONT: Final = (
    "font-family:var(--jp-ui-font-family, system-ui, sans-serif);"
    "font-size:var(--jp-ui-font-size1, 13px);"
    "color:var(--jp-ui-font-color1, inherit)"
)
MUTED: Final = "color:var(--jp-ui-font-color2, inherit);opacity:0.9"
MONO: Final = "font-family:var(--jp-code-font-family, monospace);font-size:0.92em"
BORDER: Final = "var(--jp-border-color2, currentColor)"

TABLE_COLUMNS: Final = ("cell", "name", "state", "elapsed", "error")


def elapsed_text(seconds: float) -> str:
    """Whole seconds as a clock: ``0:07``, ``12:05``, ``1:02:03``."""
    s = max(int(seconds), 0)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def error_summary(job: Job[Any] | JobRecord) -> str:
    """A failed job's exception in one line (``ValueError: boom``); '' for other jobs.

    A record already holds that line, made by the same :func:`igogo.lowlevel.error_line`.
    """
    return job.error if isinstance(job, JobRecord) else error_line(failure(job))


def sendable(text: str) -> str:
    """``text`` as a kernel message can carry it: lone surrogates escaped (``\\ud800``).

    A job may print anything Python can hold; a widget's value or a display's
    data must encode as UTF-8, or the message (and the host's hook) fails.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def last_line(job: Job[Any] | JobRecord, limit: int = 200) -> str:
    """The last non-empty line the job printed, as its host keeps it ('' if none)."""
    for line in reversed(job.output.split("\n")):
        # A progress bar redraws its line after a carriage return: its last drawing counts.
        line = next((p.strip() for p in reversed(line.split("\r")) if p.strip()), "")
        if line:
            return sendable(line if len(line) <= limit else line[: limit - 1] + "…")
    return ""


def state_html(state: str) -> str:
    """A state as a coloured dot and word, e.g. ``● running``."""
    accent = STATE_ACCENTS.get(state, "inherit")
    return (
        f'<span class="igogo-state" data-state="{html.escape(state)}" '
        f'style="color:{accent};font-weight:600;white-space:nowrap">'
        f"● {html.escape(state)}</span>"
    )


def origin_text(job: Job[Any] | JobRecord) -> str:
    return "" if job.origin is None else f"[{job.origin}]"


def job_html(job: Job[Any] | JobRecord) -> str:
    """One job in one line: name, id and cell, state, elapsed time, and a failed job's error."""
    error = error_summary(job)
    where = f" · cell {origin_text(job)}" if job.origin is not None else ""
    parts = [
        f'<b class="igogo-name">{html.escape(job.name)}</b>',
        f'<span style="{MUTED}">#{job.id}{html.escape(where)}</span>',
        state_html(job.state),
        f'<span class="igogo-elapsed" style="{MUTED}">{elapsed_text(job.elapsed)}</span>',
    ]
    if error:
        style = f"color:{STATE_ACCENTS['failed']};{MONO}"
        parts.append(f'<span class="igogo-error" style="{style}">{html.escape(error)}</span>')
    return (
        f'<div class="igogo-job" style="{FONT};display:flex;flex-wrap:wrap;gap:0.2em 0.8em;'
        f'align-items:baseline">{"".join(parts)}</div>'
    )


def jobs_html(jobs: Iterable[Job[Any] | JobRecord]) -> str:
    """The jobs as a table: cell, name, state, elapsed time, and a failed job's error.

    A static snapshot, so it leaves out what jobs printed: that stays in their own
    cells (igogo-jupyter's live table shows each job's last line).
    """
    rows = []
    cell = f"padding:0.15em 0.8em 0.15em 0;text-align:left;border-bottom:1px solid {BORDER}"
    for job in jobs:
        error = error_summary(job)
        rows.append(
            "<tr>"
            f'<td style="{cell};{MUTED}">{html.escape(origin_text(job))}</td>'
            f'<td style="{cell}"><b>{html.escape(job.name)}</b></td>'
            f'<td style="{cell}">{state_html(job.state)}</td>'
            f'<td style="{cell};{MUTED};font-variant-numeric:tabular-nums">'
            f"{elapsed_text(job.elapsed)}</td>"
            f'<td style="{cell};color:{STATE_ACCENTS["failed"]};{MONO}">{html.escape(error)}</td>'
            "</tr>"
        )
    if not rows:
        return f'<div class="igogo-jobs" style="{FONT};{MUTED}">no igogo jobs</div>'
    head = "".join(f'<th style="{cell};{MUTED};font-weight:600">{c}</th>' for c in TABLE_COLUMNS)
    return (
        f'<table class="igogo-jobs" style="{FONT};border-collapse:collapse;'
        f'background:transparent"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


_ITEM_ACCENTS: Final = {
    "pending": STATE_ACCENTS["pending"],
    "running": STATE_ACCENTS["waiting"],  # blue: green is for the items done
    "ok": STATE_ACCENTS["done"],
    "error": STATE_ACCENTS["failed"],
    "cancelled": STATE_ACCENTS["stopped"],
}


def map_status_html(status: igogo.MapStatus) -> str:
    """A map's status as a themed table: one row per item, coloured by state."""
    cell = f"padding:0.1em 0.9em 0.1em 0;text-align:left;border-bottom:1px solid {BORDER}"
    head = "".join(
        f'<th style="{cell};{MUTED};font-weight:600">{h}</th>'
        for h in ("#", "item", "state", "attempts", "time", "error")
    )
    body = []
    for row in status:
        index, item, state, attempts, seconds, error = map(html.escape, status.cells(row))
        accent = _ITEM_ACCENTS.get(row.state, "inherit")
        body.append(
            f'<tr data-state="{state}">'
            f'<td style="{cell};{MUTED}">{index}</td>'
            f'<td style="{cell};{MONO}">{item}</td>'
            f'<td style="{cell};color:{accent};font-weight:600">● {state}</td>'
            f'<td style="{cell};font-variant-numeric:tabular-nums">{attempts}</td>'
            f'<td style="{cell};{MUTED};font-variant-numeric:tabular-nums">{seconds}</td>'
            f'<td style="{cell};color:{_ITEM_ACCENTS["error"]};{MONO}">{error}</td></tr>'
        )
    return (
        f'<div class="igogo-map-status" style="{FONT}">'
        f'<div style="{MUTED};margin-bottom:0.3em">{html.escape(status.summary())}</div>'
        f'<table style="border-collapse:collapse;background:transparent">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def register_formatters(shell: Any) -> None:
    """Show jobs, job lists and map status tables as HTML in this shell (idempotent)."""
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(igogo.Job, job_html)
    formatter.for_type(JobRecord, job_html)
    formatter.for_type(igogo.JobList, jobs_html)
    formatter.for_type(igogo.MapStatus, map_status_html)
