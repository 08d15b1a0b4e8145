"""The plugin: each job gets its own pyplot, and its figures live in its own cell.

**Isolation.**  pyplot keeps its figures in ``matplotlib._pylab_helpers.Gcf.figs``,
an ordered dict whose last entry is the current figure.  Every party (each job,
and regular code as one more) owns such a dict; the switch hooks install the
job's dict while the job runs and put regular code's back when it stops, so
``plt.plot`` in a job only ever sees the job's figures.  A job's figures are in
no other party's pyplot, so the inline backend never flushes them into the cell
that happens to run next.  The inline backend's "figures to show after this
cell" flags are swapped the same way.  Until matplotlib's figure registry is
imported the plugin is not even a hook: it only watches for that import.

**Live figures.**  With a display host (the Jupyter kernel), a figure of a
job's pyplot is rendered into a display of its own in the job's cell when it is
new or has changed (its ``stale`` flag), at most once per :data:`Settings.interval`
seconds per figure, checked whenever the job stops running and on a timer; and
once more in its final state when the job ends, after which the job's figures
are closed.  ``igogo.display(fig)`` in a job renders ``fig`` into that same
display at once.  Without a display host (scripts) nothing is rendered, and a
finished job's figures join regular code's pyplot, open, to be saved.

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
"""

from __future__ import annotations

import itertools
import logging
import math
import sys
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import igogo
from igogo._hub import SCHED
from igogo._imports import ImportWatch

if TYPE_CHECKING:
    from igogo import Job

__all__ = ["PLUGIN", "JobFigures", "MplPlugin", "Settings", "Stats", "View", "bundle"]

logger = logging.getLogger("igogo")
_GCF_MODULE = "matplotlib._pylab_helpers"
KEY = "igogo_mpl"
"""Where a job's figures are kept: ``job.host_data[KEY]``."""
OWNER = "_igogo_mpl_owner"
"""The attribute of a figure manager that names its owner: a job's id, or :data:`REGULAR`."""
REGULAR = 0
"""The owner mark of regular code's figures (job ids start at 1)."""
_clock = time.monotonic
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
        self.figs: OrderedDict[Any, Any] = OrderedDict()
        self.borrowed = 0
        """How many of ``figs`` other parties own (as last counted when the job stopped)."""
        self.views: dict[Any, View] = {}
        self.timer: Any = None
        self.placeholder: str | None = None
        """Headless runs: the display in the job's cell its final figures go into."""

    def is_open(self, fig: Any) -> bool:
        """Whether ``fig`` is still one of the job's pyplot figures."""
        m = getattr(fig.canvas, "manager", None)
        return m is not None and self.figs.get(m.num) is m


def _figures_of(job: Job[Any]) -> JobFigures:
    state: JobFigures | None = job.host_data.get(KEY)
    if state is None:
        state = job.host_data[KEY] = JobFigures()
    return state


def _display_host() -> Any:
    """The host if it shows things in cells (the Jupyter host), else None."""
    host = SCHED.host
    return host if getattr(host, "for_job", None) is not None else None


def _shows_itself(fig: Any) -> bool:
    """Whether ``fig``'s canvas is interactive (a window, a widget): it needs no image."""
    cls = type(fig.canvas)
    if getattr(cls, "required_interactive_framework", None):
        return True
    module = cls.__module__
    return "nbagg" in module or "webagg" in module or "ipympl" in module


