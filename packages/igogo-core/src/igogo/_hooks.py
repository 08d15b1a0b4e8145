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

from ._foreign import call, failed, logger

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

    The lists are what the hub reads on every switch, so an event nobody listens
    to costs one truth test of an empty list, and a listened one a plain call
    per hook inside one ``try``.  A change of hooks builds new lists instead of
    editing them: a call running over the old list (a hook removing itself, or
    another, from inside an event) goes on undisturbed.
    """

    def __init__(self) -> None:
        self.hooks: list[object] = []
        self.job_started: list[Callable[[Job[Any]], Any]] = []
        self.switched_in: list[Callable[[Job[Any]], Any]] = []
        self.switched_out: list[Callable[[Job[Any]], Any]] = []
        self.job_finished: list[Callable[[Job[Any]], Any]] = []
        self.take_display: list[Callable[[Job[Any], Any], Any]] = []
        self._owners: dict[Callable[..., Any], object] = {}
        """The hook each bound method belongs to (bound methods hash by object and function)."""

    @staticmethod
    def _methods(hook: object) -> list[tuple[str, Callable[..., Any]]]:
        return [
            (ev, m)
            for ev in _METHODS
            if callable(m := getattr(hook, ev, None))
            and getattr(type(hook), ev, None) is not getattr(Hook, ev)  # not overridden: no call
        ]

    def _rebuild(self) -> None:
        found = [(h, self._methods(h)) for h in self.hooks]
        for ev in _METHODS:
            setattr(self, ev, [m for _, ms in found for e, m in ms if e == ev])
        self._owners = {m: h for h, ms in found for _, m in ms}

    def add(self, hook: object) -> None:
        """Register ``hook``; it must define at least one of the events."""
        if not self._methods(hook):
            raise TypeError(f"{hook!r} is not a hook: it defines none of {', '.join(_METHODS)}")
        if all(h is not hook for h in self.hooks):
            self.hooks = [*self.hooks, hook]
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
        """Call each method with ``job``; disable the hook of any that raises.

        On every switch: the methods are called directly, and only a failure
        goes through :func:`igogo._foreign.failed`.
        """
        for m in methods:
            try:
                m(job)
            except Exception as e:
                owner = self._owners.get(m, m)
                failed(owner, _name(m), m, e, functools.partial(self.remove, owner))

    def take_display_of(self, job: Job[Any], obj: object) -> bool:
        """Whether a hook's ``take_display(job, obj)`` has shown ``obj`` itself."""
        for m in self.take_display:
            owner = self._owners.get(m, m)
            ok, taken = call(
                owner, "take_display", m, job, obj, disable=functools.partial(self.remove, owner)
            )
            if ok and taken:
                return True
        return False


def _name(m: Callable[..., Any]) -> str:
    return str(getattr(m, "__name__", "hook"))
