"""The kernel host: jobs beside cells, output in the starting cell, stops, errors, latency."""

from __future__ import annotations

import statistics
import time

import pytest

from igogo_jupyter.testing import Execution, KernelDriver, kernel_time

# Targets from the issue: a new cell starts within 50 ms (median 20 ms) beside spinning jobs.
# A new cell starts while jobs spin forever (without the host's ticks it never would).  The
# bounds hold on a loaded 2-core machine; the latency itself is measured in bench/.
LATENCY_MEDIAN = 0.150
LATENCY_WORST = 0.750
SAMPLES = 15

OUTPUT_MSG_TYPES = ("stream", "display_data", "update_display_data", "error")


def job_messages(k: KernelDriver, marker: str, since: int) -> list[dict]:
    """Output messages (any cell) mentioning ``marker``, from ``k.messages[since]`` on."""
    import json

    return [
        m
        for m in k.messages[since:]
        if m["msg_type"] in OUTPUT_MSG_TYPES and marker in json.dumps(m["content"])
    ]


def test_cell_replies_while_jobs_of_an_earlier_cell_run(kernel: KernelDriver) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def beside():\n"
        "    while True:\n"
        "        igogo.sleep(0.01)\n"
        "b1, b2 = beside(), beside()"
    )
    t0 = time.monotonic()
    b = kernel.run("print('second cell', 6 * 7)")
    assert time.monotonic() - t0 < 2.0
    assert b.status == "ok"
    assert kernel.stdout(b) == "second cell 42\n"
    assert a.idle_at is not None and a.idle_at < b.sent  # the first cell had replied
    assert kernel.eval("(b1.done(), b2.done())") == (False, False)
    kernel.run("b1.stop(); b2.stop()")


@pytest.mark.parametrize(
    "other_cell",
    ["igogo.sleep(0.8)", "await asyncio.sleep(0.8)", "j.wait(0.8)"],
    ids=["igogo.sleep", "async-cell", "job.wait"],
)
def test_every_message_of_a_job_carries_its_starting_cell(
    kernel: KernelDriver, other_cell: str
) -> None:
    """Streams, displays, display updates and the error all go to the job's cell,
    also after that cell replied and while another cell runs."""
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job(displays=1, warn_rewrite=False)\n"
        "def chatty():\n"
        "    igogo.sleep(0.2)  # the starting cell has replied long before\n"
        "    for i in range(3):\n"
        "        print('J-out', i)\n"
        "        print('J-err', i, file=sys.stderr)\n"
        "        igogo.display(f'J-display {i}')  # display, then updates in place\n"
        "        igogo.sleep(0.05)\n"
        "    raise ValueError('J-boom')\n"
        "j = chatty()"
    )
    b = kernel.run(f"print('B-start')\n{other_cell}\nprint('B-end')")
    kernel.wait_until(lambda: kernel.errors(a), timeout=10)
    kernel.drain(0.3)

    msgs = job_messages(kernel, "J-", since)
    assert {m["msg_type"] for m in msgs} == set(OUTPUT_MSG_TYPES)
    wrong = [
        (m["msg_type"], m["parent_header"].get("msg_id"))
        for m in msgs
        if m["parent_header"].get("msg_id") != a.msg_id
    ]
    assert not wrong, f"job output addressed to other requests: {wrong}"
    assert "J-" not in "".join(str(m["content"]) for m in kernel.outputs(b))
    assert kernel.stdout(b) == "B-start\nB-end\n"

    # The job's output was made after its cell went idle, while the other cell was busy.
    a_idle = kernel.status_time(a, "idle")
    b_busy, b_idle = kernel.status_time(b, "busy"), kernel.status_time(b, "idle")
    during_b = [m for m in msgs if b_busy < kernel_time(m) < b_idle]
    assert all(kernel_time(m) > a_idle for m in msgs)
    assert {m["msg_type"] for m in during_b} >= {"stream", "display_data", "update_display_data"}

    assert kernel.stdout(a) == "J-out 0\nJ-out 1\nJ-out 2\n"
    assert kernel.stdout(a, "stderr") == "J-err 0\nJ-err 1\nJ-err 2\n"
    (err,) = kernel.errors(a)
    assert (err["ename"], err["evalue"]) == ("ValueError", "J-boom")


