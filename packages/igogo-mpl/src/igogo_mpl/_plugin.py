"""The plugin: one hook that follows every job and hands each event to the concern it serves.

igogo calls a hook on four events of a job's life and on ``igogo.display``.
Each event matters to more than one concern, in a fixed order: a job stopping
must first get its pyplot back out of the way (:mod:`~igogo_mpl._isolation`)
before its figures can be rendered (:mod:`~igogo_mpl._live`); a job ending
shows its figures one last time (live, or :mod:`~igogo_mpl._headless`) or
hands them to regular code (:mod:`~igogo_mpl._scripts`), and only then are they
closed.  That order is all this module knows; what each step does is in the
module of its concern, and what the plugin keeps is in :mod:`~igogo_mpl._state`.

Until matplotlib's figure registry is imported the plugin is not even a hook:
it only watches for that import, so that ``import igogo`` and jobs that never
plot pay nothing per switch.  A failure to show figures is logged and counted
(:func:`igogo_mpl.stats`); the job goes on, and so does the plugin.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import igogo

from ._headless import HeadlessFigures
from ._isolation import GCF_MODULE, Pyplots, close_own
from ._live import refresh, show_now
from ._lowlevel import ImportWatch, at_prompt, display_host, is_headless, live_jobs
from ._scripts import hand_over
from ._state import KEY, REGULAR, JobFigures, log_failure

if TYPE_CHECKING:
    from types import ModuleType

    from igogo import Job

__all__ = ["PLUGIN", "MplPlugin"]


class MplPlugin:
    """The ``igogo.plugins`` entry point ``mpl``: a hook on every job."""

    def __init__(self) -> None:
        self.active = False
        self.pyplots = Pyplots()
        self.headless = HeadlessFigures()
        self._watch: ImportWatch | None = None

    # -- the plugin --------------------------------------------------------------------

    def activate(self) -> None:
        """Hook into every job from the moment matplotlib's pyplot state exists.

        Until then the plugin costs nothing per switch: it only watches for that
        import (``matplotlib._pylab_helpers``, which pyplot imports first).
        """
        if self.active:
            return
        self.active = True
        if GCF_MODULE in sys.modules:
            igogo.add_hook(self)
        else:
            self._watch = ImportWatch(GCF_MODULE, self._imported)
            sys.meta_path.insert(0, self._watch)

    def _imported(self, module: ModuleType) -> None:
        self._unwatch()
        if self.active:
            # Possibly in the middle of a job's step: switched_out then finds that
            # pyplot arrived during the step, and gives what is there to the job.
            igogo.add_hook(self)

    def _unwatch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.disarm()

    def deactivate(self) -> None:
        """Stop isolating and showing; every job's figures join regular code's pyplot."""
        self._unwatch()
        igogo.remove_hook(self)
        self.active = False
        gcf = self.pyplots.find_gcf()
        if gcf is None:
            return
        job_figs = self.pyplots.uninstall(gcf)
        if job_figs is not None:  # called from a job: regular code's figures come back now
            me = igogo.current_job()
            hand_over(gcf.figs, job_figs, me.id if me is not None else REGULAR)
        for job in live_jobs():
            state: JobFigures | None = job.host_data.pop(KEY, None)
            if state is not None:
                state.cancel_timer()
                hand_over(gcf.figs, state.figs, job.id)

    # -- hooks -------------------------------------------------------------------------

    def switched_in(self, job: Job[Any]) -> None:
        self.pyplots.switched_in(job)

    def switched_out(self, job: Job[Any]) -> None:
        out = self.pyplots.switched_out(job)
        if out is None:
            return
        state, showed = out
        if state.figs or state.views:
            try:
                refresh(job, state, final=False, showed=showed)
            except Exception:
                log_failure(job)

    def job_started(self, job: Job[Any]) -> None:
        host = display_host()
        if host is None or not is_headless(host):
            return
        if "matplotlib.pyplot" not in sys.modules:
            return  # a job that plots imports pyplot in a cell that has already run
        self.headless.job_started(host, job)

    def take_display(self, job: Job[Any], obj: object) -> bool:
        """``igogo.display(fig)`` in a job: the figure gets (or updates) its own display."""
        mod = sys.modules.get("matplotlib.figure")
        if mod is None or not isinstance(obj, mod.Figure):
            return False
        return show_now(job, obj)

    def job_finished(self, job: Job[Any]) -> None:
        state: JobFigures | None = job.host_data.pop(KEY, None)
        if state is None:
            return
        state.cancel_timer()
        host = display_host()
        try:
            if host is None:
                if at_prompt():
                    # A person at a prompt (terminal IPython): their pyplot stays theirs, and
                    # the job's figures stay open in the job's, for igogo_mpl.figures(job).
                    kept = job.host_data[KEY] = JobFigures()
                    kept.figs = state.figs
                    return
                # Scripts: the figures stay open, for regular code to save.
                gcf = self.pyplots.find_gcf()
                if gcf is not None:
                    hand_over(self.pyplots.regular_figs(gcf), state.figs, job.id)
                return
            if is_headless(host):
                self.headless.job_finished(host, job, state)
            else:
                refresh(job, state, final=True)
        except Exception:
            log_failure(job)
        finally:
            if host is not None:
                gcf = self.pyplots.find_gcf()
                outer = self.pyplots.regular_figs(gcf) if gcf is not None else OrderedDict()
                close_own(job.id, state.figs, outer)
            state.figs = OrderedDict()
            state.views.clear()


PLUGIN = MplPlugin()
