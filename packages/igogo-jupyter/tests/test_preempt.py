"""Preemptive cells in a real kernel: a plain ``%%igogo`` loop runs beside the notebook.

Every busy loop here gives up after a few seconds, so a broken promise is a
failed assertion, never a hung kernel.  The assertions are about order (which
cell ran while which loop was still going), not about speed: the figures are
``bench/``'s.
"""

from __future__ import annotations

import sys

import pytest

from igogo_jupyter.testing import KernelDriver

GIVE_UP = 8.0
"""Seconds a busy loop waits for a later cell before it gives up (then the test fails)."""


def test_a_plain_loop_cell_runs_beside_later_cells(kernel: KernelDriver) -> None:
    spin = kernel.run(
        "%%igogo --name plain\n"
        "import time\n"
        "seen_by_later_cell = False\n"
        "end = time.monotonic() + " + str(GIVE_UP) + "\n"
        "x = 0\n"
        "while not seen_by_later_cell and time.monotonic() < end:\n"
        "    x += 1\n"
        "gave_up = not seen_by_later_cell\n"
    )
    kernel.run("plain = igogo.jobs()[-1]")
    assert kernel.eval("plain.preemptive") is True
    # A waiting request goes first: the loop may start only after these cells.
    kernel.wait_until(lambda: kernel.eval("'x' in globals()"), timeout=10)
    # This cell runs while the loop runs: it reads the loop's variable, then ends it.
    first = kernel.eval("x")
    kernel.pump(0.1)
    assert kernel.eval("x") > first  # the loop kept going between the two cells
    kernel.run("seen_by_later_cell = True")
    assert kernel.eval("plain.wait(10)") is True
    assert kernel.eval("gave_up") is False
    assert kernel.eval("plain.state") == "done"
    assert not kernel.errors(spin)


def test_no_preempt_makes_a_cell_cooperative_again(kernel: KernelDriver) -> None:
    kernel.run(
        "%%igogo --no-preempt --name coop\n"
        "import time\n"
        "coop_preemptive = igogo.current_job().preemptive\n"
        "end = time.monotonic() + 0.5\n"
        "while time.monotonic() < end:\n"
        "    pass\n"
        "loop_ended_at = time.monotonic()\n"
    )
    # A waiting request goes first: the job may start only after the next cell.
    kernel.wait_until(lambda: kernel.eval("'coop_preemptive' in globals()"), timeout=10)
    assert kernel.eval("coop_preemptive") is False
    # The next cell can only run once the loop is over: the loop holds the kernel.
    kernel.run("later_cell_at = time.monotonic()")
    assert kernel.eval("later_cell_at >= loop_ended_at") is True
    kernel.run("igogo.wait_all(5)")


def test_stop_pause_and_resume_reach_a_plain_loop(kernel: KernelDriver) -> None:
    kernel.run(
        "%%igogo --name counter\n"
        "import time\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        n += 1\n"
        "finally:\n"
        "    cleaned_up = True\n"
    )
    kernel.run("counter = igogo.jobs()[-1]")
    kernel.wait_until(lambda: kernel.eval("'n' in globals()"), timeout=10)  # it has started
    kernel.run("counter.pause()")
    kernel.wait_until(lambda: kernel.eval("counter.state") == "paused", timeout=10)
    frozen = kernel.eval("n")
    kernel.pump(0.2)
    assert kernel.eval("n") == frozen
    kernel.run("counter.resume()")
    kernel.wait_until(lambda: kernel.eval("n") > frozen, timeout=10)
    stop = kernel.run("%igogo stop counter")
    assert kernel.stdout(stop) == "stopped 1 job\n"
    assert kernel.eval("counter.wait(10)") is True
    assert kernel.eval("(counter.state, cleaned_up)") == ("stopped", True)


