"""Kernel benchmark: this project against the original ``igogo`` 1.1.0, in real kernels.

Every scenario runs in a fresh ipykernel per system, started through jupyter_client
with that system's own interpreter: the ``bench`` hatch environment for ours (the
four workspace packages), the ``bench-original`` environment for ``igogo==1.1.0``
from PyPI (created here with ``hatch env create bench-original`` when missing).
Both environments pin the same ipykernel, ipywidgets, matplotlib and tqdm ranges.
The two systems alternate scenario by scenario (ours, original, ours, original...)
so that the noise of the machine falls on both alike.

The cells sent are the same for both systems, written against the API they share
(``@igogo.job``, ``igogo.yielder()``, ``igogo.sleep()``, ``igogo.display()``); the
one difference is how a started job is waited for: ours returns a ``Job``, the
original a dict holding an asyncio task (``_bench_task`` below).  The benchmark
waits for jobs with an async cell that polls them (``await asyncio.sleep(0.005)``),
so in both systems jobs run as they do when the notebook is idle.

``quick`` runs every scenario tiny, one kernel per system for all of them, ours
only (and the original only if its environment already exists, never creating
it): a smoke test of the suite, not a measurement.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driver import IGNORED, Cell, Kernel, LimitExceeded, Msg
from report import Suite

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_ENV = "bench-original"
ORIGINAL_VERSION = "1.1.0"
PYTHON_ENV_VAR = "IGOGO_BENCH_ORIGINAL_PYTHON"
"""An interpreter with ``igogo==1.1.0`` to use instead of the hatch environment (``none``:
run ours only)."""

OUTPUT_TYPES = ("stream", "display_data", "update_display_data", "execute_result", "error")
MS = 1e3
US = 1e6
GIB = 2**30
KIB = 2**10


# ---------------------------------------------------------------------------
# sizes
# ---------------------------------------------------------------------------

FULL: dict[str, Any] = {
    "yielder": {"seconds": 2.0, "rounds": 3},
    "loop": {"n": 20_000, "rounds": 6, "body_us": 10.0},
    "print": {"sizes": [100, 250, 500, 1000, 2000]},
    "latency": {"jobs": [0, 1, 3, 10], "samples": 15, "warm_s": 1.0, "gap_s": 0.2},
    "mpl": {"frames": 40, "interval": 0.05},
    "tqdm": {"n": 100_000},
    "sleepers": {"sizes": [100, 1000], "start_timeout": 300.0, "rss_limit": 3 * GIB},
}
QUICK: dict[str, Any] = {
    "yielder": {"seconds": 0.02, "rounds": 1},
    "loop": {"n": 200, "rounds": 2, "body_us": 10.0},
    "print": {"sizes": [20, 50]},
    "latency": {"jobs": [1], "samples": 3, "warm_s": 0.2, "gap_s": 0.05},
    "mpl": {"frames": 3, "interval": 0.05},
    "tqdm": {"n": 1_000},
    "sleepers": {"sizes": [20], "start_timeout": 60.0, "rss_limit": 3 * GIB},
}
TIMEOUT = 600.0
"""Longest wait for any one cell or set of jobs (a scenario that takes longer failed)."""


# ---------------------------------------------------------------------------
# the two systems
# ---------------------------------------------------------------------------


@dataclass
class System:
    key: str
    name: str
    python: str
    task_code: str
    """Kernel code defining ``_bench_task(handle)``: the object with ``done()`` a job call gave."""
    versions: dict[str, str] = field(default_factory=dict)
    import_s: list[float] = field(default_factory=list)


OURS_TASK = "def _bench_task(h):\n    return h\n"
ORIGINAL_TASK = "def _bench_task(h):\n    return h['task']\n"

VERSION_CODE = """
import importlib.metadata as _bench_md, platform as _bench_platform
_bench_versions = {"python": _bench_platform.python_version()}
for _bench_d in ("igogo", "igogo-core", "igogo-jupyter", "igogo-mpl", "igogo-tqdm", "greenback",
                 "greenlet", "ipykernel", "ipython", "ipywidgets", "matplotlib", "tqdm"):
    try:
        _bench_versions[_bench_d] = _bench_md.version(_bench_d)
    except _bench_md.PackageNotFoundError:
        pass
