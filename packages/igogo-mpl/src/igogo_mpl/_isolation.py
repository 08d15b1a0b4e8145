"""Isolation: each job, and regular code as one more party, has a pyplot of its own.

pyplot keeps its figures in ``matplotlib._pylab_helpers.Gcf.figs``, an ordered
dict whose last entry is the current figure: that one dict is all there is to
"the current figure and axes".  So every party owns such a dict, and the
switch hooks install the job's while the job runs and put regular code's back
when it stops; ``plt.plot`` in a job then only ever sees the job's figures.  A
job's figures are in no other party's pyplot, so the inline backend never
flushes them into the cell that happens to run next.  The inline backend's
"figures to show after this cell" flags are swapped the same way, and a
``plt.show()`` in a job is seen by the list it leaves behind.

**Ownership.**  Whoever made a figure owns it: the party whose pyplot was
installed when pyplot registered it.  Another party can still make it current
(``plt.figure(fig)``, ``plt.sca(ax)``): pyplot then lists it in that party's
registry too, under its own number, and that party draws on it.  Such a
borrowed figure is never the borrower's: a job does not show it in its cell,
close it or hand it over when it ends, and a figure its owner has closed leaves
the borrower's pyplot too.  The owner is written on the figure's manager
(:data:`OWNER`: a job's id, or 0 for regular code) the first time a job's step
ends with the manager in its registry; regular code's figures carry no mark
until a job borrows one.

This runs on every switch of every job once pyplot exists, so the common path
is a few attribute reads: matplotlib's modules are looked up once and kept,
and the ownership checks run only for a job that has figures.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

from ._lowlevel import live_job
from ._state import KEY, OWNER, REGULAR, JobFigures, Registry, figures_of

if TYPE_CHECKING:
    from igogo import Job

__all__ = ["GCF_MODULE", "Pyplots", "close_own"]

GCF_MODULE: Final = "matplotlib._pylab_helpers"
"""pyplot's figure registry; pyplot imports it first."""


class Pyplots:
    """Installs the running job's pyplot in place of regular code's, and back."""

    def __init__(self) -> None:
        self.gcf: Any = None  # matplotlib._pylab_helpers.Gcf, once imported
        self.show: Any = None  # matplotlib_inline.backend_inline.show, once imported
        self.swapped = False  # a job's pyplot is installed (between switched_in and _out)
        self.outer_figs: Registry | None = None  # regular code's Gcf.figs meanwhile
        self.outer_draw: tuple[Any, bool] | None = None  # and its inline backend flags
        self.job_draw: Any = None  # the inline "to draw" list the running job got

    def find_gcf(self) -> Any:
        """``Gcf``, or None while pyplot has not been imported."""
        gcf = self.gcf
        if gcf is None:
            mod = sys.modules.get(GCF_MODULE)
            if mod is None:
                return None
            gcf = self.gcf = mod.Gcf
        return gcf

    def find_show(self) -> Any:
        """The inline backend's ``show``, or None while it has not been imported."""
        show = self.show
        if show is None:
            mod = sys.modules.get("matplotlib_inline.backend_inline")
            if mod is None:
                return None
            show = self.show = getattr(mod, "show", None)
        return show

    def regular_figs(self, gcf: Any) -> Registry:
        """Regular code's pyplot registry, also while a job's is installed."""
        if self.swapped and self.outer_figs is not None:
            return self.outer_figs
        figs: Registry = gcf.figs
        return figs

    def switched_in(self, job: Job[Any]) -> None:
        """Install ``job``'s pyplot and give it inline backend flags of its own."""
        gcf = self.gcf
        if gcf is None:
            gcf = self.find_gcf()
            if gcf is None:  # no pyplot yet: nothing to isolate
                return
        state = job.host_data.get(KEY) or figures_of(job)
        if state.borrowed:
            _forget_closed(job, state, gcf.figs)
        self.outer_figs = gcf.figs
        gcf.figs = state.figs
        self.swapped = True
        show = self.show
        if show is None:
            show = self.find_show()
        if show is not None:
            # The inline backend remembers figures made "in this cell" to show them
            # when the cell ends; what a job makes is none of the cell's business.
            self.outer_draw = (show._to_draw, show._draw_called)
            show._to_draw = self.job_draw = []
            show._draw_called = False

    def switched_out(self, job: Job[Any]) -> tuple[JobFigures, bool] | None:
        """Put regular code's pyplot back; the job's figures, and whether it called show().

        None if there was nothing to isolate (no pyplot, or a hook added mid-step).
        """
        if self.swapped:
            self.swapped = False
            gcf = self.gcf
            state = job.host_data.get(KEY) or figures_of(job)
            state.figs = gcf.figs
            gcf.figs = self.outer_figs
            self.outer_figs = None
            if state.figs:
                _claim(job, state, gcf.figs)
        else:
            if self.gcf is not None:
                return None  # pyplot was there, yet nothing was swapped: a hook added mid-step
            gcf = self.find_gcf()
            if gcf is None:
                return None
            # pyplot was imported during this step: every figure there is the job's.
            state = figures_of(job)
            state.figs = gcf.figs
            gcf.figs = OrderedDict()
            _claim(job, state, gcf.figs)
        showed = False
        if self.show is not None or self.find_show() is not None:
            showed = self.restore_draw_flags()
        return state, showed

    def uninstall(self, gcf: Any) -> Registry | None:
        """From inside a job: put regular code's pyplot back; the job's registry, if it was in."""
        if not self.swapped:
            return None
        self.swapped = False
        job_figs: Registry = gcf.figs
        gcf.figs, self.outer_figs = self.outer_figs, None
        self.restore_draw_flags()
        return job_figs

    def restore_draw_flags(self) -> bool:
        """Put regular code's inline backend flags back; True if the job called show()."""
        show = self.show or self.find_show()
        if show is None:
            return False
        # inline show() always replaces its list: that is how a job's plt.show() is seen.
        showed = self.job_draw is not None and show._to_draw is not self.job_draw
        saved, self.outer_draw, self.job_draw = self.outer_draw, None, None
        show._to_draw, show._draw_called = saved if saved is not None else ([], False)
        return showed


