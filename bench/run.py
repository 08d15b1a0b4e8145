"""Run the igogo benchmarks; print every figure beside its target and the original's.

    python bench/run.py [--quick] [--only GROUP ...] [--scenario KEY ...] [--report]

What each group measures, and how a run saves and renders it: bench/README.md.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from operator import sub, truediv
from pathlib import Path

import pyperf

import kernels
from common import BENCH, PY, Failed, Samples, hatch_env, run

RESULTS, README = BENCH / "results", BENCH.parent / "README.md"
BEGIN, END = "<!-- bench:kernels:begin -->", "<!-- bench:kernels:end -->"
GROUPS = ("core", "workers", "mpl", "kernels", "terminal")
HEADER = ["Scenario", "Metric", "ours", "target", "", "original igogo 1.1.0", "original / ours"]
# What --scenario names besides kernel scenarios: measures, each of a group, run by GROUP.py.
CORE = ("micro", "loop", "sleepers", "sleepers-busy", "fairness", "ploop", "plain")
MEASURES = dict.fromkeys(CORE, "core") | {"throughput": "workers", "prompt": "terminal"}
PYTHONS = ("3.11", "3.12", "3.13")  # 3.11: the bench environment's; the others: core.py3.1X's
UNITS = {"byte": ("-bytes", "-rss"), "integer": ("-messages", "-quiet", "-driven", "-spins")}
UNITS["integer"] += ("-images", "-iterations")
LOAD0, LOAD1 = "load average (1, 5, 15 min) at start", "load average (1, 5, 15 min) at end"
RUN_KEYS = ("date", "commit", "machine", "python", LOAD0, LOAD1, "wall time")
Get = Callable[[str], pyperf.Benchmark]  # a system's benchmark by name (KeyError if none)
Value = Callable[[Get], float] | str  # a row's figure from a system's benchmarks; str: a median
Results = dict[str, dict[str, pyperf.Benchmark]]  # by system (ours, original), then by name
Ctx = dict[str, str]  # the run's context: date, commit, machine, load, environments, reruns
Saved = tuple[Results, Failed, Ctx]  # what a full run saves in bench/results/


def benchmarks(samples: Samples) -> dict[str, pyperf.Benchmark]:
    """Samples as benchmarks of one run each, their unit told by their name.  pyperf keeps
    only values > 0: a 0 or a negative one (an RSS delta of nothing) is stored as 1e-12."""
    out = {}
    for name, values in samples.items():
        unit = next((u for u, marks in UNITS.items() if any(m in name for m in marks)), "second")
        values = [max(float(v), 1e-12) for v in values]
        meta = {"name": name, "unit": unit}
        out[name] = pyperf.Benchmark([pyperf.Run(values, metadata=meta, collect_metadata=False)])
    return out


def load(path: Path) -> dict[str, pyperf.Benchmark]:
    return {b.get_name(): b for b in pyperf.BenchmarkSuite.load(str(path)).get_benchmarks()}


def figure(v: Value, g: Get) -> float:
    """A row's figure: ``v(g)``, or the median of the benchmark ``v`` names."""
    return statistics.median(g(v).get_values()) if isinstance(v, str) else v(g)


def stat(name: str, of: Callable[[Sequence[float]], float]) -> Value:
    return lambda g: of(g(name).get_values())


def of_two(op: Callable[[float, float], float], a: Value, b: Value) -> Value:
    return lambda g: op(figure(a, g), figure(b, g))


def paired(num: str, den: str) -> Value:
    """The median of the ratios round by round of two benchmarks sampled in turns."""
    return lambda g: statistics.median(
        a / b for a, b in zip(g(num).get_values(), g(den).get_values(), strict=True)
    )


def p99(values: Sequence[float]) -> float:
    return sorted(values)[max(math.ceil(0.99 * len(values)) - 1, 0)]


