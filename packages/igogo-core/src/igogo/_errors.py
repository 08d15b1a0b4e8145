"""Exceptions raised by igogo.

Two families live here.  :class:`Stop` is a ``BaseException`` delivered *inside*
a job to end it; user code should let it pass (``finally`` blocks and context
managers still run).  Everything else derives from :class:`IgogoError` and is
raised *to* the caller who did something igogo cannot do, with a message that
says what was wrong and what is allowed.

Two kinds of error are Python's own, as callers expect them from any library: a
bad argument is a :class:`TypeError` or :class:`ValueError` (checked by
``igogo._options.check_number`` and friends), and a wait that runs out of time
is the built-in :class:`TimeoutError`, which ``concurrent.futures`` raises too.
Where an igogo error is also one of Python's (a misuse is a ``RuntimeError``, an
unknown plugin a ``KeyError``), it derives from both.
"""

from __future__ import annotations

import os
from types import TracebackType

__all__ = [
    "BrokenExecutorError",
    "DeadlockError",
    "IgogoError",
    "JobTimeoutError",
    "MapError",
    "MisuseError",
    "NotInJobError",
    "Stop",
    "StoppedError",
    "UnknownPluginError",
    "WorkerDiedError",
    "WorkerError",
    "WorkerTraceback",
    "WrongThreadError",
    "error_text",
    "without_igogo_frames",
]


class Stop(BaseException):
    """Raised inside a job that is being stopped.

    It derives from ``BaseException`` so that ``except Exception`` in user code
    does not swallow it.  ``reason`` is ``"stopped"`` or ``"timed out"``.  A job
    that catches it and carries on is stopped again at its next switch point.
    """

    def __init__(self, reason: str = "stopped") -> None:
        super().__init__(reason)
        self.reason = reason


class IgogoError(Exception):
    """Base class of the errors igogo raises to its callers."""


class StoppedError(IgogoError):
    """The job was stopped, so it has no result and no exception."""


class JobTimeoutError(StoppedError):
    """The job ran longer than its ``timeout=`` and was stopped."""


class MisuseError(IgogoError, RuntimeError):
    """A call made where it cannot work: the message says where it can.

    Waiting for jobs inside a hook or a done callback, ``igogo.run()`` inside a
    job, changing the clock while jobs are alive.  Its subclasses name the
    common cases.
    """


class NotInJobError(MisuseError):
    """An operation that only makes sense inside a job was called outside one."""


class DeadlockError(MisuseError):
    """A wait that can never end, such as a job waiting for itself."""


class WrongThreadError(MisuseError):
    """A call that must run on the scheduler's thread came from another thread."""


class UnknownPluginError(IgogoError, KeyError):
    """No plugin of that name is active (the message lists those that are)."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class WorkerError(IgogoError):
    """Work given to a worker could not be done, for a reason other than the function raising.

    Its arguments or its result could not be pickled, the worker process died,
    or the executor cannot take work any more.  The message says which.
    """


class WorkerDiedError(WorkerError):
    """The worker process running the call died (killed, out of memory, crashed)."""


class BrokenExecutorError(WorkerError):
    """The executor was shut down or broke, and takes no more work."""


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker, as text.

    :func:`igogo.offload` raises the worker's own exception with this as its
    ``__cause__``, so the traceback printed in the notebook shows both the
    lines in the worker and where the job waited for it.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return "\n\n" + self.text.rstrip("\n")


class MapError(IgogoError):
    """Some items of an :func:`igogo.map` failed.

    ``errors`` maps each failed item's index to its exception; the first one is
    also this error's ``__cause__``.  ``MapJob.status()`` shows every item, and
    ``MapJob.restart()`` runs the failed ones again.
    """

    def __init__(self, message: str, errors: dict[int, BaseException]) -> None:
        super().__init__(message)
        self.errors = errors


def error_text(exc: BaseException | None, limit: int = 200) -> str:
    """An exception in one line (``ValueError: bad value``); never raises.

    An exception whose ``str()`` itself raises is described as Python's and
    IPython's tracebacks do (``<unprintable Unprintable object>``): a job's odd
    exception must never break the table, the rows or the output of others.
    """
    if exc is None:
        return ""
    name = type(exc).__name__
    try:
        lines = str(exc).strip().splitlines()
    except Exception:
        lines = [f"<unprintable {name} object>"]
    text = name + (f": {lines[0]}" if lines else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def without_igogo_frames(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` with igogo's own frames left out, as a user reads a job's traceback.

    A job's exception passes through igogo's machinery (the job's entry, the
    ``raise`` in ``result()`` that hands it to a waiter); those frames say
    nothing about the user's code.  Entries are rebuilt, frames are untouched.
    If every frame is igogo's (igogo itself failed), ``tb`` is kept whole.
    """
    kept = []
    entry = tb
    while entry is not None:
        if not entry.tb_frame.f_code.co_filename.startswith(_PACKAGE):
            kept.append(entry)
        entry = entry.tb_next
    if not kept:
        return tb
    if len(kept) == _length(tb):
        return tb
    rebuilt: TracebackType | None = None
    for entry in reversed(kept):
        rebuilt = TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def _length(tb: TracebackType | None) -> int:
    n = 0
    while tb is not None:
        n, tb = n + 1, tb.tb_next
    return n
