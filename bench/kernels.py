"""The one runner of every kernel scenario: ours, and the original igogo 1.1.0 beside it.

Which kernels, and how the two systems get the same cells: bench/README.md.
"""

import inspect
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import core
from common import PY, Failed, Samples, hatch_env, in_turns
from igogo_jupyter.testing import Execution, KernelDriver, Message, WidgetModels

OTHERS = {  # ours in other kernels, for the scenarios that name them: hatch env, what differs
    "py3.13": ("bench-py313", "Python 3.13"),
    "ipykernel6": ("bench-ipykernel6", "ipykernel 6"),
}
T = 600.0  # the longest wait for any cell or set of jobs
TASK = {"ours": "h", "original": "h['task']"}
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
_bench_out, _bench_rss = {}, lambda: _bench_psutil.Process().memory_info().rss

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
LAT = {  # new cells beside busy jobs, by quick: how many, after what, how far apart, in rounds
    False: {"samples": 40, "warm_s": 1.0, "gap_s": 0.1, "quiet_s": 0.5, "rounds": 4},
    True: {"samples": 3, "warm_s": 0.2, "gap_s": 0.05, "quiet_s": 0.2, "rounds": 1},
}


def q(p: dict[str, Any], full: Any, quick: Any) -> Any:
    """A full run's parameters, or the quick run's."""
    return quick if p["quick"] else full


def jobs(k: KernelDriver, code: str) -> Execution:
    """Run ``code`` (which starts jobs into ``_bench_h``), then wait for those jobs."""
    start = k.run(code, timeout=T)
    k.run(f"await _bench_wait(_bench_h, {T})", timeout=T + 10)
    return start


def result(k: KernelDriver, key: Any, start: Execution) -> Any:
    if (value := k.eval(f"_bench_out.get({key!r})")) is None:
        raise RuntimeError(f"the job recorded no result; its cell shows {k.stdout(start)[-800:]!r}")
    return value


def window(k: KernelDriver, t0: float) -> list[Message]:
    """IOPub messages since ``t0``, but the status and execute_input every cell has."""
    skip = ("status", "execute_input")
    return [m for m in k.messages if m["_received"] >= t0 and m["msg_type"] not in skip]


def turns(k: KernelDriver, rounds: int, timers: dict[str, str], name: str) -> Samples:
    """core.py's loops timed in a job in the kernel, in turns, as core.py times them in a
    script: ``timers`` are expressions calling them (their source is sent, with in_turns)."""
    fns = (in_turns, core.body, core.yielding, core.empty_loop, core.yielder_loop, core.sleep0_loop)
    k.run("from __future__ import annotations\n" + "\n".join(map(inspect.getsource, fns)))
    ts = ", ".join(f"{kind!r}: lambda: {expr}" for kind, expr in timers.items())
    cell = f"""@igogo.job
def _bench_turns():
    _bench_out['turns'] = in_turns({rounds}, {{{ts}}}, {name!r})"""
    return dict(result(k, "turns", jobs(k, f"{cell}\n_bench_h = [_bench_turns()]")))


