"""The layer integrations build on: hooks, hosts, timers, import watches, options, bars.

``import igogo`` is for people who run jobs.  This module is for code that
extends igogo (a display host such as igogo-jupyter, a library plugin such as
igogo-mpl or igogo-tqdm, or your own): everything here is documented and kept
stable like the rest of the public API, and nothing outside ``igogo`` itself
may import igogo's private modules (``igogo._hub`` and friends; the project's
lint enforces it for its own packages).

What is here, by concern:

* **Following jobs**: :class:`Hook` (the events a hook may define),
  :func:`add_hook` / :func:`remove_hook`, :func:`hooks`, :func:`live_jobs`,
  :func:`failure` (a finished job's exception, without waiting or raising),
  :func:`error_line` (an exception in one line that never raises, for tables),
  :class:`JobRecord` (what stays of a job for display once it is gone) and
  :data:`JOB_ENTRY_CODES` (igogo's frames at the top of a job's traceback, for
  hosts that trim them).
* **Driving jobs**: :class:`Host`, :class:`AsyncioHost`, :class:`BlockingHost`,
  :func:`current_host`, and :func:`end_tick` (a host whose loop has work
  waiting takes it back at the next switch point, from any thread).
* **Time**: :func:`clock` (the scheduler's monotonic clock), :func:`call_at`
  and the :class:`Timer` it returns.
* **Extending lazily**: :class:`ImportWatch` (run setup code right after a
  library is first imported, without importing it first), and
  :func:`register_option` (options a job accepts on your behalf), whose checks
  can use :func:`check_number` and :func:`check_flag`, the ones igogo's own
  options use: the same rules and the same message form.
* **Progress**: :func:`progress_bar`, which asks the active plugins for a bar.
* **Preemption**: :func:`register_library` (your package is library code, never
  split by preemption, even when installed in editable mode) and
  :func:`calls_user_code` (a function of yours that only runs the user's code:
  preemption looks through its frame).

Hooks, import callbacks, timer callbacks and bar methods are foreign code to
igogo: one that raises is disabled, logged once on the ``igogo`` logger and
listed by :func:`igogo.plugins`; it never breaks a job or the user's import.
"""

from __future__ import annotations

from types import CodeType
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

from . import _distribution, _hub
from ._api import add_hook, remove_hook
from ._errors import error_text as error_line
from ._hooks import Hook
from ._hosts import AsyncioHost, BlockingHost, Host
from ._hub import SCHED, Timer
from ._imports import ImportWatch
from ._job import Job
from ._options import JobOptions, OptionSpec, check_flag, check_number, register_option
from ._plugins import progress_bar
from ._record import JobRecord
from ._usercode import add_library, add_passthrough

if TYPE_CHECKING:
    from collections.abc import Callable

# Integrations import this module: when the `igogo` package is not igogo-core's (the original
# igogo installed over it, or `pip uninstall igogo` took its __init__.py), say so and how to fix.
_distribution.require_igogo_core_package()

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "JOB_ENTRY_CODES",
    "AsyncioHost",
    "BlockingHost",
    "Hook",
    "Host",
    "ImportWatch",
    "JobOptions",
    "JobRecord",
    "OptionSpec",
    "Timer",
    "add_hook",
    "call_at",
    "calls_user_code",
    "check_flag",
    "check_number",
    "clock",
    "current_host",
    "end_tick",
    "error_line",
    "failure",
    "hooks",
    "live_jobs",
    "progress_bar",
    "register_library",
    "register_option",
    "remove_hook",
]


JOB_ENTRY_CODES: Final[frozenset[CodeType]] = frozenset({Job._run.__code__})
"""Code of igogo's frames that start every job's traceback (hosts trim them)."""


def live_jobs() -> list[Job[Any]]:
    """The jobs that have not ended, oldest first."""
    return sorted(SCHED.live.values(), key=lambda j: j.id)


def hooks() -> list[object]:
    """The hooks attached now, in the order they are called: those of :func:`add_hook`,
    of the active plugins and of the host.  A hook that raised is no longer here."""
    return list(SCHED.hooks.hooks)


def failure(job: Job[Any]) -> BaseException | None:
    """The exception a failed job ended with; None for every other job, never waiting."""
    return job._exception


def current_host() -> Host | None:
    """The host driving the jobs now (None while no job exists)."""
    return SCHED.host


def end_tick() -> None:
    """End the running tick at the next switch point: the host gets its loop back.

    For a host that learns, on a thread of its own, that its loop has work
    waiting (a kernel that received a request while jobs spin): the running
    job's slice ends now, cooperative and preemptible jobs alike, and the tick
    returns instead of running the next job; only jobs that have not taken
    their first step yet still take it, up to their first switch point.  Safe
    from any thread; a no-op while no tick runs (the next one runs normally).
    """
    SCHED.end_tick()


def clock() -> float:
    """The scheduler's clock: monotonic seconds, the time base of :func:`call_at`."""
    return _hub._clock()


def call_at(when: float, callback: Callable[[], object]) -> Timer:
    """Call ``callback()`` on the scheduler's thread once :func:`clock` reaches ``when``.

    It runs between job steps; the returned :class:`Timer`'s ``cancel()`` drops
    it (and what it holds) at once.  Call it on the thread that runs the jobs.
    """
    SCHED.check_thread("igogo.lowlevel.call_at()")
    return SCHED.call_at(when, callback)


def register_library(package: str) -> None:
    """Count the imported package ``package`` as library code for preemption.

    A preemptible job is never switched out inside library code.  Files in
    site-packages already are; this makes your package library code wherever it
    is installed (an editable install from a checkout is otherwise user code),
    whatever the user's ``preempt_include`` says.  An integration calls it at
    import with its top-level package's name.  ``ValueError`` if ``package`` is
    not an imported package.
    """
    if not isinstance(package, str):
        raise TypeError(f"register_library() takes a package name (str); got {package!r}")
    add_library(package)


def calls_user_code(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark ``fn`` as a function that only runs the user's code it is handed.

    A preemptible job is switched out in user code only if no library frame is
    below it; ``fn``'s own frame (library code) then does not count, as the
    job's entry frame does not.  Use it for a function that calls the user's
    code and holds nothing around the call (no lock, no context manager, no
    state to restore): an integration's ``exec`` of a cell, for one.  Returns
    ``fn`` unchanged.
    """
    code = getattr(fn, "__code__", None)
    if not isinstance(code, CodeType):
        raise TypeError(f"calls_user_code() takes a Python function; got {fn!r}")
    add_passthrough(code)
    return fn
