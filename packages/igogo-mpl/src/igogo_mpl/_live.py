"""Live figures: a job's figures rendered into displays of their own in its cell, as they change.

A job draws in its own time, usually long after its cell has finished, so its
figures cannot wait for the inline backend's end-of-cell flush: each one gets a
display in the job's cell the first time something is drawn on it, and that
display is updated in place whenever the figure has changed since (its
``stale`` flag).  Rendering costs the job's own CPU, so a figure is rendered at
most once per :data:`Settings.interval`, and a figure slow to draw less often
still, so that drawing takes at most :data:`Settings.max_share` of the time.

Figures are checked whenever the job stops running (the cheap moment: the job
is between steps anyway) and, for a figure that changed too recently to be
rendered then, on a timer at the moment it falls due, so that a job that stops
drawing still shows its last state.  When the job ends each figure is rendered
once more, due or not.  A figure the job closed keeps its display and its last
render; a figure it borrowed from another party is that party's to show.

``igogo.display(fig)`` in a job renders ``fig`` at once into that same
display, and keeps it up to date while the job runs even when the job does not
show its figures by itself (``auto_display_figures=False``).

Renders go through the host's ``for_job``, so that the display lands in the
job's cell whichever cell runs at the moment; a headless host gets none of this
(see :mod:`igogo_mpl._headless`).
"""

from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any

from ._images import bundle, shows_itself
from ._lowlevel import DisplayHost, call_at, display_host, is_headless
from ._lowlevel import clock as _clock
from ._state import KEY, OWNER, JobFigures, Stats, View, figures_of, log_failure

if TYPE_CHECKING:
    from igogo import Job

__all__ = ["refresh", "show_now"]


def refresh(job: Job[Any], state: JobFigures, *, final: bool, showed: bool = False) -> None:
    """Render the job's figures that are new or changed and due (all, if ``final``).

    ``showed``: the job has just called ``plt.show()``, which showed and closed
    its figures the inline backend's way; their displays are then left as they are.
    """
    host = display_host()
    if host is None or is_headless(host):
        return
    auto = job.options.auto_display_figures
    views = state.views
    if auto:
        me = job.id
        for m in state.figs.values():
            fig = m.canvas.figure
            if fig not in views and getattr(m, OWNER, me) == me:  # not a borrowed one
                views[fig] = View(job)
    now = _clock()
    due = math.inf
    for fig, view in list(views.items()):
        if not view.explicit and not state.is_open(fig):
            # Closed by the job: its display keeps its last render, brought up to
            # date unless plt.show() (which shows and closes) just showed it.
            del views[fig]
            if showed or not view.shown or not fig.stale:
                continue
        elif not auto or (view.shown and not fig.stale):
            continue
        elif not view.shown and not fig.axes:
            continue  # an empty new figure: shown once something is drawn on it
        elif not final and (t := view.due()) > now:
            due = min(due, t)
            continue
        if shows_itself(fig):
            continue
        _render(host, job, fig, view)
        now = _clock()  # rendering takes time: the next figure is judged by the clock after it
    if not final and due < math.inf:
        _arm(job, state, due)


def show_now(job: Job[Any], fig: Any) -> bool:
    """``igogo.display(fig)`` in a job: ``fig`` gets (or updates) its own display.

    Returns False when no host shows things in cells: ``fig`` is then displayed
    as any other object.  A headless run records the figure for the job's end.
    """
    host = display_host()
    if host is None:
        return False
    state = figures_of(job)
    view = state.views.get(fig)
    if view is None:
        view = state.views[fig] = View(job, explicit=True)
    view.explicit = True
    if not is_headless(host):
        try:
            _render(host, job, fig, view)
        except Exception:
            log_failure(job)
    return True


def _arm(job: Job[Any], state: JobFigures, when: float) -> None:
    """Have the job's figures checked again at ``when`` (one timer per job, the earliest)."""
    timer = state.timer
    if timer is not None:
        if not timer.cancelled and timer.when <= when:
            return
        timer.cancel()
    state.timer = call_at(when, lambda: _on_timer(job))


def _on_timer(job: Job[Any]) -> None:
    state: JobFigures | None = job.host_data.get(KEY)
    if state is None or job.done():
        return
    state.timer = None
    try:
        refresh(job, state, final=False)
    except Exception:
        log_failure(job)


def _render(host: DisplayHost, job: Job[Any], fig: Any, view: View) -> None:
    """Draw ``fig`` and show it in (or update) its display in the job's cell."""
    start = time.perf_counter()
    cpu = time.thread_time()
    view.rendered_at = _clock()
    try:
        data, md = bundle(fig)
    except Exception as e:
        Stats.errors += 1
        fig.stale = False  # not again until it changes again
        host.for_job(job, _report, fig, e)
        return
    # Saving leaves a figure stale (it sets and resets its colours): it is
    # up to date now, and any change from here on marks it stale again.
    fig.stale = False
    host.for_job(job, _publish, data, md, view.display_id, view.shown)
    cost = time.perf_counter() - start
    if view.shown:  # a figure's first render is no guide (fonts, layout caches)
        view.cost = cost if not view.cost else (view.cost + cost) / 2
    view.shown = True
    Stats.renders += 1
    Stats.seconds += cost
    Stats.cpu_seconds += time.thread_time() - cpu


def _publish(data: dict[str, Any], md: dict[str, Any], display_id: str, update: bool) -> None:
    from IPython.display import display, update_display

    if update:
        update_display(data, raw=True, metadata=md, display_id=display_id)
    else:
        display(data, raw=True, metadata=md, display_id=display_id)


def _report(fig: Any, exc: BaseException) -> None:
    # In the job's cell, where the user looks for the figure, not in the kernel's log.
    print(f"igogo-mpl: could not draw {fig!r}: {exc!r}", file=sys.stderr)
