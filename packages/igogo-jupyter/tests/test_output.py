"""What jobs print and display: cost, rich kinds, display slots, clearing, regular cells."""

from __future__ import annotations

import itertools

import pytest

from igogo_jupyter.testing import KernelDriver, kernel_time

LINES = 2000
MAX_BYTES_PER_BYTE = 3.0


@pytest.mark.parametrize(
    "pace",
    ["igogo.yielder()", "igogo.sleep(0) if i % 50 == 0 else None"],
    ids=["tight-loop", "yielding-every-50"],
)
def test_printing_costs_at_most_3_bytes_of_messages_per_byte(
    kernel: KernelDriver, pace: str
) -> None:
    """2,000 printed lines: every IOPub message of the cell, serialized, over the bytes printed."""
    a = kernel.run(
        "@igogo.job\n"
        "def printer():\n"
        f"    for i in range({LINES}):\n"
        "        print('line', i)\n"
        f"        {pace}\n"
        "p = printer()"
    )
    kernel.run("p.result(10)")  # the job runs (and prints) while this cell waits
    expected = "".join(f"line {i}\n" for i in range(LINES))
    kernel.wait_until(lambda: len(kernel.stdout(a)) >= len(expected), timeout=10)
    kernel.drain(0.3)
    assert kernel.stdout(a) == expected  # everything, once, in order, in the job's cell
    printed = len(expected.encode())
    ratio = kernel.wire_bytes(a) / printed
    print(f"{LINES} lines ({pace}): {kernel.wire_bytes(a)} bytes of messages for {printed} printed")
    assert ratio <= MAX_BYTES_PER_BYTE, f"{ratio:.2f} bytes of messages per byte printed"


@pytest.mark.parametrize("kind", ["markdown", "html"])
def test_rich_kind_renders_into_one_display_at_most_10_times_a_second(
    kernel: KernelDriver, kind: str
) -> None:
    a = kernel.run(
        f"@igogo.job(kind={kind!r})\n"
        "def rich():\n"
        "    for i in range(120):\n"
        "        print(f'* item {i}')\n"
        "        igogo.sleep(0.005)\n"
        "    print('end', file=sys.stderr)\n"
        "r = rich()"
    )
    kernel.run("r.result(10)")
    kernel.wait_until(lambda: kernel.stdout(a, "stderr"), timeout=5)
    kernel.drain(0.3)
    mime = "text/markdown" if kind == "markdown" else "text/html"
    shown = kernel.outputs(a, ("display_data",))
    updates = kernel.outputs(a, ("update_display_data",))
    assert len(shown) == 1, "one display, updated in place"
    display_id = shown[0]["content"]["transient"]["display_id"]
    assert all(u["content"]["transient"]["display_id"] == display_id for u in updates)
    final = updates[-1]["content"]["data"][mime]
    assert final == "\n".join(f"* item {i}" for i in range(120)) + "\n"
    assert kernel.stdout(a) == ""  # printed text is rendered, not streamed
    assert kernel.stdout(a, "stderr") == "end\n"  # stderr is still a stream

    times = [kernel_time(m) for m in shown + updates]
    elapsed = times[-1] - times[0]
    # At most one render per 0.1 s, plus the final one when the job ends.
    assert len(updates) <= 10 * elapsed + 2, f"{len(updates)} renders in {elapsed:.2f} s"
    gaps = [b - a for a, b in itertools.pairwise(times[1:-1])]
    # Message times, not render decisions: a loaded machine may delay one message's creation
    # by some milliseconds after its render was decided.
    assert all(g >= 0.07 for g in gaps), f"renders closer than 0.1 s: {gaps}"
    assert elapsed > 0.5 and len(updates) >= 4  # it did render along the way, not only at the end


def test_display_slots_update_in_place_and_warn_once_when_wrapping(
    kernel: KernelDriver,
) -> None:
    a = kernel.run(
        "@igogo.job(displays=2)\n"
        "def frames():\n"
        "    for i in range(7):\n"
        "        igogo.display(f'frame {i}')\n"
        "        igogo.sleep(0.01)\n"
        "f = frames()"
    )
    kernel.run("f.result(5)")
    kernel.wait_until(lambda: kernel.stdout(a, "stderr"), timeout=5)
    kernel.drain(0.3)
    msgs = kernel.outputs(a, ("display_data", "update_display_data"))
    kinds = [m["msg_type"] for m in msgs]
    assert kinds == ["display_data"] * 2 + ["update_display_data"] * 5
    ids = [m["content"]["transient"]["display_id"] for m in msgs]
    assert len(set(ids)) == 2
    assert ids == [ids[0], ids[1]] * 3 + [ids[0]]
    final = {i: m["content"]["data"]["text/plain"] for i, m in zip(ids, msgs, strict=True)}
    assert final == {ids[0]: "'frame 6'", ids[1]: "'frame 5'"}
    warnings = kernel.stdout(a, "stderr")
    assert warnings.count("UserWarning") == 1
    assert "2 display slot(s)" in warnings and "warn_rewrite=False" in warnings


