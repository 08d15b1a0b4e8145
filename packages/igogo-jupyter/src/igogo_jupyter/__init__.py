"""igogo in Jupyter: jobs beside your cells, each printing into the cell that started it.

Installed, this package is found by ``igogo`` when the first job starts in a
kernel (entry point ``igogo.hosts``): ``import igogo`` and ``@igogo.job`` are
all a notebook needs.  ``%load_ext igogo`` (or ``igogo_jupyter``) adds the
``%%igogo`` and ``%igogo`` magics; ``%unload_ext`` removes them again.
Importing this package only registers the job options it understands
(``kind``, ``displays``, ``warn_rewrite``).

:func:`map_notebook` runs a notebook once per parameter set, with papermill, in
worker processes (``pip install 'igogo-jupyter[notebooks]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igogo.lowlevel import register_library

from ._kernel import KernelBridge
from ._options import KINDS, register

register()  # the job options this host understands (kind, displays, warn_rewrite)
register_library(__name__)  # never split by preemption, even installed from a checkout

if TYPE_CHECKING:
    from ._headless import JobsFailedError
    from ._host import JupyterHost
    from ._magic import IgogoMagics, parse_options
    from ._notebooks import NotebookRun, NotebookRunError, map_notebook

__all__ = [
    "KINDS",
    "IgogoMagics",
    "JobsFailedError",
    "JupyterHost",
    "KernelBridge",
    "NotebookRun",
    "NotebookRunError",
    "find_host",
    "load_ipython_extension",
    "map_notebook",
    "parse_options",
    "unload_ipython_extension",
]


def find_host() -> JupyterHost | None:
    """Entry point for ``igogo.hosts``: the kernel host, if this process is a kernel.

    Cheap outside a kernel: it imports nothing from IPython unless ipykernel runs.
    """
    bridge = KernelBridge.current()
    if bridge is None:
        return None
    from ._host import JupyterHost

    return JupyterHost(bridge)


def __getattr__(name: str) -> Any:
    # The IPython-heavy parts load on first use, not when igogo probes for a host.
    if name == "JupyterHost":
        from ._host import JupyterHost

        return JupyterHost
    if name == "JobsFailedError":
        from ._headless import JobsFailedError

        return JobsFailedError
    if name in ("IgogoMagics", "parse_options"):
        from . import _magic

        return getattr(_magic, name)
    if name in ("NotebookRun", "NotebookRunError", "map_notebook"):
        from . import _notebooks

        return getattr(_notebooks, name)
    raise AttributeError(f"module 'igogo_jupyter' has no attribute {name!r}")


_registered: dict[int, dict[str, dict[str, Any]]] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%%igogo`` and ``%igogo`` magics, remembering what they replace."""
    if id(ipython) in _registered:
        return
    table = ipython.magics_manager.magics
    _registered[id(ipython)] = {
        kind: {"igogo": table[kind]["igogo"]} if "igogo" in table[kind] else {}
        for kind in ("line", "cell")
    }
    from ._magic import IgogoMagics

    ipython.register_magics(IgogoMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and put back whatever was registered under their names before."""
    before = _registered.pop(id(ipython), None)
    if before is None:
        return
    table = ipython.magics_manager.magics
    for kind in ("line", "cell"):
        table[kind].pop("igogo", None)
        table[kind].update(before[kind])
