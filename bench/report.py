"""Result rows of a benchmark suite, and their rendering as a text or markdown table."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Row", "Suite", "judge", "markdown", "text"]

_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Row:
    """One measured figure: ``status`` is PASS or MISS against ``target``, or ``info``."""

    scenario: str
    metric: str
    measured: str
    target: str = "—"
    status: str = "info"


def judge(
    scenario: str, metric: str, value: float, fmt: str, unit: str, op: str, limit: float
) -> Row:
    """A row whose status compares ``value`` with ``limit`` (``op`` is ``<=`` or ``>=``)."""
    ok = _OPS[op](value, limit)
    return Row(
        scenario,
        metric,
        f"{value:{fmt}} {unit}".rstrip(),
        f"{op} {limit:g} {unit}".rstrip(),
        "PASS" if ok else "MISS",
    )


@dataclass
class Suite:
    """What a suite's ``main(quick)`` returns: its context, table and notes."""

    name: str
    title: str
    context: dict[str, str]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def misses(self) -> int:
        return sum(r.status == "MISS" for r in self.rows)


_HEADER = ("Scenario", "Metric", "Measured", "Target", "Result")


def _cells(row: Row) -> tuple[str, str, str, str, str]:
    return (row.scenario, row.metric, row.measured, row.target, row.status)


def text(suite: Suite) -> str:
    """The suite as an aligned plain-text table, for the terminal."""
    lines = [suite.title, ""]
    lines += [f"  {k}: {v}" for k, v in suite.context.items()]
    rows = [_HEADER, *(_cells(r) for r in suite.rows)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    sep = "  ".join("-" * w for w in widths)
    lines += ["", sep]
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if i == 0:
            lines.append(sep)
    lines.append(sep)
    passed = sum(r.status == "PASS" for r in suite.rows)
    lines.append(f"targets: {passed} PASS, {suite.misses} MISS")
    if suite.notes:
        lines += ["", *(f"  * {n}" for n in suite.notes)]
    return "\n".join(lines)


def _md_escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown(suite: Suite, command: str) -> str:
    """The suite as a markdown document: context, table, notes."""
    lines = [f"# {suite.title}", "", f"Produced by `{command}`.", ""]
    lines += [f"- **{k}**: {v}" for k, v in suite.context.items()]
    lines += ["", "| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    lines += ["| " + " | ".join(_md_escape(c) for c in _cells(r)) + " |" for r in suite.rows]
    passed = sum(r.status == "PASS" for r in suite.rows)
    lines += ["", f"Targets: {passed} PASS, {suite.misses} MISS."]
    if suite.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in suite.notes)]
    return "\n".join(lines) + "\n"