"""

PRELUDE = """
import time as _bench_time
_bench_t0 = _bench_time.perf_counter()
import igogo
_bench_import_s = _bench_time.perf_counter() - _bench_t0
import asyncio, gc, random, statistics, sys, time
import psutil as _bench_psutil
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
def _bench_warm_up():
    igogo.yielder()
"""
# The warm-up job pays each system's one-time costs of a first job (ours: finding the
# kernel host and the plugins; the original: greenback's first portal) outside every
# measurement, as the core suite does.
WARM_UP = "_bench_h = [_bench_warm_up()]\nawait _bench_wait(_bench_h, 60)"


def _hatch() -> list[str] | None:
    exe = shutil.which("hatch")
    return [exe] if exe else None


def find_original(create: bool) -> tuple[str | None, str]:
    """The interpreter of the ``bench-original`` environment, or None and why not."""
    forced = os.environ.get(PYTHON_ENV_VAR)
    if forced == "none":
        return None, f"skipped (${PYTHON_ENV_VAR}=none)"
    if forced:
        return forced, f"${PYTHON_ENV_VAR}"
    hatch = _hatch()
    if hatch is None:
        return None, (
            f"`hatch` is not on PATH: create the `{ORIGINAL_ENV}` environment "
            f"(`hatch env create {ORIGINAL_ENV}`) or set ${PYTHON_ENV_VAR}"
        )
    found = subprocess.run(
        [*hatch, "env", "find", ORIGINAL_ENV], cwd=ROOT, capture_output=True, text=True, check=False
    )
    env_dir = Path(found.stdout.strip().splitlines()[-1]) if found.stdout.strip() else None
    if env_dir is None:
        return None, f"`hatch env find {ORIGINAL_ENV}` failed: {found.stderr.strip()}"
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        if not create:
            return (
                None,
                f"the `{ORIGINAL_ENV}` environment does not exist (quick runs never create it)",
            )
        print(f"  creating the {ORIGINAL_ENV} environment ...", file=sys.stderr, flush=True)
        subprocess.run([*hatch, "env", "create", ORIGINAL_ENV], cwd=ROOT, check=True)
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('igogo'))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if version != ORIGINAL_VERSION:
        return None, f"{python} has igogo {version or 'missing'}, not {ORIGINAL_VERSION}"
    return str(python), f"hatch env `{ORIGINAL_ENV}`"


# ---------------------------------------------------------------------------
# running a scenario in a fresh kernel
# ---------------------------------------------------------------------------


class JobFailed(RuntimeError):
    """A benchmark job ended without recording its result."""


def _start(system: System) -> Kernel:
    k = Kernel(system.python, f"bench-{system.key}")
    try:
        k.run(system.task_code)
        k.run(PRELUDE)
        system.import_s.append(k.eval("_bench_import_s"))
        if not system.versions:
            k.run(VERSION_CODE)
            system.versions = k.eval("_bench_versions")
        k.run(WARM_UP, timeout=TIMEOUT)
        k.drain(0.3)
    except BaseException:
        k.shutdown()
        raise
    return k


def _set_params(k: Kernel, params: dict[str, Any]) -> None:
    k.run(f"import json as _bench_json\n_bench_p = _bench_json.loads({json.dumps(params)!r})")


def _result(k: Kernel, key: str, start: Cell) -> Any:
    """``_bench_out[key]`` from the kernel; JobFailed with the job's output if it is missing."""
    value = k.eval(f"_bench_out.get({key!r})")
    if value is None:
        shown = "".join(start.stdout) + "\n".join(start.displays.values())
        raise JobFailed(f"the job recorded no result; its cell shows: {shown[-1500:]!r}")
    return value


def _run_jobs(k: Kernel, code: str, timeout: float = TIMEOUT) -> tuple[Cell, Cell]:
    """Run ``code`` (which starts jobs into ``_bench_h``), then wait for those jobs."""
    start = k.run(code, timeout=timeout)
    wait = k.run(f"await _bench_wait(_bench_h, {timeout})", timeout=timeout + 10)
    return start, wait