def test_no_wrap_warning_with_warn_rewrite_false(kernel: KernelDriver) -> None:
    a = kernel.run(
        "@igogo.job(displays=1, warn_rewrite=False)\n"
        "def quiet():\n"
        "    for i in range(4):\n"
        "        igogo.display(i)\n"
        "q = quiet()"
    )
    kernel.run("q.result(5)")
    kernel.drain(0.4)
    assert [m["msg_type"] for m in kernel.outputs(a)] == ["display_data"] + [
        "update_display_data"
    ] * 3
    assert kernel.stdout(a, "stderr") == ""


def test_clear_output_clears_only_the_jobs_own_cell(kernel: KernelDriver) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def clearer():\n"
        "    print('old')\n"
        "    igogo.display('old display')\n"
        "    igogo.sleep(0.1)\n"
        "    igogo.clear_output()\n"
        "    print('new')\n"
        "    igogo.display('new display')\n"
        "c = clearer()"
    )
    b = kernel.run("print('other cell'); c.result(5)")
    kernel.wait_until(lambda: "new" in kernel.stdout(a), timeout=5)
    kernel.drain(0.3)
    out_a = kernel.outputs(a)
    kinds = [m["msg_type"] for m in out_a]
    assert kinds.count("clear_output") == 1
    cleared = kinds.index("clear_output")
    before, after = out_a[:cleared], out_a[cleared + 1 :]
    assert "old" in str([m["content"] for m in before]) and "new" not in str(before)
    assert "new" in str([m["content"] for m in after]) and "old" not in str(after)
    # After clearing, the job's slot is shown anew (a fresh display, not an update of a
    # display that no longer exists).
    displays = [m for m in after if m["msg_type"] != "stream"]
    assert [m["msg_type"] for m in displays] == ["display_data"]
    assert not kernel.outputs(b, ("clear_output",))
    assert kernel.stdout(b) == "other cell\n"


def test_display_with_ipython_keywords_in_a_job_goes_to_its_cell(kernel: KernelDriver) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def keyworded():\n"
        "    igogo.sleep(0.05)\n"
        "    igogo.display('first', display_id='kw-slot')\n"
        "    igogo.display({'text/plain': 'raw text'}, raw=True)\n"
        "    igogo.clear_output(wait=True)\n"
        "kw = keyworded()"
    )
    b = kernel.run("kw.result(2)")
    kernel.wait_until(lambda: kernel.outputs(a, ("clear_output",)), timeout=5)
    msgs = kernel.outputs(a)
    assert [m["msg_type"] for m in msgs] == ["display_data", "display_data", "clear_output"]
    assert msgs[0]["content"]["transient"] == {"display_id": "kw-slot"}
    assert msgs[1]["content"]["data"] == {"text/plain": "raw text"}
    assert msgs[2]["content"]["wait"] is True
    assert not kernel.outputs(b, ("display_data", "clear_output"))


def test_display_outside_a_job_is_ipythons_display(kernel: KernelDriver) -> None:
    a = kernel.run(
        "from IPython.display import display, HTML\n"
        "igogo.display('plain', HTML('<b>rich</b>'))\n"
        "display('plain', HTML('<b>rich</b>'))"
    )
    msgs = kernel.outputs(a)
    assert [m["msg_type"] for m in msgs] == ["display_data"] * 4
    contents = [m["content"] for m in msgs]
    assert contents[:2] == contents[2:]
    assert contents[1]["data"]["text/html"] == "<b>rich</b>"
    b = kernel.run("igogo.display({'text/plain': 'raw'}, raw=True)")
    assert kernel.texts(b) == ["raw"]


def test_clear_output_outside_a_job_clears_the_running_cell(kernel: KernelDriver) -> None:
    a = kernel.run("print('x'); igogo.clear_output(); print('y')")
    assert [m["msg_type"] for m in kernel.outputs(a)] == ["stream", "clear_output", "stream"]


def test_stdout_and_stderr_of_concurrent_jobs_stay_apart(kernel: KernelDriver) -> None:
    cells = [
        kernel.run(
            f"@igogo.job\n"
            f"def writer_{n}():\n"
            f"    for i in range(20):\n"
            f"        print('{n}', i)\n"
            f"        print('{n}-err', i, file=sys.stderr)\n"
            f"        igogo.sleep(0.005)\n"
            f"w{n} = writer_{n}()"
        )
        for n in ("p", "q", "r")
    ]
    kernel.run("igogo.wait_all(5)")
    for n, ex in zip(("p", "q", "r"), cells, strict=True):
        kernel.wait_until(lambda ex=ex: kernel.stdout(ex, "stderr").count("\n") >= 20, timeout=5)
        kernel.wait_until(lambda ex=ex: kernel.stdout(ex).count("\n") >= 20, timeout=5)
        assert kernel.stdout(ex) == "".join(f"{n} {i}\n" for i in range(20))
        assert kernel.stdout(ex, "stderr") == "".join(f"{n}-err {i}\n" for i in range(20))