def close_own(owner: int, figs: Registry, outer: Registry) -> None:
    """Close the figures job ``owner`` made, as ``plt.close`` does, everywhere they are listed.

    ``figs`` is the job's registry, not installed; ``outer`` is regular code's.
    Its borrowed figures are left to their owners.  A figure of the job that
    regular code has made current leaves regular code's registry too; other
    jobs' registries drop it when they next run (:func:`_forget_closed`).
    """
    for manager in list(figs.values()):
        if getattr(manager, OWNER, owner) != owner:
            continue
        num = manager.num
        if outer.get(num) is manager:
            del outer[num]
        # What plt.close does besides leaving the registry: forget the figure's
        # "make me current on click" callback, and let the backend free the canvas.
        cid = getattr(manager, "_cidgcf", None)
        if cid is not None:
            manager.canvas.mpl_disconnect(cid)
        manager.destroy()
    figs.clear()


def _open_for(manager: Any, owner: int, outer: Registry) -> bool:
    """Whether ``manager`` is open in the pyplot of its owner (``outer``: regular code's)."""
    if owner == REGULAR:
        return outer.get(manager.num) is manager
    job = live_job(owner)
    state: JobFigures | None = None if job is None else job.host_data.get(KEY)
    return state is not None and state.figs.get(manager.num) is manager


def _claim(job: Job[Any], state: JobFigures, outer: Registry) -> None:
    """After a step of ``job``: mark the figures it made as its own; count the borrowed ones.

    A figure in the job's registry without a mark is regular code's if regular
    code has it open, else the job made it in this step.  A marked figure of
    another party is borrowed while that party has it open; one its owner had
    closed before the job made it current is the job's now (``plt.figure(fig)``
    reopens a closed figure, as in plain pyplot).
    """
    me = job.id
    borrowed = 0
    for manager in state.figs.values():
        owner = getattr(manager, OWNER, None)
        if owner == me:
            continue
        if owner is None:
            owner = REGULAR
        if _open_for(manager, owner, outer):
            borrowed += 1
            setattr(manager, OWNER, owner)
        else:
            setattr(manager, OWNER, me)
    state.borrowed = borrowed


def _forget_closed(job: Job[Any], state: JobFigures, outer: Registry) -> None:
    """Before a step of ``job``: drop the borrowed figures their owners have closed meanwhile."""
    me = job.id
    figs = state.figs
    gone = [
        num
        for num, m in figs.items()
        if (owner := getattr(m, OWNER, me)) != me and not _open_for(m, owner, outer)
    ]
    for num in gone:
        del figs[num]
    state.borrowed -= len(gone)
