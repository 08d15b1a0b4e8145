"""Result rows of a benchmark suite, and their rendering as a text or markdown table.

A suite's rows are either :class:`Row` (one figure against a target) or
:class:`Compare` (the same figure for this project and for another system).
"""

from __future__ import annotations

import json
import operator
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Compare",
    "Row",
    "Suite",
    "judge",
    "markdown",
    "markdown_table",
    "run_isolated",
    "text",
]

_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Row:
    """One measured figure: ``status`` is PASS or MISS against ``target``, or ``info``."""

    scenario: str
    metric: str
    measured: str
    target: str = "—"
    status: str = "info"


@dataclass(frozen=True)
class Compare:
    """One figure measured on two systems, and the ratio of the other's to ours."""

    scenario: str
    metric: str
    ours: str
    other: str
    ratio: str = "—"


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
    rows: list[Row] | list[Compare]
    notes: list[str] = field(default_factory=list)
    header: tuple[str, ...] | None = None
    """Column titles; by default those of :class:`Row` tables."""
    before_table: list[str] = field(default_factory=list)
    """Markdown lines put between the context and the table (a summary, a chart)."""
    after_table: list[str] = field(default_factory=list)
    """Markdown lines put right after the table."""
    write_files: Callable[[Path], list[Path]] | None = None
    """Called with the results directory (full runs only): writes extra files, returns them."""

    @property
    def misses(self) -> int:
        return sum(getattr(r, "status", None) == "MISS" for r in self.rows)

    @property
    def passes(self) -> int:
        return sum(getattr(r, "status", None) == "PASS" for r in self.rows)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.header or _HEADER


_HEADER = ("Scenario", "Metric", "Measured", "Target", "Result")


def _cells(row: Row | Compare) -> tuple[str, ...]:
    if isinstance(row, Compare):
        return (row.scenario, row.metric, row.ours, row.other, row.ratio)
    return (row.scenario, row.metric, row.measured, row.target, row.status)


def text(suite: Suite) -> str:
    """The suite as an aligned plain-text table, for the terminal."""
    lines = [suite.title, ""]
    lines += [f"  {k}: {v}" for k, v in suite.context.items()]
    header = suite.columns
    rows = [header, *(_cells(r) for r in suite.rows)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    sep = "  ".join("-" * w for w in widths)
    lines += ["", sep]
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if i == 0:
            lines.append(sep)
    lines.append(sep)
    if suite.passes or suite.misses:
        lines.append(f"targets: {suite.passes} PASS, {suite.misses} MISS")
    if suite.notes:
        lines += ["", *(f"  * {n}" for n in suite.notes)]
    return "\n".join(lines)


def _md_escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown_table(suite: Suite) -> str:
    """The suite's table alone, in markdown."""
    header = suite.columns
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_escape(c) for c in _cells(r)) + " |" for r in suite.rows]
    return "\n".join(lines)


def markdown(suite: Suite, command: str) -> str:
    """The suite as a markdown document: context, table, notes."""
    lines = [f"# {suite.title}", "", f"Produced by `{command}`.", ""]
    lines += [f"- **{k}**: {v}" for k, v in suite.context.items()]
    if suite.before_table:
        lines += ["", *suite.before_table]
    lines += ["", markdown_table(suite)]
    if suite.passes or suite.misses:
        lines += ["", f"Targets: {suite.passes} PASS, {suite.misses} MISS."]
    if suite.after_table:
        lines += ["", *suite.after_table]
    if suite.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in suite.notes)]
    return "\n".join(lines) + "\n"


def run_isolated(script: str, name: str, args: list[str]) -> dict[str, Any]:
    """Run scenario ``name`` of ``script`` in a fresh interpreter; return its JSON result.

    The script is called as ``python script --scenario name *args`` and prints its
    figures as one JSON object on its last line of output.  What it writes to
    stderr is passed on; a failing scenario raises with its output shown.
    """
    cmd = [sys.executable, script, "--scenario", name, *args]
    print(f"  running {name} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"scenario {name!r} failed with exit code {proc.returncode}")
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return result
