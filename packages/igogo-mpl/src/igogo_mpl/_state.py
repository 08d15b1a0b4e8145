"""What the plugin keeps: per job its pyplot and displays, over the process settings and counts.

Every concern of the plugin reads the same few things, so they live here and
nowhere else: a job's :class:`JobFigures` (its own pyplot registry, the display
of each figure it shows, its render timer, its headless placeholder), kept in
``job.host_data[KEY]`` so that it goes away with the job; the :data:`OWNER`
mark on a figure's manager that says whose figure it is; and the process-wide
:class:`Settings` and :class:`Stats` behind :func:`igogo_mpl.configure` and
:func:`igogo_mpl.stats`, which also count the failures to show a job's figures
(:func:`log_failure`: logged, counted, and the job goes on).

Figures and their managers are typed ``Any``: the plugin must not import
matplotlib before the user does, and it only touches a few attributes of each.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from igogo import Job

    from ._lowlevel import Timer

__all__ = [
    "KEY",
    "OWNER",
    "REGULAR",
    "JobFigures",
    "Registry",
    "Settings",
    "Stats",
    "View",
    "figures_of",
    "log_failure",
]

logger = logging.getLogger("igogo")

KEY: Final = "igogo_mpl"
"""Where a job's figures are kept: ``job.host_data[KEY]``."""
OWNER: Final = "_igogo_mpl_owner"
"""The attribute of a figure manager that names its owner: a job's id, or :data:`REGULAR`."""
REGULAR: Final = 0
"""The owner mark of regular code's figures (job ids start at 1)."""

Registry = OrderedDict[Any, Any]
"""A pyplot registry (``Gcf.figs``): figure number to manager, the current figure last."""

_ids = itertools.count(1)


class Settings:
    """The plugin's settings (see :func:`igogo_mpl.configure`)."""

    interval = 0.3
    """Minimum seconds between two renders of the same figure while its job runs."""
    max_share = 0.1
    """A figure that is slow to draw is drawn less often than every ``interval``: at most
    this share of the time goes into drawing it (judged by its previous renders)."""


class Stats:
    """Counters over the process: renders done and the seconds they took."""

    renders = 0
    seconds = 0.0
    cpu_seconds = 0.0
    errors = 0


class View:
    """One figure as a job shows it: its own display, and when it was last rendered."""

    __slots__ = ("cost", "display_id", "explicit", "rendered_at", "shown")

    def __init__(self, job: Job[Any], explicit: bool = False) -> None:
        # Unique across jobs, figures and kernel restarts: a client keys displays by id.
        self.display_id = f"igogo-mpl-{job.id}-{next(_ids)}-{time.time_ns()}"
        self.shown = False
        self.explicit = explicit
        """Shown by ``igogo.display(fig)``; such a figure need not be in the job's pyplot."""
        self.rendered_at = -math.inf
        self.cost = 0.0

    def due(self) -> float:
        """When this figure may be rendered again."""
        return self.rendered_at + max(Settings.interval, self.cost / Settings.max_share)


class JobFigures:
    """A job's pyplot (its ``Gcf.figs``) and the displays of its figures."""

    __slots__ = ("borrowed", "figs", "placeholder", "timer", "views")

    def __init__(self) -> None:
        self.figs: Registry = OrderedDict()
        self.borrowed = 0
        """How many of ``figs`` other parties own (as last counted when the job stopped)."""
        self.views: dict[Any, View] = {}
        self.timer: Timer | None = None
        self.placeholder: str | None = None
        """Headless runs: the display in the job's cell its final figures go into."""

    def is_open(self, fig: Any) -> bool:
        """Whether ``fig`` is still one of the job's pyplot figures."""
        m = getattr(fig.canvas, "manager", None)
        return m is not None and self.figs.get(m.num) is m

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def figures_of(job: Job[Any]) -> JobFigures:
    """The job's :class:`JobFigures`, made on first use."""
    state: JobFigures | None = job.host_data.get(KEY)
    if state is None:
        state = job.host_data[KEY] = JobFigures()
    return state


def log_failure(job: Job[Any]) -> None:
    """Log the exception being handled: showing figures failed, the job goes on."""
    Stats.errors += 1
    logger.exception("igogo-mpl could not show the figures of %r", job)
