"""What makes a tqdm bar a job's bar: ownership, auto-yield, naming, the end of its job.

A bar created while a job runs belongs to that job (the job is kept on the bar
as ``bar._igogo_job``).  Then:

* every iteration of the bar, and every ``update()``, is a switch point: it
  calls :func:`igogo.yielder`, which costs one clock read until the job's time
  slice is over.  That is all a plain ``for x in tqdm(data)`` loop needs to
  share the kernel;
* the bar draws where tqdm draws, from inside the job: a notebook widget is
  displayed in the job's cell, a text bar writes to the job's ``sys.stderr``;
* text bars of different jobs that share one output (a terminal) are named:
  their description starts with the job's name.  Positions (the line a text
  bar draws on) are counted among the bars sharing that output only;
* when the job is stopped or fails, bars it left open are closed from its
  context: a notebook bar turns red (tqdm's ``danger`` style); an unfinished
  text bar stays where it stopped, and a one-line note below says why.

Bars created outside jobs are left alone: none of this touches them.  The
functions here are called by the plugin's wrappers around ``tqdm.std.tqdm``
(see :mod:`igogo_tqdm._plugin`) and by the explicit :class:`igogo_tqdm.tqdm`.

**Who handles a bar: a session.**  A bar is adopted through a :class:`Session`.
Bars of the explicit class belong to :data:`EXPLICIT`, which never ends: their
job's end is handled by a done callback, whatever the plugin does.  Every other
bar was adopted by the plugin's wrappers, in the session of the plugin's current
activation; that session hands the job's end to the plugin (its ``job_finished``
hook), keeps its state under its own key, and ends when the plugin is
deactivated.  A deactivated plugin thus leaves nothing behind that runs: its
hook is gone, its jobs' state is dropped, and a loop over one of its bars that
is still running stops yielding.
"""

from __future__ import annotations

import logging
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import igogo
from igogo import current_job, yielder
from igogo.lowlevel import current_host

__all__ = [
    "ATTR",
    "EXPLICIT",
    "PLUGIN_KEY",
    "JobBars",
    "Session",
    "after_update",
    "close_abnormal",
    "ended",
    "free_pos",
    "init",
    "iterate",
    "owner",
]

ATTR = "_igogo_job"
"""The bar attribute holding the job that owns the bar."""
_NAMED = "_igogo_named"
_SESSION = "_igogo_session"
_KEY = "igogo_tqdm"
PLUGIN_KEY = "igogo_tqdm.plugin"
"""Where the plugin keeps a job's bars (``job.host_data``), apart from the explicit class's."""
ABNORMAL = ("stopped", "failed", "timed out")
"""The end states whose bars are shown stopped: a red widget, or a note under a text bar."""
logger = logging.getLogger("igogo")

patched = False
"""Whether the plugin's wrappers are installed on ``tqdm.std.tqdm`` (then they do the work)."""


class Session:
    """Who adopted a bar: one activation of the plugin, or the explicit class (:data:`EXPLICIT`).

    ``key`` is where the session keeps a job's bars in ``job.host_data``;
    ``watch(job)`` is called once per job, with its first bar, to have the job's
    end handled.  While ``on`` is False the session's bars no longer yield.
    """

    __slots__ = ("key", "on", "watch")

    def __init__(self, key: str, watch: Callable[[igogo.Job[Any]], object]) -> None:
        self.key = key
        self.watch = watch
        self.on = True


class JobBars:
    """A job's bars (weakly: a finished loop's bar is freed as usual), and where to add notes."""

    __slots__ = ("bars", "maps", "streams")

    def __init__(self) -> None:
        self.bars: dict[int, weakref.ref[Any]] = {}
        self.maps: list[Any] = []
        """The bars of :func:`igogo.map` the plugin made in this job (see ``progress_bar``)."""
        self.streams: list[Any] = []
        """Outputs of the job's text bars left unfinished: a loop left early, a bar left open."""

    def unfinished(self, bar: Any) -> None:
        if not getattr(bar, "gui", True):
            target = output_of(bar)
            if all(s is not target for s in self.streams):
                self.streams.append(target)

    def add(self, bar: Any) -> None:
        if len(self.bars) >= 64:  # a job creating many short-lived bars: forget the freed ones
            self.bars = {k: r for k, r in self.bars.items() if r() is not None}
        self.bars[id(bar)] = weakref.ref(bar)

    def open_bars(self) -> list[Any]:
        bars = (r() for r in self.bars.values())
        return [b for b in bars if b is not None and not getattr(b, "disable", True)]


