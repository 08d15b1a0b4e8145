"""JupyterLab 4 in headless Chromium: what a person sees and clicks.

Each test writes a notebook, opens it in its own page, runs its cells with
Shift+Enter and reads the page.  A screenshot of each scenario is saved under
``artifacts/screenshots/``.
"""

from __future__ import annotations

from typing import Any

from browser_support import JupyterServer, row_elapsed, row_last, row_state

LIVE = ("running", "sleeping", "waiting", "pending")

HELLO = """\
import igogo

@igogo.job
def hello(name, n, dt):
    for i in range(n):
        print("hello from", name, i)
        igogo.sleep(dt)
    return name

a, b = hello("a", 8, 0.5), hello("b", 8, 0.5)"""

SPINNERS = """\
import igogo

@igogo.job
def spin():
    while True:
        igogo.yielder()  # holds the CPU in short slices

spinners = [spin(), spin()]"""


def test_two_jobs_print_into_their_cell_while_a_later_cell_runs(
    lab: JupyterServer, open_notebook: Any
) -> None:
    nb = open_notebook(
        lab,
        [
            HELLO,
            'print("second cell starts")\nigogo.sleep(2)\nprint("second cell ends")',
        ],
    )
    nb.run(0)
    nb.wait_for(lambda: "hello from b 1" in nb.stdout(0), "the jobs to print")
    rows = nb.rows(0)
    nb.wait_for(lambda: rows.count() == 2, "two control rows in the starting cell")
    nb.screenshot("lab-two-jobs-running")
    nb.run(1)
    # The later cell shows its own output while the jobs are still printing into theirs.
    nb.wait_for(lambda: "second cell starts" in nb.stdout(1), "the second cell's output")
    assert "hello from a 7" not in nb.stdout(0)
    assert [row_state(rows.nth(k)) for k in range(2)] != ["done", "done"]
    nb.screenshot("lab-two-jobs-and-a-later-cell", notebook_only=True)  # docs/two-jobs.png
    nb.wait_finished(1)
    nb.wait_for(
        lambda: "hello from a 7" in nb.stdout(0) and "hello from b 7" in nb.stdout(0),
        "every line of both jobs",
    )
    out0, out1 = nb.stdout(0), nb.stdout(1)
    for name in "ab":
        for i in range(8):
            assert out0.count(f"hello from {name} {i}\n") == 1, out0
    assert "hello from" not in out1
    assert out1 == "second cell starts\nsecond cell ends\n"
    nb.wait_for(
        lambda: [row_state(rows.nth(k)) for k in range(2)] == ["done", "done"],
        "both rows to show done",
    )
    assert rows.nth(0).locator("button").count() == 0  # no dead buttons
    assert [row_last(rows.nth(k)) for k in range(2)] == ["hello from a 7", "hello from b 7"]
    nb.screenshot("lab-two-jobs")


def test_stop_button_stops_a_running_job(lab: JupyterServer, open_notebook: Any) -> None:
    nb = open_notebook(
        lab,
        [
            SPINNERS,
            "@igogo.job\ndef counter():\n    n = 0\n    while True:\n"
            "        n += 1\n        print('count', n)\n        igogo.sleep(0.2)\n\nc = counter()",
            "igogo.stop_all()",
        ],
    )
    nb.run(0)
    nb.run(1)
    row = nb.rows(1).first
    nb.wait_for(lambda: "count 3" in nb.stdout(1), "the counter to count")
    nb.wait_for(lambda: row_state(row) in LIVE, "the counter's row")
    row.locator(".igogo-stop").click()
    nb.wait_for(lambda: row_state(row) == "stopped", "the row to show stopped")
    nb.wait_for(lambda: row.locator("button").count() == 0, "the buttons to go away")
    # The kernel flushes prints about every 0.2 s: wait for the line the row shows last.
    nb.wait_for(lambda: _last_printed(nb, 1) == row_last(row), "the last printed line")
    printed = nb.stdout(1)
    # The two spinners were not touched and still run.
    spinners = nb.rows(0)
    assert [row_state(spinners.nth(k)) for k in range(2)] == ["running", "running"]
    nb.screenshot("lab-stop-button")
    nb.run(2)
    nb.wait_for(
        lambda: [row_state(spinners.nth(k)) for k in range(2)] == ["stopped", "stopped"],
        "the spinners to stop",
    )
    assert nb.stdout(1) == printed  # nothing more came from the stopped counter