def _window(k: Kernel, t0: float) -> list[Msg]:
    """IOPub messages since ``t0``, leaving out the status and execute_input every cell has."""
    return [m for m in k.since(t0) if m.msg_type not in IGNORED]


def _traffic(msgs: list[Msg]) -> dict[str, Any]:
    types: dict[str, int] = {}
    for m in msgs:
        types[m.msg_type] = types.get(m.msg_type, 0) + 1
    return {
        "messages": len(msgs),
        "bytes": sum(m.nbytes for m in msgs),
        "types": types,
        "images": sum(1 for m in msgs if m.png),
        "image_bytes": sum(m.nbytes for m in msgs if m.png),
    }


# -- 1. yielder() in a tight loop ---------------------------------------------------

YIELDER = """
@igogo.job
def _bench_yielder(seconds, rounds):
    # Each loop runs for the same wall time in both systems: batches of 1,000 calls
    # until `seconds` have passed (one clock read per batch).
    batch = range(1000)

    def run(body_yields):
        n = 0
        t0 = time.perf_counter()
        end = t0 + seconds
        if body_yields:
            while True:
                for _ in batch:
                    igogo.yielder()
                n += 1000
                if time.perf_counter() >= end:
                    break
        else:
            while True:
                for _ in batch:
                    pass
                n += 1000
                if time.perf_counter() >= end:
                    break
        return (time.perf_counter() - t0) / n

    empty, yielding = [], []
    for _ in range(rounds):
        empty.append(run(False))
        yielding.append(run(True))
    _bench_out["yielder"] = {"empty": empty, "yielder": yielding}

_bench_h = [_bench_yielder(_bench_p["seconds"], _bench_p["rounds"])]
"""


def sc_yielder(k: Kernel, p: dict[str, Any]) -> dict[str, Any]:
    _set_params(k, p)
    start, _ = _run_jobs(k, YIELDER)
    r = _result(k, "yielder", start)
    empty = statistics.median(r["empty"])
    gross = statistics.median(r["yielder"])
    return {
        "seconds": p["seconds"],
        "rounds": p["rounds"],
        "us_net": (gross - empty) * US,
        "us_gross": gross * US,
        "calls_per_s": 1 / gross,
    }


# -- 2. a 10 µs loop body with a yield per iteration, against the same loop bare -------

LOOP = """
@igogo.job
def _bench_loop(n, k, rounds):
    r, rk = range(n), range(k)
    bare, yielding = [], []

    def run_bare():
        t0 = time.perf_counter()
        for _ in r:
            s = 0
            for i in rk:
                s += i * i
        bare.append(time.perf_counter() - t0)

    def run_yielding():
        t0 = time.perf_counter()
        for _ in r:
            s = 0
            for i in rk:
                s += i * i
            igogo.yielder()
        yielding.append(time.perf_counter() - t0)

    for i in range(rounds):  # alternate which variant goes first
        first, second = (run_bare, run_yielding) if i % 2 == 0 else (run_yielding, run_bare)
        first()
        second()
    _bench_out["loop"] = {"bare": bare, "yielding": yielding}

_bench_h = [_bench_loop(_bench_p["n"], _bench_p["k"], _bench_p["rounds"])]
"""


def calibrate_body(target_us: float) -> int:
    """Inner iterations of ``s += i * i`` that last about ``target_us`` in this interpreter.

    Calibrated once, here, so that both kernels run exactly the same loop.
    """

    def body_time(k: int, reps: int) -> float:
        r = range(k)
        best = math.inf
        for _ in range(30):
            t0 = time.perf_counter()
            for _ in range(reps):
                s = 0
                for i in r:
                    s += i * i
            best = min(best, (time.perf_counter() - t0) / reps)
        return best

    # Many short batches, keeping the fastest: on a busy machine most batches of a few
    # milliseconds are preempted, the fastest of them is not.
    k = 256
    for _ in range(3):
        k = max(int(k * target_us / US / body_time(k, 100)), 1)
    return k