def owner(bar: Any) -> igogo.Job[Any] | None:
    """The job ``bar`` belongs to, or None."""
    job: igogo.Job[Any] | None = bar.__dict__.get(ATTR)
    return job


# -- creation ----------------------------------------------------------------------------------


def init(
    bar: Any,
    init_bar: Callable[..., None],
    args: tuple[Any, ...],
    kwargs: Any,
    session: Session | None = None,
) -> None:
    """Run ``init_bar(*args, **kwargs)`` (tqdm's ``__init__``); claim the bar in a job.

    ``session``: who adopts it (default :data:`EXPLICIT`).
    """
    if ATTR in bar.__dict__:  # claimed by an outer __init__ (the explicit class)
        init_bar(*args, **kwargs)
        return
    job = current_job()
    if job is None:
        init_bar(*args, **kwargs)
        return
    bar.__dict__[ATTR] = job  # before tqdm's __init__: positions are counted per output
    if session is not None and session is not EXPLICIT:
        bar.__dict__[_SESSION] = session
    init_bar(*args, **kwargs)
    adopt(bar, job, session or EXPLICIT)


def state_of(job: igogo.Job[Any], session: Session) -> JobBars:
    """The bars ``session`` adopted in ``job``; the first makes the session watch the job."""
    state: JobBars | None = job.host_data.get(session.key)
    if state is None:
        state = job.host_data[session.key] = JobBars()
        session.watch(job)
    return state


def adopt(bar: Any, job: igogo.Job[Any], session: Session) -> None:
    state = state_of(job, session)
    state.add(bar)
    if not getattr(bar, "disable", True) and not getattr(bar, "gui", True):
        _name_if_shared(bar, job, output_of(bar))


def output_of(bar: Any) -> Any:
    """The stream a text bar writes to, under tqdm's wrappers."""
    fp = bar.__dict__.get("fp")
    if fp is None:
        return None
    from tqdm.utils import ObjectWrapper

    while isinstance(fp, ObjectWrapper):
        fp = fp._wrapped
    return fp


def _screen(stream: Any) -> Any:
    """What ``stream`` draws on: a host may give each job a stream of its own on one screen.

    igogo-jupyter's terminal host does (each job's lines are kept apart above the
    prompt, so bar positions count per job), and says so with ``igogo_screen``.
    """
    return getattr(stream, "igogo_screen", stream)


def _name_if_shared(bar: Any, job: igogo.Job[Any], target: Any) -> None:
    """Prefix the job's name to the bars of different jobs drawing on one output (screen)."""
    screen = _screen(target)
    with bar.get_lock():
        mine = [
            b
            for b in list(bar._instances)
            if b.__dict__.get(ATTR) is not None
            and not getattr(b, "disable", True)
            and not getattr(b, "gui", True)
            and _screen(output_of(b)) is screen
        ]
    if all(owner(b) is job for b in mine):
        return
    for b in mine:
        if not b.__dict__.get(_NAMED):
            b.__dict__[_NAMED] = True
            name = owner(b).name  # type: ignore[union-attr]
            b.desc = f"{name}: {b.desc}" if b.desc else name


def free_pos(cls: Any, instance: Any, default: Callable[[], int]) -> int:
    """tqdm's ``_get_free_pos``, counting a job bar's neighbours on its own output only.

    In a kernel each job's text bars write to the job's own stream (its cell), so
    each cell's bars start at the top line; in a terminal every bar shares stderr
    and this is tqdm's own count.
    """
    if instance is None or instance.__dict__.get(ATTR) is None:
        return default()
    target = output_of(instance)
    taken = {
        abs(b.pos)
        for b in cls._instances
        if b is not instance and hasattr(b, "pos") and output_of(b) is target
    }
    return min(set(range(len(taken) + 1)).difference(taken))


