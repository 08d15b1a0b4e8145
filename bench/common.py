"""What the benchmark scripts share: samples as pyperf benchmarks, scripts run in fresh processes.

Every figure of the suite is a :class:`pyperf.Benchmark`: the microbenchmarks come from
pyperf's Runner, the other measures (memory, lateness, latencies in kernels, message
counts) are samples made into benchmarks here, with their unit (``second``, ``byte``,
``integer``).  So every result file is a pyperf suite that ``python -m pyperf show``,
``stats`` and ``compare_to`` read.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pyperf

BENCH = Path(__file__).resolve().parent


def benchmark(name: str, values: Sequence[float], unit: str = "second") -> pyperf.Benchmark:
    """A benchmark of ``values`` in one run (pyperf keeps only values > 0: a 0 or a
    negative sample, such as an RSS delta of nothing, is stored as 1e-12)."""
    run = pyperf.Run(
        [max(float(v), 1e-12) for v in values],
        metadata={"name": name, "unit": unit},
        collect_metadata=False,
    )
    return pyperf.Benchmark([run])


def dump(benchmarks: Sequence[pyperf.Benchmark], path: str | Path) -> None:
    pyperf.BenchmarkSuite(list(benchmarks)).dump(str(path), replace=True)


def run_script(script: str, *args: str) -> list[pyperf.Benchmark]:
    """Run ``python bench/SCRIPT ARGS -o FILE`` in a fresh interpreter; its benchmarks."""
    with tempfile.TemporaryDirectory(prefix="igogo-bench-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(BENCH / script), *args, "-o", str(out)]
        print(f"  {script} {' '.join(args)} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise RuntimeError(f"{script} {' '.join(args)} failed ({proc.returncode})")
        print(f"    done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        return list(pyperf.BenchmarkSuite.load(str(out)).get_benchmarks())


def measure_args(argv: list[str]) -> tuple[str, bool, str, dict[str, object]]:
    """``--measure NAME [--quick] [--params JSON] -o FILE``: what a measure process is asked."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--measure", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--params", default="{}")
    parser.add_argument("-o", required=True)
    args = parser.parse_args(argv)
    return args.measure, args.quick, args.o, json.loads(args.params)
