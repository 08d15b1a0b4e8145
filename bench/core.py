"""igogo-core in plain interpreters: the cost of a yield and of a switch, memory, timers, fairness.

``python bench/core.py [pyperf options]`` runs the microbenchmarks with pyperf's Runner
(worker processes, calibrated loops), as greenlet's and gevent's benchmarks do:

* ``yielder``: ``igogo.yielder()`` in a job's tight loop (the fast path: no switch unless
  the 15 ms slice is over); ``empty-loop`` is the same loop without it (subtracted);
* ``sleep0``: an ``igogo.sleep(0)`` round trip, job -> hub -> job (a switch through the
  scheduler); ``greenlet-pair``: a bare greenlet round trip, for scale.

``python bench/core.py --measure NAME [--quick] -o FILE`` runs one measure in a fresh
interpreter (one's garbage never weighs on another) and writes its samples:

* ``loop``: a ~10 µs loop body in a job, bare and with ``igogo.yielder()`` per iteration,
  alternating round by round (the ratio is taken inside this one run);
* ``sleepers`` / ``sleepers-busy``: 10,000 jobs each sleeping 0.2-1.0 s (RSS per job once
  all sleep; each one's wake-up lateness), the latter beside a job spinning on yielder();
* ``fairness``: 1,000 jobs spinning on ``yielder()`` for 2 s: each one's iterations.

:func:`preemption` runs bench/preempt.py's measures (``ploop``: a loop in a preemptible job /
preemption off; ``plain``: regular code's loop before and after a preemptive job ran it) with
this interpreter and those of the ``core.py3.12`` and ``core.py3.13`` environments (igogo-core
alone, no pyperf: the samples come back as JSON and are made benchmarks here).

Jobs run on the blocking host: regular code drives them by waiting, as a script does.
"""

from __future__ import annotations

import gc
import math
import os
import random
import sys
import time
from collections.abc import Callable

import greenlet
import pyperf

import igogo
from common import benchmark, dump, hatch_env, measure_args, run_json, version_of
from preempt import body, body_steps


def in_job(body: Callable[[int], float]) -> Callable[[int], float]:
    """A pyperf time function running ``body(loops)`` inside a job (timed in the job)."""
    job = igogo.job(name=body.__name__)(body)
    return lambda loops: job(loops).result()