def test_pause_then_resume(lab: JupyterServer, open_notebook: Any) -> None:
    nb = open_notebook(
        lab,
        [
            SPINNERS,
            "@igogo.job\ndef counter():\n    n = 0\n    while True:\n"
            "        n += 1\n        print('count', n)\n        igogo.sleep(0.2)\n\nc = counter()",
            "igogo.stop_all()",
        ],
    )
    nb.run(0)
    nb.run(1)
    row = nb.rows(1).first
    nb.wait_for(lambda: "count 2" in nb.stdout(1), "the counter to count")
    pause = row.locator(".igogo-pause")
    assert pause.inner_text().strip() == "Pause"
    pause.click()
    nb.wait_for(lambda: row_state(row) == "paused", "the row to show paused")
    nb.wait_for(lambda: pause.inner_text().strip() == "Resume", "the button to offer Resume")
    nb.wait_for(lambda: _last_printed(nb, 1) == row_last(row), "the last printed line")
    held = nb.stdout(1)
    nb.page.wait_for_timeout(1500)  # a running counter would print 7 lines meanwhile
    assert nb.stdout(1) == held
    assert row_state(row) == "paused"
    nb.screenshot("lab-paused")
    pause.click()
    nb.wait_for(lambda: row_state(row) in LIVE, "the row to show the job running again")
    nb.wait_for(lambda: pause.inner_text().strip() == "Pause", "the button to offer Pause")
    nb.wait_for(lambda: len(nb.stdout(1)) > len(held) + 20, "the counter to go on")
    nb.screenshot("lab-resumed")
    nb.run(2)
    nb.wait_for(lambda: row_state(row) == "stopped", "the counter to stop")


def test_reload_in_the_middle_of_a_job(lab: JupyterServer, open_notebook: Any) -> None:
    nb = open_notebook(
        lab,
        [
            "import igogo\n\n@igogo.job\ndef steps():\n    for i in range(300):\n"
            "        print('step', i)\n        igogo.sleep(0.25)\n\ns = steps()",
            "print('after the reload')",
        ],
    )
    nb.run(0)
    nb.wait_for(lambda: "step 2" in nb.stdout(0), "the job to print")
    nb.save()
    nb.reload()
    # The row comes back from the kernel, live: new state, new output, a working clock.
    row = nb.rows(0).first
    nb.wait_for(lambda: row.count() == 1 and row_state(row) in LIVE, "the row after the reload")
    first_last = row_last(row)
    assert first_last.startswith("step ")
    nb.wait_for(lambda: row_last(row) != first_last, "the row's last line to move on")
    elapsed = row_elapsed(row)
    nb.wait_for(lambda: row_elapsed(row) != elapsed, "the row's clock to tick")
    nb.screenshot("lab-after-reload")
    # Its buttons work after the reload.
    row.locator(".igogo-stop").click()
    nb.wait_for(lambda: row_state(row) == "stopped", "the row to show stopped")
    nb.wait_for(lambda: row.locator("button").count() == 0, "the buttons to go away")
    nb.run(1)
    nb.wait_for(lambda: "after the reload" in nb.stdout(1), "a new cell to run")
    assert "step" not in nb.stdout(1)
    nb.screenshot("lab-after-reload-stopped")


