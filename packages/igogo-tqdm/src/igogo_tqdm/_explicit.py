"""``igogo_tqdm.tqdm`` and ``igogo_tqdm.trange``: job-aware bars without the plugin.

The class is ``tqdm.auto.tqdm`` (a widget in a notebook, text elsewhere) with
the job behaviour of :mod:`._bars` built in, so it works the same whether the
plugin is active, not yet active, or deactivated.  While the plugin is active
its wrappers on ``tqdm.std.tqdm`` already do the work, and the class only
passes each call on.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm as _auto_tqdm

from . import _bars

__all__ = ["tqdm", "trange"]


class tqdm(_auto_tqdm):  # type: ignore[misc]  # tqdm ships no types; the name users import
    """``tqdm.auto.tqdm`` whose bars, created inside an igogo job, belong to it.

    Each iteration and each ``update()`` of such a bar is a switch point
    (:func:`igogo.yielder`); see :mod:`igogo_tqdm`.
    """

    _igogo_explicit = True  # its bars keep this class's job handling, plugin or not

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _bars.patched:
            super().__init__(*args, **kwargs)
        else:
            _bars.init(self, super().__init__, args, kwargs)

    def __iter__(self) -> Any:
        it = super().__iter__()
        return it if _bars.patched else _bars.iterate(self, it)

    def update(self, n: Any = 1) -> Any:
        shown = super().update(n)
        if not _bars.patched:
            _bars.after_update(self)
        return shown

    @classmethod
    def _get_free_pos(cls, instance: Any = None) -> int:
        default = super()._get_free_pos
        if _bars.patched:
            return int(default(instance))
        return _bars.free_pos(cls, instance, lambda: default(instance))


def trange(*args: Any, **kwargs: Any) -> tqdm:
    """``igogo_tqdm.tqdm(range(*args), **kwargs)``."""
    return tqdm(range(*args), **kwargs)
