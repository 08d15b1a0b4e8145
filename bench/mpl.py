"""Benchmark of igogo-mpl: what live figures cost a job, and what the plugin adds to a switch.

Scenarios, each in a fresh process (``python bench/mpl.py --scenario NAME``
prints its raw figures as one JSON line):

* ``live``: in a real ipykernel (inline backend, started through jupyter_client),
  a job updates a line plot every 50 ms for 10 s while the kernel is otherwise
  idle, as in a notebook.  igogo-mpl renders the figure into the job's cell at
  most every ``interval`` (0.3 s) and keeps rendering under a tenth of the time
  for slow figures; the figure that matters is the share of the job's wall time
  spent rendering (measured in the kernel around each render and its message).
* ``switch_plain`` / ``switch_pyplot``: an ``igogo.sleep(0)`` round trip
  (job -> hub -> job) in a script, before pyplot is imported (the plugin only
  watches for the import) and after (its switch hooks run on every switch).

``quick`` runs the live job for 1/50 of its time and the switch loops at 1/50
of their size: a smoke test, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from report import Row, Suite, judge, run_isolated

QUICK_SCALE = 50
US = 1e6
MS = 1e3
ROOT = Path(__file__).resolve().parents[1]


def _scaled(n: float, quick: bool) -> float:
    return n / QUICK_SCALE if quick else n


# ---------------------------------------------------------------------------
# 1. a job that updates a plot every 50 ms, in a real kernel
# ---------------------------------------------------------------------------

LIVE_SETUP = """\
import time
import igogo, igogo_mpl
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(0, 4 * np.pi, 500)
plt.plot(x, np.cos(x))  # the session has drawn before: fonts and caches are warm
"""

LIVE_JOB = """\
@igogo.job
def live(seconds, period):
    fig, ax = plt.subplots()
    line, = ax.plot(x, np.sin(x))
    ax.set_title("a job's live plot")
    start = time.monotonic()
    updates = 0
    while (t := time.monotonic() - start) < seconds:
        line.set_ydata(np.sin(x + t))
        ax.set_xlabel(f"t = {t:.2f} s")
        updates += 1
        igogo.sleep(period)
    return updates, time.monotonic() - start

before = igogo_mpl.stats()
cpu0 = time.process_time()
job = live(SECONDS, PERIOD)
"""

LIVE_RESULT = """\
igogo.wait_all()
after = igogo_mpl.stats()
updates, elapsed = job.result()
result = {
    "updates": updates,
    "elapsed_s": elapsed,
    "renders": after["renders"] - before["renders"],
    "render_s": after["render_seconds"] - before["render_seconds"],
    "render_cpu_s": after["render_cpu_seconds"] - before["render_cpu_seconds"],
    "cpu_s": time.process_time() - cpu0,
    "interval_s": igogo_mpl.configure()["interval"],
    "max_share": igogo_mpl.configure()["max_share"],
}
"""


def scenario_live(quick: bool) -> dict[str, Any]:
    from driver import Kernel

    seconds, period = _scaled(10.0, quick), 0.05
    with Kernel(sys.executable, "mpl") as kernel:
        kernel.run(LIVE_SETUP)
        code = LIVE_JOB.replace("SECONDS", repr(seconds)).replace("PERIOD", repr(period))
        cell = kernel.run(code)
        # The kernel is idle while the job runs, as in a notebook: only IOPub is read.
        kernel.pump(seconds + 0.5)
        kernel.run(LIVE_RESULT)
        result: dict[str, Any] = kernel.eval("result")
        kernel.drain()
        shown = [
            m
            for m in kernel.messages
            if m.parent == cell.msg_id
            and m.msg_type in ("display_data", "update_display_data")
            and m.png
        ]
        result["messages"] = len(shown)
        result["displays"] = len({m.display_id for m in shown})
        result["png_bytes_mean"] = statistics.mean(m.png for m in shown) if shown else 0
    result.update(seconds=seconds, period=period)
    return result


# ---------------------------------------------------------------------------
# 2. what the plugin adds to a switch
# ---------------------------------------------------------------------------


def _round_trip_us(n: int, rounds: int) -> float:
    """Median per-switch time of ``igogo.sleep(0)`` in a job's loop, in microseconds."""
    import igogo

    @igogo.job
    def loop(n: int) -> float:
        r = range(n)
        t0 = time.perf_counter()
        for _ in r:
            igogo.sleep(0)
        return time.perf_counter() - t0

    return statistics.median(loop(n).result() for _ in range(rounds)) / n * US


def scenario_switch_plain(quick: bool) -> dict[str, Any]:
    import igogo

    igogo.job(lambda: None)().result()  # activates the plugins
    n = int(_scaled(200_000, quick))
    return {"n": n, "us_round_trip": _round_trip_us(n, 3 if quick else 7)}


def scenario_switch_pyplot(quick: bool) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    import igogo
    from igogo._hub import SCHED
    from igogo_mpl._plugin import PLUGIN

    igogo.job(lambda: None)().result()  # activates the plugins
    assert any(h is PLUGIN for h in SCHED.hooks.hooks)
    n = int(_scaled(200_000, quick))
    rounds = 3 if quick else 7
    hooked, unhooked, with_figure = [], [], []
    for _ in range(rounds):
        hooked.append(_round_trip_us(n, 1))
        igogo.remove_hook(PLUGIN)
        unhooked.append(_round_trip_us(n, 1))
        igogo.add_hook(PLUGIN)

        @igogo.job
        def drawing(n: int) -> float:
            plt.plot([1, 2, 3])  # one open figure, checked at every switch
            r = range(n)
            t0 = time.perf_counter()
            for _ in r:
                igogo.sleep(0)
            return time.perf_counter() - t0

        with_figure.append(drawing(n).result() / n * US)
        plt.close("all")
    return {
        "n": n,
        "us_hooked": statistics.median(hooked),
        "us_unhooked": statistics.median(unhooked),
        "us_with_figure": statistics.median(with_figure),
    }


