"""Hooks through which integrations follow jobs, isolated from each other.

An integration registers any object with some of the methods ``job_started``,
``switched_in``, ``switched_out`` and ``job_finished``; each takes the job.
Calls happen on the scheduler's thread, in the hub, never inside the job's own
greenlet.  A hook that raises is removed at once and the failure is logged on
the ``igogo`` logger: one broken integration never breaks the scheduler, the
job, or the other integrations.

A hook may also define ``take_display(job, obj)``: :func:`igogo.display` in a
job offers it each object first, and an object for which it returns True is
shown by the hook and not by the host (igogo-mpl shows figures this way).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final

from ._foreign import call, logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._job import Job

__all__ = ["EVENTS", "Hook", "Hooks", "logger"]

EVENTS: Final = ("job_started", "switched_in", "switched_out", "job_finished")
_METHODS: Final = (*EVENTS, "take_display")


class Hook:
    """The events a hook may follow; subclass it, or give any object some of these methods.

    A subclass registers only the events it overrides: the others cost nothing.

    Each is called on the scheduler's thread, in the hub (never inside the job's
    own greenlet), with the job.  ``take_display(job, obj)`` is offered every
    object :func:`igogo.display` is given in a job: return True when the hook
    has shown it itself (igogo-mpl shows figures this way).
    """

    def job_started(self, job: Job[Any]) -> None:
        """A job entered the scheduler (it has not run yet)."""

    def switched_in(self, job: Job[Any]) -> None:
        """The job is about to run a step."""

    def switched_out(self, job: Job[Any]) -> None:
        """The job's step is over: it yielded, parked or ended."""

    def job_finished(self, job: Job[Any]) -> None:
        """The job has ended (its state is final; its waiters have been woken)."""

    def take_display(self, job: Job[Any], obj: object) -> bool:
        """Whether this hook has shown ``obj`` for ``job`` itself."""
        return False


class Hooks:
    """The registered hooks, kept as one list of bound methods per event.

    The lists are what the hub iterates on every switch, so an event nobody
    listens to costs one truth test of an empty list.
    """

    def __init__(self) -> None:
        self.hooks: list[object] = []
        self.job_started: list[Callable[[Job[Any]], Any]] = []
        self.switched_in: list[Callable[[Job[Any]], Any]] = []
        self.switched_out: list[Callable[[Job[Any]], Any]] = []
        self.job_finished: list[Callable[[Job[Any]], Any]] = []
        self.take_display: list[Callable[[Job[Any], Any], Any]] = []

    @staticmethod
    def _methods(hook: object) -> list[tuple[str, Callable[..., Any]]]:
        return [
            (ev, m)
            for ev in _METHODS
            if callable(m := getattr(hook, ev, None))
            and getattr(type(hook), ev, None) is not getattr(Hook, ev)  # not overridden: no call
        ]

    @classmethod
    def _bound(cls, hook: object) -> list[tuple[Callable[..., Any]]]:
        return [(m,) for _, m in cls._methods(hook)]

    def _rebuild(self) -> None:
        for ev in _METHODS:
            getattr(self, ev)[:] = [m for h in self.hooks for e, m in self._methods(h) if e == ev]

    def add(self, hook: object) -> None:
        """Register ``hook``; it must define at least one of the events."""
        if not self._methods(hook):
            raise TypeError(f"{hook!r} is not a hook: it defines none of {', '.join(_METHODS)}")
        if all(h is not hook for h in self.hooks):
            self.hooks.append(hook)
            self._rebuild()

    def remove(self, hook: object) -> bool:
        """Unregister ``hook``; returns whether it was registered."""
        kept = [h for h in self.hooks if h is not hook]
        if len(kept) == len(self.hooks):
            return False
        self.hooks = kept
        self._rebuild()
        return True

    def call(self, methods: list[Callable[[Job[Any]], Any]], job: Job[Any]) -> None:
        """Call each method with ``job``; disable the hook of any that raises."""
        for m in tuple(methods):
            owner = self._owner(m)
            call(owner, _name(m), m, job, disable=functools.partial(self.remove, owner))

    def take_display_of(self, job: Job[Any], obj: object) -> bool:
        """Whether a hook's ``take_display(job, obj)`` has shown ``obj`` itself."""
        for m in tuple(self.take_display):
            owner = self._owner(m)
            ok, taken = call(
                owner, "take_display", m, job, obj, disable=functools.partial(self.remove, owner)
            )
            if ok and taken:
                return True
        return False

    def _owner(self, m: Callable[..., Any]) -> object:
        return next((h for h in self.hooks if (m,) in self._bound(h)), m)


def _name(m: Callable[..., Any]) -> str:
    return str(getattr(m, "__name__", "hook"))