def test_a_timeout_ends_a_plain_loop(kernel: KernelDriver) -> None:
    kernel.run("%%igogo --timeout 0.3\nwhile True:\n    pass")
    kernel.run("timed = igogo.jobs()[-1]")
    assert kernel.eval("timed.wait(10)") is True
    assert kernel.eval("timed.state") == "timed out"


def test_prints_stay_in_the_loops_own_cell(kernel: KernelDriver) -> None:
    loop = kernel.run(
        "%%igogo\n"
        "import time\n"
        "later_printed = False\n"
        "end = time.monotonic() + " + str(GIVE_UP) + "\n"
        "i = 0\n"
        "while not later_printed and time.monotonic() < end:\n"
        "    i += 1\n"
        "    if i % 200_000 == 0:\n"
        "        print('loop', i)\n"
        "print('loop ends')\n"
    )
    kernel.wait_until(lambda: "loop" in kernel.stdout(loop), timeout=10)
    later = kernel.run("print('later cell')\nlater_printed = True")
    kernel.run("igogo.wait_all(10)")
    kernel.drain(0.3)
    assert kernel.stdout(later) == "later cell\n"
    lines = kernel.stdout(loop).splitlines()
    assert lines[-1] == "loop ends"
    assert all(line.startswith("loop ") for line in lines), lines


def test_a_long_library_call_is_never_split(kernel: KernelDriver) -> None:
    """json.dumps with indent runs json's pure-Python encoder: loops, but library loops."""
    kernel.run(
        "import json, time\n"
        "witness_times = []\n"
        "@igogo.job\n"
        "def witness():\n"
        "    while True:\n"
        "        witness_times.append(time.monotonic())\n"
        "        igogo.sleep(0.002)\n"
        "w = witness()"
    )
    cell = kernel.run(
        "%%igogo --name encoder\n"
        "data = [{'k': list(range(20)), 's': 'x' * 10} for _ in range(100_000)]\n"
        "spans = []\n"
        "for _ in range(3):\n"
        "    t0 = time.monotonic()\n"
        "    text = json.dumps(data, indent=1)\n"
        "    spans.append((t0, time.monotonic()))\n"
    )
    kernel.run("igogo.wait(*[j for j in igogo.jobs() if j.name == 'encoder'], timeout=60)")
    assert not kernel.errors(cell)
    kernel.run("w.stop()")
    spans = kernel.eval("spans")
    times = kernel.eval("witness_times")
    assert all(b - a > 0.05 for a, b in spans), spans  # several slices long each
    inside = [t for t in times for a, b in spans if a < t < b]
    assert not inside, f"the witness ran {len(inside)} times inside json.dumps"
    # Between the calls (the job's own loop) the witness did get turns.
    assert any(spans[0][1] <= t <= spans[-1][0] for t in times)


def test_an_error_after_a_plain_loop_shows_the_users_frames_only(kernel: KernelDriver) -> None:
    cell = kernel.run(
        "%%igogo\n"
        "import time\n"
        "end = time.monotonic() + 0.3\n"
        "while time.monotonic() < end:\n"
        "    pass\n"
        "raise ValueError('after the loop')\n"
    )
    kernel.run("igogo.wait_all(10)")
    kernel.wait_until(lambda: kernel.errors(cell), timeout=10)
    (error,) = kernel.errors(cell)
    assert error["ename"] == "ValueError"
    shown = "\n".join(error["traceback"])
    assert "after the loop" in shown
    assert "igogo/_" not in shown and "igogo_jupyter" not in shown, shown


