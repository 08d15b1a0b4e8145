"""Plugins extend igogo: found through entry points, activated once, isolated.

The entry-point group ``igogo.plugins`` names objects with ``activate()`` and
``deactivate()`` (igogo-mpl, igogo-tqdm).  They are loaded and activated when
the first job finds its host, once per process, never at import.  A plugin
that fails to load or to activate is reported on the ``igogo`` logger, listed
by :func:`plugins` with what went wrong, and skipped; the jobs carry on.

A plugin may also make progress bars (:func:`progress_bar`, for
``igogo.map``); one whose bar method raises is skipped from then on.  The host
factories (group ``igogo.hosts``) are loaded by :mod:`igogo._hosts` through the
same :func:`load_entry_points`.
"""

from __future__ import annotations

import functools
from typing import Any

from . import _foreign as foreign
from ._errors import UnknownPluginError
from ._hooks import logger

__all__ = ["activate_plugins", "deactivate_plugin", "load_entry_points", "plugins", "progress_bar"]

_loaded = False
_active: dict[str, Any] = {}
"""Active plugins by entry-point name."""
_errors: dict[str, str] = {}
"""Plugins (and entry points) that failed or were deactivated: what happened."""
_no_bars: set[str] = set()
"""Plugins whose ``progress_bar`` raised: asked no more."""


def load_entry_points(group: str) -> list[tuple[str, Any]]:
    """Load every entry point of ``group``, by name; one that fails is reported and skipped."""
    from importlib.metadata import entry_points  # slow to import; needed once

    loaded = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            loaded.append((ep.name, ep.load()))
        except Exception as e:
            _errors[ep.name] = f"failed to load: {e!r}"
            logger.exception("igogo %s entry point %r failed to load", group, ep.name)
    return loaded


def activate_plugins() -> None:
    """Activate the installed plugins, the first time only (even if none is installed)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name, plugin in load_entry_points("igogo.plugins"):
        try:
            plugin.activate()
        except Exception as e:
            _errors[name] = f"failed to activate: {e!r}"
            logger.exception("igogo plugin %r failed to activate and is disabled", name)
        else:
            _active[name] = plugin


def plugins() -> dict[str, str]:
    """The igogo plugins found and their status: ``active``, ``deactivated`` or an error.

    Hooks and import callbacks that raised and were disabled are listed too, by
    their class (or plugin) name, with what raised.
    """
    status = dict(_errors)
    status.update((name, "active") for name in _active)
    status.update(foreign.failures)
    return status


def deactivate_plugin(name: str) -> None:
    """Deactivate an active plugin; it stays off for the rest of the process."""
    if name not in _active:
        known = ", ".join(sorted(_active)) or "none"
        raise UnknownPluginError(f"no active igogo plugin named {name!r}; active plugins: {known}")
    plugin = _active.pop(name)
    _errors[name] = "deactivated"
    plugin.deactivate()


def progress_bar(total: int, desc: str) -> Any:
    """A progress bar from the first active plugin that makes them (igogo-tqdm), or None.

    A plugin offers bars with a ``progress_bar(total=..., desc=...)`` method
    returning an object with ``update(n)``, ``refresh()`` and ``close()`` and a
    writable ``total``.  Called inside a job, so the bar belongs to it.  A
    plugin whose method raises is skipped from then on, and the error logged.
    """
    for name, plugin in list(_active.items()):
        make = getattr(plugin, "progress_bar", None)
        if make is None or name in _no_bars:
            continue
        ok, bar = foreign.call(
            name,
            "progress_bar",
            functools.partial(make, total=total, desc=desc),
            disable=functools.partial(_no_bars.add, name),
        )
        if ok:
            return bar
    return None