def jain(counts: Sequence[float]) -> float:
    """Jain's fairness index: 1 when every job got the same share."""
    squares = len(counts) * sum(c * c for c in counts)
    return sum(counts) ** 2 / squares if any(counts) else math.nan


def fmt(x: float, unit: str = "", mul: float = 1.0, div: float = 1.0) -> str:
    x = x * mul / div
    text = "0" if abs(x) < 1e-9 else f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"
    return f"{text} {unit}".rstrip()


def ms(x: float) -> str:
    return f"{x * 1e3:,.3g} ms" if x < 0.1 else f"{x * 1e3:,.0f} ms"


ratio, minus = partial(of_two, truediv), partial(of_two, sub)
us, kib = partial(fmt, unit="µs", mul=1e6), partial(fmt, unit="KiB", div=1024)
kb, f4 = partial(fmt, unit="KB", div=1e3), "{:.4f}".format


@dataclass
class M:  # a metric in a table: its value, how shown, its target, whether the README shows it
    metric: str
    value: Value
    show: Callable[[float], str] = fmt
    target: tuple[str, float] | None = None  # ("<=" or ">=", a limit on the value)
    summary: bool = False


Rows = dict[str, list[M]]  # a table: the metrics of each scenario


def waits(name: str, limits: tuple[float | None, float | None], summary: bool) -> list[M]:
    """A cell's wait (send → busy): its median and worst, each against its limit if any."""
    values = (name, stat(name, max))
    return [
        M(what, value, ms, limit and ("<=", limit), summary)
        for what, value, limit in zip(("median", "worst"), values, limits, strict=True)
    ]


# The jobs' share of the CPU in an idle kernel before #15 (commit 9c4b2c5, the same measure in
# ipykernel-7 kernels: 0.889, 0.833, 0.891 beside 1, 10, 100 jobs): the target is 0.95 of it.
QUIET_SHARE = (">=", 0.95 * 0.87)
QUIET = "the jobs' share of the CPU, nothing sent (their speed / while a cell waits for them)"
LE13 = ("<=", 1.3)  # a new cell beside busy jobs, against the idle kernel (#15)
LIMITS = (0.02, 0.05)  # a new cell's wait, median and worst (#3, #6, #12, #14)
# Rows that core's table and the kernels' share (the same measure, in a script and in a kernel)
YIELD, LOOP = "`yielder()` in a job's loop", "10 µs loop body in a job"
SPEED = "speed with a `yielder()` per iteration / bare"
SLEEP0 = "`igogo.sleep(0)` round trip (job → hub → job)"