def test_job_started_by_a_job_prints_into_the_first_jobs_cell(kernel: KernelDriver) -> None:
    """Not the cell that happens to run when the child starts."""
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def child():\n"
        "    print('C-print')\n"
        "    igogo.display('C-display')\n"
        "    raise KeyError('C-fails')\n"
        "@igogo.job\n"
        "def parent():\n"
        "    igogo.sleep(0.3)\n"
        "    c = child()\n"
        "    igogo.wait(c)\n"
        "    return c.origin\n"
        "p = parent()"
    )
    b = kernel.run("igogo.sleep(0.8)")
    assert kernel.eval("p.result(5)") == a.reply["content"]["execution_count"]
    kernel.wait_until(lambda: kernel.errors(a), timeout=10)
    msgs = job_messages(kernel, "C-", since)
    assert {m["msg_type"] for m in msgs} == {"stream", "display_data", "error"}
    assert all(m["parent_header"]["msg_id"] == a.msg_id for m in msgs)
    assert not kernel.outputs(b)


@pytest.mark.parametrize(
    "wait",
    ["igogo.sleep(0.4)", "t.result()", "igogo.wait_all()"],
    ids=["igogo.sleep", "job.result", "igogo.wait_all"],
)
def test_regular_cell_waiting_keeps_jobs_running(kernel: KernelDriver, wait: str) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def ticker(n):\n"
        "    for i in range(n):\n"
        "        print('tick', i)\n"
        "        igogo.sleep(0.02)\n"
        "    return n\n"
        "t = ticker(15)"
    )
    b = kernel.run(f"_r = {wait}\nprint('waited')")
    assert kernel.stdout(b) == "waited\n"
    kernel.wait_until(lambda: kernel.stdout(a).count("tick") >= 15, timeout=5)
    b_busy, b_idle = kernel.status_time(b, "busy"), kernel.status_time(b, "idle")
    ticks = job_messages(kernel, "tick ", since)
    assert all(m["parent_header"]["msg_id"] == a.msg_id for m in ticks)
    assert any(b_busy < kernel_time(m) < b_idle for m in ticks), "no job output while waiting"
    assert kernel.stdout(a) == "".join(f"tick {i}\n" for i in range(15))
    kernel.run("t.result(5)")


def test_await_a_job_in_an_async_cell(kernel: KernelDriver) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def awaited():\n"
        "    for i in range(3):\n"
        "        print('step', i)\n"
        "        igogo.sleep(0.05)\n"
        "    return 'result'\n"
        "aw = awaited()"
    )
    b = kernel.run("print(await aw)")
    assert kernel.stdout(b) == "result\n"
    kernel.wait_until(lambda: kernel.stdout(a).count("step") == 3, timeout=5)
    assert kernel.stdout(a) == "step 0\nstep 1\nstep 2\n"


def test_failing_job(kernel: KernelDriver) -> None:
    """The error shows in the job's own cell; the job is failed; others and the kernel go on."""
    a = kernel.run(
        "@igogo.job\n"
        "def counter():\n"
        "    global count\n"
        "    count = 0\n"
        "    while True:\n"
        "        count += 1\n"
        "        igogo.sleep(0.01)\n"
        "c = counter()"
    )
    b = kernel.run(
        "def helper(x):\n"
        "    return 1 / x\n"
        "@igogo.job\n"
        "def divider():\n"
        "    igogo.sleep(0.1)\n"
        "    return helper(0)\n"
        "d = divider()"
    )
    kernel.wait_until(lambda: kernel.errors(b), timeout=5)
    (err,) = kernel.errors(b)
    assert err["ename"] == "ZeroDivisionError"
    assert err["evalue"] == "division by zero"
    tb = "\n".join(err["traceback"])
    assert "helper" in tb and "divider" in tb
    assert "_job.py" not in tb and "_hub.py" not in tb  # no igogo machinery frames
    assert not kernel.errors(a)
    before = kernel.eval("count")
    state, exc, c_state = kernel.eval("(d.state, repr(d.exception()), c.state)")
    assert state == "failed"
    assert exc == "ZeroDivisionError('division by zero')"
    assert c_state in ("sleeping", "running")
    kernel.run("igogo.sleep(0.1)")
    assert kernel.eval("count") > before
    assert kernel.eval("1 + 1") == 2
    ex = kernel.run("d.result()", ok=False)
    assert ex.status == "error" and kernel.errors(ex)[0]["ename"] == "ZeroDivisionError"
    kernel.run("c.stop()")


