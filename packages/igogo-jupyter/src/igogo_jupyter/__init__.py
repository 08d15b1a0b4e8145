"""igogo in Jupyter: jobs beside your cells, each printing into the cell that started it.

Installed, this package is found by ``igogo`` when the first job starts in a
kernel (entry point ``igogo.hosts``): ``import igogo`` and ``@igogo.job`` are
all a notebook needs.  ``%load_ext igogo`` (or ``igogo_jupyter``) adds the
``%%igogo`` and ``%igogo`` magics; ``%unload_ext`` removes them again.
Importing this package does nothing by itself.
"""

from __future__ import annotations

from typing import Any

from ._host import JupyterHost, find_host
from ._kernel import KernelBridge
from ._magic import IgogoMagics, parse_options

__all__ = [
    "IgogoMagics",
    "JupyterHost",
    "KernelBridge",
    "find_host",
    "load_ipython_extension",
    "parse_options",
    "unload_ipython_extension",
]

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