def test_job_table(lab: JupyterServer, open_notebook: Any) -> None:
    nb = open_notebook(
        lab,
        [
            "import igogo\n\n@igogo.job\ndef quick():\n    print('quick is done')\n\n"
            "@igogo.job\ndef slow():\n    for i in range(1000):\n"
            "        print('slow line', i)\n        igogo.sleep(0.2)\n\n"
            "@igogo.job\ndef broken():\n    igogo.sleep(0.1)\n    raise ValueError('no luck')\n\n"
            "q, s, x = quick(), slow(), broken()",
            "igogo.jobs()",
        ],
    )
    nb.run(0)
    nb.wait_for(lambda: "slow line 1" in nb.stdout(0), "the jobs to run")
    broken = nb.rows(0).filter(has_text="broken")
    nb.wait_for(lambda: row_state(broken) == "failed", "the failed job's row in its cell")
    assert "no luck" in nb.cell(0).inner_text()  # its traceback, in its cell
    nb.run(1)
    table = nb.cell(1).locator(".igogo-table")
    nb.wait_for(lambda: table.locator(".igogo-row").count() == 3, "a table of three jobs")
    assert "last output" in table.locator(".igogo-header").inner_text()
    rows = {
        r.locator(".igogo-name").inner_text().strip(): r for r in table.locator(".igogo-row").all()
    }
    assert set(rows) == {"quick", "slow", "broken"}
    assert row_state(rows["quick"]) == "done" and row_last(rows["quick"]) == "quick is done"
    assert row_state(rows["broken"]) == "failed"
    assert row_last(rows["broken"]) == "ValueError: no luck"
    assert rows["quick"].locator("button").count() == 0
    slow = rows["slow"]
    assert row_state(slow) in LIVE
    for row in rows.values():
        assert row.locator(".igogo-cell").inner_text().strip() == "[1]"
    line = row_last(slow)
    nb.wait_for(lambda: row_last(slow) != line, "the table to follow the slow job")
    nb.screenshot("lab-job-table")
    # Stop from the table: the job's row in its own cell shows it too (the same widget).
    slow.locator(".igogo-stop").click()
    nb.wait_for(lambda: row_state(slow) == "stopped", "the table row to show stopped")
    in_cell = nb.rows(0).filter(has_text="slow")
    nb.wait_for(lambda: row_state(in_cell) == "stopped", "the cell's row to show stopped")
    nb.screenshot("lab-job-table-stopped")


def test_rows_and_table_fit_the_dark_theme(lab: JupyterServer, open_notebook: Any) -> None:
    theme = "@jupyterlab/apputils-extension/themes"
    lab.write_settings(theme, {"theme": "JupyterLab Dark"})
    try:
        nb = open_notebook(
            lab,
            [
                "import igogo\n\n@igogo.job\ndef slow():\n    for i in range(1000):\n"
                "        print('slow line', i)\n        igogo.sleep(0.2)\n\n"
                "@igogo.job\ndef broken():\n    raise ValueError('no luck')\n\n"
                "s, x = slow(), broken()",
                "igogo.jobs()",
                # The static HTML reprs (what clients without widgets show), as igogo-jupyter
                # registers them with IPython's HTML formatter.
                "from IPython.display import HTML\n"
                "as_html = get_ipython().display_formatter.formatters['text/html']\n"
                "HTML(as_html(s) + as_html(igogo.jobs()))",
            ],
        )
        nb.wait_for(
            lambda: nb.page.evaluate("document.body.dataset.jpThemeLight") == "false",
            "the dark theme",
        )
        for i in range(3):
            nb.run(i)
            nb.wait_finished(i)
        table = nb.cell(1).locator(".igogo-table")
        nb.wait_for(lambda: table.locator(".igogo-row").count() == 2, "the table")
        nb.wait_for(lambda: nb.cell(2).locator("table.igogo-jobs").count() == 1, "the HTML repr")
        # Text takes the theme's (light) font colour; the background stays the theme's (dark).
        # (Polled: a live row's HTML is replaced when its clock ticks.)
        for where, locator in (
            ("row", nb.rows(0).first.locator(".igogo-name")),
            ("table", table.locator(".igogo-name").first),
            ("Job HTML", nb.cell(2).locator(".igogo-job b").first),
            ("JobList HTML", nb.cell(2).locator("table.igogo-jobs b").first),
        ):
            nb.wait_for(
                lambda loc=locator: (
                    _luminance(loc.evaluate("e => getComputedStyle(e).color")) > 0.6
                ),
                f"light text in the {where}",
            )
        nb.screenshot("lab-dark-theme")
    finally:
        lab.remove_settings(theme)


def _last_printed(nb: Any, i: int) -> str:
    lines = nb.stdout(i).strip().splitlines()
    return lines[-1] if lines else ""


def _luminance(css_color: str) -> float:
    import re

    channels = [float(x) for x in re.findall(r"[\d.]+", css_color)[:3]]
    if len(channels) < 3:  # not rendered (yet)
        return -1.0
    r, g, b = channels
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
