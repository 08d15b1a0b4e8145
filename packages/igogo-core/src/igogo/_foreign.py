"""Calling foreign code: hooks, plugins' import callbacks, timers, hand-overs, progress bars.

igogo calls code it does not own at many points, and that code may raise.
Whatever it raises must never break the scheduler, a job, the other
integrations or the user's own statement (an ``import tqdm`` that triggers a
plugin's setup).  Every such call goes through :func:`call`:

* an ``Exception`` is caught; the owner of the callable (a hook object, a
  plugin) is disabled through the ``disable`` it gave, the failure is logged
  once on the ``igogo`` logger with its traceback, and it is listed by
  :func:`igogo.plugins` from then on;
* ``KeyboardInterrupt``, ``SystemExit`` and ``GreenletExit`` pass through:
  they are not the foreign code's failures, and the callers decide (a job's
  ending keeps an interrupt for later, see :mod:`igogo._ending`).

Callables without an owner (a timer callback, a hand-over from a thread) are
isolated the same way; only their failure is logged, since there is nothing
to disable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

__all__ = ["call", "failed", "failures", "label", "logger"]

logger: Final = logging.getLogger("igogo")

failures: Final[dict[str, str]] = {}
"""Disabled owners, by label: what raised, shown by :func:`igogo.plugins`."""


def label(owner: object) -> str:
    """A stable, readable name for an owner: a plugin's name, or a hook's class."""
    if isinstance(owner, str):
        return owner
    cls = type(owner)
    return f"{cls.__module__}.{cls.__qualname__}"


def call(
    owner: object,
    what: str,
    fn: Callable[..., Any],
    *args: Any,
    disable: Callable[[], object] | None = None,
) -> tuple[bool, Any]:
    """Call ``fn(*args)`` for ``owner``; returns ``(True, value)`` or ``(False, None)``.

    On an exception ``disable()`` is called (itself isolated), and the failure
    is logged and recorded under the owner's :func:`label`.
    """
    try:
        return True, fn(*args)
    except Exception as e:
        failed(owner, what, fn, e, disable)
        return False, None


def failed(
    owner: object,
    what: str,
    fn: Callable[..., Any],
    e: Exception,
    disable: Callable[[], object] | None = None,
) -> None:
    """What :func:`call` does when ``fn`` raised ``e``; call it in the ``except`` block.

    For callers on a hot path that make the call themselves (the hooks on every
    switch) and come here only on a failure.
    """
    name = label(owner) if owner is not None else getattr(fn, "__qualname__", repr(fn))
    # Logged once per owner: a plugin named by a string may fail again later (its
    # bar, its import hook); a hook object is removed at its first failure.
    if not (isinstance(owner, str) and name in failures):
        if owner is not None:
            failures[name] = f"disabled: {what} raised {type(e).__name__}: {_safe_str(e)}"
        logger.exception(
            "igogo: %s of %s raised%s", what, name, "; disabled" if owner is not None else ""
        )
    if disable is not None:
        try:
            disable()
        except Exception:
            logger.exception("igogo: disabling %s after its failure raised too", name)


def _safe_str(e: BaseException) -> str:
    try:
        return str(e)
    except Exception:
        return f"<unprintable {type(e).__name__} object>"
