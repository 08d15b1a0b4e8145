"""``igogo.map`` against ``joblib.Parallel(backend="loky")`` in a script: throughput.

How the two are timed, in turns: bench/README.md.
"""

import time
import timeit
from functools import partial

from common import Samples, in_turns, main

WORKERS = 2


def work(k: int) -> int:
    """CPU-bound pure Python: ``k`` steps of integer arithmetic (no I/O, no C extension)."""
    s = 0
    for i in range(k):
        s += i * i % 7
    return s


def calibrate(target_s: float) -> int:
    """The ``k`` for which :func:`work` lasts about ``target_s`` (the fastest of several runs)."""
    k = 20_000
    for _ in range(3):
        k = max(int(k * target_s / min(timeit.repeat(partial(work, k), number=1, repeat=7))), 1)
    return k


def throughput(quick: bool) -> Samples:
    import joblib

    import igogo

    igogo.configure(workers=WORKERS)
    systems = {
        "igogo": lambda items: igogo.map(work, items, progress=False).results(),
        "joblib": lambda items: joblib.Parallel(n_jobs=WORKERS, backend="loky")(
            joblib.delayed(work)(x) for x in items
        ),
    }
    out: Samples = {}
    for ms, n in [(2, 8)] if quick else [(30, 160), (3, 800)]:  # (ms per item, items)
        k = calibrate(ms / 1e3)
        items, expected = [k] * n, [work(k)] * n

        def timed(name: str, items: list[int] = items, expected: list[int] = expected) -> float:
            t0 = time.perf_counter()
            if systems[name](items) != expected:
                raise RuntimeError(f"{name} returned wrong results")
            return time.perf_counter() - t0

        timed("igogo"), timed("joblib")  # untimed: workers started, the function sent
        turns = {name: partial(timed, name) for name in ("joblib", "igogo")}
        out |= in_turns(1 if quick else 6, turns, f"map-{{}}-{ms}ms-x{n}")
    return out


if __name__ == "__main__":
    main({"throughput": throughput})
