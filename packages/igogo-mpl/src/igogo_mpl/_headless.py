"""Headless runs: a job's final figures recorded in its own cell for nbclient and papermill.

Such clients record only the messages of the cell they are executing, so a
display a job sends to its own cell after that cell has finished is lost, and
live rendering would only waste the job's time.  igogo-jupyter's headless mode
(``IGOGO_HEADLESS=1``) already solves this for a job's text: it places empty
displays in the job's cell while that cell runs and fills them in when the job
ends, from whichever cell runs then.  Figures follow the same path: when a job
starts (in a run that has pyplot) it reserves one empty display in its cell,
and when it ends its final figures (the ones it made and the ones it showed
with ``igogo.display``) are rendered once, side by side, into that display.

Reserving and filling displays is igogo-jupyter's business: this module asks
the host's headless writer (``host.headless``: ``reserve(display_id)`` and
``update_displays(updates)``) and keeps no copy of that logic.  A headless
host without that writer gets no figures recorded.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ._images import Bundle, bundle, combine, shows_itself
from ._lowlevel import DisplayHost
from ._state import OWNER, JobFigures, Stats, figures_of

if TYPE_CHECKING:
    from igogo import Job

__all__ = ["HeadlessFigures"]

Update = tuple[str, dict[str, Any], dict[str, Any]]
"""A display id, and the data and metadata it is to show."""


class HeadlessFigures:
    """Reserves each job's figure display when it starts, and fills it in when it ends."""

    def job_started(self, host: DisplayHost, job: Job[Any]) -> None:
        """Reserve a display in the job's cell now, while that cell runs."""
        state = figures_of(job)
        state.placeholder = f"igogo-mpl-{job.id}-headless-{time.time_ns()}"
        reserve = getattr(getattr(host, "headless", None), "reserve", None)
        if reserve is not None:
            reserve(state.placeholder)
        else:
            state.placeholder = None  # a headless host that records no displays

    def job_finished(self, host: DisplayHost, job: Job[Any], state: JobFigures) -> None:
        """The job's final figures, all in its cell's placeholder."""
        if state.placeholder is None:
            return
        figs = [f for f, v in state.views.items() if v.explicit]
        if job.options.auto_display_figures:
            me = job.id
            figs += [m.canvas.figure for m in state.figs.values() if getattr(m, OWNER, me) == me]
        figs = [f for f in dict.fromkeys(figs) if not shows_itself(f)]  # each once, in order
        if not figs:
            return
        start, cpu = time.perf_counter(), time.thread_time()
        bundles: list[Bundle] = [bundle(f) for f in figs]
        data, md = bundles[0] if len(bundles) == 1 else combine(bundles)
        Stats.renders += len(figs)
        Stats.seconds += time.perf_counter() - start
        Stats.cpu_seconds += time.thread_time() - cpu
        updates: list[Update] = [(state.placeholder, data, md)]
        write = getattr(getattr(host, "headless", None), "update_displays", None)
        if write is not None:
            write(updates)
