"""``igogo.map`` against ``joblib.Parallel(backend="loky")`` in a script: throughput.

``python bench/workers.py --measure throughput [--quick] -o FILE``: the same CPU-bound
pure-Python function (:func:`work`) over the same items, with the same number of worker
processes (2), by ``joblib.Parallel(n_jobs=2, backend="loky")`` and by
``igogo.map(work, items).results()`` (igogo's default loky pool).  Two item sizes: about
30 ms (the work dominates) and about 3 ms (per-call costs show).  Each system runs its
workload once untimed (workers started, the function sent), then the two alternate
round by round, rotating which goes first; the samples are each run's wall time, so the
ratio joblib / igogo (the throughput ratio, target at least 0.9) is taken inside this one
run.  joblib runs its own copy of loky: the two pools are never shared.

The notebook beside a running map (a cell's wait, target median at most 50 ms) is a
kernel scenario: ``map`` in bench/kernels.py.
"""

from __future__ import annotations

import math
import sys
import time

import pyperf

from common import benchmark, dump, measure_args

WORKERS = 2


def work(k: int) -> int:
    """CPU-bound pure Python: ``k`` steps of integer arithmetic (no I/O, no C extension)."""
    s = 0
    for i in range(k):
        s += i * i % 7
    return s


def calibrate(target_s: float) -> int:
    """The ``k`` for which :func:`work` lasts about ``target_s`` (fastest of several runs)."""
    k = 20_000
    for _ in range(3):
        best = math.inf
        for _ in range(7):
            t0 = time.perf_counter()
            work(k)
            best = min(best, time.perf_counter() - t0)
        k = max(int(k * target_s / best), 1)
    return k


def throughput(quick: bool) -> list[pyperf.Benchmark]:
    import joblib

    import igogo

    igogo.configure(workers=WORKERS)
    sizes = [(2, 8)] if quick else [(30, 160), (3, 800)]  # (ms per item, items)
    rounds = 1 if quick else 6

    def run_joblib(items: list[int]) -> list[int]:
        par = joblib.Parallel(n_jobs=WORKERS, backend="loky")
        return par(joblib.delayed(work)(x) for x in items)  # type: ignore[no-any-return]

    def run_igogo(items: list[int]) -> list[int]:
        return igogo.map(work, items, progress=False).results()

    systems = {"igogo": run_igogo, "joblib": run_joblib}
    out = []
    for ms, n in sizes:
        k = calibrate(ms / 1e3)
        items, expected = [k] * n, [work(k)] * n
        walls: dict[str, list[float]] = {s: [] for s in systems}
        for r in range(rounds + 1):  # round 0 is the untimed warm-up
            for name in sorted(systems, reverse=bool(r % 2)):
                t0 = time.perf_counter()
                if systems[name](items) != expected:
                    raise RuntimeError(f"{name} returned wrong results")
                if r:
                    walls[name].append(time.perf_counter() - t0)
        out += [benchmark(f"map-{name}-{ms}ms-x{n}", v) for name, v in walls.items()]
    return out


if __name__ == "__main__":
    name, quick, path = measure_args(sys.argv[1:])
    dump({"throughput": throughput}[name](quick), path)