class MplPlugin:
    """The ``igogo.plugins`` entry point ``mpl``: a hook on every job."""

    def __init__(self) -> None:
        self.active = False
        self._gcf: Any = None  # matplotlib._pylab_helpers.Gcf, once imported
        self._show: Any = None  # matplotlib_inline.backend_inline.show, once imported
        self._swapped = False  # a job's pyplot is installed (between switched_in and _out)
        self._outer_figs: Any = None  # regular code's Gcf.figs meanwhile
        self._outer_draw: tuple[Any, bool] | None = None  # and its inline backend flags
        self._job_draw: Any = None  # the inline "to draw" list the running job got
        self._watch: ImportWatch | None = None
        self._pending: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # headless

    # -- the plugin --------------------------------------------------------------------

    def activate(self) -> None:
        """Hook into every job from the moment matplotlib's pyplot state exists.

        Until then the plugin costs nothing per switch: it only watches for that
        import (``matplotlib._pylab_helpers``, which pyplot imports first).
        """
        if self.active:
            return
        self.active = True
        if _GCF_MODULE in sys.modules:
            igogo.add_hook(self)
        else:
            self._watch = ImportWatch(_GCF_MODULE, self._imported)
            sys.meta_path.insert(0, self._watch)

    def _imported(self, module: object) -> None:
        self._unwatch()
        if self.active:
            # Possibly in the middle of a job's step: switched_out then finds that
            # pyplot arrived during the step, and gives what is there to the job.
            igogo.add_hook(self)

    def _unwatch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None and watch in sys.meta_path:
            sys.meta_path.remove(watch)

    def deactivate(self) -> None:
        """Stop isolating and showing; every job's figures join regular code's pyplot."""
        self._unwatch()
        igogo.remove_hook(self)
        self.active = False
        gcf = self._find_gcf()
        if gcf is None:
            return
        if self._swapped:  # called from a job: regular code's figures come back now
            self._swapped = False
            job_figs, gcf.figs = gcf.figs, self._outer_figs
            self._outer_figs = None
            me = igogo.current_job()
            self._merge(gcf, job_figs, me.id if me is not None else REGULAR)
            self._restore_draw_flags()
        for job in list(SCHED.live.values()):
            state = job.host_data.pop(KEY, None)
            if state is not None:
                if state.timer is not None:
                    state.timer.cancel()
                self._merge(gcf, state.figs, job.id)

    # -- finding matplotlib, cheaply ---------------------------------------------------------

    def _find_gcf(self) -> Any:
        gcf = self._gcf
        if gcf is None:
            mod = sys.modules.get(_GCF_MODULE)
            if mod is None:
                return None
            gcf = self._gcf = mod.Gcf
        return gcf

    def _find_show(self) -> Any:
        show = self._show
        if show is None:
            mod = sys.modules.get("matplotlib_inline.backend_inline")
            if mod is None:
                return None
            show = self._show = getattr(mod, "show", None)
        return show

    # -- hooks: isolation --------------------------------------------------------------

    def switched_in(self, job: Job[Any]) -> None:
        gcf = self._gcf
        if gcf is None:
            gcf = self._find_gcf()
            if gcf is None:  # no pyplot yet: nothing to isolate
                return
        state = job.host_data.get(KEY) or _figures_of(job)
        if state.borrowed:
            _forget_closed(job, state, gcf.figs)
        self._outer_figs = gcf.figs
        gcf.figs = state.figs
        self._swapped = True
        show = self._show
        if show is None:
            show = self._find_show()
        if show is not None:
            # The inline backend remembers figures made "in this cell" to show them
            # when the cell ends; what a job makes is none of the cell's business.
            self._outer_draw = (show._to_draw, show._draw_called)
            show._to_draw = self._job_draw = []
            show._draw_called = False

    def switched_out(self, job: Job[Any]) -> None:
        if self._swapped:
            self._swapped = False
            gcf = self._gcf
            state = job.host_data.get(KEY) or _figures_of(job)
            state.figs = gcf.figs
            gcf.figs = self._outer_figs
            self._outer_figs = None
            if state.figs:
                _claim(job, state, gcf.figs)
        else:
            if self._gcf is not None:
                return  # pyplot was there, yet nothing was swapped: a hook added mid-step
            gcf = self._find_gcf()
            if gcf is None:
                return
            # pyplot was imported during this step: every figure there is the job's.
            state = _figures_of(job)
            state.figs = gcf.figs
            gcf.figs = OrderedDict()
            _claim(job, state, gcf.figs)
        showed = False
        if self._show is not None or self._find_show() is not None:
            showed = self._restore_draw_flags()
        if state.figs or state.views:
            try:
                self._refresh(job, state, final=False, showed=showed)
            except Exception:
                _log_failure(job)

    def _restore_draw_flags(self) -> bool:
        """Put regular code's inline backend flags back; True if the job called show()."""
        show = self._show or self._find_show()
        if show is None:
            return False
        # inline show() always replaces its list: that is how a job's plt.show() is seen.
        showed = self._job_draw is not None and show._to_draw is not self._job_draw
        saved, self._outer_draw, self._job_draw = self._outer_draw, None, None
        show._to_draw, show._draw_called = saved if saved is not None else ([], False)
        return showed

    # -- hooks: showing ----------------------------------------------------------------

    def job_started(self, job: Job[Any]) -> None:
        host = _display_host()
        if host is None or not getattr(host, "headless", False):
            return
        if "matplotlib.pyplot" not in sys.modules:
            return
        # Headless clients (nbclient) record only the running cell: reserve a display
        # in the job's cell now, while that cell runs, for its figures at the end.
        from IPython.display import display

        state = _figures_of(job)
        state.placeholder = f"igogo-mpl-{job.id}-headless-{time.time_ns()}"
        display({"text/plain": ""}, raw=True, display_id=state.placeholder)

    def take_display(self, job: Job[Any], obj: object) -> bool:
        """``igogo.display(fig)`` in a job: the figure gets (or updates) its own display."""
        mod = sys.modules.get("matplotlib.figure")
        if mod is None or not isinstance(obj, mod.Figure):
            return False
        host = _display_host()
        if host is None:
            return False  # shown as any other object
        state = _figures_of(job)
        view = state.views.get(obj)
        if view is None:
            view = state.views[obj] = View(job, explicit=True)
        view.explicit = True
        if not getattr(host, "headless", False):
            try:
                self._render(host, job, obj, view)
            except Exception:
                _log_failure(job)
        return True

    def job_finished(self, job: Job[Any]) -> None:
        state: JobFigures | None = job.host_data.pop(KEY, None)
        if state is None:
            return
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        host = _display_host()
        try:
            if host is None:
                # Scripts: the figures stay open, for regular code to save.
                gcf = self._find_gcf()
                if gcf is not None:
                    self._merge(gcf, state.figs, job.id)
                return
            if getattr(host, "headless", False):
                self._write_headless(host, job, state)
            else:
                self._refresh(job, state, final=True)
        except Exception:
            _log_failure(job)
        finally:
            if host is not None:
                self._close_own(job.id, state.figs)
            state.figs = OrderedDict()
            state.views.clear()

    # -- rendering ---------------------------------------------------------------------

    def _refresh(
        self, job: Job[Any], state: JobFigures, *, final: bool, showed: bool = False
    ) -> None:
        """Render the job's figures that are new or changed and due (all, if ``final``)."""
        host = _display_host()
        if host is None or getattr(host, "headless", False):
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
            if _shows_itself(fig):
                continue
            self._render(host, job, fig, view)
            now = _clock()
        if not final and due < math.inf:
            self._arm(job, state, due)

    def _arm(self, job: Job[Any], state: JobFigures, when: float) -> None:
        timer = state.timer
        if timer is not None:
            if not timer.cancelled and timer.when <= when:
                return
            timer.cancel()
        state.timer = SCHED.call_at(when, lambda: self._on_timer(job))

    def _on_timer(self, job: Job[Any]) -> None:
        state: JobFigures | None = job.host_data.get(KEY)
        if state is None or job.done():
            return
        state.timer = None
        try:
            self._refresh(job, state, final=False)
        except Exception:
            _log_failure(job)

    def _render(self, host: Any, job: Job[Any], fig: Any, view: View) -> None:
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

    def _write_headless(self, host: Any, job: Job[Any], state: JobFigures) -> None:
        """Headless: the job's final figures, all in its cell's placeholder."""
        if state.placeholder is None:
            return
        auto = job.options.auto_display_figures
        figs = [v for v in state.views if state.views[v].explicit]
        if auto:
            me = job.id
            figs += [m.canvas.figure for m in state.figs.values() if getattr(m, OWNER, me) == me]
        figs = [f for f in dict.fromkeys(figs) if not _shows_itself(f)]
        if not figs:
            return
        start, cpu = time.perf_counter(), time.thread_time()
        bundles = [bundle(f) for f in figs]
        data, md = bundles[0] if len(bundles) == 1 else _combine(bundles)
        Stats.renders += len(figs)
        Stats.seconds += time.perf_counter() - start
        Stats.cpu_seconds += time.thread_time() - cpu
        # Sent from the cell running now (typically the one waiting for the jobs),
        # whose messages the client records, as the host sends a headless job's
        # text; a job that ends while no cell runs is written out by the next cell.
        update = (state.placeholder, data, md)
        if getattr(host, "in_loop_tick", False):
            if not self._pending:
                _shell().events.register("pre_run_cell", self._next_cell)
            self._pending.append(update)
        else:
            _send([update])

    def _next_cell(self, info: object = None) -> None:
        _shell().events.unregister("pre_run_cell", self._next_cell)
        pending, self._pending = self._pending, []
        _send(pending)

    # -- scripts -----------------------------------------------------------------------

    def _regular_figs(self, gcf: Any) -> OrderedDict[Any, Any]:
        """Regular code's pyplot registry, also while a job's is installed."""
        figs: OrderedDict[Any, Any] = self._outer_figs if self._swapped else gcf.figs
        return figs

    def _merge(self, gcf: Any, figs: OrderedDict[Any, Any], owner: int) -> None:
        """Hand the figures ``owner`` made to regular code, its current figure staying current.

        ``figs`` is the registry of the job ``owner``.  Figures it only borrowed
        stay their owners'; one that regular code has made current already is in
        its registry and keeps its place and number.  Numbers are per party, so a
        job's figure whose number regular code uses for another figure gets the
        next free one.  Regular code owns the figures from now on.
        """
        if not figs:
            return
        outer = self._regular_figs(gcf)
        own = [
            m
            for m in figs.values()
            if getattr(m, OWNER, owner) == owner and outer.get(m.num) is not m
        ]
        for m in figs.values():
            if getattr(m, OWNER, owner) == owner:
                setattr(m, OWNER, REGULAR)
        figs.clear()
        if not own:
            return
        merged: OrderedDict[Any, Any] = OrderedDict()
        top = max((n for n in (*outer, *(m.num for m in own)) if isinstance(n, int)), default=0)
        for manager in own:
            num = manager.num
            if num in outer or num in merged:
                top += 1
                num = manager.num = top
                manager.canvas.figure._number = top
            merged[num] = manager
        merged.update(outer)
        outer.clear()
        outer.update(merged)

    def _close_own(self, owner: int, figs: OrderedDict[Any, Any]) -> None:
        """Close the figures job ``owner`` made, as ``plt.close`` does, everywhere they are listed.

        ``figs`` is the job's registry, not installed.  Its borrowed figures are
        left to their owners.  A figure of the job that regular code has made
        current leaves regular code's registry too; other jobs' registries drop
        it when they next run (:func:`_forget_closed`).
        """
        gcf = self._find_gcf()
        outer = self._regular_figs(gcf) if gcf is not None else OrderedDict()
        for manager in list(figs.values()):
            if getattr(manager, OWNER, owner) != owner:
                continue
            num = manager.num
            if outer.get(num) is manager:
                del outer[num]
            cid = getattr(manager, "_cidgcf", None)
            if cid is not None:
                manager.canvas.mpl_disconnect(cid)
            manager.destroy()
        figs.clear()


