"""What the bench scripts share, stdlib only: core.py also runs where igogo-core is alone.

A measure process: ``python bench/SCRIPT --measure NAME [--quick] -o FILE`` writes its samples
as JSON, ``{benchmark name: [values]}``; bench/run.py makes each a pyperf benchmark.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
Samples = dict[str, list[float]]
Failed = dict[str, dict[str, str]]  # why not run, by system (ours, original), then by key
PY = "{}.{}".format(*sys.version_info[:2])  # this interpreter's Python


def main(measures: dict[str, Callable[[bool], Samples]]) -> None:
    """A measure process: ``--measure NAME [--quick] -o FILE``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--measure", required=True, choices=measures)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-o", required=True)
    args = parser.parse_args()
    Path(args.o).write_text(json.dumps(measures[args.measure](args.quick)), encoding="utf-8")


def in_turns(rounds: int, timers: dict[str, Callable[[], float]], name: str) -> Samples:
    """Each timer once a round, the first one rotating round by round, so that the ratio of
    any two is taken in the same moments: samples named ``name.format(KIND)``."""
    out: Samples = {name.format(kind): [] for kind in timers}
    order = list(timers)
    for r in range(rounds):
        for kind in order[r % len(order) :] + order[: r % len(order)]:
            out[name.format(kind)].append(timers[kind]())
    return out


def run(python: str, script: str, *args: str, read: Callable[[Path], Any] | None = None) -> Any:
    """``PYTHON bench/SCRIPT ARGS -o FILE`` in a fresh process; ``read(FILE)`` (its JSON)."""
    with tempfile.TemporaryDirectory(prefix="igogo-bench-") as tmp:
        out = Path(tmp) / "out.json"
        shown = f"{script} {' '.join(args)}" + ("" if python == sys.executable else f" ({python})")
        print(f"  {shown} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        cmd = [python, str(BENCH / script), *args, "-o", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise RuntimeError(f"{shown} failed ({proc.returncode})")
        print(f"    done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        return read(out) if read else json.loads(out.read_text(encoding="utf-8"))


def hatch_env(name: str, create: bool) -> tuple[str | None, str]:
    """The interpreter of hatch environment ``name`` (created if missing and ``create``) and
    how it was found; or None and why not."""
    if (hatch := shutil.which("hatch")) is None:
        return None, "`hatch` is not on PATH"
    found = subprocess.run([hatch, "env", "find", name], cwd=ROOT, capture_output=True, text=True)
    if found.returncode != 0 or not found.stdout.strip():
        return None, f"`hatch env find {name}` failed: {found.stderr.strip()[-300:]}"
    python = Path(found.stdout.strip()) / "bin" / "python"
    if not python.exists():
        if not create:
            return None, f"the `{name}` environment does not exist (quick runs never create it)"
        print(f"  hatch env create {name} ...", file=sys.stderr, flush=True)
        made = subprocess.run([hatch, "env", "create", name], cwd=ROOT, check=False)
        if made.returncode != 0 or not python.exists():
            return None, f"`hatch env create {name}` failed ({made.returncode})"
    return str(python), f"hatch env `{name}`"
