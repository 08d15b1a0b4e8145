"""Headless runs: every job's output ends up in its own cell, and a failed job fails the run.

nbclient, papermill and ``jupyter nbconvert --execute`` record only the
messages of the cell they are executing, so anything a job sends to its own
cell after that cell finished is dropped.  With ``IGOGO_HEADLESS=1`` in the
kernel's environment a job streams nothing live.  Instead, while its cell
still runs, it places one empty display in that cell.  When the job ends, the
text it printed (rendered as Markdown or HTML for ``kind='markdown'``/``'html'``
jobs; its traceback, without colour codes, if it failed) and the last content of
each of its display slots are sent as one update of that display (several
parts: plain text, and HTML stacking them), from the cell running at that moment (typically
``igogo.wait_all()``); the runner applies them to the job's own cell, whatever
cell it is executing.  A job that ends while no cell runs is written out when
the next cell starts.

**A failed job fails the run.**  A runner learns that a cell failed from the
reply to its request, and a job's cell has long replied.  So the next cell to
finish after a job failed (typically the one waiting for the jobs) fails with
:class:`JobsFailedError`, naming the failed jobs: papermill and ``nbconvert
--execute`` stop and exit non-zero, as for a failing cell.  The error is set on
the cell's execution result in IPython's ``post_run_cell`` event, which
ipykernel reads to answer the request.  ``IGOGO_HEADLESS_FAIL=0`` only records
the tracebacks, and the run goes on.

**Without IGOGO_HEADLESS.**  Such runners send ``allow_stdin=False``;
interactive clients send True.  A job started by a request that allows no
input, in a kernel without ``IGOGO_HEADLESS``, gets a warning once in its cell:
its later output would be lost, and how to keep it.
"""

from __future__ import annotations

import html
import os
import re
from typing import TYPE_CHECKING, Any

import igogo

if TYPE_CHECKING:
    from igogo import Job

    from ._host import JobOutput, JupyterHost

__all__ = ["Headless", "JobsFailedError", "warn_if_unattended"]

Update = tuple[str, dict[str, Any], dict[str, Any]]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class JobsFailedError(igogo.IgogoError):
    """Raised in a headless run's cell after jobs failed: the run fails as a failing cell's would.

    ``failures`` lists ``(job name, cell number, error line)`` for each failed job.
    """

    def __init__(self, failures: list[tuple[str, object, str]]) -> None:
        self.failures = failures
        listed = "; ".join(
            f"{name!r} (cell [{origin}]): {error}" if origin is not None else f"{name!r}: {error}"
            for name, origin, error in failures
        )
        n = len(failures)
        super().__init__(
            f"{n} igogo job{'s' if n != 1 else ''} failed: {listed}. Each traceback is in the "
            "job's own cell; IGOGO_HEADLESS_FAIL=0 records them without failing the run"
        )


