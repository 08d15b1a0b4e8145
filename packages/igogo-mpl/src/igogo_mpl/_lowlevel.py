"""What the plugin needs from igogo beyond its public API, in one place.

The plugin follows jobs through public hooks (``igogo.add_hook``), and it also
needs a handful of things from ``igogo.lowlevel``: the jobs still alive (to
tell whether a figure's owner still has it open), the host driving them (to
know whether figures are shown in cells, and whether a run is headless), a
timer (to render a changing figure when the job holds the CPU for long), the
scheduler's clock that timer runs on, and an import watch (to do nothing at
all until pyplot exists).  This module is where the plugin takes them, and
where it registers the one job option it adds, ``auto_display_figures``.

A host that shows things in cells (igogo-jupyter's) is recognised by what it
can do, not by its class, so the plugin imports no Jupyter package.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from igogo import lowlevel
from igogo.lowlevel import ImportWatch, Timer

if TYPE_CHECKING:
    from collections.abc import Callable

    from igogo import Job

__all__ = [
    "DisplayHost",
    "ImportWatch",
    "Timer",
    "at_prompt",
    "call_at",
    "clock",
    "display_host",
    "is_headless",
    "live_job",
    "live_jobs",
]


class DisplayHost(Protocol):
    """A host that shows things in a job's cell (igogo-jupyter's ``JupyterHost``).

    It may also have ``headless`` (a true value in a headless run, for nbclient
    and papermill) and ``in_loop_tick`` (true while the host's loop, not a cell,
    drives the jobs); the plugin reads both with ``getattr``, as optional.
    """

    def for_job(self, job: Job[Any], fn: Callable[..., object], *args: Any) -> object:
        """Run ``fn(*args)`` so that what it displays goes to ``job``'s cell."""
        ...


def display_host() -> DisplayHost | None:
    """The host if it shows things in cells (the Jupyter host), else None (scripts)."""
    host: Any = lowlevel.current_host()
    return host if getattr(host, "for_job", None) is not None else None


def at_prompt() -> bool:
    """Whether regular code is a person at a prompt: the host says ``interactive = True``.

    igogo-jupyter's terminal host does.  There a finished job's figures are not
    handed to regular code, as in a script: the user's next ``plt.plot`` would
    draw on them.
    """
    return bool(getattr(lowlevel.current_host(), "interactive", False))


def is_headless(host: DisplayHost) -> bool:
    """Whether ``host`` runs headless: nothing live, a job's output written out at its end."""
    return bool(getattr(host, "headless", False))


def live_jobs() -> list[Job[Any]]:
    """The jobs that have not ended."""
    return lowlevel.live_jobs()


def live_job(job_id: int) -> Job[Any] | None:
    """The job with id ``job_id`` if it has not ended."""
    return next((j for j in lowlevel.live_jobs() if j.id == job_id), None)


def clock() -> float:
    """The scheduler's clock, the time base of :func:`call_at` (virtual under a MockClock)."""
    return lowlevel.clock()


def call_at(when: float, callback: Callable[[], object]) -> Timer:
    """Call ``callback()`` between job steps once :func:`clock` reaches ``when``."""
    return lowlevel.call_at(when, callback)


def register_options() -> None:
    """Register ``auto_display_figures`` (show a job's pyplot figures in its cell; idempotent)."""
    check = partial(lowlevel.check_flag, "auto_display_figures")
    lowlevel.register_option("auto_display_figures", True, check, owner="igogo-mpl")
