"""The kernel suite's table, notes and chart, from the raw results of bench/kernels.py."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from report import Compare, Suite, markdown_table

if TYPE_CHECKING:
    from kernels import Scenario, System

MS = 1e3
KIB = 2**10
HEADER = ("Scenario", "Metric", "ours", "original igogo 1.1.0", "original / ours")


def _sig(x: float, digits: int = 3) -> str:
    """``x`` with about ``digits`` significant digits, thousands separated."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
    return f"{x:,.{decimals}f}"


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{_sig(n / size)} {unit}"
    return f"{n:,.0f} B"


def _ratio(ours: float | None, other: float | None) -> str:
    if ours is None or other is None or not ours or not math.isfinite(ours * other):
        return "—"
    r = other / ours
    return f"{r:,.0f}×" if r >= 10 else f"{r:.2f}×"  # noqa: RUF001 (the multiplication sign)


class Table:
    """Collects :class:`Compare` rows; a failed scenario shows why on each of its rows."""

    def __init__(self, results: dict[str, dict[str, dict[str, Any]]], has_original: bool, why: str):
        self.results = results
        self.rows: list[Compare] = []
        self.summary: list[Compare] = []
        self.has_original = has_original
        self.why_not = why

    def get(self, key: str, system: str) -> dict[str, Any] | None:
        return self.results.get(key, {}).get(system)

    def _cell(self, key: str, system: str, value: Any, fmt: Any) -> tuple[str, float | None]:
        r = self.get(key, system)
        if r is None:
            if system == "original" and not self.has_original:
                return f"not run: {self.why_not}", None
            return "not run", None
        if "failed" in r:
            return f"could not run: {r['failed']}", None
        try:
            v = value(r)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return "—", None
        if v is None:
            return "—", None
        if isinstance(v, str):
            return v, None
        return fmt(v), float(v)

    def add(
        self,
        scenario: str,
        key: str,
        metric: str,
        value: Any,
        fmt: Any = _sig,
        ratio: bool = True,
        summary: str | None = None,
    ) -> None:
        """A row of the full table; with ``summary``, also one of the summary (that scenario)."""
        ours_text, ours = self._cell(key, "ours", value, fmt)
        other_text, other = self._cell(key, "original", value, fmt)
        row = Compare(
            scenario, metric, ours_text, other_text, _ratio(ours, other) if ratio else "—"
        )
        self.rows.append(row)
        if summary is not None:
            self.summary.append(Compare(summary, row.metric, row.ours, row.other, row.ratio))

    def combined(self, scenario: str, metric: str, keys: list[str], value: Any, unit: str) -> None:
        """A summary row whose cells join one figure of several scenarios (``a / b / c``)."""
        cells = []
        for system in ("ours", "original"):
            parts = [self._cell(key, system, value, _sig) for key in keys]
            if all(v is not None for _, v in parts):
                cells.append(" / ".join(text for text, _ in parts) + f" {unit}")
            else:
                cells.append(" / ".join(text for text, _ in parts))
        self.summary.append(Compare(scenario, metric, cells[0], cells[1]))


def _ms(x: float) -> str:
    return f"{_sig(x)} ms"


def _us(x: float) -> str:
    return f"{_sig(x)} µs"


def _s(x: float) -> str:
    return f"{_sig(x)} s"


