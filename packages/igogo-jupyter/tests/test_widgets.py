"""Job controls in a real kernel: rows, buttons, the job table, ``job.output``.

The tests read the widget messages the kernel sends (as a browser's widget
manager would) and click buttons by sending the same comm messages a browser
sends; ``tests/browser`` does the same through a real JupyterLab.
"""

from __future__ import annotations

import time

from igogo_jupyter.testing import WIDGET_MIME, KernelDriver, WidgetModels, widget_outputs

SPIN = (
    "@igogo.job\n"
    "def spin(tag):\n"
    "    n = 0\n"
    "    while True:\n"
    "        n += 1\n"
    "        igogo.yielder()\n"
)

TICKER = (
    "@igogo.job\n"
    "def ticker(dt):\n"
    "    global ticks\n"
    "    ticks = 0\n"
    "    while True:\n"
    "        ticks += 1\n"
    "        print('tick', ticks)\n"
    "        igogo.sleep(dt)\n"
)


def job_ids(k: KernelDriver, *names: str) -> list[int]:
    return [k.eval(f"{n}.id") for n in names]


def test_each_job_started_in_a_cell_gets_its_row_there(kernel: KernelDriver) -> None:
    a = kernel.run(TICKER + "t1, t2 = ticker(0.05), ticker(0.05)")
    later = kernel.run("print('later')")
    i1, i2 = job_ids(kernel, "t1", "t2")
    w = WidgetModels(kernel)
    shown = widget_outputs(kernel, a)
    assert [d[WIDGET_MIME]["model_id"] for d in shown] == [w.row(i1).comm_id, w.row(i2).comm_id]
    for d in shown:  # clients without widgets (nbconvert, GitHub) show text or HTML instead
        assert d["text/plain"].startswith("<igogo.Job #")
        assert 'class="igogo-job"' in d["text/html"]
    assert widget_outputs(kernel, later) == []
    w.wait_for(lambda: w.state_of(i1) in ("running", "sleeping") and "tick" in w.last_text(i1))
    info = w.parts(i1)["info"].state["value"]
    assert f"[{kernel.eval('t1.origin')}]" in info and "ticker" in info
    kernel.run("t1.stop(); t2.stop()")
    w.wait_for(lambda: w.state_of(i1) == w.state_of(i2) == "stopped")


def test_rows_update_at_most_four_times_a_second_and_send_only_changes(
    kernel: KernelDriver,
) -> None:
    kernel.run(TICKER + "t = ticker(0.01)")  # prints 100 lines a second
    (i,) = job_ids(kernel, "t")
    w = WidgetModels(kernel)
    w.wait_for(lambda: "tick" in w.last_text(i))
    start = time.monotonic()
    kernel.pump(3.0)
    w.sync()
    parts = w.parts(i)
    for name in ("info", "last", "row", "buttons", "stop", "pause"):
        ups = [u for t, u in parts[name].updates if t >= start]
        assert len(ups) <= 3.0 * 4 + 2, f"{name}: {len(ups)} updates in 3 s"
        for u in ups:  # only the value that changed, never the whole state
            assert set(u) == {"value"}, u
    last = [u for t, u in parts["last"].updates if t >= start]
    assert len(last) >= 6  # but it does follow the output
    info = [u for t, u in parts["info"].updates if t >= start]
    assert 2 <= len(info) <= 5  # the clock, once a second
    kernel.run("t.stop()")


def test_stop_button_acts_at_once_while_other_jobs_spin(kernel: KernelDriver) -> None:
    kernel.run(SPIN + "busy = [spin(i) for i in range(3)]\n" + TICKER + "t = ticker(0.02)")
    (i,) = job_ids(kernel, "t")
    w = WidgetModels(kernel)
    w.wait_for(lambda: "tick" in w.last_text(i))
    stop = w.parts(i)["stop"]
    sent = w.click(stop)
    w.wait_for(lambda: w.state_of(i) == "stopped")
    # About 30 ms here (click, stop, the row's update back); generous for a busy machine.
    assert time.monotonic() - sent < 0.5
    assert kernel.eval("t.state") == "stopped"
    # The click was handled between ticks although three jobs kept the CPU busy.
    assert kernel.eval("[b.state for b in busy]") == ["running"] * 3
    w.wait_for(lambda: w.parts(i)["buttons"].children() == [] and stop.closed)  # no dead buttons
    parts = w.parts(i)
    assert "stop" not in parts and "pause" not in parts
    kernel.run("for b in busy: b.stop()")