def test_a_jobs_own_redirect_of_stdout_spans_its_yields(kernel: KernelDriver) -> None:
    a = kernel.run(
        "import contextlib, io\n"
        "@igogo.job\n"
        "def captures():\n"
        "    buf = io.StringIO()\n"
        "    with contextlib.redirect_stdout(buf):\n"
        "        print('x')\n"
        "        igogo.sleep(0.05)\n"
        "        print('y')\n"
        "    print('after')\n"
        "    return buf.getvalue()\n"
        "cp = captures()"
    )
    b = kernel.run("print('cell'); print(repr(cp.result(2)))")
    assert kernel.stdout(b) == "cell\n'x\\ny\\n'\n"
    kernel.wait_until(lambda: kernel.stdout(a), timeout=5)
    kernel.drain(0.3)
    assert kernel.stdout(a) == "after\n"


def test_a_cells_redirect_of_stdout_does_not_capture_jobs(kernel: KernelDriver) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def talker():\n"
        "    for i in range(5):\n"
        "        print('job', i)\n"
        "        igogo.sleep(0.02)\n"
        "tl = talker()"
    )
    b = kernel.run(
        "import contextlib, io\n"
        "cell_buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(cell_buf):\n"
        "    print('cell before')\n"
        "    tl.result(2)\n"
        "    print('cell after')\n"
        "print(repr(cell_buf.getvalue()))"
    )
    assert kernel.stdout(b) == "'cell before\\ncell after\\n'\n"
    kernel.wait_until(lambda: kernel.stdout(a).count("job") == 5, timeout=5)
    assert kernel.stdout(a) == "".join(f"job {i}\n" for i in range(5))


def test_a_done_callback_prints_in_the_cell_that_registered_it(kernel: KernelDriver) -> None:
    """As asyncio's callbacks: its prints, its error and the jobs it starts stay in that cell."""
    a = kernel.run(
        "@igogo.job\n"
        "def brief():\n"
        "    igogo.sleep(0.3)\n"
        "@igogo.job\n"
        "def child():\n"
        "    print('child of the callback')\n"
        "def on_done(j):\n"
        "    print('callback ran')\n"
        "    child()\n"
        "bj = brief()\n"
        "bj.add_done_callback(on_done)"
    )
    b = kernel.run("igogo.wait_all(5)\nprint('waiting cell')")
    kernel.wait_until(lambda: "child of the callback" in kernel.stdout(a), timeout=10)
    assert kernel.stdout(a) == "callback ran\nchild of the callback\n"
    assert kernel.stdout(b) == "waiting cell\n"


def test_collecting_a_jobs_streams_leaves_the_kernels_streams_alone(
    kernel: KernelDriver,
) -> None:
    """A finished job's stdout and stderr go without flushing the kernel's streams.

    They used to flush them, as any ``io`` stream does when it is collected.  The
    collector may run inside a kernel stream's own ``write``, under its lock; the
    flush then waited for ipykernel's IOPub thread, which waited for that lock, and
    the kernel stalled 10 s per stream.  Here the collection runs under both locks.
    """
    a = kernel.run(
        "import gc, sys, time\n"
        "@igogo.job\n"
        "def chatty():\n"
        "    cycle = [sys.stdout, sys.stderr]  # as a logging handler's might hold them\n"
        "    cycle.append(cycle)\n"
        "    print('out')\n"
        "    print('err', file=sys.stderr)\n"
        "gc.disable()  # the job's streams wait for the collection below\n"
        "try:\n"
        "    chatty().wait(10)\n"
        "    flushes, kernel_flush = [], type(sys.stdout).flush\n"
        "    type(sys.stdout).flush = lambda s: (flushes.append(s), kernel_flush(s))[1]\n"
        "    t0 = time.monotonic()\n"
        "    with sys.stdout._buffer_lock, sys.stderr._buffer_lock:\n"
        "        gc.collect()\n"
        "    took = time.monotonic() - t0\n"
        "finally:\n"
        "    type(sys.stdout).flush = kernel_flush\n"
        "    gc.enable()",
        timeout=90,
    )
    assert kernel.stdout(a) == "out\n"
    assert kernel.stdout(a, "stderr") == "err\n"
    took, flushes = kernel.eval("(took, len(flushes))")
    assert flushes == 0
    assert took < 5  # was 20 s: the flush timeout, once for each stream
