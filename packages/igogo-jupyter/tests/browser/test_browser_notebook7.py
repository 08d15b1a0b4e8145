"""Notebook 7 in headless Chromium: the hello-world scenario, every line shown once.

The original igogo shows everything twice in Notebook 7 (it guesses the client
from the server's command line); igogo-jupyter never guesses, and Notebook 7
renders outputs like JupyterLab.
"""

from __future__ import annotations

from typing import Any

from browser_support import JupyterServer, row_last, row_state

LIVE = ("running", "sleeping", "waiting", "pending")

HELLO = """\
import igogo

@igogo.job
def hello(name):
    for i in range(4):
        print(f"Hello, world from {name} ({i + 1}/4)")
        igogo.sleep(0.5)
    return name

first = hello("igogo")
second = hello("another igogo")"""


def test_hello_world_in_notebook7_shows_each_line_once(
    notebook7: JupyterServer, open_notebook: Any
) -> None:
    nb = open_notebook(
        notebook7,
        [
            HELLO,
            'print("this cell ran while the jobs were running")',
            "igogo.jobs()",
        ],
    )
    nb.run(0)
    nb.wait_for(lambda: "from igogo (1/4)" in nb.stdout(0), "the jobs to print")
    nb.run(1)
    nb.wait_for(lambda: "this cell ran" in nb.stdout(1), "the second cell's output")
    assert "(4/4)" not in nb.stdout(0)  # it ran while the jobs were still running
    rows = nb.rows(0)
    nb.wait_for(lambda: rows.count() == 2, "a control row per job")
    nb.screenshot("notebook7-hello-running")
    nb.wait_for(
        lambda: [row_state(rows.nth(k)) for k in range(2)] == ["done", "done"],
        "both jobs to end",
    )
    everything = nb.all_stdout()
    for name in ("igogo", "another igogo"):
        for i in range(1, 5):
            line = f"Hello, world from {name} ({i}/4)\n"
            assert everything.count(line) == 1, f"{line!r} is shown {everything.count(line)} times"
            assert nb.stdout(0).count(line) == 1
    assert nb.stdout(1) == "this cell ran while the jobs were running\n"
    assert rows.count() == 2  # one row per job, not two
    assert [row_last(rows.nth(k)) for k in range(2)] == [
        "Hello, world from igogo (4/4)",
        "Hello, world from another igogo (4/4)",
    ]
    nb.run(2)
    table = nb.cell(2).locator(".igogo-table")
    nb.wait_for(lambda: table.locator(".igogo-row").count() == 2, "the job table")
    nb.screenshot("notebook7-hello")


def test_notebook7_rows_come_back_live_after_a_reload(
    notebook7: JupyterServer, open_notebook: Any
) -> None:
    nb = open_notebook(
        notebook7,
        [
            "import igogo\n\n@igogo.job\ndef steps():\n    for i in range(300):\n"
            "        print('step', i)\n        igogo.sleep(0.25)\n\ns = steps()",
        ],
    )
    nb.run(0)
    nb.wait_for(lambda: "step 2" in nb.stdout(0), "the job to print")
    nb.save()
    nb.reload()
    row = nb.rows(0).first
    nb.wait_for(lambda: row.count() == 1 and row_state(row) in LIVE, "the row after the reload")
    line = row_last(row)
    nb.wait_for(lambda: row_last(row) != line, "the row's last line to move on")
    nb.screenshot("notebook7-after-reload")
    row.locator(".igogo-stop").click()
    nb.wait_for(lambda: row_state(row) == "stopped", "the row to show stopped")