def tables() -> dict[str, Rows]:
    """Each group's table: what each row measures, from which benchmarks, against which target,
    and whether the README's table shows it."""
    mean = partial(stat, of=statistics.mean)  # as pyperf's Benchmark.mean()
    net, loop = minus(mean("yielder"), mean("empty-loop")), paired("loop-bare", "loop-yielder")
    late, busy = stat("sleepers-lateness", p99), stat("sleepers-busy-lateness", p99)
    core: Rows = {
        YIELD: [M("per call, net of the empty loop (pyperf)", net, us, ("<=", 0.3e-6))],
        "a switch": [
            M(SLEEP0, mean("sleep0"), us),
            M("bare greenlet round trip, for scale", mean("greenlet-pair"), us),
        ],
        LOOP: [M(SPEED, loop, fmt, (">=", 0.95))],
        "10,000 sleeping jobs": [
            M("memory per job (RSS)", "sleepers-rss-per-job", kb, ("<=", 20e3)),
            M("timer lateness, p99", late, ms, ("<=", 0.01)),
        ],
        "10,000 sleeping jobs + 1 busy job": [M("timer lateness, p99", busy, ms, ("<=", 0.01))],
        "1,000 busy jobs": [
            M("fairness (Jain index, 1 = equal shares)", stat("fairness-iterations", jain), f4)
        ],
    }
    for py in PYTHONS:  # preemptible / preemption off; regular code after / before a preemption
        limits = (0.5, 0.95) if py == "3.11" else (0.9, 0.99)  # 3.12+: sys.monitoring
        for body, limit in zip(("1", "10"), limits, strict=True):
            off, on, control = (f"ploop-{body}us-{x}-py{py}" for x in ("off", "preempt", "control"))
            speed, same, what = paired(off, on), paired(off, control), "preemption off"
            core[f"a {body} µs loop body alone in a job, Python {py}"] = [
                M(f"speed, preemptible / {what} (`preempt=False`)", speed, fmt, (">=", limit)),
                M(f"the same between two jobs with {what} (the control)", same),
            ]
        never, after, control = (f"plain-{x}-py{py}" for x in ("never", "preempted", "control"))
        speed, same, none = paired(never, after), paired(never, control), "where none ever ran"
        core[f"a plain function's 1 µs loop in regular code (no job), Python {py}"] = [
            M(f"speed after a preemptive job ran it and ended / {none}", speed, fmt, (">=", 0.98)),
            M(f"the same between two processes {none} (the control)", same),
        ]

    net, loop = minus("call-yielder", "call-empty"), paired("kloop-bare", "kloop-yielder")
    kernels: Rows = {
        "setup": [M("`import igogo` in a fresh kernel", "import", ms, summary=True)],
        YIELD: [M("per call, net of the same loop empty", net, us, None, True)],
        LOOP: [M(SPEED, loop, fmt, (">=", 0.95), True)],
    }
    both = (("", "ipykernel 7"), ("-ipykernel6", "ipykernel 6"))
    for sfx, kernel in both:
        kernels[f"a switch in a kernel, {kernel}"] = [
            M(SLEEP0, f"switch{sfx}", us),
            M("the same once pyplot is imported", f"switch-pyplot{sfx}", us),
        ]
    for n in (50, 100, 500, 2000):
        top, printed = n == 2000, sum(len(f"line {i}\n") for i in range(n))  # top: README's
        per_byte = ratio(f"print-{n}-bytes", lambda g, p=printed: p)
        kernels[f"a job printing {n:,} lines"] = [
            M("IOPub bytes per byte printed", per_byte, fmt, ("<=", 3) if top else None, top),
            M("IOPub messages", f"print-{n}-messages", summary=top),
            M("until the last output arrived", f"print-{n}-seconds", ms, summary=top),
        ]
    for sfx, kernel in both:  # a new cell beside N spinning jobs, against the idle kernel (#15)
        for n in (0, 1, 3, 10, 100):
            busy, idle = f"latency-{n}{sfx}", f"latency-{n}-done{sfx}"
            row = kernels[f"a new cell beside {n} job(s) spinning on `yielder()`, {kernel}"] = [
                M("send → busy, median", busy, ms, summary=n > 0 and not sfx),  # README: 7's
                M("send → busy, worst", stat(busy, max), ms, ("<=", 0.01) if n else None),
                M("send → idle (the cell done), median", idle, ms),
            ]
            if n:  # the README: one row of each target (n = 10), on both kernels
                share = paired(f"latency-{n}-quiet{sfx}", f"latency-{n}-driven{sfx}")
                idle0 = f"latency-{n}-idle{{}}{sfx}"  # the same kernel's cells with no job
                b0, i0 = ratio(busy, idle0.format("")), ratio(idle, idle0.format("-done"))
                row += [
                    M("send → busy, median / the idle kernel's", b0, fmt, LE13, n == 10),
                    M("send → idle, median / the idle kernel's", i0, fmt, LE13, n == 10),
                    M("the jobs' loop turns per second, cells coming", f"latency-{n}-spins{sfx}"),
                    M(QUIET, share, target=QUIET_SHARE),
                ]
        click = "a click on a job's Stop button beside 10 spinning jobs (until its `finally` ran)"
        kernels[f"{click}, {kernel}"] = waits(f"click-10{sfx}", (None, 0.02), summary=True)
    kernels["a new cell beside `for i in tqdm(range(10**6)): pass` in %%igogo (send → busy)"] = [
        *waits("tqdm-latency", LIMITS, summary=True),
        M("the loop's own time", "tqdm-loop", ms),
    ]
    for py in PYTHONS:
        for n in (1, 3, 10):
            s = f"a new cell beside {n} preemptive %%igogo loop(s), no `yielder()`, Python {py}"
            kernels[f"{s} (send → busy)"] = [
                *waits(f"preempt-{n}-py{py}", LIMITS, summary=True),
                M("the loops' iterations per second", f"preempt-{n}-spins-py{py}"),
            ]
    sizes = [(20, "", ""), (100, "", ""), (1000, "", ""), *((10**4, x, f", {k}") for x, k in both)]
    for n, sfx, kernel in sizes:
        big, b = n == 10_000, f"sleepers-{n}-{{}}{sfx}"
        t = (("<=", 10 * 1024), ("<=", 0.005), ("<=", 1.0)) if big else (None, None, None)  # #15
        kernels[f"{n:,} sleeping jobs in a kernel{kernel}"] = [
            M("memory per job (kernel RSS)", b.format("rss"), kib, t[0], True),
            M("wake-up lateness, p99", stat(b.format("lateness"), p99), ms, t[1], True),
            M(f"time to start {n:,} jobs from one cell", b.format("start"), ms, t[2], big),
            M("what the starting cell shows: IOPub messages", b.format("messages")),
            M("what the starting cell shows: IOPub bytes", b.format("bytes"), kib),
        ]

    share, each = ratio("mpl-auto-render", "mpl-auto-wall"), "`igogo.display(fig)` each frame"
    rendering = "pyplot only: share of the job's time spent rendering (igogo-mpl)"
    mpl: Rows = {
        "a job updating a figure every 50 ms": [
            M(rendering, share, "{:.1%}".format, ("<=", 0.2)),
            M("pyplot only: images sent", "mpl-auto-images"),
            M(f"{each}: time in it per frame", "mpl-explicit-display", ms),
            M(f"{each}: images sent", "mpl-explicit-images"),
        ]
    }

    workers: Rows = {}
    for t, n in ((30, 160), (3, 800), (2, 8)):  # the last size: the quick run's
        speed = paired(f"map-joblib-{t}ms-x{n}", f"map-igogo-{t}ms-x{n}")
        workers[f"{n} items of {t} ms, 2 workers"] = [
            M("throughput, `igogo.map` / `joblib.Parallel` (loky)", speed, fmt, (">=", 0.9))
        ]
    workers["a new cell sent while a map runs in the kernel (send → busy)"] = [
        *waits("map-cell", (0.05, None), summary=False),
        M("the same cell sent behind a `joblib.Parallel` cell", "map-joblib-cell", ms),
    ]

    # Terminal IPython's prompt (#17) has no target of its own: these are the kernels' for a
    # new cell beside jobs (#3, #15), the worst echo <= 50 ms, the median <= 1.3x no job's.
    terminal: Rows = {}
    for kind, beside in (
        ("0", ", no job (for scale)"),
        ("3", " beside 3 jobs spinning on `yielder()` (`@igogo.job` called 3 times)"),
        ("preempt3", " beside 3 preemptive `%%igogo` loops (`while True: n += 1`)"),
    ):
        keys, quiet, driven = (f"term-{x}-{kind}" for x in ("keys", "quiet", "driven"))
        limit = None if kind == "0" else ("<=", 0.05)
        row = terminal[f"terminal IPython's idle prompt{beside}"] = [
            M("a key: written → echo read back, median", keys, ms),
            M("a key: written → echo read back, worst", stat(keys, max), ms, limit),
        ]
        if limit:
            wait_all = "under typed `igogo.wait_all(2.0)`"
            row += [
                M("a key: echo median / with no job", ratio(keys, "term-keys-0"), fmt, LE13),
                M("the jobs' loop turns per second", quiet),
                M(f"the jobs' share of the CPU (their speed / {wait_all})", paired(quiet, driven)),
            ]
    return {"core": core, "kernels": kernels, "mpl": mpl, "workers": workers, "terminal": terminal}