def test_jobs_started_by_a_preemptive_cell_and_decorated_jobs(kernel: KernelDriver) -> None:
    kernel.run(
        "@igogo.job(preempt=True)\n"
        "def opted_in():\n"
        "    pass\n"
        "@igogo.job\n"
        "def plain_job():\n"
        "    pass\n"
    )
    kernel.run(
        "%%igogo\n"
        "import igogo\n"
        "inner = [opted_in(), plain_job(), igogo.job(lambda: None)(),\n"
        "         igogo.job(preempt=False)(lambda: None)()]\n"
        "kinds = [j.preemptive for j in inner]\n"
    )
    kernel.run("igogo.wait_all(10)")
    # A job started by a preemptive job is preemptive too, unless it says otherwise.
    assert kernel.eval("kinds") == [True, True, True, False]
    # Started by a normal cell, a decorated job is preemptive only if it opted in.
    kernel.run("outside = [opted_in(), plain_job()]")
    assert kernel.eval("[j.preemptive for j in outside]") == [True, False]
    kernel.run("igogo.wait_all(10)")


def test_an_interrupt_goes_to_the_busy_cell_not_to_the_plain_loop(kernel: KernelDriver) -> None:
    kernel.run("%%igogo --name bystander\nimport time\nm = 0\nwhile True:\n    m += 1\n")
    busy = kernel.send("while True:\n    pass")
    kernel.wait_until(lambda: any(m["msg_type"] == "execute_input" for m in kernel.of(busy)), 10)
    kernel.pump(0.3)
    kernel.interrupt()
    kernel.finish(busy, timeout=20)
    assert busy.status == "error"
    assert kernel.errors(busy)[0]["ename"] == "KeyboardInterrupt"
    before = kernel.eval("m")
    kernel.pump(0.2)
    assert kernel.eval("m") > before  # the loop carries on
    kernel.run("%igogo stop bystander")


def cooperative_cell_says(k: KernelDriver, hold: str, release: str) -> str:
    """With ``hold`` run first (someone else holds what preemption needs), a ``%%igogo``
    cell runs cooperatively and completes; returns what it showed on stderr."""
    k.run("import sys, igogo\n%load_ext igogo")
    k.run(hold)
    try:
        cell = k.run(
            "%%igogo --name held\n"
            "mine = igogo.current_job().preemptive\n"
            "for _ in range(3):\n"
            "    pass"
        )
        k.run("igogo.wait_all(10)")
        assert k.eval("mine") is False
        assert not k.errors(cell)
        shown = k.stdout(cell, "stderr")
        assert "runs cooperatively" in shown, shown
        return shown
    finally:
        k.run(release)


def test_a_debuggers_trace_makes_the_cell_cooperative_and_says_why(
    fresh_kernel: KernelDriver,
) -> None:
    shown = cooperative_cell_says(
        fresh_kernel,
        "def tracer(frame, event, arg):\n    return None\nsys.settrace(tracer)",
        "sys.settrace(None)",
    )
    assert "sys.settrace: tracer" in shown, shown


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring tool ids are 3.12+")
def test_held_tool_ids_make_the_cell_cooperative_and_say_why(fresh_kernel: KernelDriver) -> None:
    shown = cooperative_cell_says(
        fresh_kernel,
        "for t in (3, 4):\n    sys.monitoring.use_tool_id(t, 'someone else')",
        "for t in (3, 4):\n    sys.monitoring.free_tool_id(t)",
    )
    assert "tool ids" in shown, shown


def test_the_same_cell_run_twice_is_preemptive_both_times(kernel: KernelDriver) -> None:
    """Equal code compiled twice: each copy gets its own switch points (3.12+ once missed it)."""
    kernel.run("twins_done, twins_gave_up = False, []")
    cell = (
        "%%igogo --name twin\n"
        "import time\n"
        f"end = time.monotonic() + {GIVE_UP}\n"
        "while not twins_done and time.monotonic() < end:\n"
        "    pass\n"
        "twins_gave_up.append(not twins_done)\n"
    )
    kernel.run(cell)
    kernel.run(cell)  # the same source again, while the first copy still spins
    kernel.run("twins_done = True")  # runs only if both loops give the kernel back
    kernel.run("igogo.wait_all(10)")
    assert kernel.eval("twins_gave_up") == [False, False]
