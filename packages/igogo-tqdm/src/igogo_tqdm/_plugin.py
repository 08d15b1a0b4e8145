"""The igogo plugin: job-aware tqdm bars for every tqdm class, switched on and off.

igogo activates the plugin (entry point ``igogo.plugins``, name ``tqdm``) when
the first job of the process starts; importing :mod:`igogo_tqdm` does nothing.
Activation wraps four methods of ``tqdm.std.tqdm``, the base class of
``tqdm.tqdm``, ``tqdm.auto``, ``tqdm.notebook``, ``tqdm.asyncio`` and the rest:

* ``__init__``: a bar created inside a job belongs to it;
* ``__iter__``: such a bar's loop yields on every item (see :mod:`._bars`);
* ``update``: so does each manual ``update()``;
* ``_get_free_pos``: a job bar's text line is counted among the bars on its own
  output (each job's cell in a kernel).

Each wrapper first looks at the bar: a bar that belongs to no job goes straight
to tqdm's own method, so outside jobs tqdm behaves as it always does.

The end of a job that made bars through the wrappers is the plugin's business:
it is an igogo hook (``job_finished`` only, so it costs nothing per switch),
registered with the first such bar of a job.  Deactivation undoes everything:
the four original class attributes go back, the very objects; the hook is
removed; the plugin forgets the bars of jobs still running, and loops over them
stop yielding (their :class:`~igogo_tqdm._bars.Session` ends).  From then on no
code of the plugin runs, also when those jobs end.  Bars of the explicit class
(:class:`igogo_tqdm.tqdm`) keep their own handling, which needs no plugin.

If tqdm has not been imported yet, activation imports nothing: it waits for
``tqdm.std`` to be imported (a finder at the front of ``sys.meta_path``, removed
again at that import) and wraps the class the moment the module has run.

The plugin also makes the progress bars of :func:`igogo.map` (``progress_bar``,
which igogo asks its active plugins for): ``tqdm.auto`` bars counting items,
made in the map's job and so shown where its other output goes.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any

import igogo
from igogo import current_job, yielder
from igogo.lowlevel import ImportWatch, live_jobs

from . import _bars

__all__ = ["TqdmPlugin"]

WRAPPED = ("__init__", "__iter__", "update", "_get_free_pos")
"""The attributes of ``tqdm.std.tqdm`` the plugin replaces while it is active."""


def _wrappers(cls: type, saved: dict[str, Any], session: _bars.Session) -> dict[str, Any]:
    # What the class attribute gives (tqdm's __init__ is a partialmethod): the
    # wrappers carry its name, docstring and signature.
    as_found = {name: getattr(cls, name) for name in ("__init__", "_get_free_pos")}
    orig_init = saved["__init__"]
    orig_iter = _plain(saved["__iter__"])
    orig_update = _plain(saved["update"])
    orig_free_pos = saved["_get_free_pos"].__func__  # a classmethod
    init, iterate, free_pos, ATTR = _bars.init, _bars.iterate, _bars.free_pos, _bars.ATTR

    bind_init = orig_init.__get__  # tqdm's __init__ is a functools.partialmethod (envwrap)

    explicit = _bars.EXPLICIT

    @functools.wraps(as_found["__init__"])
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # The explicit class's bars stay its own, also while the plugin is active.
        own = explicit if getattr(self, "_igogo_explicit", False) else session
        init(self, bind_init(self, type(self)), args, kwargs, own)

    @functools.wraps(orig_iter)
    def __iter__(self: Any) -> Any:
        return iterate(self, orig_iter(self))

    @functools.wraps(orig_update)
    def update(self: Any, n: Any = 1) -> Any:
        shown = orig_update(self, n)
        if ATTR in self.__dict__ and current_job() is not None:  # _bars.after_update, inlined
            yielder()
        return shown

    @functools.wraps(as_found["_get_free_pos"])
    def _get_free_pos(cls: Any, instance: Any = None) -> int:
        return free_pos(cls, instance, lambda: orig_free_pos(cls, instance))

    return {
        "__init__": __init__,
        "__iter__": __iter__,
        "update": update,
        "_get_free_pos": classmethod(_get_free_pos),
    }


def _plain(attr: Any) -> Any:
    """``attr`` as a function of the instance (it is one in every tqdm release so far)."""
    if isinstance(attr, types.FunctionType):
        return attr
    return lambda self, *args: attr.__get__(self, type(self))(*args)


class TqdmPlugin:
    """``igogo_tqdm.plugin``: ``activate()`` makes tqdm job-aware, ``deactivate()`` undoes it."""

    def __init__(self) -> None:
        self.active = False
        self._cls: type | None = None
        self._saved: dict[str, Any] = {}
        self._watch: ImportWatch | None = None
        self._session: _bars.Session | None = None

    def activate(self) -> None:
        if self.active:
            return
        self.active = True
        std = sys.modules.get("tqdm.std")
        if std is not None and hasattr(std, "tqdm"):
            self._wrap(std)
        else:
            self._watch = ImportWatch("tqdm.std", self._imported)
            sys.meta_path.insert(0, self._watch)

    def deactivate(self) -> None:
        if not self.active:
            return
        self.active = False
        self._unwatch()
        cls = self._cls
        if cls is not None:
            for name, value in self._saved.items():
                setattr(cls, name, value)
            self._cls = None
            self._saved = {}
            _bars.patched = False
        session, self._session = self._session, None
        if session is not None:
            session.on = False
        igogo.remove_hook(self)
        for job in live_jobs():
            job.host_data.pop(_bars.PLUGIN_KEY, None)

    def job_finished(self, job: Any) -> None:
        """The igogo hook: a stopped or failed job's open bars turn red or get their note.

        Registered with a job's first bar made through the plugin; bars of the
        explicit class are handled by their own done callback instead.
        """
        state: _bars.JobBars | None = job.host_data.get(_bars.PLUGIN_KEY)
        if state is None:
            return
        _bars.ended(job, state)
        maps, state.maps = state.maps, []
        for bar in maps:
            _map_ended(bar, job)

    def _watch_job(self, job: Any) -> None:
        igogo.add_hook(self)  # once registered, this is a look through the hook list

    def progress_bar(self, *, total: int, desc: str) -> Any:
        """A bar for :func:`igogo.map`: ``tqdm.auto.tqdm(total=total, desc=desc, unit="item")``.

        igogo calls it inside the map's job, so the bar belongs to that job: a
        widget in the cell that started the map, tqdm's text bar elsewhere.  The
        map assigns ``total`` when items are submitted while it runs; the bar's
        widget grows with it.  A map that is stopped, times out or fails leaves
        its bar red, also when every item ran (failed items count as done).
        """
        bar = _map_bar_class()(total=total, desc=desc, unit="item")
        job = current_job()
        session = self._session
        if job is not None and session is not None:
            _bars.state_of(job, session).maps.append(bar)
        return bar

    @property
    def wrapped(self) -> bool:
        """Whether tqdm's class is wrapped now (False while waiting for tqdm's import)."""
        return self._cls is not None

    def _imported(self, module: Any) -> None:
        self._unwatch()
        if self.active and self._cls is None:
            self._wrap(module)

    def _unwatch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None and watch in sys.meta_path:
            sys.meta_path.remove(watch)

    def _wrap(self, std: Any) -> None:
        cls = std.tqdm
        saved = {name: cls.__dict__[name] for name in WRAPPED}
        session = self._session = _bars.Session(_bars.PLUGIN_KEY, self._watch_job)
        for name, value in _wrappers(cls, saved, session).items():
            setattr(cls, name, value)
        self._cls = cls
        self._saved = saved
        _bars.patched = True


_MAP_BAR: type | None = None


def _map_bar_class() -> type:
    """``igogo_tqdm.tqdm`` whose ``total`` can grow: the widget's maximum follows it.

    Made at the first map with a bar: importing tqdm waits until then.
    """
    global _MAP_BAR
    if _MAP_BAR is None:
        from ._explicit import tqdm

        class MapBar(tqdm):
            """A map's bar: ``igogo_tqdm.tqdm`` (``tqdm.auto``) with a settable ``total``."""

            @property
            def total(self) -> Any:
                return self.__dict__.get("_igogo_total")

            @total.setter
            def total(self, value: Any) -> None:
                self.__dict__["_igogo_total"] = value
                container = self.__dict__.get("container")  # a notebook widget, once made
                if container is not None and value is not None:
                    container.children[1].max = value

            def close(self) -> None:
                closed = self.disable  # tqdm marks a closed bar disabled
                super().close()
                if not closed:
                    _bars.record_final(self)

        _MAP_BAR = MapBar
    return _MAP_BAR


def _map_ended(bar: Any, job: Any) -> None:
    """At the end of a map's job: its bar ends as the bars of other jobs do.

    The map closes its bar itself before its job ends, so the plugin's own
    handling of a stopped or failed job's open bars (:mod:`._bars`) does not
    see it: a widget turns red here, and an unfinished text bar gets its note.
    """
    if job.state not in _bars.ABNORMAL:
        return
    shown = job.run_in_context(_bars.show_stopped, bar)  # a widget turns red
    if not shown and bar.__dict__.get("fp") is not None and bar.total and bar.n < bar.total:
        note = _bars.stopped_note(job)
        job.run_in_context(functools.partial(bar.write, note, file=_bars.output_of(bar)))