def empty_loop(loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        pass
    return time.perf_counter() - t0


def yielder_loop(loops: int) -> float:
    y = igogo.yielder
    t0 = time.perf_counter()
    for _ in range(loops):
        y()
    return time.perf_counter() - t0


def sleep0_loop(loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        igogo.sleep(0)
    return time.perf_counter() - t0


def greenlet_pair(loops: int) -> float:
    main = greenlet.getcurrent()

    def child() -> None:
        while True:
            main.switch()

    g = greenlet.greenlet(child)
    g.switch()
    t0 = time.perf_counter()
    for _ in range(loops):
        g.switch()
    dt = time.perf_counter() - t0
    g.throw(greenlet.GreenletExit)
    return dt


# -- measures ------------------------------------------------------------------------


def loop(quick: bool) -> list[pyperf.Benchmark]:
    n, rounds, k = (200, 2, body_steps(10e-6)) if quick else (20_000, 9, body_steps(10e-6))

    def yielding(n: int, k: int) -> float:  # preempt.body with a yield per iteration
        t0 = time.perf_counter()
        for _ in range(n):
            s = 0
            for i in range(k):
                s += i * i
            igogo.yielder()
        return (time.perf_counter() - t0) / n

    jobs = {"loop-bare": igogo.job(body), "loop-yielder": igogo.job(yielding)}
    values: dict[str, list[float]] = {name: [] for name in jobs}
    for r in range(rounds):  # alternate which goes first
        for name in sorted(jobs, reverse=bool(r % 2)):
            values[name].append(jobs[name](n, k).result())
    return [benchmark(name, v) for name, v in values.items()]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def sleepers(quick: bool, busy: bool = False) -> list[pyperf.Benchmark]:
    n, scale = (200, 50) if quick else (10_000, 1)
    rng = random.Random(20240601)
    delays = [rng.uniform(0.2, 1.0) / scale for _ in range(n)]
    late: list[float] = []
    parked = [0]
    at_full: list[int] = []
    running = True

    @igogo.job
    def sleeper(d: float) -> None:
        parked[0] += 1
        if parked[0] == n:  # the others all sleep now
            at_full.append(rss() - rss0)
        due = time.monotonic() + d
        igogo.sleep(d)
        late.append(time.monotonic() - due)

    @igogo.job
    def spinner() -> None:
        while running:
            igogo.yielder()

    gc.collect()
    rss0 = rss()
    if busy:
        spinner()
    igogo.wait(*[sleeper(d) for d in delays])
    running = False
    igogo.wait_all()
    name = "sleepers-busy" if busy else "sleepers"
    out = [benchmark(f"{name}-lateness", late)]
    if not busy:
        out.append(benchmark("sleepers-rss-per-job", [at_full[0] / n], "byte"))
    return out


def fairness(quick: bool) -> list[pyperf.Benchmark]:
    n, seconds = (20, 0.04) if quick else (1_000, 2.0)
    counts = [0] * n
    running = True

    @igogo.job
    def spin(i: int) -> None:
        c = 0
        while running:
            c += 1
            igogo.yielder()
        counts[i] = c

    for i in range(n):
        spin(i)
    igogo.sleep(seconds)
    running = False
    igogo.wait_all()
    return [benchmark("fairness-iterations", counts, "integer")]


MEASURES: dict[str, Callable[[bool], list[pyperf.Benchmark]]] = {
    "loop": loop,
    "sleepers": sleepers,
    "sleepers-busy": lambda quick: sleepers(quick, busy=True),
    "fairness": fairness,
}


OTHER_PYTHONS = ("core.py3.12", "core.py3.13")
"""Hatch environments with igogo-core (alone), beside this interpreter (the bench environment's
3.11): preemption has one mechanism for 3.11 and another for 3.12 and later."""
PREEMPT_PARTS = ("ploop", "plain")


def preemption(
    parts: set[str], quick: bool
) -> tuple[list[pyperf.Benchmark], dict[str, str], dict[str, str]]:
    """bench/preempt.py's measures (``parts``) in each interpreter: the benchmarks, named with
    the version (``ploop-1us-off-py3.13``); why a part was not run, by ``PART-pyVERSION``; and
    which interpreters ran."""
    pythons = {version_of(sys.executable): (sys.executable, "the bench environment")}
    failed: dict[str, str] = {}
    for env in OTHER_PYTHONS:
        python, how = hatch_env(env, create=not quick)
        if python is None:
            version = env.removeprefix("core.py")
            failed |= {f"{part}-py{version}": f"not run: {how}" for part in parts}
            print(f"  note: Python {version} not measured: {how}", file=sys.stderr, flush=True)
        else:
            pythons[version_of(python)] = (python, how)
    q = ["--quick"] if quick else []
    out: list[pyperf.Benchmark] = []
    for version, (python, _) in pythons.items():
        samples: dict[str, list[float]] = {}
        for part in (p for p in PREEMPT_PARTS if p in parts):
            try:
                samples |= run_json(python, "preempt.py", "--measure", part, *q)["samples"]
            except Exception as exc:
                if quick:
                    raise
                failed[f"{part}-py{version}"] = f"{type(exc).__name__}: {exc}"[:300]
        out += [benchmark(f"{name}-py{version}", v) for name, v in samples.items()]
    used = ", ".join(f"{version} ({how})" for version, (_, how) in pythons.items())
    return out, failed, {"interpreters (core: preemption)": used}


def jain(counts: list[float]) -> float:
    """Jain's fairness index: 1 when every job got the same share."""
    return (
        sum(counts) ** 2 / (len(counts) * sum(c * c for c in counts)) if any(counts) else math.nan
    )


if __name__ == "__main__":
    # The first job of a process looks up the host and the plugins: not measured.
    igogo.job(name="warm-up")(lambda: None)().result()
    if "--measure" in sys.argv:
        name, quick, out = measure_args(sys.argv[1:])
        dump(MEASURES[name](quick), out)
    else:
        runner = pyperf.Runner()
        runner.metadata["description"] = "igogo-core: a yield and a switch"
        runner.bench_time_func("empty-loop", in_job(empty_loop))
        runner.bench_time_func("yielder", in_job(yielder_loop))
        runner.bench_time_func("sleep0", in_job(sleep0_loop))
        runner.bench_time_func("greenlet-pair", greenlet_pair)
