"""What the benchmark scripts share: samples as pyperf benchmarks, scripts run in fresh processes.

Every figure of the suite is a :class:`pyperf.Benchmark`: the microbenchmarks come from
pyperf's Runner, the other measures (memory, lateness, latencies in kernels, message
counts) are samples made into benchmarks here, with their unit (``second``, ``byte``,
``integer``).  So every result file is a pyperf suite that ``python -m pyperf show``,
``stats`` and ``compare_to`` read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyperf

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def benchmark(name: str, values: Sequence[float], unit: str = "second") -> pyperf.Benchmark:
    """A benchmark of ``values`` in one run (pyperf keeps only values > 0: a 0 or a
    negative sample, such as an RSS delta of nothing, is stored as 1e-12)."""
    run = pyperf.Run(
        [max(float(v), 1e-12) for v in values],
        metadata={"name": name, "unit": unit},
        collect_metadata=False,
    )
    return pyperf.Benchmark([run])


def dump(benchmarks: Iterable[pyperf.Benchmark], path: str | Path) -> None:
    pyperf.BenchmarkSuite(list(benchmarks)).dump(str(path), replace=True)


def load(path: Path) -> list[pyperf.Benchmark]:
    return list(pyperf.BenchmarkSuite.load(str(path)).get_benchmarks())


def _run(python: str, script: str, args: Sequence[str], read: Any) -> Any:
    """Run ``PYTHON bench/SCRIPT ARGS -o FILE`` in a fresh process; ``read(FILE)``."""
    with tempfile.TemporaryDirectory(prefix="igogo-bench-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [python, str(BENCH / script), *args, "-o", str(out)]
        shown = f"{script} {' '.join(args)}" + ("" if python == sys.executable else f" ({python})")
        print(f"  {shown} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise RuntimeError(f"{shown} failed ({proc.returncode})")
        print(f"    done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        return read(out)


def run_script(script: str, *args: str) -> dict[str, pyperf.Benchmark]:
    """Run ``python bench/SCRIPT ARGS -o FILE`` in a fresh interpreter; its benchmarks by name."""
    return _run(  # type: ignore[no-any-return]
        sys.executable, script, args, lambda out: {b.get_name(): b for b in load(out)}
    )


def run_json(python: str, script: str, *args: str) -> dict[str, Any]:
    """Run ``PYTHON bench/SCRIPT ARGS -o FILE`` (any interpreter: no pyperf); its JSON."""
    return _run(  # type: ignore[no-any-return]
        python, script, args, lambda out: json.loads(out.read_text(encoding="utf-8"))
    )


def hatch_env(name: str, create: bool) -> tuple[str | None, str]:
    """The interpreter of the hatch environment ``name`` (created if missing and ``create``),
    or None and why not; and how it was found."""
    hatch = shutil.which("hatch")
    if hatch is None:
        return None, "`hatch` is not on PATH"
    found = subprocess.run(
        [hatch, "env", "find", name], cwd=ROOT, capture_output=True, text=True, check=False
    )
    python = Path(found.stdout.strip()) / "bin" / "python"
    if found.returncode != 0 or not found.stdout.strip():
        return None, f"`hatch env find {name}` failed: {found.stderr.strip()[-300:]}"
    if not python.exists():
        if not create:
            return None, f"the `{name}` environment does not exist (quick runs never create it)"
        print(f"  hatch env create {name} ...", file=sys.stderr, flush=True)
        made = subprocess.run([hatch, "env", "create", name], cwd=ROOT, check=False)
        if made.returncode != 0 or not python.exists():
            return None, f"`hatch env create {name}` failed ({made.returncode})"
    return str(python), f"hatch env `{name}`"


def version_of(python: str) -> str:
    """``3.13`` for an interpreter of Python 3.13."""
    if python == sys.executable:
        return "{}.{}".format(*sys.version_info[:2])
    code = "import sys; print('{}.{}'.format(*sys.version_info[:2]))"
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def measure_args(argv: list[str]) -> tuple[str, bool, str]:
    """``--measure NAME [--quick] -o FILE``: what a measure process is asked."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--measure", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-o", required=True)
    args = parser.parse_args(argv)
    return args.measure, args.quick, args.o