SCENARIOS = {
    "live": scenario_live,
    "switch_plain": scenario_switch_plain,
    "switch_pyplot": scenario_switch_pyplot,
}


def _run_isolated(name: str, quick: bool) -> dict[str, Any]:
    return run_isolated(os.path.abspath(__file__), name, ["--quick"] if quick else [])


def _context() -> dict[str, str]:
    import matplotlib

    import core

    context = core._context()
    context["matplotlib"] = matplotlib.__version__
    try:
        import ipykernel

        context["ipykernel"] = ipykernel.__version__
    except ImportError:
        pass
    return context


def main(quick: bool) -> Suite:
    context = _context()
    r = {name: _run_isolated(name, quick) for name in SCENARIOS}
    rows: list[Row] = []
    live = r["live"]
    s1 = "1. a job updating a plot every 50 ms"
    share = live["render_s"] / live["elapsed_s"]
    rows.append(
        judge(s1, "share of the job's wall time spent rendering", share * 100, ".1f", "%", "<=", 20)
    )
    rows.append(
        Row(
            s1,
            "renders (one display, updated in place) / per second",
            f"{live['renders']} in {live['elapsed_s']:.1f} s / "
            f"{live['renders'] / live['elapsed_s']:.1f} per s",
        )
    )
    rows.append(
        Row(
            s1,
            "same, CPU time of the renders (what load on the machine does not inflate)",
            f"{live['render_cpu_s'] / live['elapsed_s'] * 100:.1f} %",
        )
    )
    if live["renders"]:
        rows.append(
            Row(
                s1,
                "mean render (draw, PNG, message): wall / CPU",
                f"{live['render_s'] / live['renders'] * MS:.0f} ms / "
                f"{live['render_cpu_s'] / live['renders'] * MS:.0f} ms",
            )
        )
    rows.append(
        Row(
            s1,
            "image messages in the job's cell / displays",
            f"{live['messages']} / {live['displays']} "
            f"(mean PNG {live['png_bytes_mean'] / 1e3:.0f} kB base64)",
        )
    )
    nominal = live["seconds"] / live["period"]
    rows.append(
        Row(
            s1,
            "updates the job made / without any rendering (sleep 50 ms each)",
            f"{live['updates']} / {nominal:.0f}",
        )
    )
    rows.append(
        Row(
            s1,
            "kernel CPU time over the job (all threads) / wall time",
            f"{live['cpu_s']:.2f} s / {live['elapsed_s']:.1f} s",
        )
    )
    s2 = "2. igogo.sleep(0) round trip in a script"
    plain, py = r["switch_plain"], r["switch_pyplot"]
    rows.append(
        Row(
            s2,
            "pyplot never imported (the plugin only watches the import)",
            f"{plain['us_round_trip']:.2f} µs",
        )
    )
    rows.append(Row(s2, "pyplot imported, plugin hooks removed", f"{py['us_unhooked']:.2f} µs"))
    rows.append(
        Row(s2, "pyplot imported, plugin hooks (job without figures)", f"{py['us_hooked']:.2f} µs")
    )
    rows.append(
        Row(
            s2,
            "pyplot imported, plugin hooks, job with one open figure",
            f"{py['us_with_figure']:.2f} µs",
        )
    )
    rows.append(
        judge(
            s2,
            "added by the plugin's hooks per switch (job with a figure)",
            py["us_with_figure"] - py["us_unhooked"],
            ".2f",
            "µs",
            "<=",
            2,
        )
    )
    notes = [
        f"The live job runs {live['seconds']:g} s in a kernel started through jupyter_client, "
        f"the kernel idle meanwhile (jobs run on its event loop); renders at most every "
        f"{live['interval_s']:g} s per figure (`igogo_mpl.configure(interval=...)`), spaced "
        "further for figures that are slow to draw so that drawing one stays under "
        f"{live['max_share']:.0%} of the time (`max_share`); render time is measured in the "
        "kernel around each render (IPython's figure formatter, i.e. the inline backend's "
        "PNG with `bbox_inches='tight'`) and the display message.",
        "The first figure of a session loads fonts; the setup draws one figure before the "
        "job starts, as a session that has plotted before.",
        "Updates made: the job sleeps 50 ms between updates, and renders happen between its "
        "steps, so fewer than the nominal count means renders delayed it.",
        "Scenario 2 runs in a script (blocking host, Agg): the plugin's hooks swap pyplot's "
        "figure registry on each switch and, for a job with figures, look at their state.",
    ]
    return Suite(
        name="mpl",
        title="igogo-mpl benchmark" + (" (quick smoke run: not a measurement)" if quick else ""),
        context=context,
        rows=rows,
        notes=notes,
    )


def _scenario_main() -> None:
    parser = argparse.ArgumentParser(description="Run one igogo-mpl benchmark scenario.")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(SCENARIOS[args.scenario](args.quick)))


if __name__ == "__main__":
    _scenario_main()