def sc_yielder(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """yielder() per call in a job's tight loop, against the same loop empty."""
    n, rounds = q(p, (2_000_000, 5), (20_000, 1))
    timers = {"empty": f"empty_loop({n}) / {n}", "yielder": f"yielder_loop({n}) / {n}"}
    return turns(k, rounds, timers, "call-{}")


def sc_loop(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """A ~10 µs loop body with a yielder() per iteration against the same loop bare, in a job."""
    n, rounds, steps = *q(p, (20_000, 9), (200, 2)), p["k"]
    timers = {"bare": f"body({n}, {steps})", "yielder": f"yielding({n}, {steps})"}
    return turns(k, rounds, timers, "kloop-{}")


def sc_switch(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """`igogo.sleep(0)` round trips in a job (the host's and the plugins' hooks on every switch),
    then again once pyplot is imported."""
    n, rounds, out = *q(p, (20_000, 7), (200, 1)), {}
    for name, setup in (("switch", ""), ("switch-pyplot", "import matplotlib.pyplot")):
        k.run(setup)
        out |= turns(k, rounds, {"": f"sleep0_loop({n}) / {n}"}, f"{name}{{}}{p['suffix']}")
    return out


def sc_print(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """A job printing N lines: IOPub bytes and messages, time until the last output arrived."""
    k.run("@igogo.job\ndef _bench_printer(n):\n    for i in range(n):\n        print('line', i)")
    out = {}
    for n in q(p, (100, 500, 2000), (50,)):
        t0 = time.monotonic()
        start = jobs(k, f"_bench_h = [_bench_printer({n})]")
        k.drain(0.5)
        msgs = window(k, t0)
        shown = ("stream", "display_data", "update_display_data")
        last = max((m["_received"] for m in msgs if m["msg_type"] in shown), default=start.sent)
        out[f"print-{n}-bytes"] = [sum(m["_bytes"] for m in msgs)]
        out[f"print-{n}-messages"] = [len(msgs)]
        out[f"print-{n}-seconds"] = [last - start.sent]
    return out


def cells(k: KernelDriver, p: dict[str, Any], out: dict[str, list[float]], name: str) -> None:
    """A round's new cells, ``gap_s`` apart: into ``name`` send -> busy, ``name-done`` -> idle."""
    for _ in range(p["samples"] // p["rounds"]):
        ex = k.finish(k.send("_bench_x = 1"), T)
        assert ex.idle_at is not None
        out.setdefault(f"{name}{p['suffix']}", []).append(ex.start_latency)
        out.setdefault(f"{name}-done{p['suffix']}", []).append(ex.idle_at - ex.sent)
        k.pump(p["gap_s"])


def spinners(k: KernelDriver, n: int, preempt: bool) -> str:
    """``n`` busy jobs started into ``_bench_h``: %%igogo cells each spinning on a plain loop (no
    yielder(): preempted), or jobs spinning on yielder(); the list of their loop turns."""
    if not preempt:
        k.run(f"""
_bench_running, _bench_spins = True, [0] * {n}
@igogo.job
def _bench_spinner(i):
    while _bench_running:
        _bench_spins[i] += 1
        igogo.yielder()
_bench_h = [_bench_spinner(i) for i in range({n})]""")
        return "_bench_spins"
    k.run("_bench_running = True\n" + "".join(f"_bench_p{i} = 0\n" for i in range(n)))
    for i in range(n):
        k.run(f"%%igogo\nwhile _bench_running:\n    _bench_p{i} += 1")
    k.run("_bench_h = [j for j in igogo.jobs() if isinstance(j, igogo.Job) and not j.done()]")
    if (preemptive := k.eval("[j.preemptive for j in _bench_h]")) != [True] * n:
        raise RuntimeError(f"the cells' jobs are not all preemptive: {preemptive}")
    return "[" + ", ".join(f"_bench_p{i}" for i in range(n)) + "]"


def cpu_share(k: KernelDriver, p: dict[str, Any], out: dict[str, list[float]], name: str) -> None:
    """The spinners' loop turns per second while nothing is sent, then under a cell waiting for
    them (all the CPU theirs), twice in turns, both timed in the kernel: each ratio is their
    share of the CPU in an idle kernel."""
    for _ in range(2):
        k.run("_bench_q = sum(_bench_spins), time.perf_counter()")
        k.pump(p["quiet_s"])
        k.run(f"""
_bench_q = sum(_bench_spins) - _bench_q[0], time.perf_counter() - _bench_q[1]
_bench_s0, _bench_t0 = sum(_bench_spins), time.perf_counter()
igogo.wait_all({p["quiet_s"]})  # no loop, no gaps between ticks
_bench_driven = (sum(_bench_spins) - _bench_s0) / (time.perf_counter() - _bench_t0)""")
        quiet, driven = k.eval("[_bench_q[0] / _bench_q[1], _bench_driven]")
        out.setdefault(f"{name}-quiet{p['suffix']}", []).append(quiet)
        out.setdefault(f"{name}-driven{p['suffix']}", []).append(driven)


def sc_latency(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """New cells beside N busy jobs (:func:`spinners`): send -> busy, send -> idle, the jobs'
    loop turns per second.  Beside jobs spinning on yielder(), in ``rounds``: cells in the same
    kernel with no job (what the ratios divide by: kernels differ more than the jobs cost), the
    jobs started, their share of the CPU (ours: the original has no wait_all), cells beside
    them, the jobs ended."""
    n, preempt, out = p["jobs"], bool(p.get("preempt")), {}
    name, paired = f"preempt-{n}" if preempt else f"latency-{n}", bool(n) and not preempt
    p = p | {"rounds": p["rounds"] if paired else 1}
    for _ in range(p["rounds"]):
        if paired:
            cells(k, p, out, f"{name}-idle")
        count = spinners(k, n, preempt)
        if paired and p["system"] == "ours":
            k.pump(p["warm_s"])
            cpu_share(k, p, out, name)
        k.pump(p["warm_s"])
        spins0, t0 = sum(k.eval(count)), time.monotonic()
        cells(k, p, out, name)
        rate = (sum(k.eval(count)) - spins0) / (time.monotonic() - t0)
        out.setdefault(f"{name}-spins{p['suffix']}", []).append(rate)
        jobs(k, "_bench_running = False")
    return out


def sc_click(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """A click on a job's Stop button, sent as a browser sends it (found and clicked through
    WidgetModels), beside N jobs spinning on yielder(): until the job's ``finally`` ran (one
    clock: CLOCK_MONOTONIC)."""
    k.run(f"""_bench_running, _bench_stopped = True, {{}}
@igogo.job
def _bench_spinner(i):
    try:
        while _bench_running:
            igogo.yielder()
    finally:
        _bench_stopped[i] = time.monotonic()
_bench_h = [_bench_spinner(-1 - i) for i in range({p["jobs"]})]""")
    k.pump(p["warm_s"])
    waits, widgets = [], WidgetModels(k)
    for r in range(q(p, 15, 2)):
        k.run(f"_bench_t = _bench_spinner({r})")  # its row (and Stop button) in this cell
        stop = widgets.parts(k.eval("_bench_t.id"))["stop"]
        k.pump(p["gap_s"])
        sent = widgets.click(stop)
        k.wait_until(lambda r=r: k.eval(f"{r} in _bench_stopped"), timeout=T)
        waits.append(k.eval(f"_bench_stopped[{r}]") - sent)
    jobs(k, "_bench_running = False")
    return {f"click-{p['jobs']}{p['suffix']}": waits}


def meanwhile(k: KernelDriver, done: str, gap_s: float) -> list[tuple[float, float]]:
    """Cells sent one after the other, ``gap_s`` apart, until ``done`` (an expression) is true
    after one: each one's wall time when sent and its wait (send -> busy)."""
    sent, end = [], time.monotonic() + T
    while not sent or not k.eval(done):
        k.pump(gap_s if sent else 0.0)
        if time.monotonic() > end:
            raise TimeoutError(f"{done} not true in {T} s")
        sent.append((time.time(), k.finish(k.send("_bench_x = 1"), T).start_latency))
    return sent


def sc_tqdm(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """New cells beside `for i in tqdm(range(N)): pass` in %%igogo (no yielder)."""
    n, rounds, gap_s = q(p, (10**6, 3, 0.05), (3 * 10**5, 1, 0.02))
    k.run("from tqdm.auto import tqdm as _bench_tqdm")
    waits, loops = [], []
    for r in range(rounds):
        k.run(f"""%%igogo
_bench_t = time.perf_counter()
for i in _bench_tqdm(range({n})):
    pass
_bench_out["tqdm{r}"] = [time.perf_counter() - _bench_t, time.time()]""")
        sent = meanwhile(k, f"'tqdm{r}' in _bench_out", gap_s)  # the first right behind it
        done = k.eval(f"_bench_out['tqdm{r}']")
        loops.append(done[0])
        waits += [w for wall, w in sent if wall < done[1]]  # sent while the loop ran
        k.drain(0.3)
    return {"tqdm-latency": waits, "tqdm-loop": loops}


def sc_mpl(k: KernelDriver, p: dict[str, Any]) -> Samples:
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
    out = {}
    for explicit, frames in zip((False, True), q(p, (200, 40), (3, 2)), strict=True):
        t0, variant = time.monotonic(), "explicit" if explicit else "auto"
        start = jobs(k, f"_bench_h = [_bench_plot({frames}, 0.05, {explicit})]")
        k.drain(0.5)
        wall, render, shows = result(k, ("mpl", explicit), start)
        pngs = sum("image/png" in m["content"].get("data", {}) for m in window(k, t0))
        out[f"mpl-{variant}-images"] = [pngs]
        if explicit:
            out["mpl-explicit-display"] = shows
        else:
            out["mpl-auto-wall"] = [wall]
            if render is not None:
                out["mpl-auto-render"] = [render]
    return out


def sc_sleepers(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """N jobs each sleeping 0.2-1.0 s: kernel RSS per job once all sleep, wake-up lateness.
    The RSS is read (after a gc.collect(), which blocks the kernel) before the first sleeper
    is due: 10,000 jobs sleep 1-2 s, so that all have parked by then."""
    n, sfx = p["n"], p["suffix"]
    lo, hi = (1.0, 2.0) if n >= 10_000 else (0.2, 1.0)
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
    try:  # a kernel that cannot start them in 5 minutes (the original's) is given up on
        k.finish(start, 300)
    except TimeoutError:
        raise TimeoutError(f"starting {n:,} jobs from one cell took over 300 s") from None
    parked = f"while _bench_parked[0] < {n}:\n    await asyncio.sleep(0.001)\n"
    k.run(parked + "gc.collect()\n_bench_rss1 = _bench_rss()", timeout=T)
    # A cheap wait: polling 10,000 jobs' done() every few ms would hold the loop itself.
    k.run(f"while len(_bench_late) < {n}:\n    await asyncio.sleep(0.005)", timeout=T)
    rss, late, started = k.eval(
        "[(_bench_rss1 - _bench_rss0) / len(_bench_h), _bench_late, _bench_start_s]"
    )
    shown = list(k.of(start))  # what the starting cell shows: rows, a note, their widgets
    got = dict(rss=[rss], lateness=late, start=[started], messages=[len(shown)])
    got["bytes"] = [sum(m["_bytes"] for m in shown)]
    return {f"sleepers-{n}-{name}{sfx}": values for name, values in got.items()}


def sc_map(k: KernelDriver, p: dict[str, Any]) -> Samples:
    """Cells sent while igogo.map runs in the background, against one sent behind joblib."""
    import workers

    item_s, n, rounds, gap_s = q(p, (0.03, 160, 3, 0.1), (0.002, 40, 1, 0.02))
    k.run(inspect.getsource(workers.work))
    k.run(
        f"""import joblib
igogo.configure(workers={workers.WORKERS})
_bench_items = [{workers.calibrate(item_s)}] * {n}
_bench_par = joblib.Parallel(n_jobs={workers.WORKERS}, backend="loky")
igogo.map(work, _bench_items[:8], progress=False).results()  # both pools warm, outside
_bench_par(joblib.delayed(work)(x) for x in _bench_items[:8])  # every measurement""",
        timeout=T,
    )
    waits, behind = [], []
    for _ in range(rounds):
        k.run("_bench_m = igogo.map(work, _bench_items)")
        sent = meanwhile(k, "_bench_m.done()", gap_s)
        # The last may have run after the map ended: not counted, unless it is the only one
        # (the quick smoke run's tiny map).
        waits += [wait for _, wait in sent[:-1] or sent]
        k.send("_bench_par(joblib.delayed(work)(x) for x in _bench_items)")
        behind.append(k.finish(k.send("_bench_x = 1"), T).start_latency)
    return {"map-cell": waits, "map-joblib-cell": behind}


@dataclass
class Scenario:
    key: str
    run: Callable[[KernelDriver, dict[str, Any]], Samples]
    params: dict[str, Any] = field(default_factory=dict)  # LAT's and the kernel's added
    group: str = "kernels"  # the table it belongs to (kernels, mpl, workers)
    ours_only: str = ""  # why the original igogo 1.1.0 does not run it (empty: it does)
    also: str = ""  # a key of OTHERS: ours also runs it in that kernel


def scenarios(groups: set[str], quick: bool) -> list[Scenario]:
    old, ik6 = "igogo 1.1.0", "ipykernel6"
    widget = "the original's Stop button is another widget"
    slow = f"{old} did not start 1,000 jobs in 300 s"
    no, py, ns = f"{old} cannot preempt a loop", "py3.13", (1, 3, 10)
    out = [
        Scenario("yielder", sc_yielder),
        Scenario("loop", sc_loop),
        Scenario("switch", sc_switch, ours_only=f"{old} has no igogo.wait", also=ik6),
        Scenario("print", sc_print),
        *[Scenario(f"latency{n}", sc_latency, {"jobs": n}, also=ik6) for n in (0, 1, 3, 10, 100)],
        Scenario("click", sc_click, {"jobs": 10}, ours_only=widget, also=ik6),
        Scenario("tqdm", sc_tqdm),
        *[
            Scenario(f"preempt{n}", sc_latency, {"jobs": n, "preempt": 1}, "kernels", no, py)
            for n in ns
        ],
        *[Scenario(f"sleepers{n}", sc_sleepers, {"n": n}) for n in (20, 100, 1000)],
        Scenario("sleepers10000", sc_sleepers, {"n": 10_000}, ours_only=slow, also=ik6),
        Scenario("mpl", sc_mpl, group="mpl"),
        Scenario("map", sc_map, {}, "workers", f"{old} has no igogo.map"),
    ]
    skip = {"sleepers20"} if not quick else {"latency3", "latency10", "latency100", "preempt1"}
    skip |= {"preempt10", "sleepers100", "sleepers1000", "sleepers10000"} if quick else set()
    return [sc for sc in out if sc.group in groups and sc.key not in skip]


@dataclass
class Kind:
    """A kind of kernel: the system whose column its figures go to, its interpreter, its label
    (ours, original, ours on Python 3.13, ...) and its key in OTHERS."""

    system: str
    python: str
    label: str
    other: str = ""

    def runs(self, sc: Scenario) -> bool:
        return not sc.ours_only if self.system == "original" else self.other in ("", sc.also)

    def suffix(self, sc: Scenario) -> str:
        """What its benchmarks' names end with: preemption's name the Python, even 3.11's."""
        if sc.also.startswith("py"):
            return f"-{self.other or 'py' + PY}"
        return f"-{self.other}" if self.other else ""


def run(
    groups: set[str], quick: bool, only: set[str] | None, failed: Failed, ctx: dict[str, str]
) -> dict[str, Samples]:
    """The scenarios of ``groups`` (those in ``only``) in every kind of kernel: samples by
    system, then name; why one failed goes in ``failed``, the kernels' context in ``ctx``."""
    scs = [sc for sc in scenarios(groups, quick) if only is None or sc.key in only]
    kinds = [Kind("ours", sys.executable, "ours")]
    samples: dict[str, Samples] = {"ours": {}}
    if originals := [sc.key for sc in scs if not sc.ours_only]:
        python, ctx["original"] = hatch_env("bench-original", create=not quick)
        if python:
            kinds.append(Kind("original", python, "original"))
            samples["original"], failed["original"] = {}, {}
        else:  # every row of the original says why
            failed["original"] = dict.fromkeys(originals, f"not run: {ctx['original']}")
    for other, (env, what) in OTHERS.items():
        if wanted := [sc.key for sc in scs if sc.also == other]:
            python, how = hatch_env(env, create=not quick)
            if python:
                kinds.append(Kind("ours", python, f"ours on {what}", other))
                ctx[f"{what} kernels (ours)"] = how
            else:
                failed["ours"] |= {f"{key}-{other}": f"not run: {how}" for key in wanted}
    # Calibrated once, here: every kernel runs exactly the same loop.
    base = {"quick": quick, "k": core.body_steps(10e-6)}

    def start(kind: Kind) -> KernelDriver:
        k = KernelDriver.start(python=kind.python, timeout=120)
        try:
            k.run(f"def _bench_task(h):\n    return {TASK[kind.system]}\n{PRELUDE}", timeout=T)
            if kind.label == kind.system and only is None:  # a full run's figure
                samples[kind.system].setdefault("import", []).append(k.eval("_bench_import_s"))
            versions = ", ".join(f"{a} {b}" for a, b in k.eval(VERSIONS))
            ctx.setdefault(f"versions ({kind.label})", versions)
            k.run("_bench_h = [_bench_warm_up()]\nawait _bench_wait(_bench_h, 60)", timeout=T)
        except BaseException:
            k.shutdown()
            raise
        return k

    # A full run: a fresh kernel per scenario and kind, the kinds alternating so that the
    # machine's noise falls on all alike; a quick one: one kernel per kind, a smoke test.
    batches = [[(kind, sc)] for sc in scs for kind in kinds if kind.runs(sc)]
    if quick:
        batches = [[(kind, sc) for sc in scs if kind.runs(sc)] for kind in kinds]
    for batch in batches:
        k = None
        try:
            for kind, sc in batch:
                print(f"  {sc.key} / {kind.label} ...", file=sys.stderr, flush=True)
                sfx = kind.suffix(sc)
                try:
                    k = k or start(kind)
                    p = base | LAT[quick] | sc.params | {"suffix": sfx, "system": kind.system}
                    samples[kind.system] |= sc.run(k, p)
                except Exception as exc:
                    if quick and kind.system == "ours":
                        raise
                    traceback.print_exc(file=sys.stderr)
                    why = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    failed[kind.system][sc.key + sfx] = why[:300]
        finally:
            if k is not None:
                k.shutdown()
    return samples