def build(
    quick: bool,
    context: dict[str, str],
    results: dict[str, dict[str, dict[str, Any]]],
    scenarios: list[Scenario],
    ours: System,
    original: System | None,
    why: str,
) -> Suite:
    t = Table(results, original is not None, why)
    notes: list[str] = []
    keys = [sc.key for sc in scenarios]

    # 0. import
    imp = {s.key: s.import_s for s in (ours, original) if s is not None and s.import_s}
    if imp:
        for s in (ours, original):
            if s is not None and s.import_s:
                results.setdefault("import", {})[s.key] = {"s": statistics.median(s.import_s)}
        n_kernels = max(len(v) for v in imp.values())
        t.add("0. setup", "import", f"`import igogo` in a fresh kernel (median of {n_kernels})",
              lambda r: r["s"] * MS, _ms, summary="setup")  # fmt: skip

    # 1. yielder
    y = t.get("yielder", "ours") or {}
    s1 = "1. `igogo.yielder()` in a job's tight loop"
    t.add(s1, "yielder", "per call, net of the same loop empty", lambda r: r["us_net"], _us,
          summary="`igogo.yielder()` in a job's loop")  # fmt: skip
    t.add(s1, "yielder", "per call, gross (loop included)", lambda r: r["us_gross"], _us)
    if y.get("seconds"):
        notes.append(
            f"1: one job runs `igogo.yielder()` in batches of 1,000 calls for {y['seconds']:g} s "
            f"of wall time, then the same loop empty, {y['rounds']} times; per call = wall time "
            "/ calls, median of the rounds. The job runs in the background (the kernel otherwise "
            "idle), so the time includes what each system does when a yield really switches "
            "(ours: when its 15 ms slice is over, then about 1 ms for the kernel's loop; the "
            "original: every call goes through the asyncio loop)."
        )

    # 2. loop
    lp = t.get("loop", "ours") or {}
    s2 = "2. 10 µs loop body with a yield per iteration"
    t.add(s2, "loop", "speed ratio: with `igogo.yielder()` / same loop bare (both in a job)",
          lambda r: r["ratio"], lambda v: f"{v:.3f}",
          summary="10 µs loop body, a yield per iteration")  # fmt: skip
    t.add(s2, "loop", "median run: bare / with yields",
          lambda r: f"{r['bare_s']:.3f} / {r['yielding_s']:.3f} s", ratio=False)  # fmt: skip
    t.add(s2, "loop", "loop body as measured in the kernel", lambda r: r["body_us"], _us)
    if lp.get("n"):
        notes.append(
            f"2: {lp['n']:,} iterations of a body of {lp['k']} `s += i * i` steps (calibrated "
            "once to about 10 µs, the same loop in both kernels), with and without "
            f"`igogo.yielder()`, alternating which goes first, {lp['rounds']} rounds; ratio = "
            "median of the per-round ratios. 1.0 means yields are free; lower is slower."
        )

    # 3. printing
    pr = t.get("print", "ours") or {}
    sizes = pr.get("sizes") or []
    if sizes:
        big = str(max(sizes))
        s3 = f"3. a job printing {int(big):,} lines"

        def by(f: Any) -> Any:
            return lambda r: f(r["by_size"][big])

        short = f"a job printing {int(big):,} lines"
        t.add(s3, "print", "IOPub bytes sent (header + parent + metadata + content)",
              by(lambda x: x["bytes"]), _bytes, summary=short)  # fmt: skip
        t.add(s3, "print", "IOPub messages sent", by(lambda x: x["messages"]),
              lambda v: f"{v:,.0f}", summary=short)  # fmt: skip
        t.add(s3, "print", "from the starting cell's request to the last output arriving",
              by(lambda x: x["to_last_output_s"]), _s, summary=short)  # fmt: skip
        t.add(s3, "print", "the job's own time (its `print` calls)", by(lambda x: x["job_s"]), _s)
        t.add(s3, "print", "lines that reached the client",
              by(lambda x: f"{x['lines_seen']:,} of {int(big):,}"), ratio=False)  # fmt: skip
        t.add(s3, "print", "message types",
              by(lambda x: ", ".join(f"{k} {v:,}" for k, v in sorted(x["types"].items()))),
              ratio=False)  # fmt: skip
        notes.append(
            "3: `print('line', i)` in a job (4 writes to stdout per call). Counted: every IOPub "
            "message from the starting cell's request until the output stopped, except "
            "`status` and `execute_input` (the same for both). "
            f"Sizes {', '.join(map(str, sizes))} lines run one after another in one kernel "
            "(chart). The original re-sends its whole text in an `update_display_data` on "
            "every write; ours sends ordinary `stream` messages, one per flush."
        )

    # 4. latency
    lat_keys = [k for k in keys if k.startswith("latency")]
    for key in lat_keys:
        r0 = t.get(key, "ours") or {}
        n = int(key.removeprefix("latency"))
        what = "no job" if n == 0 else f"{n} job{'s' if n > 1 else ''} spinning on `yielder()`"
        s4 = f"4. a new cell's wait beside {what}"
        samples = r0.get("samples", "?")
        t.add(s4, key, f"send → busy, median of {samples} cells", lambda r: r["median_ms"], _ms)
        t.add(s4, key, "send → busy, worst", lambda r: r["worst_ms"], _ms)
        t.add(s4, key, "send → busy, mean", lambda r: statistics.fmean(r["busy_ms"]), _ms)
        t.add(s4, key, "send → idle (the cell done), median", lambda r: r["idle_median_ms"], _ms)
        if n:
            t.add(s4, key, "the jobs' `yielder()` loop iterations per second meanwhile, total",
                  lambda r: r["spins_per_s"], lambda v: f"{v:,.0f}")  # fmt: skip
    busy_keys = [k for k in lat_keys if k != "latency0"]
    if busy_keys:
        counts = " / ".join(k.removeprefix("latency") for k in busy_keys)
        short = f"a new cell beside {counts} spinning jobs"
        t.combined(short, "send → busy, median", busy_keys, lambda r: r["median_ms"], "ms")
        t.combined(short, "send → busy, worst", busy_keys, lambda r: r["worst_ms"], "ms")
    if lat_keys:
        r0 = t.get(lat_keys[0], "ours") or {}
        notes.append(
            "4: a fresh kernel per system and per number of jobs; the jobs run "
            "`while running: igogo.yielder()`; after "
            f"{r0.get('warm_s', FULL_WARM)} s, cells `_bench_x = 1` are sent one at a time "
            "(each after the previous one's idle, then a short pause); the time is from "
            "sending the request to the kernel's `busy` status arriving. Every sample is in "
            "kernels.json: the original's waits are bimodal (most cells start within a few ms, "
            "some wait tens to hundreds of ms), so its median moves a lot from run to run; the "
            "mean shows the tail."
        )

    # 5. matplotlib
    mp = t.get("mpl", "ours") or {}
    if mp.get("frames"):
        frames, interval = mp["frames"], mp["interval"]
        ideal = frames * interval
        s5 = f"5. a job updating a figure every {interval * MS:.0f} ms, {frames} frames"
        t.add(s5, "mpl", f"`igogo.display(fig)` each frame: job wall time (ideal {ideal:g} s)",
              lambda r: r["explicit"]["wall"], _s)  # fmt: skip
        short = f"a figure updated every {interval * MS:.0f} ms"
        t.add(s5, "mpl", "`igogo.display(fig)` each frame: time inside it, per frame",
              lambda r: r["explicit"]["render"] / frames * MS, _ms, summary=short)  # fmt: skip
        t.add(s5, "mpl", "`igogo.display(fig)` each frame: images sent",
              lambda r: r["explicit"]["images"], lambda v: f"{v:,.0f}")  # fmt: skip
        t.add(s5, "mpl", "`igogo.display(fig)` each frame: IOPub bytes",
              lambda r: r["explicit"]["bytes"], _bytes)  # fmt: skip
        t.add(s5, "mpl", "pyplot only, no display call: images sent",
              lambda r: r["auto"]["images"], lambda v: f"{v:,.0f}", summary=short)  # fmt: skip
        t.add(s5, "mpl", "pyplot only, no display call: job wall time",
              lambda r: r["auto"]["wall"], _s)  # fmt: skip

        def plugin_renders(r: dict[str, Any]) -> str:
            plugin = r["auto"].get("plugin")
            if not plugin:
                return "no plugin"
            return f"{plugin['renders']} ({plugin['render_s'] * MS:.0f} ms)"

        t.add(s5, "mpl", "pyplot only: renders by the igogo-mpl plugin (time)", plugin_renders,
              ratio=False)  # fmt: skip
        explicit_ours = mp.get("explicit", {}).get("plugin")
        notes.append(
            "5: one figure (500-point line) whose data and title change every frame, then "
            f"`igogo.sleep({interval:g})`; `@igogo.job(warn_rewrite=False)` in both (the "
            "original's plot example uses it). Two variants in one kernel: the figure shown "
            "by `igogo.display(fig)` every frame (the original's documented way), and pyplot "
            "alone, leaving the showing to each system. Images = IOPub messages carrying "
            "`image/png`. The original closes a figure once shown and its automatic display "
            "only shows figures *created* since the last switch, so an updated figure is shown "
            "once. "
            + (
                "igogo-mpl was importable: ours ran with the plugin active."
                if explicit_ours is not None
                else "igogo-mpl was NOT importable: ours ran without its plugin."
            )
        )

    # 6. tqdm
    tq = t.get("tqdm", "ours") or {}
    if tq.get("n"):
        s6 = f"6. `tqdm.auto` loop of {tq['n']:,} iterations in a job"
        t.add(s6, "tqdm", "with `igogo.yielder()` in the loop: time",
              lambda r: r["yielder"]["job_s"], _s,
              summary=f"`tqdm.auto` loop of {tq['n']:,} steps")  # fmt: skip
        t.add(s6, "tqdm", "with `igogo.yielder()` in the loop: IOPub messages",
              lambda r: r["yielder"]["messages"], lambda v: f"{v:,.0f}")  # fmt: skip
        t.add(s6, "tqdm", "with `igogo.yielder()` in the loop: IOPub bytes",
              lambda r: r["yielder"]["bytes"], _bytes)  # fmt: skip
        t.add(s6, "tqdm", "bare loop (no yielder): time", lambda r: r["bare"]["job_s"], _s)
        t.add(s6, "tqdm", "bare loop (no yielder): IOPub messages",
              lambda r: r["bare"]["messages"], lambda v: f"{v:,.0f}")  # fmt: skip
        notes.append(
            "6: `for _ in tqdm(range(n)): igogo.yielder()` (the original's README idiom) and "
            "the same loop without `igogo.yielder()`, one after the other in one kernel; "
            "`tqdm.auto` gives the notebook widget bar. With igogo-tqdm installed, ours yields "
            "on every iteration of a job's bar even without `igogo.yielder()`; the original's "
            "bare loop holds the kernel for its whole length."
        )

    # 7. sleepers
    for key in [k for k in keys if k.startswith("sleepers")]:
        r0 = t.get(key, "ours") or {}
        n = int(key.removeprefix("sleepers"))
        s7 = f"7. {n:,} concurrent sleeping jobs"
        short = f"{n:,} sleeping jobs"
        t.add(s7, key, "memory per job (kernel RSS delta / N, all parked)",
              lambda r: r["rss_per_job"] / KIB, lambda v: f"{_sig(v)} KiB",
              summary=short)  # fmt: skip
        t.add(s7, key, "wake-up lateness, median", lambda r: r["late_ms_median"], _ms)
        t.add(s7, key, "wake-up lateness, p99", lambda r: r["late_ms_p99"], _ms, summary=short)
        t.add(s7, key, "wake-up lateness, max", lambda r: r["late_ms_max"], _ms)
        t.add(s7, key, f"time to start {n:,} jobs (one cell)", lambda r: r["start_s"], _s,
              summary=short)  # fmt: skip
        t.add(s7, key, "IOPub messages sent (start to last wake-up)",
              lambda r: r["messages"], lambda v: f"{v:,.0f}")  # fmt: skip
        orig = t.get(key, "original") or {}
        if "failed" in orig and "started_at_least" in orig:
            notes.append(
                f"7 ({n:,} jobs), original: stopped after {orig['elapsed_s']:.0f} s: "
                f"{orig['failed']}. By then its start cell had printed progress for "
                f"{orig['started_at_least']:,} jobs and the kernel had sent "
                f"{orig['messages']:,} IOPub messages ({_bytes(orig['bytes'])}; "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(orig["types"].items()))
                + (f"), its RSS was {orig['rss'] / 2**30:.2f} GiB." if orig.get("rss") else ").")
                + " Each job call redraws the stop-button row of its cell with one new "
                "`ipywidgets.Button` per live job of that cell, so starting N jobs from one "
                "cell creates about N²/2 buttons (and as many again as they end)."
            )
    sleeper_params = [sc.params for sc in scenarios if sc.key.startswith("sleepers")]
    if sleeper_params:
        sp = sleeper_params[-1]
        notes.append(
            "7: each job sleeps `igogo.sleep(d)`, d uniform in 0.2-1.0 s (same seed for both); "
            "lateness = wake-up time minus the intended one, as the job sees it. Memory = the "
            "kernel's RSS once all jobs are parked minus before they were created, both after "
            "`gc.collect()`, divided by N. Guards, for both systems: the cell starting the jobs "
            f"may take at most {sp['start_timeout']:g} s, and the kernel is stopped if its RSS "
            f"passes {sp['rss_limit'] / 2**30:g} GiB."
        )

    notes += [
        "Method: every scenario in a fresh kernel per system (ipykernel, started by "
        "jupyter_client with each environment's own interpreter), ours then the original, "
        "scenario after scenario. Jobs are waited for by an async cell polling them every 5 ms, "
        "so jobs run as in an idle notebook. Before measuring, each kernel runs one empty job "
        "(first-job costs: host lookup, greenback portal). IOPub sizes are the bytes of each "
        "message's serialized header, parent header, metadata and content (and binary buffers, "
        "if any) as they arrived. ZeroMQ's high-water marks are off in the kernels (started "
        "through bench/kernel_launcher.py, the only change to ipykernel) and in the benchmark's "
        "IOPub socket: no message is dropped, however many a kernel sends.",
        "The original guesses its client from its kernel's parent process: not `jupyter-lab` "
        "here (the parent is the benchmark), so it behaves as under Notebook 7 and shows each "
        "of its outputs once more when created (one `display_data` per output per job, not "
        "per print).",
        "Ratio = original's figure divided by ours (for the speed ratio of 2, lower means "
        "the original is slower).",
    ]

    title = "Kernel benchmark: igogo (this project) vs the original igogo 1.1.0"
    if quick:
        title += " (quick smoke run: not a measurement)"
    summary = Suite("summary", "", {}, t.summary, header=HEADER)
    before = [
        "## Summary",
        "",
        markdown_table(summary),
        "",
        "![kernel benchmark chart](kernels.png)",
        "",
        "## Every measurement",
    ]

    def write_files(out_dir: Path) -> list[Path]:
        raw = out_dir / "kernels.json"
        raw.write_text(json.dumps({"context": context, "results": results}, indent=1) + "\n")
        png = out_dir / "kernels.png"
        chart(results, keys, png, context)
        written = [png, raw]
        if update_readme(README, readme_block(summary, context)):
            written.append(README)
        return written

    return Suite(
        name="kernels",
        title=title,
        context=context,
        rows=t.rows,
        notes=notes,
        header=HEADER,
        before_table=before,
        write_files=write_files,
    )