# -- stopping ------------------------------------------------------------------------------

STOPPABLE = (
    "@igogo.job\n"
    "def loop_a():\n"
    "    while True:\n"
    "        igogo.sleep(0.01)\n"
    "@igogo.job\n"
    "def loop_b():\n"
    "    while True:\n"
    "        igogo.yielder()\n"
)


def states(kernel: KernelDriver, names: str) -> list[str]:
    """The jobs' states, any state of a job that has not ended being ``alive``.

    (A looping job is ``sleeping`` or ``running`` depending on where the last tick
    left it.)
    """
    return kernel.eval(f"[j.state if j.done() else 'alive' for j in ({names},)]")


def test_stop_job(kernel: KernelDriver) -> None:
    kernel.run(STOPPABLE + "x, y = loop_a(), loop_b()")
    assert kernel.eval("x.stop()") is True
    kernel.run("x.wait(2)")
    assert states(kernel, "x, y") == ["stopped", "alive"]
    assert kernel.eval("x.stop()") is False  # already ended
    kernel.run("y.stop(); y.wait(2)")
    assert states(kernel, "x, y") == ["stopped", "stopped"]


def test_stop_all(kernel: KernelDriver) -> None:
    kernel.run(STOPPABLE + "x, y, z = loop_a(), loop_b(), loop_a()")
    assert kernel.eval("igogo.stop_all()") == 3
    kernel.run("igogo.wait_all(2)")
    assert states(kernel, "x, y, z") == ["stopped"] * 3
    assert kernel.eval("igogo.stop_all()") == 0


def test_stop_latest(kernel: KernelDriver) -> None:
    kernel.run(STOPPABLE + "x = loop_a()")
    kernel.run("y = loop_b()")
    assert kernel.eval("igogo.stop_latest() is y") is True
    kernel.run("y.wait(2)")
    assert states(kernel, "x, y") == ["alive", "stopped"]
    assert kernel.eval("igogo.stop_latest() is x") is True
    kernel.run("x.wait(2)")
    assert kernel.eval("igogo.stop_latest()") is None


def test_stop_by_cell_id(kernel: KernelDriver) -> None:
    kernel.run(STOPPABLE)
    first = kernel.run("x1, x2 = loop_a(), loop_b()")
    kernel.run("y = loop_a()")
    number = first.reply["content"]["execution_count"]  # the In [n] the notebook shows
    assert kernel.eval("(x1.origin, x2.origin)") == (number, number)
    assert kernel.eval(f"igogo.stop_by_cell_id({number})") == 2
    kernel.run("igogo.wait(x1, x2, timeout=2)")
    assert states(kernel, "x1, x2, y") == ["stopped", "stopped", "alive"]
    kernel.run("y.stop()")


def test_job_function_stop_all(kernel: KernelDriver) -> None:
    kernel.run(STOPPABLE + "a1, a2, b1 = loop_a(), loop_a(), loop_b()")
    assert kernel.eval("len(loop_a.jobs)") == 2
    assert kernel.eval("loop_a.stop_all()") == 2
    kernel.run("igogo.wait(a1, a2, timeout=2)")
    assert states(kernel, "a1, a2, b1") == ["stopped", "stopped", "alive"]
    assert kernel.eval("loop_a.jobs") == []
    kernel.run("b1.stop()")


def test_stopped_job_finally_runs_and_output_stays_in_its_cell(kernel: KernelDriver) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def tidy():\n"
        "    try:\n"
        "        while True:\n"
        "            igogo.sleep(0.01)\n"
        "    finally:\n"
        "        print('tidied up')\n"
        "t = tidy()"
    )
    b = kernel.run("igogo.sleep(0.05); t.stop(); t.wait(2); print(t.state)")
    kernel.wait_until(lambda: "tidied up" in kernel.stdout(a), timeout=5)
    assert kernel.stdout(b) == "stopped\n"
    assert not kernel.errors(a)  # a stop is not an error


def test_host_released_when_the_last_job_ends(kernel: KernelDriver) -> None:
    kernel.run("@igogo.job\ndef brief():\n    igogo.sleep(0.05)\nbr = brief()")
    host = kernel.eval("type(igogo.lowlevel.current_host()).__name__")
    assert host == "JupyterHost"
    kernel.run("br.wait(2)")
    assert kernel.eval("(igogo.lowlevel.current_host(), len(igogo.lowlevel.hooks()))") == (None, 0)


