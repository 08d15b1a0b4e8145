"""Run the igogo benchmarks and print their tables.

    python bench/run.py [--quick] [--only SUITE ...]

Without ``--quick`` each suite's table is also written to ``bench/results/<suite>.md``.
``--quick`` is a smoke test for CI: every scenario at a tiny size, in well under a
minute; it fails only if a suite crashes, never because a target is missed.

Suites: ``core`` (bench/core.py, igogo-core alone in plain interpreters), ``mpl``
(bench/mpl.py), ``kernels`` (bench/kernels.py, this project against the original
igogo 1.1.0 in real kernels; it writes a chart next to its table) and ``workers``
(bench/workers.py, ``igogo.map`` against ``joblib.Parallel`` and a kernel beside a map).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import core
import kernels
import mpl
import workers
from report import Suite, markdown, text

SUITES: dict[str, Callable[[bool], Suite]] = {
    "core": core.main,
    "mpl": mpl.main,
    "kernels": kernels.main,
    "workers": workers.main,
}
RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke test at a tiny scale; writes no results"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SUITES),
        metavar="SUITE",
        help=f"run only this suite (repeatable); one of: {', '.join(sorted(SUITES))}",
    )
    args = parser.parse_args(argv)
    names = args.only or list(SUITES)
    command = "python bench/run.py" + "".join(f" --only {n}" for n in args.only or [])
    misses = 0
    for name in names:
        print(f"suite {name}{' (quick)' if args.quick else ''}:", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        suite = SUITES[name](args.quick)
        elapsed = time.perf_counter() - t0
        print(text(suite))
        print(f"\n(suite {name} took {elapsed:.0f} s)\n", flush=True)
        misses += suite.misses
        if not args.quick:
            RESULTS.mkdir(exist_ok=True)
            out = RESULTS / f"{suite.name}.md"
            out.write_text(markdown(suite, command), encoding="utf-8")
            written = [out]
            if suite.write_files is not None:
                written += suite.write_files(RESULTS)
            for path in written:
                shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
                print(f"wrote {shown}")
    if misses:
        print(f"{misses} target(s) missed (reported, not a failure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
