"""The status table of a map, as text (no workers needed; igogo-jupyter tests its HTML)."""

from __future__ import annotations

import igogo
from igogo import ItemStatus, MapStatus


def table() -> MapStatus:
    return MapStatus(
        [
            ItemStatus(0, {"lr": 0.1}, "ok", 1, 0.25, ""),
            ItemStatus(1, {"lr": 1.0}, "error", 2, 0.5, "ValueError: diverged"),
            ItemStatus(2, "x" * 100, "running", 1, 3.0, ""),
            ItemStatus(3, "<b>", "pending", 0, None, ""),
        ]
    )


def test_counts_have_every_state() -> None:
    assert table().counts() == {"pending": 1, "running": 1, "ok": 1, "error": 1, "cancelled": 0}
    assert set(table().counts()) == set(igogo.ITEM_STATES)


def test_summary_names_only_states_with_items() -> None:
    assert table().summary() == "1/4 ok · 1 error · 1 running · 1 pending"
    assert MapStatus([ItemStatus(0, 1, "ok", 1, 0.1, "")]).summary() == "1/1 ok"


def test_text_table_lines_up_and_shortens_long_items() -> None:
    lines = repr(table()).splitlines()
    assert lines[0] == "1/4 ok · 1 error · 1 running · 1 pending"
    assert lines[1].split() == ["#", "item", "state", "attempts", "time", "error"]
    assert lines[3].split()[3:] == ["error", "2", "0.50s", "ValueError:", "diverged"]
    assert "…" in lines[4] and len(lines[4]) < 100
    assert lines[2].index("ok") == lines[1].index("state")


def test_a_repr_that_raises_does_not_break_the_table() -> None:
    class Bad:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    text = repr(MapStatus([ItemStatus(0, Bad(), "ok", 1, 0.1, "")]))
    assert "<repr failed: RuntimeError>" in text