@pytest.mark.parametrize(
    "cell",
    [
        "%%igogo\nset_up = True\nwhile True:\n    pass",
        "%%igogo --no-preempt\nset_up = True\nwhile True:\n    igogo.yielder()",
    ],
    ids=["preemptive", "cooperative"],
)
def test_a_new_job_takes_its_first_step_before_the_next_cell(
    kernel: KernelDriver, cell: str
) -> None:
    """Run All: the cell after the one that starts a job finds what the job set first.

    Both cells are sent at once, so the second is waiting before the first ends.
    """
    first = kernel.send(cell)
    second = kernel.send("print(set_up)")
    kernel.finish(first)
    kernel.finish(second)
    assert kernel.stdout(second) == "True\n", kernel.errors(second)
    kernel.run("igogo.stop_all(); igogo.wait_all(5)")


def test_the_gil_switch_interval_is_lowered_while_jobs_run_then_put_back(
    kernel: KernelDriver,
) -> None:
    kernel.run("import sys")
    before = kernel.eval("sys.getswitchinterval()")
    start = (
        "done = False\n@igogo.job\ndef spin():\n    while not done:\n        igogo.yielder()\n"
        "s = spin()"
    )
    kernel.run(start)
    assert round(kernel.eval("sys.getswitchinterval()"), 6) == 0.00003  # 30 µs while jobs run
    kernel.run("done = True; s.wait(5)")
    kernel.wait_until(lambda: kernel.eval("sys.getswitchinterval()") == before, timeout=10)
    # A value the user sets meanwhile is theirs: igogo neither overrides nor restores it.
    kernel.run(start)
    kernel.run("sys.setswitchinterval(0.01)")
    kernel.pump(0.2)
    assert kernel.eval("sys.getswitchinterval()") == 0.01
    kernel.run("done = True; s.wait(5)")
    kernel.pump(0.2)
    assert kernel.eval("sys.getswitchinterval()") == 0.01
    kernel.run(f"sys.setswitchinterval({before})")


# -- latency -------------------------------------------------------------------------------


def sample_start_latency(kernel: KernelDriver, n: int) -> list[float]:
    """Seconds from sending a trivial cell to its ``busy`` status, ``n`` times."""
    out = []
    for i in range(n):
        ex: Execution = kernel.finish(kernel.send("pass"))
        out.append(ex.start_latency)
        kernel.pump(0.011 + 0.003 * (i % 5))  # land at different points of the tick cycle
    return out


@pytest.mark.parametrize("jobs", [1, 3, 10])
def test_new_cell_starts_quickly_beside_spinning_jobs(kernel: KernelDriver, jobs: int) -> None:
    """With jobs spinning on ``igogo.yielder()`` forever, new cells start, one tick away.

    The bounds only tell a kernel that serves cells from one that does not;
    ``bench/`` measures the latency against its targets (20 ms median, 50 ms worst).
    """
    kernel.run(
        "spins = [0]\n"
        "@igogo.job\n"
        "def spinner():\n"
        "    while True:\n"
        "        spins[0] += 1\n"
        "        igogo.yielder()\n"
        f"spinners = [spinner() for _ in range({jobs})]"
    )
    kernel.pump(0.1)
    attempts = []
    for _ in range(2):
        before = kernel.eval("spins[0]")
        lat = sample_start_latency(kernel, SAMPLES)
        spun = kernel.eval("spins[0]") - before
        median, worst = statistics.median(lat), max(lat)
        attempts.append(
            f"median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms "
            f"({' '.join(f'{x * 1000:.0f}' for x in lat)})"
        )
        assert spun > 10_000, "the jobs did not spin while the cells were measured"
        if median <= LATENCY_MEDIAN and worst <= LATENCY_WORST:
            break
    print(f"start latency beside {jobs} spinning job(s): " + "; then ".join(attempts))
    assert median <= LATENCY_MEDIAN and worst <= LATENCY_WORST, (
        f"beside {jobs} spinning job(s): " + "; then ".join(attempts)
    )
    kernel.run("igogo.stop_all(); igogo.wait_all(5)")