def sc_loop(k: Kernel, p: dict[str, Any]) -> dict[str, Any]:
    _set_params(k, p)
    start, _ = _run_jobs(k, LOOP)
    r = _result(k, "loop", start)
    ratios = [b / y for b, y in zip(r["bare"], r["yielding"], strict=True)]
    bare = statistics.median(r["bare"])
    return {
        "n": p["n"],
        "k": p["k"],
        "rounds": p["rounds"],
        "ratio": statistics.median(ratios),
        "ratio_range": [min(ratios), max(ratios)],
        "bare_s": bare,
        "yielding_s": statistics.median(r["yielding"]),
        "body_us": bare / p["n"] * US,
    }


# -- 3. printing ----------------------------------------------------------------------

PRINTER = """
@igogo.job
def _bench_printer(n):
    t0 = time.perf_counter()
    for i in range(n):
        print("line", i)
    _bench_out[f"print{n}"] = time.perf_counter() - t0
"""


def sc_print(k: Kernel, p: dict[str, Any]) -> dict[str, Any]:
    k.run(PRINTER)
    out: dict[str, Any] = {}
    for n in p["sizes"]:
        t0 = time.monotonic()
        start, wait = _run_jobs(k, f"_bench_h = [_bench_printer({n})]")
        k.drain(0.5, limit=60)
        msgs = _window(k, t0)
        outputs = [
            m
            for m in msgs
            if m.msg_type in OUTPUT_TYPES and m.parent in (start.msg_id, wait.msg_id)
        ]
        last = max((m.received for m in outputs), default=math.nan)
        job_s = _result(k, f"print{n}", start)
        seen = max(
            "".join(start.stdout).count("line "),
            max((t.count("line ") for t in start.displays.values()), default=0),
        )
        out[str(n)] = {
            **_traffic(msgs),
            "to_last_output_s": last - start.sent,
            "job_s": job_s,
            "lines_seen": seen,
        }
    return {"sizes": p["sizes"], "by_size": out}


# -- 4. a new cell's wait while jobs spin on yielder() ---------------------------------

SPINNERS = """
_bench_running = True
_bench_spins = [0] * _bench_p["jobs"]

@igogo.job
def _bench_spinner(i):
    n = 0
    while _bench_running:
        n += 1
        if n % 1000 == 0:
            _bench_spins[i] = n
        igogo.yielder()

_bench_h = [_bench_spinner(i) for i in range(_bench_p["jobs"])]
"""


def sc_latency(k: Kernel, p: dict[str, Any]) -> dict[str, Any]:
    _set_params(k, p)
    k.run(SPINNERS)
    k.pump(p["warm_s"])
    spins0 = sum(k.eval("_bench_spins"))
    t0 = time.monotonic()
    busy, idle = [], []
    for _ in range(p["samples"]):
        cell = k.finish(k.send("_bench_x = 1"), timeout=TIMEOUT)
        busy.append(cell.start_latency)
        assert cell.idle_at is not None
        idle.append(cell.idle_at - cell.sent)
        k.pump(p["gap_s"])
    spins = sum(k.eval("_bench_spins")) - spins0
    spin_rate = spins / (time.monotonic() - t0)
    k.run("_bench_running = False", timeout=TIMEOUT)
    k.run(f"await _bench_wait(_bench_h, {TIMEOUT})", timeout=TIMEOUT + 10)
    return {
        "jobs": p["jobs"],
        "samples": p["samples"],
        "busy_ms": [b * MS for b in busy],
        "median_ms": statistics.median(busy) * MS,
        "worst_ms": max(busy) * MS,
        "idle_median_ms": statistics.median(idle) * MS,
        "idle_worst_ms": max(idle) * MS,
        "spins_per_s": spin_rate,
    }


# -- 5. a matplotlib figure updated every 50 ms ----------------------------------------

PLOTTER = """
import matplotlib.pyplot as plt
import numpy as np

@igogo.job(warn_rewrite=False)
def _bench_plot(key, frames, interval, explicit):
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.linspace(0, 10, 500)
    (line,) = ax.plot(x, np.sin(x))
    render = 0.0
    t0 = time.perf_counter()
    for i in range(frames):
        line.set_ydata(np.sin(x + i / 5))
        ax.set_title(f"frame {i}")
        if explicit:
            t = time.perf_counter()
            igogo.display(fig)
            render += time.perf_counter() - t
        igogo.sleep(interval)
    _bench_out[key] = {"wall": time.perf_counter() - t0, "render": render}
"""