def scenario_of(benchmark: str) -> str:
    """The scenario or measure that makes a benchmark, one run per interpreter or kernel:
    ``latency-3-spins`` -> ``latency3``, ``preempt-3-py3.13`` -> ``preempt3-py3.13``."""
    if m := re.fullmatch(r"(.+)-(py3\.\d+|ipykernel6)", benchmark):
        return f"{scenario_of(m[1])}-{m[2]}"
    head, _, rest = benchmark.partition("-")
    if head in ("latency", "sleepers", "preempt"):
        return head + rest.split("-")[0]
    return {"call": "yielder", "kloop": "loop"}.get(head, head)


def base_key(key: str) -> str:
    """A scenario's key without its interpreter or kernel (``click-ipykernel6`` -> ``click``)."""
    return re.sub(r"-(py3\.\d+|ipykernel6)$", "", key)


def render(group: str, results: Results, failed: Failed, summary: bool = False) -> str:
    """``group``'s table, of the rows measured: ours against the target, the original's."""
    scs = kernels.scenarios(set(GROUPS), quick=False)
    not_run = {sc.key: f"not run: {sc.ours_only}" for sc in scs if sc.ours_only}
    lines = [HEADER]
    rows = [(s, m) for s, listed in tables()[group].items() for m in listed]
    for scenario, m in ((s, m) for s, m in rows if m.summary or not summary):
        shown, value = {}, {}
        for system in ("ours", "original"):
            try:
                value[system] = figure(m.value, results.get(system, {}).__getitem__)
                shown[system] = m.show(value[system])
            except KeyError as missing:
                key = scenario_of(str(missing.args[0]))
                why = failed.get(system, {}).get(key)
                if system == "original":  # core never runs it (its names may be a scenario's)
                    why = None if group == "core" else why or not_run.get(base_key(key))
                if why and not why.startswith("not run"):
                    why = f"could not run: {why}"
                shown[system] = why or "—"
        ours, orig = value.get("ours"), value.get("original")
        if ours is None and shown["ours"] == "—":
            continue  # not part of this run
        status = target = ""
        if m.target and ours is not None:
            op, limit = m.target
            status = "PASS" if (ours <= limit if op == "<=" else ours >= limit) else "MISS"
            target = f"{op} {m.show(limit)}"
        ratio = f"{orig / ours:,.3g}×" if ours and ours > 1e-9 and orig is not None else "—"  # noqa: RUF001
        lines.append([scenario, m.metric, shown["ours"], target, status, shown["original"], ratio])
    text = ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in lines]
    return "\n".join([text[0], "|" + "---|" * len(lines[0]), *text[1:]])


