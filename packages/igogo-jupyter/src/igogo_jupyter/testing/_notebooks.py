"""Whole notebooks run as nbclient (and so papermill) runs them, and the text they keep.

Headless runners record only the messages of the cell they are executing; what
igogo writes into a job's own cell in a headless run (``IGOGO_HEADLESS=1``) is
checked by running real notebooks and reading what their cells kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["cell_text", "run_notebook"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_notebook(
    cells: Sequence[str],
    *,
    headless: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> Any:
    """Execute ``cells`` in a fresh ``python3`` kernel with nbclient; returns the notebook.

    The kernel's environment is this process's, with ``IGOGO_HEADLESS=1`` if
    ``headless`` (and neither ``IGOGO_HEADLESS`` nor ``IGOGO_HEADLESS_FAIL``
    otherwise), then ``env``.  A failing cell raises nbclient's
    ``CellExecutionError``, as papermill would fail.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    kernel_env = {
        k: v for k, v in os.environ.items() if k not in ("IGOGO_HEADLESS", "IGOGO_HEADLESS_FAIL")
    }
    if headless:
        kernel_env["IGOGO_HEADLESS"] = "1"
    kernel_env.update(env or {})
    NotebookClient(nb, timeout=timeout, kernel_name="python3").execute(env=kernel_env)
    return nb


def cell_text(cell: Any) -> str:
    """All the text a cell kept: streams, the ``text/plain`` of displays, tracebacks (no colour)."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("display_data", "execute_result"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return _ANSI.sub("", "".join(parts))