MPL_STATS = """
try:
    import igogo_mpl as _bench_mpl
    _bench_mpl_stats = dict(_bench_mpl.stats())
except ImportError:
    _bench_mpl_stats = None
"""


def sc_mpl(k: Kernel, p: dict[str, Any]) -> dict[str, Any]:
    k.run(PLOTTER)
    out: dict[str, Any] = {"frames": p["frames"], "interval": p["interval"]}
    for variant, explicit in (("explicit", True), ("auto", False)):
        k.run(MPL_STATS)
        before = k.eval("_bench_mpl_stats")
        t0 = time.monotonic()
        args = f"{variant!r}, {p['frames']}, {p['interval']}, {explicit}"
        start, _ = _run_jobs(k, f"_bench_h = [_bench_plot({args})]")
        k.drain(0.5, limit=60)
        msgs = _window(k, t0)
        r = _result(k, variant, start)
        k.run(MPL_STATS)
        after = k.eval("_bench_mpl_stats")
        plugin = None
        if before is not None and after is not None:
            plugin = {
                "renders": after["renders"] - before["renders"],
                "render_s": after["render_seconds"] - before["render_seconds"],
            }
        out[variant] = {**_traffic(msgs), **r, "plugin": plugin}
    return out


# -- 6. tqdm ----------------------------------------------------------------------------

TQDM = """
from tqdm.auto import tqdm as _bench_tqdm_cls

@igogo.job
def _bench_tqdm(key, n, explicit):
    t0 = time.perf_counter()
    if explicit:
        for _ in _bench_tqdm_cls(range(n)):
            igogo.yielder()
    else:
        for _ in _bench_tqdm_cls(range(n)):
            pass
    _bench_out[key] = time.perf_counter() - t0
"""


def sc_tqdm(k: Kernel, p: dict[str, Any]) -> dict[str, Any]:
    k.run(TQDM)
    out: dict[str, Any] = {"n": p["n"]}
    for variant, explicit in (("yielder", True), ("bare", False)):
        t0 = time.monotonic()
        start, _ = _run_jobs(k, f"_bench_h = [_bench_tqdm({variant!r}, {p['n']}, {explicit})]")
        k.drain(0.5, limit=60)
        msgs = _window(k, t0)
        job_s = _result(k, variant, start)
        out[variant] = {**_traffic(msgs), "job_s": job_s}
    return out


# -- 7. sleeping jobs -------------------------------------------------------------------

SLEEPERS = """
_bench_parked = 0
_bench_late = []

@igogo.job
def _bench_sleeper(d):
    global _bench_parked
    _bench_parked += 1
    due = time.monotonic() + d
    igogo.sleep(d)
    _bench_late.append(time.monotonic() - due)

_bench_rng = random.Random(1234)
_bench_delays = [0.2 + 0.8 * _bench_rng.random() for _ in range(_bench_p["n"])]
"""
SLEEPERS_START = """
gc.collect()
_bench_rss0 = _bench_rss()
_bench_t = time.perf_counter()
_bench_h = []
for _bench_i, _bench_d in enumerate(_bench_delays):
    _bench_h.append(_bench_sleeper(_bench_d))
    if (_bench_i + 1) % 50 == 0:
        print("started", _bench_i + 1, flush=True)
_bench_start_s = time.perf_counter() - _bench_t
"""
SLEEPERS_PARKED = """
_bench_t = time.perf_counter()
while _bench_parked < len(_bench_delays):
    await asyncio.sleep(0.001)
_bench_parked_s = time.perf_counter() - _bench_t
gc.collect()
_bench_rss1 = _bench_rss()
"""
SLEEPERS_RESULT = """{
    "start_s": _bench_start_s, "parked_s": _bench_parked_s,
    "rss0": _bench_rss0, "rss1": _bench_rss1, "late": _bench_late,
}"""


