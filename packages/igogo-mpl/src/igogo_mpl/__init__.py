"""Matplotlib for igogo jobs: each job its own pyplot, its figures live in its own cell.

Installed, this package is an igogo plugin (entry point ``igogo.plugins``,
name ``mpl``), activated when the first job starts: a notebook needs nothing
but ``import igogo``.  Importing it imports neither matplotlib nor IPython.

* Each job, and regular code as one more party, has its own pyplot current
  figure and axes: ``plt.plot`` in a job never lands on another job's figure or
  on the figure of the cell you are running, and the inline backend never
  shows a job's figures in another cell.
* In Jupyter, every figure a job draws with pyplot appears in the job's cell,
  in a display of its own updated in place at most every :func:`configure`
  ``interval`` seconds while it changes, and once more in its final state when
  the job ends; its figures are then closed.  ``@igogo.job(auto_display_figures=False)``
  turns this off; ``igogo.display(fig)`` in a job shows (or updates) one figure
  at once either way.
* In scripts (Agg or any non-interactive backend) nothing is shown: a finished
  job's figures join the script's pyplot, open, to be saved.  In terminal
  IPython they stay open in the job's own pyplot instead (:func:`figures`), so
  the user's next ``plt.plot`` never draws on a job's figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igogo.lowlevel import check_number, register_library

from ._lowlevel import register_options
from ._plugin import PLUGIN
from ._state import KEY, JobFigures, Settings, Stats

register_options()  # auto_display_figures, a job option only this plugin understands
register_library(__name__)  # never split by preemption, even installed from a checkout

if TYPE_CHECKING:
    from igogo import Job

__all__ = ["configure", "figures", "plugin", "stats"]

plugin = PLUGIN
"""The object the ``igogo.plugins`` entry point names (``activate()``, ``deactivate()``)."""


def configure(*, interval: float | None = None, max_share: float | None = None) -> dict[str, float]:
    """Read or change the settings; returns the settings now in force.

    ``interval``: the least number of seconds between two renders of the same
    figure while its job runs (0.3 by default).  ``max_share``: a figure that
    takes long to draw is drawn less often still, so that drawing it takes at
    most this share of the time (0.1 by default, judged by its last renders).
    """
    share = "must be a number > 0 and <= 1"
    if interval is not None:
        check_number("interval", interval, finite=True, unit="seconds")
    if max_share is not None:
        check_number("max_share", max_share, above=True, form=share)
        if max_share > 1:
            raise ValueError(f"max_share={max_share!r}: {share}")
    if interval is not None:  # nothing changes unless both are valid
        Settings.interval = float(interval)
    if max_share is not None:
        Settings.max_share = float(max_share)
    return {"interval": Settings.interval, "max_share": Settings.max_share}


def figures(job: Job[Any] | None = None) -> list[Any]:
    """The figures open in ``job``'s pyplot (default: the running job's, else regular code's).

    Regular code's own figures are ``plt.get_fignums()`` as usual; this is how
    it reaches a running job's figures (in terminal IPython, a finished job's too).
    """
    import sys

    import igogo

    me = igogo.current_job()
    if job is None:
        job = me
    mod = sys.modules.get("matplotlib._pylab_helpers")
    if mod is None:
        return []
    if job is None or job is me:  # the pyplot installed now
        managers = list(mod.Gcf.figs.values())
    else:
        state: JobFigures | None = job.host_data.get(KEY)
        managers = [] if state is None else list(state.figs.values())
    return [m.canvas.figure for m in managers]


def stats() -> dict[str, float]:
    """Renders done in this process, the seconds they took, and failures to show.

    ``render_seconds`` is wall time (drawing, encoding, sending the display message);
    ``render_cpu_seconds`` the CPU time of the same, on the thread that runs the jobs.
    """
    return {
        "renders": Stats.renders,
        "render_seconds": Stats.seconds,
        "render_cpu_seconds": Stats.cpu_seconds,
        "errors": Stats.errors,
    }
