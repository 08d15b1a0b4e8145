"""The one runner of every kernel scenario: ours, and the original igogo 1.1.0 beside it.

Each scenario runs in a real ipykernel started through ``igogo_jupyter.testing`` (no
ZeroMQ high-water marks: no message is dropped, every byte sent is counted), a fresh
kernel per scenario and system, ours and the original alternating so that the machine's
noise falls on both alike.  Ours runs in this interpreter (the ``bench`` environment);
the original in the ``bench-original`` environment (``igogo==1.1.0``, created by a full
run with ``hatch env create bench-original`` when missing).  The cells are the same for
both, written against the API they share; the one difference is what a job call returns
(ours a Job, the original a dict holding a task: ``_bench_task``).  Jobs are waited for
by an async cell polling them, so they run as in an idle notebook.  A scenario the original
cannot run says why (``ours_only``); one marked ``newer_python`` (preemption, whose mechanism
differs from 3.12 on) also runs in a kernel of Python 3.13, the ``bench-py313`` environment
(created like ``bench-original``), its benchmarks named with the version (``-py3.13``).

A scenario is a function ``(driver, params) -> [pyperf.Benchmark]``; ``quick`` runs each
tiny, in one kernel per kind (the original and Python 3.13 only if their environments exist).
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyperf

from common import benchmark, hatch_env, version_of
from igogo_jupyter.testing import Execution, KernelDriver, Message
from preempt import body_steps

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_ENV, ORIGINAL_VERSION = "bench-original", "1.1.0"
NEWER_ENV = "bench-py313"  # ours on Python 3.13, for the scenarios marked newer_python
IPYKERNEL6_ENV = "bench-ipykernel6"  # ours on ipykernel 6, for the scenarios marked ipykernel6
PYTHON_VAR = "IGOGO_BENCH_ORIGINAL_PYTHON"  # an interpreter with igogo 1.1.0; `none`: skip it
T = 600.0  # the longest wait for any cell or set of jobs
TASK = {
    "ours": "def _bench_task(h):\n    return h",
    "original": "def _bench_task(h):\n    return h['task']",
}

PRELUDE = """
import time as _bench_time
_bench_t0 = _bench_time.perf_counter()
import igogo
_bench_import_s = _bench_time.perf_counter() - _bench_t0
import asyncio, gc, random, sys, time
import importlib.metadata as _bench_md
import psutil as _bench_psutil
_bench_dists = {d.metadata["Name"] for d in _bench_md.distributions()}
%load_ext igogo
_bench_out = {}

def _bench_rss():
    return _bench_psutil.Process().memory_info().rss

async def _bench_wait(handles, timeout):
    end = time.monotonic() + timeout
    while not all(_bench_task(h).done() for h in handles):
        if time.monotonic() > end:
            raise TimeoutError(f"jobs not done within {timeout} s")
        await asyncio.sleep(0.005)

@igogo.job
def _bench_warm_up():  # the first job's costs (host lookup, greenback portal): not measured
    igogo.yielder()
"""
VERSIONS = """[(d, _bench_md.version(d)) for d in ("igogo", "igogo-core", "igogo-jupyter",
 "greenback", "greenlet", "ipykernel", "ipywidgets", "matplotlib", "tqdm") if d in _bench_dists]"""


def jobs(k: KernelDriver, code: str) -> Execution:
    """Run ``code`` (which starts jobs into ``_bench_h``), then wait for those jobs."""
    start = k.run(code, timeout=T)
    k.run(f"await _bench_wait(_bench_h, {T})", timeout=T + 10)
    return start


def beside(
    k: KernelDriver, p: dict[str, Any], count: str
) -> tuple[list[tuple[float, float]], float]:
    """New cells' waits (send -> busy, send -> idle) beside the spinning jobs ``_bench_h``, and
    their loops' turns per second meanwhile (``count``: their counters); then the jobs stop."""
    k.pump(p["warm_s"])
    spins0, t0 = sum(k.eval(count)), time.monotonic()
    waits = []
    for _ in range(p["samples"]):
        ex = k.finish(k.send("_bench_x = 1"), T)
        assert ex.idle_at is not None
        waits.append((ex.start_latency, ex.idle_at - ex.sent))
        k.pump(p["gap_s"])
    rate = (sum(k.eval(count)) - spins0) / (time.monotonic() - t0)
    jobs(k, "_bench_running = False")
    return waits, rate