def sc_sleepers(k: Kernel, p: dict[str, Any]) -> dict[str, Any]:
    _set_params(k, p)
    n = p["n"]
    k.run(SLEEPERS)
    t0 = time.monotonic()
    start = k.send(SLEEPERS_START)
    try:
        k.finish(start, timeout=p["start_timeout"], rss_limit=p["rss_limit"])
    except (TimeoutError, LimitExceeded) as exc:
        started = 0
        for line in "".join(start.stdout).splitlines():
            if line.startswith("started "):
                started = int(line.split()[1])
        msgs = _window(k, t0)
        return {
            "n": n,
            "failed": f"starting {n:,} jobs from one cell: {exc} ({started:,} started by then)",
            "started_at_least": started,
            "elapsed_s": time.monotonic() - t0,
            "rss": k.rss(),
            **_traffic(msgs),
        }
    k.run(SLEEPERS_PARKED, timeout=TIMEOUT, rss_limit=p["rss_limit"])
    k.run(f"await _bench_wait(_bench_h, {TIMEOUT})", timeout=TIMEOUT + 10, rss_limit=p["rss_limit"])
    k.drain(0.3)
    msgs = _window(k, t0)
    r = k.eval(SLEEPERS_RESULT)
    late = sorted(x * MS for x in r["late"])
    if len(late) != n:
        raise JobFailed(f"{len(late)} of {n} sleepers recorded their wake-up")
    return {
        "n": n,
        "start_s": r["start_s"],
        "parked_s": r["parked_s"],
        "rss_per_job": (r["rss1"] - r["rss0"]) / n,
        "late_ms_median": statistics.median(late),
        "late_ms_p99": late[max(math.ceil(0.99 * n) - 1, 0)],
        "late_ms_max": late[-1],
        **_traffic(msgs),
    }


# ---------------------------------------------------------------------------
# the suite
# ---------------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    title: str
    run: Callable[[Kernel, dict[str, Any]], dict[str, Any]]
    params: dict[str, Any]


def _scenarios(quick: bool) -> list[Scenario]:
    z = QUICK if quick else FULL
    loop = dict(z["loop"])
    loop["k"] = calibrate_body(loop.pop("body_us"))
    out = [
        Scenario("yielder", "yielder() in a tight loop", sc_yielder, z["yielder"]),
        Scenario("loop", "10 µs loop with a yield per iteration", sc_loop, loop),
        Scenario("print", "printing", sc_print, z["print"]),
    ]
    lat = z["latency"]
    for n in lat["jobs"]:
        params = {k: v for k, v in lat.items() if k != "jobs"} | {"jobs": n}
        out.append(Scenario(f"latency{n}", f"new cell beside {n} jobs", sc_latency, params))
    out += [
        Scenario("mpl", "matplotlib figure every 50 ms", sc_mpl, z["mpl"]),
        Scenario("tqdm", "tqdm loop", sc_tqdm, z["tqdm"]),
    ]
    sl = z["sleepers"]
    for n in sl["sizes"]:
        params = {k: v for k, v in sl.items() if k != "sizes"} | {"n": n}
        out.append(Scenario(f"sleepers{n}", f"{n:,} sleeping jobs", sc_sleepers, params))
    return out


LOADS: list[float] = []
"""The 1-minute load average when each scenario started."""