class Headless:
    """The headless policy of one :class:`JupyterHost`."""

    def __init__(self, host: JupyterHost) -> None:
        self.host = host
        self.pending: list[Update] = []
        self.failed: list[tuple[str, object, str]] = []
        self.fail_run = os.environ.get("IGOGO_HEADLESS_FAIL", "") != "0"

    def adopt(self, out: JobOutput) -> None:
        """Place the job's one empty display in the cell that starts it.

        One, not one per slot: a runner keeps every display a cell made, and one a
        job never fills would stay there empty.  Its slots are written into it.
        """
        self.reserve(out.headless_id)
        out.shown = [True] * len(out.slot_ids)

    def reserve(self, display_id: str) -> None:
        """Place an empty display in the running cell, to be filled by :meth:`update_displays`.

        Integrations with displays of their own in a job's cell (igogo-mpl's
        final figures) use this and :meth:`update_displays` through the host's
        ``headless`` attribute.
        """
        from IPython.display import display

        display({"text/plain": ""}, raw=True, display_id=display_id)

    def record(self, out: JobOutput, slot: int, obj: Any) -> None:
        """Keep what ``igogo.display`` put into ``slot``, to be written out at the end."""
        data, metadata = self.host.bridge.shell.display_formatter.format(obj)
        out.slot_content[slot] = (data, metadata)

    def failure(self, job: Job[Any], out: JobOutput, traceback_text: str) -> None:
        """Write a failed job out with its traceback, and fail the next cell to finish."""
        out.tail.add(_ANSI.sub("", traceback_text))
        self.write_out(job, out)
        if self.fail_run:
            error = igogo.lowlevel.error_line(igogo.lowlevel.failure(job))
            if not self.failed:
                self.host.bridge.shell.events.register("post_run_cell", self._fail_cell)
            self.failed.append((job.name, job.origin, error))

    def write_out(self, job: Job[Any], out: JobOutput) -> None:
        """Send the job's text and slots now, or at the next cell if none runs now."""
        text = _text_bundle(job, out)
        parts = [text] if any(text.values()) else []
        parts += [data for _, (data, _md) in sorted(out.slot_content.items())]
        bundle = parts[0] if len(parts) == 1 else _stacked(parts)
        self.update_displays([(out.headless_id, bundle, {})])

    def update_displays(self, updates: list[Update]) -> None:
        """Send these display updates now, or when the next cell starts if no cell runs now."""
        if self.host.in_loop_tick:
            if not self.pending:
                self.host.bridge.shell.events.register("pre_run_cell", self._next_cell)
            self.pending += updates
        else:
            self._send(updates)

    def _next_cell(self, info: object = None) -> None:
        self.host.bridge.shell.events.unregister("pre_run_cell", self._next_cell)
        updates, self.pending = self.pending, []
        self._send(updates)

    def _fail_cell(self, result: Any) -> None:
        """``post_run_cell``: make the cell that just ran fail with the jobs' failures."""
        shell = self.host.bridge.shell
        shell.events.unregister("post_run_cell", self._fail_cell)
        failures, self.failed = self.failed, []
        if result is None or not failures:
            return
        if result.error_before_exec is not None or result.error_in_exec is not None:
            return  # the cell failed by itself: the run stops there anyway
        error = JobsFailedError(failures)
        shell.showtraceback((JobsFailedError, error, None))
        result.error_in_exec = error  # ipykernel answers the request from this

    @staticmethod
    def _send(updates: list[Update]) -> None:
        from IPython.display import update_display

        for did, data, metadata in updates:
            update_display(data, raw=True, metadata=metadata, display_id=did)


def _final(text: str) -> str:
    """Each line as a terminal leaves it: what follows its last ``\\r`` (a text bar's redraws)."""
    if "\r" not in text:
        return text
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _text_bundle(job: Job[Any], out: JobOutput) -> dict[str, Any]:
    """The job's text as its cell should keep it: plain, or rendered for rich kinds."""
    kind = job.options.kind
    rich = out.rich_tail
    if kind == "text" or rich is None:
        return {"text/plain": _final(out.tail.text())}
    source, rest = rich.text(), _final(out.tail.text())  # stdout; stderr and the traceback
    plain = source + rest
    if kind == "markdown":
        extra = f"\n\n```\n{rest}```\n" if rest else ""
        return {"text/markdown": source + extra, "text/plain": plain}
    extra = f"<pre>{html.escape(rest)}</pre>" if rest else ""
    return {"text/html": source + extra, "text/plain": plain}


def _stacked(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several bundles as one display: their texts in turn, and HTML stacking them."""
    if not parts:
        return {"text/plain": ""}
    plain = "\n".join(str(p.get("text/plain", "")) for p in parts)
    return {"text/plain": plain, "text/html": "".join(_as_html(p) for p in parts)}


def _as_html(part: dict[str, Any]) -> str:
    if "text/html" in part:
        return f"<div>{part['text/html']}</div>"
    for mime in ("image/png", "image/jpeg"):
        if mime in part:
            return f'<div><img src="data:{mime};base64,{part[mime]}"/></div>'
    text = part.get("text/markdown") or part.get("text/plain", "")
    return f"<pre>{html.escape(str(text))}</pre>"


_warned = False


def warn_if_unattended(host: JupyterHost) -> None:
    """Warn once, in the running cell, if a runner that drops late output runs this kernel."""
    global _warned
    if _warned or host.headless is not None or host.bridge.allows_input():
        return
    _warned = True
    import warnings

    warnings.warn(
        "igogo: this notebook runs unattended (its client allows no input, as nbclient, "
        "papermill and nbconvert --execute do), and such runners keep only the output of "
        "the cell they are running: what a job prints after its cell finished is lost. "
        "Start the kernel with IGOGO_HEADLESS=1 (for example IGOGO_HEADLESS=1 papermill ...) "
        "and end the notebook with igogo.wait_all() to keep every job's output in its cell",
        RuntimeWarning,
        stacklevel=2,
    )