def split(pairs: list[tuple[float, float]], first: str, second: str) -> list[pyperf.Benchmark]:
    """Samples taken in pairs, round by round: two benchmarks."""
    return [benchmark(first, [a for a, _ in pairs]), benchmark(second, [b for _, b in pairs])]


def result(k: KernelDriver, key: str, start: Execution) -> Any:
    value = k.eval(f"_bench_out.get({key!r})")
    if value is None:
        raise RuntimeError(f"the job recorded no result; its cell shows {k.stdout(start)[-800:]!r}")
    return value


def window(k: KernelDriver, t0: float) -> list[Message]:
    """IOPub messages since ``t0``, but the status and execute_input every cell has."""
    skip = ("status", "execute_input")
    return [m for m in k.messages if m["_received"] >= t0 and m["msg_type"] not in skip]


def images(msgs: list[Message]) -> int:
    return sum("image/png" in m["content"].get("data", {}) for m in msgs)


# -- the scenarios ----------------------------------------------------------------------


def sc_yielder(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """yielder() per call in a job's tight loop, against the same loop empty (same wall time)."""
    start = jobs(
        k,
        f"""
@igogo.job
def _bench_yielder(seconds, rounds):
    def run(call):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() < t0 + seconds:
            for _ in range(1000):
                call()
            n += 1000
        return (time.perf_counter() - t0) / n
    nothing = lambda: None
    _bench_out["y"] = [(run(nothing), run(igogo.yielder)) for _ in range(rounds)]
_bench_h = [_bench_yielder({p["seconds"]}, {p["rounds"]})]""",
    )
    return split(result(k, "y", start), "call-empty", "call-yielder")


def sc_loop(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """A ~10 µs loop body with a yielder() per iteration against the same loop bare, in a job."""
    start = jobs(
        k,
        f"""
@igogo.job
def _bench_loop(n, k, rounds):
    def run(yields):
        t0 = time.perf_counter()
        for _ in range(n):
            s = 0
            for i in range(k):
                s += i * i
            if yields:
                igogo.yielder()
        return (time.perf_counter() - t0) / n
    pairs = []
    for r in range(rounds):  # alternate which goes first
        if r % 2:
            bare = run(False)
            pairs.append((run(True), bare))
        else:
            pairs.append((run(True), run(False)))
    _bench_out["loop"] = pairs
_bench_h = [_bench_loop({p["n"]}, {p["k"]}, {p["rounds"]})]""",
    )
    return split(result(k, "loop", start), "kloop-yielder", "kloop-bare")  # (yielding, bare)


def sc_switch(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """A switch in a kernel: `igogo.sleep(0)` round trips of two jobs a cell waits for (the
    host's and the plugins' hooks on every switch), then again once pyplot is imported."""
    sfx = p.get("suffix", "")
    k.run("""
@igogo.job
def _bench_bounce(n):
    for _ in range(n):
        igogo.sleep(0)
def _bench_switches(n):
    t0 = time.perf_counter()
    igogo.wait(_bench_bounce(n), _bench_bounce(n))
    return (time.perf_counter() - t0) / (2 * n)""")
    out = []
    for name, setup in (("switch", ""), ("switch-pyplot", "import matplotlib.pyplot")):
        k.run(setup)
        samples = [k.eval(f"_bench_switches({p['n']})") for _ in range(p["rounds"])]
        out.append(benchmark(name + sfx, samples))
    return out


def sc_print(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """A job printing N lines: IOPub bytes and messages, time until the last output arrived."""
    k.run("@igogo.job\ndef _bench_printer(n):\n    for i in range(n):\n        print('line', i)")
    out = []
    for n in p["sizes"]:
        t0 = time.monotonic()
        start = jobs(k, f"_bench_h = [_bench_printer({n})]")
        k.drain(0.5)
        msgs = window(k, t0)
        shown = ("stream", "display_data", "update_display_data")
        last = max((m["_received"] for m in msgs if m["msg_type"] in shown), default=start.sent)
        out += [
            benchmark(f"print-{n}-bytes", [sum(m["_bytes"] for m in msgs)], "byte"),
            benchmark(f"print-{n}-messages", [len(msgs)], "integer"),
            benchmark(f"print-{n}-seconds", [last - start.sent]),
        ]
    return out


def sc_latency(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """New cells beside N jobs spinning on yielder(): send -> busy and send -> idle; the jobs'
    loop turns per second while nothing is sent, and while a cell waits for them (all the CPU
    theirs), whose ratio is the jobs' share of the CPU in an idle kernel."""
    n, sfx = p["jobs"], p.get("suffix", "")
    k.run(f"""
_bench_running, _bench_spins = True, [0] * {n}
@igogo.job
def _bench_spinner(i):
    while _bench_running:
        _bench_spins[i] += 1
        igogo.yielder()
_bench_h = [_bench_spinner(i) for i in range({n})]""")
    out = []
    if n and p["system"] == "ours":  # the original has no igogo.wait_all to drive them with
        k.pump(p["warm_s"])
        s0, t0 = sum(k.eval("_bench_spins")), time.monotonic()
        k.pump(p["quiet_s"])
        quiet = (sum(k.eval("_bench_spins")) - s0) / (time.monotonic() - t0)
        # The same jobs driven by a cell waiting for them: no loop, no gaps between ticks.
        k.run(f"""_bench_s0, _bench_t0 = sum(_bench_spins), time.perf_counter()
igogo.wait_all({p["quiet_s"]})
_bench_driven = (sum(_bench_spins) - _bench_s0) / (time.perf_counter() - _bench_t0)""")
        out += [
            benchmark(f"latency-{n}-quiet{sfx}", [quiet], "integer"),
            benchmark(f"latency-{n}-driven{sfx}", [k.eval("_bench_driven")], "integer"),
        ]
    waits, rate = beside(k, p, "_bench_spins")
    return [
        *out,
        benchmark(f"latency-{n}{sfx}", [busy for busy, _ in waits]),
        benchmark(f"latency-{n}-done{sfx}", [done for _, done in waits]),
        benchmark(f"latency-{n}-spins{sfx}", [rate], "integer"),
    ]


def sc_click(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """A click on a job's Stop button (a widget comm message) beside N jobs spinning on
    yielder(): from the click sent until the job's ``finally`` ran (one clock: CLOCK_MONOTONIC)."""
    n, sfx = p["jobs"], p.get("suffix", "")
    k.run(f"""import igogo_jupyter._widgets as _bench_widgets
_bench_running, _bench_stopped = True, {{}}
@igogo.job
def _bench_spinner(i):
    try:
        while _bench_running:
            igogo.yielder()
    finally:
        _bench_stopped[i] = time.monotonic()
_bench_h = [_bench_spinner(-1 - i) for i in range({n})]""")
    k.pump(p["warm_s"])
    waits = []
    for r in range(p["rounds"]):
        k.run(f"_bench_t = _bench_spinner({r})")  # its row (and Stop button) in this cell
        comm = k.eval("_bench_widgets.controls_for(_bench_t).stop.model_id")
        k.pump(p["gap_s"])
        content = {"comm_id": comm, "data": {"method": "custom", "content": {"event": "click"}}}
        msg = k.kc.session.msg("comm_msg", content)
        sent = time.monotonic()
        k.kc.shell_channel.send(msg)
        k.wait_until(lambda r=r: k.eval(f"{r} in _bench_stopped"), timeout=T)
        waits.append(k.eval(f"_bench_stopped[{r}]") - sent)
    jobs(k, "_bench_running = False")
    return [benchmark(f"click-{n}{sfx}", waits)]


def sc_tqdm(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """New cells beside `for i in tqdm(range(N)): pass` in %%igogo (no yielder)."""
    k.run("from tqdm.auto import tqdm as _bench_tqdm")
    waits, loops = [], []
    for r in range(p["rounds"]):
        k.run(f"""%%igogo
_bench_t = time.perf_counter()
for i in _bench_tqdm(range({p["n"]})):
    pass
_bench_out["tqdm{r}"] = [time.perf_counter() - _bench_t, time.time()]""")
        sent: list[tuple[float, float]] = []
        end = time.monotonic() + T
        while True:  # the first cell is sent right behind the %%igogo one
            wall = time.time()
            sent.append((wall, k.finish(k.send("_bench_x = 1"), T).start_latency))
            if (done := k.eval(f"_bench_out.get('tqdm{r}')")) is not None:
                break
            if time.monotonic() > end:
                raise TimeoutError("the tqdm loop did not end")
            k.pump(p["gap_s"])
        loops.append(done[0])
        waits += [w for wall, w in sent if wall < done[1]]  # sent while the loop ran
        k.drain(0.3)
    return [benchmark("tqdm-latency", waits), benchmark("tqdm-loop", loops)]


def sc_preempt(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """A new cell's wait (send -> busy) beside N preemptive %%igogo cells each spinning on a
    plain loop (no yielder()), each counting its own iterations."""
    n, name = p["cells"], f"preempt-{p['cells']}"
    counters = [f"_bench_p{i}" for i in range(n)]
    k.run("_bench_running = True\n" + "\n".join(f"{c} = 0" for c in counters))
    for c in counters:
        k.run(f"%%igogo\nwhile _bench_running:\n    {c} += 1")
    k.run("_bench_h = [j for j in igogo.jobs() if isinstance(j, igogo.Job) and not j.done()]")
    preemptive = k.eval("[j.preemptive for j in _bench_h]")
    if preemptive != [True] * n:
        raise RuntimeError(f"the cells' jobs are not all preemptive: {preemptive}")
    waits, rate = beside(k, p, "[" + ", ".join(counters) + "]")
    py = f"py{p['python']}"
    return [
        benchmark(f"{name}-{py}", [busy for busy, _ in waits]),
        benchmark(f"{name}-spins-{py}", [rate], "integer"),
    ]


def sc_mpl(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """A job updating a figure every 50 ms: by pyplot alone (each system shows it its own
    way; igogo-mpl's render time), and with igogo.display(fig) each frame."""
    k.run("""
import matplotlib.pyplot as plt, numpy as np
try:
    import igogo_mpl as _bench_mpl
except ImportError:
    _bench_mpl = None
_bench_stats = lambda: dict(_bench_mpl.stats()) if _bench_mpl else {"render_seconds": 0}

@igogo.job(warn_rewrite=False)
def _bench_plot(frames, interval, explicit):
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.linspace(0, 10, 500)
    (line,) = ax.plot(x, np.sin(x))
    shows, t0, r0 = [], time.perf_counter(), _bench_stats()["render_seconds"]
    for i in range(frames):
        line.set_ydata(np.sin(x + i / 5))
        ax.set_title(f"frame {i}")
        if explicit:
            t = time.perf_counter()
            igogo.display(fig)
            shows.append(time.perf_counter() - t)
        igogo.sleep(interval)
    wall, render = time.perf_counter() - t0, _bench_stats()["render_seconds"] - r0
    _bench_out["mpl", explicit] = [wall, render if _bench_mpl else None, shows]""")
    out = []
    for variant, frames in (("auto", p["auto_frames"]), ("explicit", p["explicit_frames"])):
        explicit = variant == "explicit"
        t0 = time.monotonic()
        start = jobs(k, f"_bench_h = [_bench_plot({frames}, {p['interval']}, {explicit})]")
        k.drain(0.5)
        wall, render, shows = result(k, ("mpl", explicit), start)
        out += [benchmark(f"mpl-{variant}-images", [images(window(k, t0))], "integer")]
        if explicit:
            out.append(benchmark("mpl-explicit-display", shows))
        else:
            out.append(benchmark("mpl-auto-wall", [wall]))
            if render is not None:
                out.append(benchmark("mpl-auto-render", [render]))
    return out


def sc_sleepers(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """N jobs each sleeping 0.2-1.0 s (``delays``): kernel RSS per job once all sleep, wake-up
    lateness.  The RSS is read (after a gc.collect(), which blocks the kernel) before the
    first sleeper is due: 10,000 jobs sleep 1-2 s, so that all have parked by then."""
    n, sfx = p["n"], p.get("suffix", "")
    lo, hi = p.get("delays", (0.2, 1.0))
    k.run(f"""
_bench_parked, _bench_late = [0], []
@igogo.job
def _bench_sleeper(d):
    _bench_parked[0] += 1
    due = time.monotonic() + d
    igogo.sleep(d)
    _bench_late.append(time.monotonic() - due)
_bench_rng = random.Random(1234)
_bench_delays = [{lo} + {hi - lo} * _bench_rng.random() for _ in range({n})]""")
    start = k.send("""gc.collect()
_bench_rss0, _bench_t = _bench_rss(), time.perf_counter()
_bench_h = [_bench_sleeper(d) for d in _bench_delays]
_bench_start_s = time.perf_counter() - _bench_t""")
    import psutil

    def over() -> bool:
        return k.pid is not None and psutil.Process(k.pid).memory_info().rss > p["rss_limit"]

    try:
        k.wait_until(lambda: start.idle_at is not None or over(), p["start_timeout"])
    except TimeoutError:
        raise TimeoutError(
            f"starting {n:,} jobs from one cell took over {p['start_timeout']:g} s"
        ) from None
    if start.idle_at is None:
        limit = p["rss_limit"] / 2**30
        raise MemoryError(f"starting {n:,} jobs from one cell took the kernel past {limit:g} GiB")
    k.finish(start, T)
    k.run(
        f"while _bench_parked[0] < {n}:\n    await asyncio.sleep(0.001)\n"
        "gc.collect()\n_bench_rss1 = _bench_rss()",
        timeout=T,
    )
    # A cheap wait: polling 10,000 jobs' done() every few ms would hold the loop itself.
    k.run(f"while len(_bench_late) < {n}:\n    await asyncio.sleep(0.005)", timeout=T)
    rss, late, started = k.eval(
        "[(_bench_rss1 - _bench_rss0) / len(_bench_h), _bench_late, _bench_start_s]"
    )
    if len(late) != n:
        raise RuntimeError(f"{len(late)} of {n} sleepers recorded their wake-up")
    shown = list(k.of(start))  # what the starting cell shows: rows, a note, their widgets
    return [
        benchmark(f"sleepers-{n}-rss{sfx}", [rss], "byte"),
        benchmark(f"sleepers-{n}-lateness{sfx}", late),
        benchmark(f"sleepers-{n}-start{sfx}", [started]),
        benchmark(f"sleepers-{n}-messages{sfx}", [len(shown)], "integer"),
        benchmark(f"sleepers-{n}-bytes{sfx}", [sum(m["_bytes"] for m in shown)], "byte"),
    ]


def sc_map(k: KernelDriver, p: dict[str, Any]) -> list[pyperf.Benchmark]:
    """Cells sent while igogo.map runs in the background, against one sent behind joblib."""
    import workers

    kk, n = workers.calibrate(p["item_s"]), p["n"]
    k.run(inspect.getsource(workers.work))
    k.run(
        f"""import joblib
igogo.configure(workers={workers.WORKERS})
_bench_items, _bench_par = [{kk}] * {n}, joblib.Parallel(n_jobs={workers.WORKERS}, backend="loky")
igogo.map(work, _bench_items[:8], progress=False).results()  # both pools warm, outside
_bench_par(joblib.delayed(work)(x) for x in _bench_items[:8])  # every measurement""",
        timeout=T,
    )
    waits, behind = [], []
    for _ in range(p["rounds"]):
        k.run("_bench_m = igogo.map(work, _bench_items)")
        while True:
            ping = k.finish(k.send("1+1"), T)
            if k.eval("_bench_m.done()"):
                break  # this one may have run after the map ended: not counted
            waits.append(ping.start_latency)
            k.pump(p["gap_s"])
        if not waits:  # the map ended before a second cell (the quick smoke run's tiny map)
            waits.append(ping.start_latency)
        k.send("_bench_par(joblib.delayed(work)(x) for x in _bench_items)")
        behind.append(k.finish(k.send("1+1"), T).start_latency)
    return [benchmark("map-cell", waits), benchmark("map-joblib-cell", behind)]


@dataclass
class Scenario:
    key: str
    run: Callable[[KernelDriver, dict[str, Any]], list[pyperf.Benchmark]]
    params: dict[str, Any]  # a full run's or a quick one's
    group: str = "kernels"  # the results file it belongs to (kernels, mpl, workers)
    ours_only: str = ""  # why the original igogo 1.1.0 does not run it (empty: it does)
    newer_python: bool = False  # ours also runs it on Python 3.13 (benchmarks named -pyX.Y)
    ipykernel6: bool = False  # ours also runs it on ipykernel 6 (benchmarks named -ipykernel6)


def scenarios(groups: set[str], quick: bool) -> list[Scenario]:
    def q(full: Any, small: Any) -> Any:
        """A full run's parameters, or the quick run's."""
        return small if quick else full

    lat = q(
        {"samples": 40, "warm_s": 1.0, "gap_s": 0.1, "quiet_s": 2.0},
        {"samples": 3, "warm_s": 0.2, "gap_s": 0.05, "quiet_s": 0.2},
    )
    sleep = {"start_timeout": 300.0, "rss_limit": 3 * 2**30}
    out = [
        Scenario(
            "yielder", sc_yielder, q({"seconds": 2.0, "rounds": 3}, {"seconds": 0.02, "rounds": 1})
        ),
        Scenario("loop", sc_loop, q({"n": 20_000, "rounds": 6}, {"n": 200, "rounds": 2})),
        Scenario(
            "switch",
            sc_switch,
            q({"n": 20_000, "rounds": 7}, {"n": 200, "rounds": 1}),
            ours_only="igogo 1.1.0 has no igogo.wait",
            ipykernel6=True,
        ),
        Scenario("print", sc_print, q({"sizes": [100, 500, 2000]}, {"sizes": [50]})),
        *[
            Scenario(f"latency{n}", sc_latency, {**lat, "jobs": n}, ipykernel6=True)
            for n in q((0, 1, 3, 10, 100), (0, 1))
        ],
        Scenario(
            "click",
            sc_click,
            {**lat, "jobs": 10, "rounds": q(15, 2)},
            ours_only="the original's Stop button is another widget",
            ipykernel6=True,
        ),
        Scenario(
            "tqdm",
            sc_tqdm,
            q(
                {"n": 10**6, "rounds": 3, "gap_s": 0.05},
                {"n": 3 * 10**5, "rounds": 1, "gap_s": 0.02},
            ),
        ),
        *[
            Scenario(
                f"preempt{n}",
                sc_preempt,
                {**lat, "cells": n},
                ours_only="igogo 1.1.0 cannot preempt a loop",
                newer_python=True,
            )
            for n in q((1, 3, 10), (3,))
        ],
        *[Scenario(f"sleepers{n}", sc_sleepers, {**sleep, "n": n}) for n in q((100, 1000), (20,))],
        *[
            Scenario(
                f"sleepers{n}",
                sc_sleepers,
                {**sleep, "n": n, "delays": (1.0, 2.0)},
                ours_only="igogo 1.1.0 did not start 1,000 jobs within 10 minutes",
                ipykernel6=True,
            )
            for n in q((10_000,), ())
        ],
        Scenario(
            "mpl",
            sc_mpl,
            q({"auto_frames": 200, "explicit_frames": 40}, {"auto_frames": 3, "explicit_frames": 2})
            | {"interval": 0.05},
            "mpl",
        ),
        Scenario(
            "map",
            sc_map,
            q(
                {"item_s": 0.03, "n": 160, "rounds": 3, "gap_s": 0.1},
                {"item_s": 0.002, "n": 40, "rounds": 1, "gap_s": 0.02},
            ),
            "workers",
            ours_only="igogo 1.1.0 has no igogo.map",
        ),
    ]
    return [sc for sc in out if sc.group in groups]


def find_original(create: bool) -> tuple[str | None, str]:
    """The interpreter of the ``bench-original`` environment, or None and why not."""
    forced = os.environ.get(PYTHON_VAR)
    if forced:
        return (None, f"${PYTHON_VAR}=none") if forced == "none" else (forced, f"${PYTHON_VAR}")
    python, how = hatch_env(ORIGINAL_ENV, create)
    if python is None:
        return None, how + ("" if shutil.which("hatch") else f" (or set ${PYTHON_VAR})")
    code = "import importlib.metadata as m; print(m.version('igogo'))"
    version = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=False
    ).stdout.strip()
    if version != ORIGINAL_VERSION:
        return None, f"{python} has igogo {version or 'missing'}, not {ORIGINAL_VERSION}"
    return python, how


@dataclass
class Outcome:
    """Every system's benchmarks by name, failures by system and scenario, and context."""

    benchmarks: dict[str, dict[str, pyperf.Benchmark]]
    failed: dict[str, dict[str, str]]
    context: dict[str, str]


@dataclass
class Kind:
    """A kind of kernel: the system whose column its figures go to, and its interpreter."""

    system: str  # ours or original
    python: str
    version: str  # 3.11
    label: str  # ours, original, ours on Python 3.13, ours on ipykernel 6
    suffix: str = ""  # "-ipykernel6": appended to its benchmarks' names by the scenarios

    def runs(self, sc: Scenario) -> bool:
        if self.system == "original":
            return not sc.ours_only
        if self.suffix:
            return sc.ipykernel6
        return self.label == "ours" or sc.newer_python

    def failure_key(self, sc: Scenario) -> str:
        return f"{sc.key}-py{self.version}" if sc.newer_python else sc.key + self.suffix


def run(groups: set[str], quick: bool, only: set[str] | None = None) -> Outcome:
    scs = [sc for sc in scenarios(groups, quick) if only is None or sc.key in only]
    here = version_of(sys.executable)
    kinds = [Kind("ours", sys.executable, here, "ours")]
    got = Outcome({"ours": {}}, {"ours": {}}, {})
    if any(not sc.ours_only for sc in scs):
        python, how = find_original(create=not quick)
        got.context["original"] = how
        if python:
            kinds.append(Kind("original", python, version_of(python), "original"))
            got.benchmarks["original"], got.failed["original"] = {}, {}
    if any(sc.newer_python for sc in scs):
        python, how = hatch_env(NEWER_ENV, create=not quick)
        if python:
            version = version_of(python)
            kinds.append(Kind("ours", python, version, f"ours on Python {version}"))
            got.context[f"Python {version} kernels (ours)"] = how
        else:
            print(f"  note: no Python 3.13 kernel: {how}", file=sys.stderr, flush=True)
            for sc in scs:
                if sc.newer_python:
                    got.failed["ours"][f"{sc.key}-py3.13"] = f"not run: {how}"
    if any(sc.ipykernel6 for sc in scs):
        python, how = hatch_env(IPYKERNEL6_ENV, create=not quick)
        if python:
            label = "ours on ipykernel 6"
            kinds.append(Kind("ours", python, version_of(python), label, "-ipykernel6"))
            got.context["ipykernel 6 kernels (ours)"] = how
        else:
            print(f"  note: no ipykernel 6 kernel: {how}", file=sys.stderr, flush=True)
            for sc in scs:
                if sc.ipykernel6:
                    got.failed["ours"][f"{sc.key}-ipykernel6"] = f"not run: {how}"
    # The import time of each system's kernels: a full run's figure, not a partial one's.
    imports: dict[str, list[float]] = {
        k.system: [] for k in kinds if k.label == k.system and only is None
    }
    loop_steps = body_steps(10e-6)  # once, here: both kernels run exactly the same loop

    def start(kind: Kind) -> KernelDriver:
        k = KernelDriver.start(python=kind.python, timeout=120)
        try:
            k.run(TASK[kind.system] + "\n" + PRELUDE, timeout=T)
            if kind.label in imports:
                imports[kind.label].append(k.eval("_bench_import_s"))
            got.context.setdefault(
                f"versions ({kind.label})",
                ", ".join(f"{a} {b}" for a, b in k.eval(VERSIONS)),
            )
            k.run("_bench_h = [_bench_warm_up()]\nawait _bench_wait(_bench_h, 60)", timeout=T)
        except BaseException:
            k.shutdown()
            raise
        return k

    def one(kind: Kind, sc: Scenario, shared: KernelDriver | None) -> None:
        print(f"  {sc.key} / {kind.label} ...", file=sys.stderr, flush=True)
        params = {**sc.params, "python": kind.version, "suffix": kind.suffix, "system": kind.system}
        if sc.key == "loop":
            params["k"] = loop_steps
        k = shared
        try:
            k = k or start(kind)
            for b in sc.run(k, params):
                got.benchmarks[kind.system][b.get_name()] = b
        except Exception as exc:
            if quick and kind.system == "ours":
                raise
            traceback.print_exc(file=sys.stderr)
            why = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            got.failed[kind.system][kind.failure_key(sc)] = why
        finally:
            if k is not None and shared is None:
                k.shutdown()

    if quick:  # one kernel per kind for every scenario: a smoke test, in seconds
        for kind in kinds:
            if not any(kind.runs(sc) for sc in scs):
                continue
            shared = start(kind)
            try:
                for sc in scs:
                    if kind.runs(sc):
                        one(kind, sc, shared)
            finally:
                shared.shutdown()
    else:  # a fresh kernel per scenario and kind, alternating the kinds
        for sc in scs:
            for kind in kinds:
                if kind.runs(sc):
                    one(kind, sc, None)
    for system, values in imports.items():
        if values:
            got.benchmarks[system]["import"] = benchmark("import", values)
    return got
