"""The status table of a map: one row per item, as text and as HTML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ITEM_STATES", "ItemStatus", "MapStatus", "short_repr"]

ITEM_STATES: Final = ("pending", "running", "ok", "error", "cancelled")
"""What an item of a map can be: waiting for a worker, in a worker, done, failed, cancelled."""


def short_repr(obj: object, limit: int = 60) -> str:
    """``repr(obj)`` cut to ``limit`` characters; never raises."""
    try:
        text = repr(obj)
    except Exception as e:  # a repr that raises must not break the table
        text = f"<repr failed: {type(e).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class ItemStatus:
    """One item of a map: where it stands, how often it ran, and how it went."""

    index: int
    item: Any
    state: str
    attempts: int
    seconds: float | None
    """Run time in the worker (for a running item: time since a worker took it up)."""
    error: str
    """The last error in one line ('' if none), also for an item waiting for a retry."""


class MapStatus(list[ItemStatus]):
    """Every item of a map as a row; a table when printed (igogo-jupyter shows it as HTML)."""

    def counts(self) -> dict[str, int]:
        """How many items are in each state (every state, zeros included)."""
        counts = dict.fromkeys(ITEM_STATES, 0)
        for row in self:
            counts[row.state] += 1
        return counts

    def summary(self) -> str:
        """``7/10 ok · 1 error · 2 running``: the states that have items."""
        c = self.counts()
        parts = [f"{c['ok']}/{len(self)} ok"]
        parts += [f"{c[s]} {s}" for s in ("error", "running", "pending", "cancelled") if c[s]]
        return " · ".join(parts)

    def cells(self, row: ItemStatus) -> tuple[str, ...]:
        """One row as text: index, item, state, attempts, time, error."""
        seconds = "" if row.seconds is None else f"{row.seconds:.2f}s"
        item = short_repr(row.item)
        return (str(row.index), item, row.state, str(row.attempts), seconds, row.error)

    def __repr__(self) -> str:
        rows = [("#", "item", "state", "attempts", "time", "error"), *map(self.cells, self)]
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        return "\n".join([self.summary(), *lines])