def _one(system: System, sc: Scenario, quick: bool, shared: Kernel | None = None) -> dict[str, Any]:
    """Run ``sc`` in a fresh kernel of ``system`` (or in ``shared``, quick runs)."""
    LOADS.append(os.getloadavg()[0])
    print(f"  {sc.key} / {system.key} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    k: Kernel | None = shared
    try:
        if k is None:
            k = _start(system)
        result = sc.run(k, sc.params)
    except Exception as exc:
        if quick and system.key == "ours":
            raise
        detail = f"{type(exc).__name__}: {exc}"
        print(f"  {sc.key} / {system.key} FAILED: {detail}", file=sys.stderr, flush=True)
        if k is not None:
            tail = k.log_tail(800)
            if tail.strip():
                print(f"  kernel log: {tail}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        result = {"failed": detail.splitlines()[0][:300]}
    finally:
        if k is not None and shared is None:
            k.shutdown()
    result["_seconds"] = time.perf_counter() - t0
    print(
        f"  {sc.key} / {system.key} done in {result['_seconds']:.1f} s", file=sys.stderr, flush=True
    )
    return result


def _run_all(
    systems: list[System], scenarios: list[Scenario], quick: bool
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every scenario on every system: full runs alternate the systems, a kernel each time;
    quick runs use one kernel per system for all scenarios (a smoke test, in seconds)."""
    results: dict[str, dict[str, dict[str, Any]]] = {sc.key: {} for sc in scenarios}
    if not quick:
        for sc in scenarios:  # ours, original, ours, original, ...
            for s in systems:
                results[sc.key][s.key] = _one(s, sc, quick)
        return results
    for s in systems:
        try:
            k = _start(s)
        except Exception as exc:
            if s.key == "ours":
                raise
            for sc in scenarios:
                results[sc.key][s.key] = {"failed": f"{type(exc).__name__}: {exc}"[:300]}
            continue
        try:
            for sc in scenarios:
                results[sc.key][s.key] = _one(s, sc, quick, shared=k)
        finally:
            k.shutdown()
    return results


def _git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        rev = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "packages")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (" + uncommitted changes under packages/" if dirty else "")


def _busy_processes() -> str:
    """Other heavy processes running now (pytest, jupyter, chromium), by name and count."""
    try:
        import psutil
    except ImportError:
        return "?"
    names: dict[str, int] = {}
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.info["pid"] == me:
                continue
            cmd = " ".join(proc.info["cmdline"] or [])
        except (psutil.Error, TypeError):
            continue
        for word in ("pytest", "jupyter-lab", "chromium", "ipykernel_launcher"):
            if word in cmd and "igogo-bench-" not in cmd:
                names[word] = names.get(word, 0) + 1
                break
    return ", ".join(f"{k} x{v}" for k, v in sorted(names.items())) or "none"


def _machine() -> dict[str, str]:
    cpus = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cpus or 0
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "CPUs": f"{cpus} (usable: {usable})",
        "load average (1, 5, 15 min) at start": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "other heavy processes at start": _busy_processes(),
    }


def main(quick: bool) -> Suite:
    context = _machine()
    ours = System("ours", "ours", sys.executable, OURS_TASK)
    systems = [ours]
    original_python, how = find_original(create=not quick)
    original = None
    if original_python is not None:
        original = System("original", "original", original_python, ORIGINAL_TASK)
        systems.append(original)
    else:
        print(f"  original igogo not run: {how}", file=sys.stderr, flush=True)
    scenarios = _scenarios(quick)
    t0 = time.perf_counter()
    results = _run_all(systems, scenarios, quick)
    elapsed = time.perf_counter() - t0
    context["load average (1, 5, 15 min) at end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    context["other heavy processes at end"] = _busy_processes()
    if LOADS:
        context["1-min load average when each scenario started: min / median / max"] = (
            f"{min(LOADS):.2f} / {statistics.median(LOADS):.2f} / {max(LOADS):.2f}"
        )
    context["suite wall time"] = f"{elapsed:.0f} s"
    context["ours"] = _describe(ours) + f"; commit {_git_revision()}"
    context["original"] = _describe(original) + f" ({how})" if original else f"not run: {how}"
    from kernels_report import build

    return build(quick, context, results, scenarios, ours, original, how)


def _describe(system: System | None) -> str:
    if system is None:
        return "—"
    v = system.versions
    keys = [
        k
        for k in (
            "igogo-core",
            "igogo-jupyter",
            "igogo-mpl",
            "igogo-tqdm",
            "igogo",
            "greenback",
            "greenlet",
            "ipykernel",
            "ipython",
            "ipywidgets",
            "matplotlib",
            "tqdm",
        )
        if k in v and not (k == "igogo" and "igogo-core" in v)
    ]
    return f"Python {v.get('python', '?')}, " + ", ".join(f"{k} {v[k]}" for k in keys)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    suite = main(quick)
    from report import text

    print(text(suite))
