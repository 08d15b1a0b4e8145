"""Benchmark of ``igogo.map``: throughput against joblib, and the notebook beside a running map.

Two scenarios, each in a fresh process (``python bench/workers.py --scenario NAME
--params JSON`` prints its raw figures as one JSON line):

* ``throughput``: in a plain script, the same CPU-bound pure-Python function
  (:func:`work`, integer arithmetic) over the same items with the same number of
  worker processes, by ``joblib.Parallel(n_jobs=W, backend="loky")`` and by
  ``igogo.map(work, items, progress=False).results()`` (igogo's default pool,
  ``igogo.configure(workers=W)``).  Two item sizes: about 30 ms (the work
  dominates) and about 3 ms (per-call costs show; there joblib with
  ``batch_size=1`` and igogo.map with ``chunksize=1`` -- one item per call, no
  automatic chunking -- are measured too).  Both
  pools are warmed by one untimed run of the same workload, and before every run
  each worker of the system runs an item, untimed (loky stops workers idle for
  longer than its timeout); then the systems take turns, rotating round by round
  which goes first.  Throughput is items per second of wall time; the ratio
  igogo / joblib is the median of the per-round ratios.  Last, both pools are left
  idle for a while and a short map is timed with each.
* ``kernel``: in a real ipykernel started through jupyter_client (``driver.py``,
  ``kernel_launcher.py``), a cell starts ``igogo.map(work, items)`` and returns at
  once; while the map runs in the background, small cells (``1+1``) are sent one
  after another and timed from the request to their ``busy`` status (the cell
  started) and to their reply.  For comparison a cell running the same workload
  with ``joblib.Parallel`` is sent, immediately followed by a ``1+1`` cell, timed
  the same way: it waits for the whole joblib run.

joblib runs its own copy of loky (``joblib.externals.loky``), whose reusable
executor is kept apart from the one of the standalone ``loky`` that igogo uses:
the two systems never share, resize or replace each other's pool.  Each keeps its
own W workers (idle while the other system runs); the throughput scenario checks
this (distinct executors and worker processes, neither replaced, worker restarts
counted) and reports it.

``quick`` runs every scenario tiny: a smoke test of the suite, not a measurement.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from report import Row, Suite, judge, run_isolated

MS = 1e3
WORKERS = 2
TARGET_RATIO = 0.9
TARGET_START_MS = 50.0
TIMEOUT = 300.0

FULL: dict[str, Any] = {
    "sizes": [
        {"label": "30 ms", "ms": 30.0, "n": 160},
        {"label": "3 ms", "ms": 3.0, "n": 800, "extra": True},
    ],
    "rounds": 6,
    "idle_s": 12.0,
    "kernel": {"size": 0, "n": 160, "rounds": 3, "gap_s": 0.1, "idle_pings": 20},
}
QUICK: dict[str, Any] = {
    "sizes": [
        {"label": "10 ms", "ms": 10.0, "n": 8},
        {"label": "2 ms", "ms": 2.0, "n": 16, "extra": True},
    ],
    "rounds": 1,
    "idle_s": 0.0,
    "kernel": {"size": 0, "n": 40, "rounds": 1, "gap_s": 0.02, "idle_pings": 3},
}


# ---------------------------------------------------------------------------
# the workload
# ---------------------------------------------------------------------------


def work(k: int) -> int:
    """CPU-bound pure Python: ``k`` steps of integer arithmetic (no I/O, no C extension)."""
    s = 0
    for i in range(k):
        s += i * i % 7
    return s


def calibrate(target_ms: float) -> int:
    """The ``k`` for which :func:`work` lasts about ``target_ms`` in this interpreter.

    Fastest of several runs: on a busy machine most runs are preempted, the fastest is not.
    """
    k = 20_000
    for _ in range(3):
        best = math.inf
        for _ in range(7):
            t0 = time.perf_counter()
            work(k)
            best = min(best, time.perf_counter() - t0)
        k = max(int(k * target_ms / MS / best), 1)
    return k


def item_ms(k: int, reps: int = 9) -> float:
    """How long one call ``work(k)`` lasts here (fastest of ``reps``), in milliseconds."""
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        work(k)
        best = min(best, time.perf_counter() - t0)
    return best * MS


# ---------------------------------------------------------------------------
# 1. throughput in a script
# ---------------------------------------------------------------------------


def _executor_of(module_name: str) -> Any:
    """The reusable executor a copy of loky keeps now (this thread's, for loky >= 3.5)."""
    module = sys.modules.get(module_name)
    if module is None:
        return None
    storage = getattr(module, "_executor_storage", None)  # loky >= 3.5: one per thread
    return storage.executor if storage is not None else getattr(module, "_executor", None)


def _pools() -> dict[str, Any]:
    """Both systems' loky executors as they are now (never creating or resizing one)."""
    out: dict[str, Any] = {}
    for key, module in (
        ("igogo", "loky.reusable_executor"),
        ("joblib", "joblib.externals.loky.reusable_executor"),
    ):
        ex = _executor_of(module)
        procs = getattr(ex, "_processes", None) or {}
        out[key] = {
            "id": id(ex) if ex is not None else None,
            "max_workers": getattr(ex, "_max_workers", None),
            "pids": sorted(procs),
        }
    return out


def pid_work(k: int) -> int:
    """:func:`work`, returning the id of the process that ran it (to see every worker run)."""
    work(k)
    return os.getpid()


Runner = Callable[[Callable[[int], int], list[int]], list[int]]


def scenario_throughput(p: dict[str, Any]) -> dict[str, Any]:
    import joblib

    import igogo

    workers, touch_k = p["workers"], p["touch_k"]
    igogo.configure(workers=workers)
    igogo.job(name="warm-up")(lambda: None)().result()  # hosts and plugins, looked up once

    def joblib_runner(batch_size: int | str) -> Runner:
        def run(fn: Callable[[int], int], items: list[int]) -> list[int]:
            par = joblib.Parallel(n_jobs=workers, backend="loky", batch_size=batch_size)
            return par(joblib.delayed(fn)(x) for x in items)  # type: ignore[no-any-return]

        return run

    def run_igogo(fn: Callable[[int], int], items: list[int]) -> list[int]:
        return igogo.map(fn, items, progress=False).results()

    def run_igogo_one_by_one(fn: Callable[[int], int], items: list[int]) -> list[int]:
        return igogo.map(fn, items, progress=False, chunksize=1).results()

    runners: dict[str, Runner] = {
        "igogo": run_igogo,
        "joblib": joblib_runner("auto"),
        "joblib1": joblib_runner(1),
        "igogo1": run_igogo_one_by_one,
    }
    pool_of = {"igogo": "igogo", "joblib": "joblib", "joblib1": "joblib", "igogo1": "igogo"}
    last_pids: dict[str, list[int]] = {}
    restarts = {"igogo": 0, "joblib": 0}
    changed_during = 0

    def touch(system: str) -> None:
        """Untimed: make sure all the system's workers are up, each having run an item.

        A pool whose workers stopped meanwhile (loky stops idle workers after its
        timeout) starts new ones here, outside the timed run; that is counted.
        """
        pool = pool_of[system]
        for _ in range(50):
            if len(set(runners[pool](pid_work, [touch_k] * (2 * workers)))) >= workers:
                break
        pids = _pools()[pool]["pids"]
        if pool in last_pids and pids != last_pids[pool]:
            restarts[pool] += 1
        last_pids[pool] = pids

    out: dict[str, Any] = {"workers": workers, "rounds": p["rounds"], "sizes": []}
    pools_before: dict[str, Any] | None = None
    for size in p["sizes"]:
        k, n = size["k"], size["n"]
        items = [k] * n
        expected = [work(k)] * n
        systems = ["joblib", "igogo", *(["joblib1", "igogo1"] if size.get("extra") else [])]
        res: dict[str, dict[str, list[float]]] = {s: {"wall": [], "cpu": []} for s in systems}

        def timed(system: str, record: bool) -> None:
            nonlocal changed_during
            touch(system)
            pool = pool_of[system]
            t0, c0 = time.perf_counter(), time.process_time()
            got = runners[system](work, items)  # noqa: B023 (called within this iteration)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if got != expected:  # noqa: B023
                raise RuntimeError(f"{system} returned wrong results")
            if _pools()[pool]["pids"] != last_pids[pool]:
                changed_during += 1
            if record:
                res[system]["wall"].append(wall)  # noqa: B023
                res[system]["cpu"].append(cpu)  # noqa: B023

        for system in systems:  # warm: one untimed run of the same workload each
            timed(system, record=False)
        if pools_before is None:
            pools_before = _pools()
        for r in range(p["rounds"]):  # rotate which system goes first
            shift = r % len(systems)
            for system in systems[shift:] + systems[:shift]:
                timed(system, record=True)
        wall = {s: v["wall"] for s, v in res.items()}
        out["sizes"].append(
            {
                **size,
                "item_ms_here": item_ms(k),
                "wall": wall,
                "cpu": {s: v["cpu"] for s, v in res.items()},
                "ratios": [j / i for j, i in zip(wall["joblib"], wall["igogo"], strict=True)],
            }
        )
    out["pools_before"] = pools_before
    out["pools_after"] = _pools()
    out["restarts_between_runs"] = restarts
    out["changed_during_runs"] = changed_during

    idle = p.get("idle_s")
    if idle:
        # A short map after both pools sat idle longer than loky's default worker timeout
        # (10 s; joblib passes its own, 300 s), then the same map again, warm.
        small = [touch_k] * (2 * workers)
        after: dict[str, Any] = {"idle_s": idle, "n": len(small)}
        time.sleep(idle)
        for phase in ("cold", "warm"):
            for system in ("igogo", "joblib"):
                pool = pool_of[system]
                pids = _pools()[pool]["pids"]
                t0 = time.perf_counter()
                runners[system](work, small)
                after[f"{system}_{phase}_s"] = time.perf_counter() - t0
                after[f"{system}_{phase}_idle_pids"] = len(pids)
                after[f"{system}_{phase}_restarted"] = _pools()[pool]["pids"] != pids
        out["after_idle"] = after
    return out


# ---------------------------------------------------------------------------
# 2. the notebook beside a running map, in a real kernel
# ---------------------------------------------------------------------------

KERNEL_SETUP = """
import time, json
import igogo, joblib
igogo.configure(workers={workers})
_bench_items = [{k}] * {n}
_bench_ends = []
_bench_expected = [work({k})] * {n}

def _bench_start_map():
    t0 = time.perf_counter()
    m = igogo.map(work, _bench_items)
    m.add_done_callback(lambda job: _bench_ends.append(time.perf_counter() - t0))
    return m

def _bench_joblib():
    t0 = time.perf_counter()
    got = joblib.Parallel(n_jobs={workers}, backend="loky")(
        joblib.delayed(work)(x) for x in _bench_items
    )
    assert got == _bench_expected, "joblib returned wrong results"
    return time.perf_counter() - t0
"""
# Warm both pools (workers started, the function sent once) outside every measurement.
KERNEL_WARM = """
assert igogo.map(work, _bench_items[:8], progress=False).results() == _bench_expected[:8]
joblib.Parallel(n_jobs={workers}, backend="loky")(joblib.delayed(work)(x) for x in _bench_items[:8])
"""
KERNEL_CLEANUP = """
import loky, joblib, sys
for _m in ("loky.reusable_executor", "joblib.externals.loky.reusable_executor"):
    _s = getattr(sys.modules[_m], "_executor_storage", None)
    _ex = _s.executor if _s is not None else getattr(sys.modules[_m], "_executor", None)
    if _ex is not None:
        _ex.shutdown(wait=True)
"""


def scenario_kernel(p: dict[str, Any]) -> dict[str, Any]:
    from driver import Kernel

    k, n, workers = p["k"], p["n"], p["workers"]
    kernel = Kernel(sys.executable, "bench-workers")
    try:
        kernel.run(inspect.getsource(work))
        kernel.run(KERNEL_SETUP.format(workers=workers, k=k, n=n))
        kernel.run(KERNEL_WARM.format(workers=workers), timeout=TIMEOUT)
        kernel.drain(0.3)
        idle_ms: list[float] = []
        for _ in range(p["idle_pings"]):  # baseline: the same cells, no map running
            ping = kernel.run("1+1")
            idle_ms.append(ping.start_latency * MS)
            kernel.pump(p["gap_s"])
        start_ms: list[float] = []
        reply_ms: list[float] = []
        cells = 0  # sent while maps ran: the timed `1+1` and a check whether the map is done
        map_s: list[float] = []
        joblib_s: list[float] = []
        jl_start_ms: list[float] = []
        jl_reply_ms: list[float] = []
        for r in range(p["rounds"]):
            # A map started in the background, and small cells while it runs.
            kernel.run("_bench_m = _bench_start_map()\nassert not _bench_m.done()")
            end = time.monotonic() + TIMEOUT
            while time.monotonic() < end:
                ping = kernel.send("1+1")
                kernel.finish(ping, timeout=TIMEOUT)
                replied = time.monotonic()
                cells += 2
                if kernel.eval("_bench_m.done()"):
                    break  # this ping may have run after the map ended: not counted
                start_ms.append(ping.start_latency * MS)
                reply_ms.append((replied - ping.sent) * MS)
                kernel.pump(p["gap_s"])
            else:
                raise TimeoutError(f"the map did not end within {TIMEOUT:g} s")
            kernel.run("assert _bench_m.results() == _bench_expected")
            map_s.append(kernel.eval("_bench_ends[-1]"))
            # The same workload with joblib, and a cell sent right after it.
            cell = kernel.send(f"_bench_jl{r} = _bench_joblib()")
            ping = kernel.send("1+1")
            kernel.finish(cell, timeout=TIMEOUT)
            kernel.finish(ping, timeout=TIMEOUT)
            replied = time.monotonic()
            jl_start_ms.append(ping.start_latency * MS)
            jl_reply_ms.append((replied - ping.sent) * MS)
            joblib_s.append(kernel.eval(f"_bench_jl{r}"))
            kernel.drain(0.1)
        versions = kernel.eval(
            "{m: __import__('importlib.metadata').metadata.version(m) "
            "for m in ('ipykernel', 'joblib', 'loky')}"
        )
        kernel.run(KERNEL_CLEANUP, timeout=60)
    finally:
        kernel.shutdown()
    return {
        "k": k,
        "n": n,
        "workers": workers,
        "rounds": p["rounds"],
        "gap_s": p["gap_s"],
        "idle_ms": idle_ms,
        "cells": cells,
        "start_ms": start_ms,
        "reply_ms": reply_ms,
        "map_s": map_s,
        "joblib_s": joblib_s,
        "joblib_ping_start_ms": jl_start_ms,
        "joblib_ping_reply_ms": jl_reply_ms,
        "versions": versions,
    }


# ---------------------------------------------------------------------------
# the suite
# ---------------------------------------------------------------------------

SCENARIOS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "throughput": scenario_throughput,
    "kernel": scenario_kernel,
}


