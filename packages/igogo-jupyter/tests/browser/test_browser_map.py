"""JupyterLab 4 in headless Chromium: a parameter sweep with ``igogo.map`` on two workers.

A CPU-bound function defined in the notebook runs over twelve items in igogo's
process pool.  The map's cell shows its progress bar (igogo-tqdm); a watcher
job keeps one status table up to date in its own cell (as in
``examples/07-parallel-hyperparameters.ipynb``); a later cell runs at once
while the workers are busy, and nothing of the map lands in it.
"""

from __future__ import annotations

import re
from typing import Any

from browser_support import JupyterServer, row_state

LIVE = ("running", "sleeping", "waiting", "pending")

SETUP = """\
import igogo

igogo.configure(workers=2)  # igogo's process pool: two workers

def simulate(seed):  # pure Python: about 0.4 s of a core
    s = 0
    for i in range(7_000_000):
        s = (s + i * seed) % 1_000_003
    return s"""

MAP = 'm = igogo.map(simulate, range(12), name="sweep")'

WATCH = """\
@igogo.job(displays=1, warn_rewrite=False)
def watch(mapjob):
    while not mapjob.done():
        igogo.display(mapjob.status())
        igogo.sleep(0.3)
    igogo.display(mapjob.status())
    print("finished:", mapjob.status().summary())

watcher = watch(m)"""

MEANWHILE = 'print("meanwhile", 6 * 7)'

BAR = ".widget-hbox:has(.widget-hprogress)"
"""tqdm's notebook bar: a box of a label, a progress widget and a counter."""
BAR_PARTLY = re.compile(r"width: (?!0%|100%)\d+(\.\d+)?%")
"""The style of a progress bar neither empty nor full."""
TABLE = ".igogo-map-status"


def test_map_shows_a_bar_and_one_live_status_table_while_cells_run(
    lab: JupyterServer, open_notebook: Any
) -> None:
    nb = open_notebook(lab, [SETUP, MAP, WATCH, MEANWHILE])
    # Tall enough for the four cells and the whole table, in the screenshot too.
    nb.page.set_viewport_size({"width": 1280, "height": 1040})
    nb.run(0)
    nb.wait_finished(0)
    for i in (1, 2, 3):
        nb.run(i)

    seen: list[list[str]] = []  # the item states of every table read
    tables_seen: set[int] = set()  # how many tables the watcher's cell held at each read

    def table_states() -> list[str]:
        tables = nb.cell(2).locator(TABLE)
        count = tables.count()
        tables_seen.add(count)
        states: list[str] = (
            tables.locator("tr[data-state]").evaluate_all("rows => rows.map(r => r.dataset.state)")
            if count
            else []
        )
        if states:
            seen.append(states)
        return states

    def bar_count() -> int:
        """How many items the bar counts (-1: no bar yet)."""
        bar = nb.cell(1).locator(BAR)
        if bar.count() != 1:
            return -1
        found = re.search(r"(\d+)/12\b", bar.inner_text())
        return int(found.group(1)) if found else -1

    # The later cell runs at once, while the workers are busy: the sweep is far from done.
    nb.wait_for(
        lambda: "meanwhile 42" in nb.stdout(3) and len(table_states()) == 12,
        "the later cell's output, and the status table",
    )
    states = table_states()
    assert {"pending", "running"} & set(states), states
    assert states.count("ok") < 12, states
    assert row_state(nb.rows(1).first) in LIVE  # the map's own row: still at work
    assert bar_count() < 12
    nb.wait_finished(3)
    assert nb.stdout(3) == "meanwhile 42\n"

    # Mid-run: the bar partly filled, the table a mix of finished, running and waiting items.
    def mid_run() -> bool:
        states = table_states()
        return 2 <= bar_count() <= 9 and 2 <= states.count("ok") <= 9

    nb.wait_for(mid_run, "the sweep half way")
    nb.screenshot("lab-map-sweep-running", notebook_only=True)  # docs/parallel-sweep.png
    # Still not finished after the screenshot: it shows the sweep half way, not its end.
    style = str(nb.cell(1).locator(f"{BAR} .progress-bar").get_attribute("style"))
    assert bar_count() < 12 and table_states().count("ok") < 12, seen[-1]
    assert BAR_PARTLY.search(style), style

    # The end: the bar at 12/12, one table with every item ok, the watcher's last line.
    nb.wait_for(lambda: bar_count() == 12, "the bar at 12/12", timeout=40)
    nb.wait_for(lambda: table_states() == ["ok"] * 12, "every item ok in the table", timeout=40)
    nb.wait_for(lambda: "finished: 12/12 ok" in nb.stdout(2), "the watcher's last line")
    nb.wait_finished(1)
    nb.wait_finished(2)
    assert "12/12" in nb.cell(2).locator(TABLE).inner_text()  # its summary line
    assert nb.cell(1).locator(BAR).count() == 1
    assert "width: 100%" in str(nb.cell(1).locator(f"{BAR} .progress-bar").get_attribute("style"))
    assert row_state(nb.rows(1).first) == "done"
    assert row_state(nb.rows(2).first) == "done"
    assert tables_seen <= {0, 1}, f"{max(tables_seen)} tables: appended, not updated in place"
    # The one table was updated in place: from waiting and running items to all of them ok.
    assert {"pending", "running"} & set(seen[0]), seen[0]
    assert len(seen) >= 3 and len({tuple(s) for s in seen}) >= 3, seen

    # Nothing of the map went anywhere else: no bar, no table, no rows outside their cells.
    assert nb.page.locator(f".jp-Notebook {TABLE}").count() == 1
    assert nb.page.locator(f".jp-Notebook {BAR}").count() == 1
    assert nb.stdout(3) == "meanwhile 42\n"
    meanwhile = nb.cell(3)
    assert meanwhile.locator(".jp-OutputArea-output").count() == 1
    assert meanwhile.locator(f"{TABLE}, {BAR}, .igogo-row").count() == 0
    assert "sweep" not in meanwhile.locator(".jp-OutputArea").inner_text()
    nb.screenshot("lab-map-sweep-done", notebook_only=True)