README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- bench:kernels:begin -->"
END = "<!-- bench:kernels:end -->"


def readme_block(summary: Suite, context: dict[str, str]) -> str:
    """What goes between the README's markers: the summary table, where and how, the chart."""
    load = context.get("1-min load average when each scenario started: min / median / max", "")
    lo, med, hi = [*load.split(" / "), "?", "?", "?"][:3]
    return "\n".join(
        [
            BEGIN,
            "<!-- written by `hatch run bench:all` (bench/kernels_report.py): do not edit -->",
            "",
            f"Measured {context.get('date', '?')[:10]} on {context.get('CPUs', '?').split()[0]} "
            "CPUs "
            f"(1-minute load average during the run {lo} to {hi}, median {med}; other processes "
            f"at the start: {context.get('other heavy processes at start', '?')}, at the end: "
            f"{context.get('other heavy processes at end', '?')}). "
            "Every figure, the method and the notes: "
            "[bench/results/kernels.md](bench/results/kernels.md).",
            "",
            markdown_table(summary),
            "",
            "![New-cell latency against spinning jobs; IOPub bytes and time against lines "
            "printed](bench/results/kernels.png)",
            END,
        ]
    )


def update_readme(path: Path, block: str) -> bool:
    """Replace the text between the README's markers with ``block``; False if it has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return False
    path.write_text(text[:start] + block + text[end + len(END) :], encoding="utf-8")
    return True


FULL_WARM = 1.0
COLORS = {"ours": "#1f77b4", "original": "#d62728"}
LABELS = {"ours": "ours", "original": "original igogo 1.1.0"}


def chart(
    results: dict[str, dict[str, dict[str, Any]]],
    keys: list[str],
    path: Path,
    context: dict[str, str],
) -> None:
    """New-cell latency against jobs, and IOPub bytes and time against lines printed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    for system in ("ours", "original"):
        xs, med, worst = [], [], []
        for key in keys:
            if not key.startswith("latency"):
                continue
            r = results[key].get(system)
            if r and "median_ms" in r:
                xs.append(int(key.removeprefix("latency")))
                med.append(r["median_ms"])
                worst.append(r["worst_ms"])
        if xs:
            c = COLORS[system]
            ax.plot(xs, med, "o-", color=c, label=f"{LABELS[system]}, median")
            ax.plot(xs, worst, "v--", color=c, alpha=0.6, label=f"{LABELS[system]}, worst")
    ax.set_yscale("log")
    ax.set_xlabel("jobs spinning on igogo.yielder()")
    ax.set_ylabel("new cell: send → busy (ms)")
    ax.set_title("Wait for a new cell to start")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)

    for ax, field_, ylabel, title in (
        (axes[1], "bytes", "IOPub bytes sent", "Bytes sent by a job printing N lines"),
        (axes[2], "to_last_output_s", "seconds to last output", "Time until all output arrived"),
    ):
        for system in ("ours", "original"):
            r = results.get("print", {}).get(system)
            if not r or "by_size" not in r:
                continue
            sizes = [int(s) for s in r["by_size"]]
            ys = [r["by_size"][str(s)][field_] for s in sizes]
            ax.plot(sizes, ys, "o-", color=COLORS[system], label=LABELS[system])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("lines printed (print('line', i))")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    load = context.get("1-min load average when each scenario started: min / median / max", "?")
    fig.suptitle(
        f"igogo (ours) vs the original igogo 1.1.0 in ipykernel; {context.get('date', '')[:10]}, "
        f"{context.get('CPUs', '?').split()[0]} CPUs, 1-min load min / median / max {load}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
