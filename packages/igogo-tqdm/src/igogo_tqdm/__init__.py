"""tqdm progress bars for igogo jobs: shown in the job's cell, a switch point per step.

Installed, this package is an igogo plugin (entry point ``igogo.plugins``,
name ``tqdm``), activated when the first job starts.  From then on every tqdm
bar created inside a job -- ``tqdm.tqdm``, ``tqdm.auto``, ``tqdm.notebook``,
``trange`` -- belongs to that job:

* each iteration (and each ``update()``) calls :func:`igogo.yielder`, so a plain
  ``for x in tqdm(data): ...`` in a job shares the kernel with your cells;
* in a notebook the bar is tqdm's widget, in the job's cell; a stopped or failed
  job leaves it red.  In a terminal it is tqdm's text bar, named after its job
  when several jobs draw bars;
* refreshes follow tqdm's own rate limit (``mininterval``, 0.1 s by default).

Bars created outside jobs are untouched.  ``from igogo_tqdm import tqdm, trange``
gives the same bars explicitly (``tqdm.auto`` underneath), whether or not the
plugin is active.  Importing this package imports no tqdm module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igogo.lowlevel import register_library

from ._plugin import TqdmPlugin

register_library(__name__)  # never split by preemption, even installed from a checkout

if TYPE_CHECKING:
    from ._explicit import tqdm, trange

__all__ = ["TqdmPlugin", "plugin", "tqdm", "trange"]

plugin = TqdmPlugin()
"""The object the ``igogo.plugins`` entry point names."""


def __getattr__(name: str) -> Any:
    # tqdm.auto (and in a kernel ipywidgets) load on first use, not with the plugin.
    if name in ("tqdm", "trange"):
        from . import _explicit

        return getattr(_explicit, name)
    raise AttributeError(f"module 'igogo_tqdm' has no attribute {name!r}")