def test_pause_then_resume_buttons(kernel: KernelDriver) -> None:
    kernel.run(SPIN + "busy = spin(0)\n" + TICKER + "t = ticker(0.02)")
    (i,) = job_ids(kernel, "t")
    w = WidgetModels(kernel)
    w.wait_for(lambda: "tick" in w.last_text(i))
    pause = w.parts(i)["pause"]
    assert pause.state["description"] == "Pause"
    w.click(pause)
    w.wait_for(lambda: w.state_of(i) == "paused" and pause.state["description"] == "Resume")
    held = kernel.eval("ticks")
    kernel.pump(0.5)
    assert kernel.eval("(ticks, t.state)") == (held, "paused")
    w.click(pause)
    w.wait_for(lambda: pause.state["description"] == "Pause" and w.state_of(i) != "paused")
    kernel.wait_until(lambda: kernel.eval("ticks") > held + 3, timeout=10)
    kernel.run("t.stop(); busy.stop()")
    w.wait_for(lambda: w.state_of(i) == "stopped")


def test_a_failed_job_shows_its_error_and_keeps_no_buttons(kernel: KernelDriver) -> None:
    kernel.run(
        "@igogo.job\n"
        "def bad():\n"
        "    print('working')\n"
        "    igogo.sleep(0.3)\n"
        "    raise ValueError('the <b>boom</b>\\nsecond line')\n"
        "f = bad()\n"
        "@igogo.job\n"
        "def good():\n"
        "    igogo.sleep(0.2)\n"
        "    print('all fine')\n"
        "    return 1\n"
        "g = good()"
    )
    fi, gi = job_ids(kernel, "f", "g")
    w = WidgetModels(kernel)
    w.wait_for(lambda: w.state_of(fi) == "failed" and w.state_of(gi) == "done")
    # One line, escaped; the error replaces the last output line.
    w.wait_for(lambda: w.last_text(fi) == "ValueError: the &lt;b&gt;boom&lt;/b&gt;")
    w.wait_for(lambda: w.last_text(gi) == "all fine")
    for i in (fi, gi):
        w.wait_for(lambda i=i: w.parts(i)["buttons"].children() == [])


def test_jobs_table_is_live_and_shares_the_rows(kernel: KernelDriver) -> None:
    first = kernel.run(TICKER + "t = ticker(0.05)")
    kernel.run("@igogo.job\ndef quick():\n    print('quick done')\nq = quick()")
    table_cell = kernel.run("igogo.jobs()")
    ti, qi = job_ids(kernel, "t", "q")
    w = WidgetModels(kernel)
    (data,) = widget_outputs(kernel, table_cell)
    assert "ticker" in data["text/plain"]  # text for clients without widgets
    assert "<table" in data["text/html"]
    table = w.sync().models[data[WIDGET_MIME]["model_id"]]
    assert "igogo-table" in table.classes
    rows = table.children()[1:]
    assert w.row(ti).comm_id in rows and w.row(qi).comm_id in rows
    # The running job's row in the table is the one in its cell: the same model.
    (cell_row,) = widget_outputs(kernel, first)
    assert cell_row[WIDGET_MIME]["model_id"] == w.row(ti).comm_id
    assert w.state_of(qi) == "done" and w.last_text(qi) == "quick done"
    kernel.run("t.stop()")
    w.wait_for(lambda: w.state_of(ti) == "stopped")


def test_a_job_displayed_shows_its_row(kernel: KernelDriver) -> None:
    kernel.run(TICKER + "t = ticker(0.05)")
    shown = kernel.run("t")
    (i,) = job_ids(kernel, "t")
    w = WidgetModels(kernel)
    (data,) = widget_outputs(kernel, shown)
    assert data[WIDGET_MIME]["model_id"] == w.row(i).comm_id
    assert 'class="igogo-job"' in data["text/html"]
    kernel.run("t.stop()")


def test_jobs_started_by_jobs_have_no_row_of_their_own(kernel: KernelDriver) -> None:
    kernel.run(
        "@igogo.job\n"
        "def child():\n"
        "    igogo.sleep(0.05)\n"
        "@igogo.job\n"
        "def parent():\n"
        "    return [child() for _ in range(3)]\n"
        "p = parent()\n"
        "p.wait(5)\n"
        "igogo.wait(*p.result(), timeout=5)"
    )
    w = WidgetModels(kernel).sync()
    rows = [m for m in w.models.values() if "igogo-row" in m.classes]
    ids = kernel.eval("[c.id for c in p.result()]")
    assert not [r for r in rows if any(f"igogo-job-{i}" in r.classes for i in ids)]


def test_a_cell_starting_many_jobs_shows_twenty_rows_and_a_note(kernel: KernelDriver) -> None:
    many = kernel.run(
        "@igogo.job\n"
        "def short(i):\n"
        "    igogo.sleep(0.01)\n"
        "started = [short(i) for i in range(25)]\n"
        "igogo.wait(*started, timeout=10)"
    )
    assert len(widget_outputs(kernel, many)) == 20
    notes = [t for t in kernel.texts(many) if "more than 20 jobs" in t]
    assert len(notes) == 1 and "igogo.jobs()" in notes[0]