def chart(results: Results, path: Path) -> None:
    """New-cell latency against spinning jobs; IOPub bytes against lines printed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system, color in (("ours", "#1f77b4"), ("original", "#d62728")):
        r = results.get(system, {})
        ns = [n for n in (0, 1, 3, 10, 100) if f"latency-{n}" in r]
        for what, style, alpha in (("median", "o-", None), ("worst", "v--", 0.6)):
            of = statistics.median if what == "median" else max
            ys = [of(r[f"latency-{n}"].get_values()) * 1e3 for n in ns]
            a.plot(ns, ys, style, color=color, alpha=alpha, label=f"{system}, {what}")
        for py, style, green_or_purple in (("3.11", "s-", "#2ca02c"), ("3.13", "D-", "#9467bd")):
            if ns := [n for n in (1, 3, 10) if f"preempt-{n}-py{py}" in r]:
                ys = [figure(f"preempt-{n}-py{py}", r.__getitem__) * 1e3 for n in ns]
                label = f"{system}, median, preemptive loops, Python {py}"
                a.plot(ns, ys, style, color=green_or_purple, label=label)
        sizes = [n for n in (100, 500, 2000) if f"print-{n}-bytes" in r]
        ys = [figure(f"print-{n}-bytes", r.__getitem__) for n in sizes]
        b.plot(sizes, ys, "o-", color=color, label=system)
    a.set(yscale="log", xlabel="jobs spinning on igogo.yielder() (or preemptive loops)")
    a.set(ylabel="send → busy (ms)", title="A new cell's wait")
    b.set(xscale="log", yscale="log", xlabel="lines printed", ylabel="IOPub bytes")
    b.set(title="Bytes sent by a job printing")
    for ax in (a, b):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def publish(groups: set[str], results: Results, failed: Failed, ctx: Ctx, quick: bool) -> int:
    """Print each group's table; unless ``quick``, write its .md, the chart and the README's."""
    misses = 0
    for group in (g for g in GROUPS if g in groups):
        table = render(group, results, failed)
        misses += table.count("| MISS |")
        text = f"# igogo benchmark: {group}" + " (quick smoke run: not a measurement)" * quick
        text += "\n\n" + "".join(f"- **{k}**: {v}\n" for k, v in ctx.items()) + f"\n{table}\n"
        print(text)
        if not quick:
            md = f"Written by `hatch run bench:all`.\n\n{text}"
            (RESULTS / f"{group}.md").write_text(md, encoding="utf-8")
    print(f"{misses} target(s) missed (reported, not a failure)" if misses else "every target met")
    if quick or "kernels" not in groups:
        return 0
    chart(results, RESULTS / "kernels.png")
    text = README.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if 0 <= start < end:
        reruns = sorted(k[6:16] for k in ctx if k.startswith("rerun "))
        since = f", some scenarios rerun since (the last on {reruns[-1]})" if reruns else ""
        alt = "A new cell's wait against spinning jobs; IOPub bytes against lines printed"
        block = f"""{BEGIN}
