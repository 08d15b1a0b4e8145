"""Run a plugin's setup when a module gets imported, without importing it first.

Plugins such as igogo-mpl and igogo-tqdm must not import the library they
extend when they are activated (``import igogo`` and a script's jobs load no
plotting or progress-bar module).  :class:`ImportWatch` is a ``sys.meta_path``
finder that lets the import happen as usual and calls ``callback(module)`` once
the module has executed; the module keeps its own loader afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ._foreign import call

__all__ = ["ImportWatch"]


class ImportWatch:
    """Calls ``callback(module)`` right after module ``name`` is first imported.

    Insert it at the front of ``sys.meta_path`` to arm it and remove it to disarm
    it; it watches one module, and a loader it cannot follow is left alone.
    """

    def __init__(
        self, name: str, callback: Callable[[ModuleType], object], owner: str | None = None
    ) -> None:
        self.name = name
        self.callback = callback
        self.owner = owner or str(getattr(callback, "__module__", "") or "?").split(".")[0]
        """Who set the watch (a plugin's name): disabled and reported if the callback raises."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None  # a loader we cannot follow: the import goes on unwatched
        spec.loader = _WatchedLoader(spec.loader, self)
        return spec

    def disarm(self) -> None:
        """Stop watching (its callback is not called for imports that follow)."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)


class _WatchedLoader:
    def __init__(self, loader: Any, watch: ImportWatch) -> None:
        self.loader = loader
        self.watch = watch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            self.loader.exec_module(module)
        finally:  # the module keeps its real loader, not this wrapper
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader
        # The user's import has worked: a failing callback must not make it fail.
        watch = self.watch
        call(watch.owner, f"import hook for {watch.name}", watch.callback, module,
             disable=watch.disarm)  # fmt: skip