def test_job_output_is_a_bounded_tail(kernel: KernelDriver) -> None:
    kernel.run(
        "@igogo.job\n"
        "def chatty():\n"
        "    for i in range(500):\n"
        "        print('line', i)\n"
        "    print('to stderr', file=sys.stderr)\n"
        "    print('unfinished', end='')\n"
        "c = chatty()\n"
        "c.wait(5)"
    )
    text = kernel.eval("c.output")
    lines = text.splitlines()
    assert len(lines) == 200 + 1  # the last 200 complete lines and the unfinished one
    assert lines[-3:] == ["line 499", "to stderr", "unfinished"]
    assert kernel.eval("igogo.Job.output.__doc__") is not None


def test_rows_keep_updating_while_a_cell_keeps_the_loop_busy(kernel: KernelDriver) -> None:
    kernel.run(TICKER + "t = ticker(0.02)")
    (i,) = job_ids(kernel, "t")
    w = WidgetModels(kernel)
    w.wait_for(lambda: "tick" in w.last_text(i))
    ex = kernel.run("igogo.sleep(2.0)")  # regular code drives the jobs; the loop waits
    assert ex.busy_at is not None and ex.idle_at is not None
    busy_at, idle_at = ex.busy_at, ex.idle_at
    during = [t for t, _ in w.sync().parts(i)["last"].updates if busy_at < t < idle_at]
    assert len(during) >= 3
    kernel.run("t.stop()")


def test_no_widgets_in_headless_mode() -> None:
    driver = KernelDriver.start({"IGOGO_HEADLESS": "1"})
    try:
        driver.run("import igogo\n" + TICKER + "t = ticker(0.01)\nigogo.sleep(0.3)")
        table = driver.run("igogo.jobs()")
        driver.run("t.stop(); t.wait(5)")
        assert not [m for m in driver.messages if m["msg_type"].startswith("comm_")]
        (result,) = driver.outputs(table, ("execute_result",))
        assert "<table" in result["content"]["data"]["text/html"]
        assert driver.eval("t.state") == "stopped"
    finally:
        driver.shutdown()


def test_a_job_ending_while_a_cell_waits_for_it_is_not_pinned_by_its_row(
    kernel: KernelDriver,
) -> None:
    """The row's overdue refresh comes at the job's last switch-out, before its record exists.

    A cell waiting for the job keeps the loop's timer from refreshing the rows, so
    the refresh comes from the switch-out that ends the job; the row must still
    end up holding the job's record, not the job.
    """
    kernel.run(
        "import gc, weakref\n"
        "@igogo.job\n"
        "def slow_end():\n"
        "    igogo.sleep(1.0)  # longer than two refresh intervals: the refresh is overdue\n"
        "    return 'done'\n"
        "se = slow_end()"
    )
    kernel.run("igogo.wait(se, timeout=10)")
    assert kernel.eval("se.state") == "done"
    kernel.run("ref = weakref.ref(se)\ndel se\ngc.collect()")
    assert kernel.eval("ref() is None"), "the job's finished row still holds the job"


RSS = "int(open('/proc/self/statm').read().split()[1]) * __import__('os').sysconf('SC_PAGE_SIZE')"


def test_memory_of_a_failed_job_comes_back_once_nobody_holds_it(kernel: KernelDriver) -> None:
    """300 MB in a failed job's local: its row, the table and the history pin none of it."""
    kernel.run("import gc; gc.collect()")
    baseline = kernel.eval(RSS)
    witness = kernel.run(
        "@igogo.job\ndef witness():\n    while True:\n        igogo.sleep(0.05)\nwj = witness()"
    )
    cell = kernel.run(
        "@igogo.job\n"
        "def heavy():\n"
        "    big = b'x' * 300_000_000  # a local: only the job's frames hold it\n"
        "    igogo.sleep(0.05)\n"
        "    raise ValueError('failed holding 300 MB')\n"
        "hj = heavy()"
    )
    kernel.run("igogo.wait(*[j for j in igogo.jobs() if j.name == 'heavy'], timeout=10)")
    kernel.wait_until(lambda: kernel.errors(cell), timeout=10)
    assert kernel.eval(RSS) - baseline > 250_000_000  # the job's frames hold it
    listed = kernel.eval("[(j.name, j.state) for j in igogo.jobs() if j.name == 'heavy']")
    assert listed == [("heavy", "failed")]
    kernel.run("del hj")
    kernel.run("raise RuntimeError('a new error replaces the last traceback')", ok=False)
    # Collected once nothing refers to it; a row refresh in flight may hold it a moment.
    deadline = time.monotonic() + 10
    while True:
        kernel.run("gc.collect()")
        after = kernel.eval(RSS)
        if after - baseline < 5_000_000 or time.monotonic() > deadline:
            break
        kernel.pump(0.5)
    assert after - baseline < 5_000_000, f"{(after - baseline) / 1e6:.1f} MB still held"
    # The history still lists it, by its record; the witness never stopped.
    assert kernel.eval(
        "[(type(j).__name__, j.state) for j in igogo.jobs() if j.name == 'heavy']"
    ) == [("JobRecord", "failed")]
    assert kernel.eval("wj.state") in ("sleeping", "running")
    kernel.run("wj.stop()")
    assert not kernel.errors(witness)
