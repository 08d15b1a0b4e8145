"""Exceptions raised by igogo.

Two families live here.  :class:`Stop` is a ``BaseException`` delivered *inside*
a job to end it; user code should let it pass (``finally`` blocks and context
managers still run).  Everything else derives from :class:`IgogoError` and is
raised *to* the caller who did something igogo cannot do, with a message that
says what was wrong and what is allowed.
"""

from __future__ import annotations

__all__ = [
    "DeadlockError",
    "IgogoError",
    "JobTimeoutError",
    "NotInJobError",
    "Stop",
    "StoppedError",
    "WrongThreadError",
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


class NotInJobError(IgogoError, RuntimeError):
    """An operation that only makes sense inside a job was called outside one."""


class DeadlockError(IgogoError, RuntimeError):
    """A wait that can never end, such as a job waiting for itself."""


class WrongThreadError(IgogoError, RuntimeError):
    """A call that must run on the scheduler's thread came from another thread."""