def _open_for(manager: Any, owner: int, outer: OrderedDict[Any, Any]) -> bool:
    """Whether ``manager`` is open in the pyplot of its owner (``outer``: regular code's)."""
    if owner == REGULAR:
        return outer.get(manager.num) is manager
    job = SCHED.live.get(owner)
    state: JobFigures | None = None if job is None else job.host_data.get(KEY)
    return state is not None and state.figs.get(manager.num) is manager


def _claim(job: Job[Any], state: JobFigures, outer: OrderedDict[Any, Any]) -> None:
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


def _forget_closed(job: Job[Any], state: JobFigures, outer: OrderedDict[Any, Any]) -> None:
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


def bundle(fig: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The mime bundle and metadata of ``fig``, as IPython would display it.

    In a kernel with the inline backend that is IPython's figure formatter (PNG by
    default, whatever ``InlineBackend.figure_formats`` says otherwise); without a
    figure formatter (the Agg backend chosen in a kernel) a PNG made here.
    """
    ip = None
    if "IPython" in sys.modules:
        from IPython import get_ipython

        ip = get_ipython()
    if ip is not None:
        data, md = ip.display_formatter.format(fig)
        if any(k.startswith(("image/", "application/pdf")) for k in data) or not fig.axes:
            md = dict(md)
            inline = sys.modules.get("matplotlib_inline.backend_inline")
            fetch = getattr(inline, "_fetch_figure_metadata", None)
            extra = fetch(fig) if fetch is not None else None
            if extra:
                md.update(extra)
            return dict(data), md
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    return {"image/png": png, "text/plain": repr(fig)}, {}


def _combine(bundles: list[tuple[dict[str, Any], dict[str, Any]]]) -> tuple[dict, dict]:
    """One HTML display holding several figures (headless runs have one display per job)."""
    parts = []
    for data, _ in bundles:
        if "image/png" in data:
            parts.append(f'<img src="data:image/png;base64,{data["image/png"]}"/>')
        elif "image/jpeg" in data:
            parts.append(f'<img src="data:image/jpeg;base64,{data["image/jpeg"]}"/>')
        elif "image/svg+xml" in data:
            parts.append(str(data["image/svg+xml"]))
        else:
            import html

            parts.append(f"<pre>{html.escape(str(data.get('text/plain', '')))}</pre>")
    text = "\n".join(str(d.get("text/plain", "")) for d, _ in bundles)
    return {"text/html": "<div>" + "\n".join(parts) + "</div>", "text/plain": text}, {}


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def _send(updates: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    from IPython.display import update_display

    for did, data, md in updates:
        update_display(data, raw=True, metadata=md, display_id=did)


def _publish(data: dict[str, Any], md: dict[str, Any], display_id: str, update: bool) -> None:
    from IPython.display import display, update_display

    if update:
        update_display(data, raw=True, metadata=md, display_id=display_id)
    else:
        display(data, raw=True, metadata=md, display_id=display_id)


def _log_failure(job: Job[Any]) -> None:
    """Log the exception being handled: showing figures failed, the job goes on."""
    Stats.errors += 1
    logger.exception("igogo-mpl could not show the figures of %r", job)


def _report(fig: Any, exc: BaseException) -> None:
    print(f"igogo-mpl: could not draw {fig!r}: {exc!r}", file=sys.stderr)


PLUGIN = MplPlugin()