# -- running -----------------------------------------------------------------------------------


def iterate(bar: Any, it: Iterator[Any]) -> Iterator[Any]:
    """``it`` (tqdm's iterator over the bar), with a switch point per item in a job."""
    job = bar.__dict__.get(ATTR)
    if job is None or current_job() is None:
        return it
    return _yielding(it, bar, job, bar.__dict__.get(_SESSION, EXPLICIT))


def _yielding(it: Iterator[Any], bar: Any, job: igogo.Job[Any], session: Session) -> Iterator[Any]:
    y = yielder
    complete = False
    try:
        for item in it:
            yield item
            if session.on:  # a loop running on past its plugin's deactivation: tqdm's own
                y()
        complete = True
    finally:
        close = getattr(it, "close", None)  # tqdm's generator: closes the bar as tqdm would
        if close is not None:
            close()
        record_final(bar)
        if not complete and session.on:  # left by an exception, a stop, a break
            state: JobBars | None = job.host_data.get(session.key)
            if state is not None:
                state.unfinished(bar)


def record_final(bar: Any) -> None:
    """In a headless run, a widget bar's final state as a text line in its job's output.

    nbclient and papermill drop what a job's widget sends after its cell finished;
    the job's text output is written into its cell at the job's end (igogo-jupyter,
    ``IGOGO_HEADLESS=1``).  Text bars are already there.  Called inside the job.
    """
    if "container" not in bar.__dict__ or current_job() is None:
        return  # a text bar, or outside a job
    if getattr(current_host(), "headless", None) is None:
        return
    try:
        sys.stderr.write(f"{bar}\n")
    except Exception:  # the bar's own formatting failed: the job goes on without the line
        logger.exception("igogo-tqdm could not record %r", bar)


def after_update(bar: Any) -> None:
    """The switch point after ``bar.update()``, for a job's bar inside a job."""
    if bar.__dict__.get(ATTR) is not None and current_job() is not None:
        yielder()


# -- the end of the job ------------------------------------------------------------------------


def ended(job: igogo.Job[Any], state: JobBars | None) -> None:
    """``job`` has ended: if it was stopped or failed, its open bars are closed, visibly."""
    if state is None or job.state not in ABNORMAL:
        return  # a finished job's bars stay as tqdm leaves them
    job.run_in_context(close_abnormal, job, state)


def _job_ended(job: igogo.Job[Any]) -> None:
    """Done callback of a job with bars of the explicit class."""
    ended(job, job.host_data.get(_KEY))


EXPLICIT = Session(_KEY, lambda job: job.add_done_callback(_job_ended))
"""The session of the explicit class's bars: it never ends, their job's end is its own."""


def close_abnormal(job: igogo.Job[Any], state: JobBars) -> None:
    """A stopped or failed job's open bars closed, visibly stopped (in the job's context)."""
    for bar in state.open_bars():
        try:
            show_stopped(bar)
            state.unfinished(bar)
            bar.close()
        except Exception:  # one broken bar (a closed stream, say) leaves the others be
            logger.exception("igogo-tqdm could not close %r of %r", bar, job)
    std = sys.modules.get("tqdm.std")
    if std is None:
        return
    note = stopped_note(job)
    for stream in state.streams:
        std.tqdm.write(note, file=stream)


def show_stopped(bar: Any) -> bool:
    """Turn a notebook bar red, kept in view; returns False for a text bar (it gets a note)."""
    if not hasattr(bar, "container"):  # tqdm.notebook's widget
        return False
    bar.disp(bar_style="danger", check_delay=False)
    return True


def stopped_note(job: igogo.Job[Any]) -> str:
    """The line written under a stopped or failed job's unfinished text bar."""
    return f"igogo: job {job.name!r} {job.state}; its progress bar stays where it stopped"