def _run_isolated(name: str, params: dict[str, Any]) -> dict[str, Any]:
    return run_isolated(os.path.abspath(__file__), name, ["--params", json.dumps(params)])


def _context() -> dict[str, str]:
    import joblib
    import loky

    import core

    context = core._context()
    context["joblib"] = f"{joblib.__version__} (its own loky copy)"
    context["loky"] = f"{loky.__version__} (igogo's default pool)"
    return context


def _quantile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[max(math.ceil(q * len(s)) - 1, 0)]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _fmt_ms(x: float) -> str:
    return f"{x:,.0f} ms" if x >= 100 else f"{x:.1f} ms"


def main(quick: bool) -> Suite:
    context = _context()
    z = QUICK if quick else FULL
    sizes = [{**size, "k": calibrate(size["ms"])} for size in z["sizes"]]
    t = _run_isolated(
        "throughput",
        {
            "sizes": sizes,
            "rounds": z["rounds"],
            "workers": WORKERS,
            "touch_k": min(s["k"] for s in sizes),
            "idle_s": z["idle_s"],
        },
    )
    kz = z["kernel"]
    ksize = sizes[kz["size"]]
    kr = _run_isolated(
        "kernel",
        {"k": ksize["k"], "workers": WORKERS, **{k: v for k, v in kz.items() if k != "size"}},
    )  # fmt: skip
    context["load average (1, 5, 15 min) at end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    context["kernel"] = ", ".join(f"{m} {v}" for m, v in kr["versions"].items())

    rows: list[Row] = []
    summary: list[str] = []
    script_rate: dict[str, float] = {}
    for i, s in enumerate(t["sizes"]):
        n = s["n"]
        title = f"1{'abc'[i]}. script, {n:,} items of {s['label']}"
        wall, cpus = s["wall"], s["cpu"]
        rate = {name: n / statistics.median(w) for name, w in wall.items()}
        cpu = {name: statistics.median(c) / n * MS for name, c in cpus.items()}
        script_rate[s["label"]] = rate["igogo"]
        ratio = statistics.median(s["ratios"])
        ideal = WORKERS / (s["item_ms_here"] / MS)
        rows += [
            judge(title, f"throughput ratio igogo.map / joblib.Parallel (median of "
                         f"{_plural(len(s['ratios']), 'round')})", ratio, ".3f", "", ">=",
                  TARGET_RATIO),
            Row(title, "same, range over rounds",
                f"{min(s['ratios']):.3f}-{max(s['ratios']):.3f}"),
            Row(title, "igogo.map: items/s (median run)", f"{rate['igogo']:.1f} /s"),
            Row(title, "joblib.Parallel(loky), defaults: items/s (median run)",
                f"{rate['joblib']:.1f} /s"),
        ]  # fmt: skip
        if "joblib1" in rate:
            r1 = [a / b for a, b in zip(wall["joblib1"], wall["igogo"], strict=True)]
            rows.append(
                Row(title, "joblib.Parallel(loky, batch_size=1): items/s (median run); "
                           "igogo / it, median of rounds",
                    f"{rate['joblib1']:.1f} /s; {statistics.median(r1):.3f}")
            )  # fmt: skip
        if "igogo1" in rate:
            rc = [a / b for a, b in zip(wall["joblib"], wall["igogo1"], strict=True)]
            rows.append(
                Row(title, "igogo.map(chunksize=1), one item per call: "
                           "items/s (median run); it / joblib, median of rounds",
                    f"{rate['igogo1']:.1f} /s; {statistics.median(rc):.3f}")
            )  # fmt: skip
        rows += [
            Row(title, f"ideal: {WORKERS} workers / item time alone "
                       f"({s['item_ms_here']:.2f} ms)", f"{ideal:,.1f} /s"),
            Row(title, "CPU of the calling process per item (all its threads): "
                       + " / ".join(_SYSTEM_NAMES[name] for name in cpu),
                " / ".join(f"{c:.3f}" for c in cpu.values()) + " ms"),
        ]  # fmt: skip
        summary.append(
            f"| {n:,} items of {s['label']} | {rate['igogo']:.1f} | "
            f"{rate['joblib']:.1f} | {ratio:.3f} | {'PASS' if ratio >= TARGET_RATIO else 'MISS'} |"
        )

    before, after = t["pools_before"], t["pools_after"]
    distinct = before["igogo"]["id"] != before["joblib"]["id"] and not (
        set(before["igogo"]["pids"]) & set(before["joblib"]["pids"])
    )
    kept = all(before[p]["id"] == after[p]["id"] for p in ("igogo", "joblib"))
    restarts = t["restarts_between_runs"]
    pool_text = (
        f"igogo {before['igogo']['max_workers']} workers, joblib "
        f"{before['joblib']['max_workers']}; {'distinct' if distinct else 'SHARED'} "
        f"executors and worker processes; {'neither' if kept else 'an executor was'} "
        "replaced; workers found stopped before a run and restarted (untimed): igogo "
        f"{restarts['igogo']} times, joblib {restarts['joblib']}; workers changed during "
        f"timed runs: {t['changed_during_runs']}"
    )
    rows.append(
        Row("1. script", "worker pools (checked): distinct / replaced / restarts igogo, "
                         "joblib / changed in timed runs",
            f"{'yes' if distinct else 'NO'} / {'no' if kept else 'YES'} / "
            f"{restarts['igogo']}, {restarts['joblib']} / {t['changed_during_runs']}")
    )  # fmt: skip
    idle = t.get("after_idle")
    if idle:
        s1i = f"1{'abc'[len(t['sizes'])]}. script, {idle['n']} short items after "
        s1i += f"{idle['idle_s']:g} s idle"
        for name in ("igogo", "joblib"):
            rows.append(
                Row(s1i, f"{_SYSTEM_NAMES[name]}: first run after the pause / again, warm",
                    f"{idle[name + '_cold_s'] * MS:,.0f} ms / {idle[name + '_warm_s'] * MS:,.0f}"
                    f" ms (workers alive before it: {idle[name + '_cold_idle_pids']}; "
                    f"restarted: {'yes' if idle[name + '_cold_restarted'] else 'no'})")
            )  # fmt: skip

    s2 = f"2. kernel, igogo.map over {kr['n']:,} items of {ksize['label']}"
    start, reply = kr["start_ms"], kr["reply_ms"]
    if start:
        rows += [
            judge(s2, f"new cell `1+1` during the map: send → busy, median of {len(start)}",
                  statistics.median(start), ".1f", "ms", "<=", TARGET_START_MS),
            Row(s2, "same, p90 / worst",
                f"{_fmt_ms(_quantile(start, 0.9))} / {_fmt_ms(max(start))}"),
            Row(s2, "same cells: send → reply, median / worst",
                f"{_fmt_ms(statistics.median(reply))} / {_fmt_ms(max(reply))}"),
        ]  # fmt: skip
    else:
        rows.append(Row(s2, "new cell during the map", "no cell ran while the map ran"))
    idle_ms = kr["idle_ms"]
    rows.append(
        Row(s2, f"baseline: the same cells with no map running, send → busy, median / worst "
                f"(of {len(idle_ms)})",
            f"{_fmt_ms(statistics.median(idle_ms))} / {_fmt_ms(max(idle_ms))}")
    )  # fmt: skip
    map_med = statistics.median(kr["map_s"])
    jl_med = statistics.median(kr["joblib_s"])
    kernel_rate = kr["n"] / map_med
    in_script = script_rate[ksize["label"]]
    jl_start, jl_reply = kr["joblib_ping_start_ms"], kr["joblib_ping_reply_ms"]
    rows += [
        Row(s2, "the map's total time in the kernel (cells running beside it), median",
            f"{map_med:.2f} s ({kernel_rate:.1f} items/s)"),
        Row(s2, "igogo.map in the script (1a), same items: items/s; kernel / script",
            f"{in_script:.1f} /s; {kernel_rate / in_script:.3f}"),
        Row(s2, "joblib.Parallel, same workload in the same kernel: time, median; "
                "throughput ratio igogo / joblib",
            f"{jl_med:.2f} s; {jl_med / map_med:.3f}"),
        Row(s2, "a `1+1` cell sent right after a joblib cell: send → busy, median / worst",
            f"{_fmt_ms(statistics.median(jl_start))} / {_fmt_ms(max(jl_start))}"),
        Row(s2, "same cells: send → reply, median / worst",
            f"{_fmt_ms(statistics.median(jl_reply))} / {_fmt_ms(max(jl_reply))}"),
    ]  # fmt: skip
    if start:
        summary_latency = (
            f"A new cell during a map starts after {statistics.median(start):.1f} ms "
            f"(median of {len(start)}; worst {_fmt_ms(max(start))}); during a "
            f"joblib.Parallel run of the same work it waits {_fmt_ms(statistics.median(jl_start))}"
            " (the whole run)."
        )
    else:
        summary_latency = "No cell ran while the map ran."

    notes = [
        f"{WORKERS} workers for both systems (`joblib.Parallel(n_jobs={WORKERS}, "
        f'backend="loky")`, `igogo.configure(workers={WORKERS})`); the function is '
        "`work(k)`, a loop of integer arithmetic defined in bench/workers.py, run as "
        "`__main__` there, so both send it by value with cloudpickle. Item sizes calibrated "
        "in the benchmark's process: "
        + ", ".join(f"k = {s['k']:,} for {s['label']} items" for s in t["sizes"])
        + ". Every result is checked.",
        "1: each size starts with one untimed run of each system; then "
        f"{_plural(t['rounds'], 'round')}, rotating which system goes first. Before every "
        "run (untimed) each of the system's workers runs an item, so that no run pays for "
        "starting workers. igogo runs "
        "`igogo.map(work, items, progress=False).results()` from regular code (the waiting "
        "code drives the map) with its defaults: items one per call until their time is "
        "known, then several per call (calls of about 50 ms), at most twice the workers' "
        "calls in flight; joblib keeps its defaults (`batch_size='auto'`: short items go "
        "in batches that last at least 0.2 s; `pre_dispatch='2*n_jobs'`). CPU: "
        "`time.process_time()` of the calling process (all its threads, loky's included) "
        "over a run, per item.",
        "1: joblib uses its vendored copy of loky (`joblib.externals.loky`) and igogo the "
        "standalone `loky`: two reusable executors, one per module, so neither system "
        "resizes or replaces the other's pool; while one runs the other's workers sit idle. "
        "Checked: " + pool_text + ".",
        "2: a kernel started through jupyter_client (bench/driver.py); `igogo.map(work, "
        "items)` with its defaults (progress bar on) starts in a cell that returns at once; "
        f"then `1+1` cells are sent one at a time, {kr['gap_s'] * MS:.0f} ms apart, each "
        "followed by a cell asking whether the map is done, until it is "
        f"({kr['cells'] / sum(kr['map_s']):.0f} cells a second in all); only `1+1` cells "
        "that ended while the map still ran are counted. "
        f"{_plural(kr['rounds'], 'map')}, each followed by the same workload through joblib "
        "in a cell and a `1+1` cell sent right after that one: it waits for the whole joblib "
        "run. The map's time is measured in the kernel, from the call to its done callback.",
    ]
    for s in t["sizes"]:
        if "joblib1" not in s["cpu"]:
            continue
        cpu = {name: statistics.median(c) / s["n"] * MS for name, c in s["cpu"].items()}
        notes.append(
            f"{s['label']} items: CPU of the calling process per item: igogo.map "
            f"{cpu['igogo']:.3f} ms, joblib with its default batching {cpu['joblib']:.3f} ms; "
            f"one item per call: igogo.map(chunksize=1) {cpu['igogo1']:.3f} ms, joblib "
            f"batch_size=1 {cpu['joblib1']:.3f} ms. On {WORKERS} cores with {WORKERS} "
            "workers that CPU is taken from the workers, which is why both chunk short items."
        )
    if idle:
        notes.append(
            f"1{'abc'[len(t['sizes'])]}: both pools left idle {idle['idle_s']:g} s, then a "
            f"map of {idle['n']} short items with each system, then the same again. loky's "
            "`get_reusable_executor()` stops workers idle for longer than its `timeout` "
            "argument (10 s by default); igogo's default pool passes 300 s, as joblib does "
            "(`idle_worker_timeout=300`)."
        )

    return Suite(
        name="workers",
        title="igogo.map benchmark: throughput against joblib, and a notebook beside a map"
        + (" (quick smoke run: not a measurement)" if quick else ""),
        context=context,
        rows=rows,
        notes=notes,
        before_table=[
            "## Summary",
            "",
            f"Throughput with {WORKERS} workers, igogo.map against joblib.Parallel (loky), "
            f"target: igogo / joblib >= {TARGET_RATIO}:",
            "",
            "| Items | igogo.map items/s | joblib.Parallel items/s | igogo / joblib | Result |",
            "|---|---|---|---|---|",
            *summary,
            "",
            summary_latency,
            "",
            "## Every measurement",
        ],
    )


_SYSTEM_NAMES = {
    "igogo": "igogo.map",
    "joblib": "joblib",
    "joblib1": "joblib batch_size=1",
    "igogo1": "igogo.map chunksize=1",
}


def _scenario_main() -> None:
    parser = argparse.ArgumentParser(description="Run one igogo.map benchmark scenario.")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--params", required=True, help="the scenario's parameters, as JSON")
    args = parser.parse_args()
    print(json.dumps(SCENARIOS[args.scenario](json.loads(args.params))))


if __name__ == "__main__":
    _scenario_main()