<!-- written by `hatch run bench:all` (bench/run.py): do not edit -->

Measured {ctx["date"][:10]} on {ctx["machine"]} (load average {ctx[LOAD0]} at the start, \
{ctx[LOAD1]} at the end){since}. Every figure, and each rerun's commit and load: \
[bench/results/kernels.md](bench/results/kernels.md).

{render("kernels", results, failed, summary=True)}

![{alt}](bench/results/kernels.png)
{END}"""
        text = text[:start] + block + text[end + len(END) :]
        README.write_text(text, encoding="utf-8")
    return 0


def context() -> Ctx:
    git = ["git", "-C", str(BENCH)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "../packages"], capture_output=True)
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": head.stdout.strip()
        + " + uncommitted changes under packages/" * bool(dirty.stdout),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        LOAD0: ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def saved() -> Saved:
    """The samples, failures and context a full run saved in bench/results/."""
    ctx = json.loads((RESULTS / "context.json").read_text(encoding="utf-8"))
    paths = {system: RESULTS / f"{system}.json" for system in ("ours", "original")}
    return {s: load(path) for s, path in paths.items() if path.exists()}, ctx.pop("failed"), ctx


def merged(only: set[str], results: Results, failed: Failed, ctx: Ctx) -> Saved:
    """The saved results with this partial run's (``only``) in place of theirs.  The context
    stays the saved run's, with this run noted as a rerun (an earlier note of the same scenarios
    dropped): what it found besides is added, or put in the note where the saved run differs."""
    old, old_failed, old_ctx = saved()
    for system in results.keys() | failed.keys() | old_failed.keys():
        old.setdefault(system, {}).update(results.get(system, {}))
        why = {k: v for k, v in old_failed.get(system, {}).items() if base_key(k) not in only}
        old_failed[system] = why | failed.get(system, {})  # this run's in place of the old
    note = (
        f"scenarios: {', '.join(sorted(only))}; commit {ctx['commit']}; load average "
        f"{ctx[LOAD0]} at the start, {ctx[LOAD1]} at the end; wall time {ctx['wall time']}"
    )
    note += "".join(
        f"; {k}: {v}" for k, v in ctx.items() if k not in RUN_KEYS and old_ctx.get(k, v) != v
    )
    kept = {
        k: v
        for k, v in old_ctx.items()
        if not (k.startswith("rerun ") and set(v.split(";")[0].split(": ")[1].split(", ")) <= only)
    }
    news = {k: v for k, v in ctx.items() if k not in RUN_KEYS and k not in old_ctx}
    return old, old_failed, kept | news | {f"rerun {ctx['date']}": note}


def main() -> int:
    known = MEASURES | {sc.key: sc.group for sc in kernels.scenarios(set(GROUPS), quick=False)}
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke test: every scenario tiny, writes nothing")
    add("--only", action="append", choices=GROUPS, help="run only this group (repeatable)")
    add("--report", action="store_true", help="only render bench/results/ from its saved samples")
    about = "run only this scenario or measure (repeatable); a full run merges it into the saved"
    add("--scenario", action="append", choices=known, metavar="KEY", help=about)
    args = parser.parse_args()
    quick, only = args.quick, set(args.scenario or ()) or None
    if only is None and args.only and set(args.only) != set(GROUPS):
        # Some groups only: merged into the saved results like --scenario, never in their place.
        only = {key for key, group in known.items() if group in args.only}
    groups = set(args.only or ({known[key] for key in only} if only else GROUPS))
    if args.report:
        return publish(groups, *saved(), quick=False)
    ctx, t0 = context(), time.perf_counter()
    results: Results = {"ours": {}, "original": {}}
    ours, failed, q = results["ours"], {"ours": {}}, ["--quick"] * quick
    for key in [k for k, g in MEASURES.items() if g in groups and (only is None or k in only)]:
        if key == "micro":  # pyperf's Runner: its own options, its own file
            micro = "--debug-single-value" if quick else "--fast"
            ours |= run(sys.executable, "core.py", micro, "--quiet", read=load)
        elif key in ("ploop", "plain"):  # with each of PYTHONS: names end with -pyX.Y
            used = []
            for v in PYTHONS:  # a full run creates the other Pythons' environments if missing
                here = (sys.executable, "the bench environment")
                python, how = here if v == PY else hatch_env(f"core.py{v}", create=not quick)
                if python is None:
                    failed["ours"][f"{key}-py{v}"] = f"not run: {how}"
                    continue
                try:
                    samples = run(python, "core.py", "--measure", key, *q)
                except Exception as exc:
                    if quick:
                        raise
                    failed["ours"][f"{key}-py{v}"] = f"{type(exc).__name__}: {exc}"[:300]
                    continue
                ours |= benchmarks({f"{n}-py{v}": values for n, values in samples.items()})
                used.append(f"{v} ({how})")
            ctx["interpreters (core: preemption)"] = ", ".join(used)
        else:
            ours |= benchmarks(run(sys.executable, f"{MEASURES[key]}.py", "--measure", key, *q))
    if any(only is None or sc.key in only for sc in kernels.scenarios(groups, quick)):
        for system, samples in kernels.run(groups, quick, only, failed, ctx).items():
            results[system] |= benchmarks(samples)
    ctx[LOAD1] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    ctx["wall time"] = f"{time.perf_counter() - t0:.0f} s"
    if not quick:
        if only is not None and (RESULTS / "context.json").exists():
            results, failed, ctx = merged(only, results, failed, ctx)
        RESULTS.mkdir(exist_ok=True)
        for system, bs in results.items():
            if bs:
                suite = pyperf.BenchmarkSuite(list(bs.values()))
                suite.dump(str(RESULTS / f"{system}.json"), replace=True)
        (RESULTS / "context.json").write_text(json.dumps(ctx | {"failed": failed}, indent=1) + "\n")
    return publish(groups, results, failed, ctx, quick)


if __name__ == "__main__":
    sys.exit(main())
