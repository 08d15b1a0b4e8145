"""The job options igogo-jupyter adds: how a job's output is shown in its cell.

They mean something only where this host shows the output, so they are
registered here (through ``igogo.lowlevel``) when this package is imported;
igogo imports it when a job is first given one of them, so
``@igogo.job(kind="markdown")`` works in a notebook's first cell.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from igogo.lowlevel import check_flag, check_number, register_option

__all__ = ["KINDS", "register"]

KINDS: Final = ("text", "markdown", "html")
"""How a job's printed text is rendered in its cell (``kind=``)."""


def _check_kind(value: object) -> None:
    if value not in KINDS:
        raise ValueError(f"kind={value!r}: allowed kinds are {', '.join(map(repr, KINDS))}")


def _check_displays(value: object) -> None:
    # Worded as before: `%%igogo --displays 0` shows this text as its usage error.
    form = "displays must be an integer >= 1 (display slots updated in place)"
    check_number("displays", value, minimum=1, whole=True, form=form)


def register() -> None:
    """Register ``kind``, ``displays`` and ``warn_rewrite`` (idempotent)."""
    register_option("kind", "text", _check_kind, owner="igogo-jupyter")
    register_option("displays", 1, _check_displays, owner="igogo-jupyter")
    warn_rewrite = partial(check_flag, "warn_rewrite")
    register_option("warn_rewrite", True, warn_rewrite, owner="igogo-jupyter")
