"""The fault suite: igogo under faults in real kernels (issue 12, "the project's own fault suite").

Every scenario runs beside a *witness*: a job started in a cell of its own that prints
``<tag>:<n>`` every 20 ms.  At the end of a scenario :meth:`Witness.check` proves that

* the kernel answers a new cell;
* the witness carried on (its counter still advances, it was never harmed);
* every line it printed arrived, once, in order, in its own cell and in no other;

and the scenario itself checks its own job's lines (all there, in order, in its cell, none
elsewhere), the state and exception kept on its ``Job``, and memory where that applies.

Scenarios share the module's kernel where they can; those that may leave the process in a
state nobody should share (a broken output path, an unloaded extension, a Dask cluster)
get a kernel of their own (``solo``).  Bounds are generous: CI runs on a loaded 2-core
machine, and these tests check behaviour, never latency.

A scenario marked ``xfail(strict=True)`` shows a defect of igogo that is not fixed yet; the
reason says what happens and what should.  Once fixed, the marker makes it fail: remove it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Iterator

import pytest

from igogo_jupyter.testing import Execution, KernelDriver, LeakCheck, did_fail, running_kernel

SETUP = "import igogo, time, signal, sys, asyncio\n%load_ext igogo"

# What every kernel of this module has besides SETUP.
PRELUDE = """\
import ctypes, gc, os, queue, threading, psutil
from concurrent.futures import ThreadPoolExecutor
igogo.configure(workers=2)

def rss_mb():
    '''This process's resident memory in MB, after a collection and a malloc_trim.'''
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except Exception:
        pass
    return psutil.Process().memory_info().rss / 2**20

def live_objects(cls):
    gc.collect()
    return sum(isinstance(o, cls) for o in gc.get_objects())
"""

# The same check as the conftest's (a test must leave no job, no host and no stray hook).
LEAKS = LeakCheck()

OUTPUT_TYPES = ("stream", "error")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
_tags = itertools.count(1)


# -- fixtures ---------------------------------------------------------------------------------


def _leak_check(request: pytest.FixtureRequest, driver: KernelDriver) -> None:
    """Stop every job and check the kernel is clean; a known defect (xfail) may leave debris."""
    known_defect = request.node.get_closest_marker("xfail") is not None
    try:
        problems = LEAKS.problems(driver)
    except ValueError:  # the cleanup's output did not come back (the defect broke output)
        if known_defect:
            return
        raise
    failed = did_fail(request.node)
    if problems and not failed and not known_defect:
        pytest.fail("after the test: " + "; ".join(problems))


@pytest.fixture(scope="module", autouse=True)
def _prelude(kernel: KernelDriver) -> None:
    kernel.run(PRELUDE)


@pytest.fixture(autouse=True)
def no_leaked_jobs(request: pytest.FixtureRequest) -> Iterator[None]:
    """Overrides the conftest's: the same check, except after a scenario marked xfail."""
    yield
    if "kernel" in request.fixturenames:
        _leak_check(request, request.getfixturevalue("kernel"))


@pytest.fixture
def solo(request: pytest.FixtureRequest) -> Iterator[KernelDriver]:
    """A kernel of this scenario's own (igogo imported, extension loaded, the prelude run)."""
    with running_kernel(SETUP) as driver:
        driver.run(PRELUDE)
        yield driver
        _leak_check(request, driver)


# -- the witness ------------------------------------------------------------------------------

WITNESS = """\
@igogo.job(name='witness')
def _witness_loop(tag):
    global _witness_n
    _witness_n = 0
    while True:
        print(f'{{tag}}:{{_witness_n}}')
        _witness_n += 1
        igogo.sleep(0.02)
_witness = _witness_loop({tag!r})
"""


class Witness:
    """A job printing a counter in a cell of its own, beside the scenario."""

    def __init__(self, k: KernelDriver) -> None:
        self.k = k
        self.tag = f"witness-{next(_tags)}"
        self.since = len(k.messages)
        self.cell = k.run(WITNESS.format(tag=self.tag))
        self.checked = False
        advanced(k, "_witness_n", 0)  # it runs before the scenario starts

    def check(self) -> None:
        """The kernel answers, the witness carried on, and every line of it is where it belongs."""
        k = self.k
        self.checked = True
        ex = k.run("print('answers', 6 * 7)", timeout=60)
        assert k.stdout(ex) == "answers 42\n", "the kernel did not answer a new cell"
        n0, state = k.eval("(_witness_n, _witness.state)")
        assert state in ("running", "sleeping"), f"the witness job is {state}"
        advanced(k, "_witness_n", n0 + 3)
        state, n = k.eval("(_witness.stop(), _witness.wait(10), _witness.state, _witness_n)")[2:]
        assert state == "stopped", f"the witness could not be stopped: {state}"
        expected = "".join(f"{self.tag}:{i}\n" for i in range(n))
        wait_for(k, lambda: len(k.stdout(self.cell)) >= len(expected), "the witness's lines")
        k.pump(0.3)
        got = k.stdout(self.cell)
        assert got == expected, f"witness lines lost or out of order: {diff(got, expected)}"
        assert not k.errors(self.cell) and k.stdout(self.cell, "stderr") == ""
        assert not stray(k, self.tag, self.cell, self.since), "witness lines in other cells"


@pytest.fixture
def witness(request: pytest.FixtureRequest) -> Iterator[Witness]:
    k = request.getfixturevalue("solo" if "solo" in request.fixturenames else "kernel")
    w = Witness(k)
    yield w
    if not w.checked and k.is_alive():  # the scenario failed first: just stop it
        with contextlib.suppress(TimeoutError):
            k.run("_witness.stop(); _witness.wait(5)", timeout=30, ok=False)


# -- helpers ---------------------------------------------------------------------------------


def wait_for(k: KernelDriver, predicate: object, what: str, timeout: float = 30.0) -> None:
    try:
        k.wait_until(predicate, timeout)  # type: ignore[arg-type]
    except TimeoutError:
        raise AssertionError(f"{what}: not there after {timeout} s") from None


def advanced(k: KernelDriver, counter: str, beyond: int, timeout: float = 30.0) -> int:
    """Wait (the kernel idle meanwhile) until the kernel's ``counter`` exceeds ``beyond``.

    A counter not yet defined counts as -1: a job set it up, and a waiting cell (this
    one's) goes before the job's first step.
    """
    end = time.monotonic() + timeout
    expr = f"globals().get({counter!r}, -1)" if counter.isidentifier() else counter
    while (n := k.eval(expr)) <= beyond:
        assert time.monotonic() < end, f"{counter} stayed at {n} for {timeout} s"
        k.pump(0.1)
    return int(n)


def eval_until(k: KernelDriver, expr: str, accept: object, timeout: float = 30.0) -> object:
    """Evaluate ``expr`` (the kernel idle in between) until ``accept(value)``; return the value."""
    end = time.monotonic() + timeout
    while True:
        value = k.eval(expr)
        if accept(value):  # type: ignore[operator]
            return value
        assert time.monotonic() < end, f"{expr} is still {value!r} after {timeout} s"
        k.pump(0.1)


def stray(k: KernelDriver, marker: str, home: Execution, since: int) -> list[str]:
    """Stream or error text mentioning ``marker`` that reached a cell other than ``home``."""
    return [
        json.dumps(m["content"])[:200]
        for m in k.messages[since:]
        if m["msg_type"] in OUTPUT_TYPES
        and m["parent_header"].get("msg_id") != home.msg_id
        and marker in json.dumps(m["content"])
        and not any(x in json.dumps(m["content"]) for x in _OURS)
    ]


# What this module's own reads of the kernel print (KernelDriver.eval, the leak check).
_OURS = ("@@igogo-eval@@", "@@cleanup@@")


def diff(got: str, expected: str) -> str:
    g, e = got.splitlines(), expected.splitlines()
    for i, (a, b) in enumerate(zip(g, e, strict=False)):
        if a != b:
            return f"line {i}: got {a[:80]!r}, expected {b[:80]!r} ({len(g)} vs {len(e)} lines)"
    return f"{len(g)} lines, expected {len(e)}"


def error_names(k: KernelDriver, ex: Execution) -> list[str]:
    return [e["ename"] for e in k.errors(ex)]


def tb_text(error: dict[str, object]) -> str:
    return ANSI.sub("", "\n".join(error["traceback"]))  # type: ignore[arg-type]


def job_lines(k: KernelDriver, ex: Execution, expected: str, since: int, marker: str) -> None:
    """The job's cell got exactly ``expected`` on stdout, and no other cell got its lines."""
    wait_for(k, lambda: len(k.stdout(ex)) >= len(expected), "the job's lines")
    k.pump(0.3)
    got = k.stdout(ex)
    assert got == expected, diff(got, expected)
    assert not stray(k, marker, ex, since), "the job's lines reached other cells"


def ipykernel_major(k: KernelDriver) -> int:
    return int(k.eval("__import__('ipykernel').__version__.split('.')[0]"))


# == 1. stop in every state ===================================================================

VICTIM = """\
@igogo.job(name='victim'{options})
def victim_fn():
    print('V start')
    try:
{body}
    finally:
        print('V finally')
"""

BODIES = {
    "running": "while True:\n    igogo.yielder()",
    "sleeping": "igogo.sleep(1000)",
    "queue": "vq.get()",
    "event": "vev.wait()",
    "job": "igogo.wait(vblocker)",
    "offload": "igogo.offload(time.sleep, 1.0)",
    "paused": "while True:\n    igogo.sleep(0.01)",
    "self-paused": "igogo.current_job().pause()\nwhile True:\n    igogo.sleep(0.01)",
}
SEEN_AS = {
    "running": ("running",),
    "sleeping": ("sleeping",),
    "queue": ("waiting",),
    "event": ("waiting",),
    "job": ("waiting",),
    "offload": ("waiting",),
    "paused": ("paused",),
    "self-paused": ("paused",),
}
VICTIM_PRELUDE = (
    "vq, vev = igogo.Queue(), igogo.Event()\n"
    "@igogo.job(name='blocker')\n"
    "def vblocker_fn():\n"
    "    igogo.sleep(1000)\n"
    "vblocker = vblocker_fn()\n"
)


def victim_code(state: str, options: str = "") -> str:
    body = "\n".join("        " + line for line in BODIES[state].splitlines())
    return VICTIM_PRELUDE + VICTIM.format(options=options, body=body)


@pytest.mark.parametrize("state", list(BODIES))
def test_stop_in_every_state(kernel: KernelDriver, witness: Witness, state: str) -> None:
    since = len(kernel.messages)
    a = kernel.run(victim_code(state) + "v = victim_fn()")
    if state == "paused":
        eval_until(kernel, "v.state", lambda s: s == "sleeping")
        kernel.run("v.pause()")
    eval_until(kernel, "v.state", lambda s: s in SEEN_AS[state])
    kernel.pump(0.1)
    assert kernel.eval("v.state") in SEEN_AS[state]
    assert kernel.eval("v.stop()") is True
    assert kernel.eval("(v.wait(10), v.state, v.stopped())") == (True, "stopped", True)
    assert kernel.eval("v.stop()") is False  # already ended
    b = kernel.run("v.result()", ok=False)
    assert error_names(kernel, b) == ["StoppedError"]
    job_lines(kernel, a, "V start\nV finally\n", since, "V ")
    assert not kernel.errors(a), "a stop is not an error"
    kernel.run("vblocker.stop(); vblocker.wait(5)")
    if state == "offload":  # the call in the worker finishes there, and is dropped
        kernel.run("print(igogo.offload(os.getpid) != os.getpid())")
    witness.check()


def test_stop_a_pending_job_it_never_runs(kernel: KernelDriver, witness: Witness) -> None:
    since = len(kernel.messages)
    a = kernel.run(victim_code("sleeping") + "v = victim_fn()\nprint(v.state, v.stop(), v.state)")
    assert kernel.stdout(a) == "pending True pending\n"  # ended at its first switch point
    assert kernel.eval("(v.wait(10), v.state, v._greenlet)") == (True, "stopped", None)
    kernel.pump(0.2)
    assert "V " not in kernel.stdout(a) and not stray(kernel, "V ", a, since)
    kernel.run("vblocker.stop(); vblocker.wait(5)")
    witness.check()


def test_stop_a_job_that_is_done_changes_nothing(kernel: KernelDriver, witness: Witness) -> None:
    a = kernel.run(
        "@igogo.job\ndef quick():\n    print('Q ran')\n    return 7\nqj = quick()\nqj.wait(10)"
    )
    assert kernel.eval("(qj.stop(), qj.state, qj.result(), qj.stopped())") == (
        False,
        "done",
        7,
        False,
    )
    assert kernel.stdout(a) == "Q ran\n"
    witness.check()


def test_a_job_that_swallows_stop_is_stopped_again_at_its_next_switch(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def stubborn():\n"
        "    try:\n"
        "        igogo.sleep(1000)\n"
        "    except igogo.Stop:\n"
        "        print('S swallowed')\n"
        "    while True:\n"
        "        igogo.sleep(0.01)  # the stop is raised again here\n"
        "        print('S never here')\n"
        "sb = stubborn()"
    )
    eval_until(kernel, "sb.state", lambda s: s == "sleeping")
    kernel.run("sb.stop()")
    assert kernel.eval("(sb.wait(10), sb.state)") == (True, "stopped")
    job_lines(kernel, a, "S swallowed\n", since, "S ")
    witness.check()


# == 2. exceptions in a job, its finally, a callback, a hook, a child =========================


def test_an_exception_in_a_job_fails_it_and_shows_in_its_cell(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def fails():\n"
        "    print('F before')\n"
        "    igogo.sleep(0.1)\n"
        "    raise ValueError('F-boom')\n"
        "fj = fails()"
    )
    wait_for(kernel, lambda: kernel.errors(a), "the job's traceback")
    (err,) = kernel.errors(a)
    assert (err["ename"], err["evalue"]) == ("ValueError", "F-boom")
    assert kernel.eval("(fj.state, repr(fj.exception()))") == ("failed", "ValueError('F-boom')")
    job_lines(kernel, a, "F before\n", since, "F ")
    assert not stray(kernel, "F-boom", a, since)
    witness.check()


def test_an_exception_in_finally_while_stopping_fails_the_job_with_it(
    kernel: KernelDriver, witness: Witness
) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def bad_finally():\n"
        "    try:\n"
        "        igogo.sleep(1000)\n"
        "    finally:\n"
        "        print('BF finally')\n"
        "        raise RuntimeError('BF-in-finally')\n"
        "bf = bad_finally()"
    )
    eval_until(kernel, "bf.state", lambda s: s == "sleeping")
    kernel.run("bf.stop()")
    assert kernel.eval("(bf.wait(10), bf.state, repr(bf.exception()))") == (
        True,
        "failed",
        "RuntimeError('BF-in-finally')",
    )
    assert kernel.eval("type(bf.exception().__context__).__name__") == "Stop"
    wait_for(kernel, lambda: kernel.errors(a), "the traceback")
    assert error_names(kernel, a) == ["RuntimeError"]
    assert kernel.stdout(a) == "BF finally\n"
    witness.check()


def test_an_exception_in_finally_after_an_error_keeps_both(
    kernel: KernelDriver, witness: Witness
) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def twice():\n"
        "    try:\n"
        "        igogo.sleep(0.05)\n"
        "        raise KeyError('first')\n"
        "    finally:\n"
        "        raise OSError('second')\n"
        "tw = twice()"
    )
    assert kernel.eval("(tw.wait(10), tw.state, repr(tw.exception()))") == (
        True,
        "failed",
        "OSError('second')",
    )
    assert kernel.eval("repr(tw.exception().__context__)") == "KeyError('first')"
    wait_for(kernel, lambda: kernel.errors(a), "the traceback")
    tb = tb_text(kernel.errors(a)[0])
    assert "KeyError" in tb and "OSError" in tb
    witness.check()


def test_an_exception_in_a_done_callback_is_isolated(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "cb_seen = []\n"
        "@igogo.job\n"
        "def with_callbacks():\n"
        "    igogo.sleep(0.1)\n"
        "    return 5\n"
        "cj = with_callbacks()\n"
        "cj.add_done_callback(lambda j: 1 / 0)\n"
        "cj.add_done_callback(lambda j: cb_seen.append(j.result()))"
    )
    b = kernel.run("cj.wait(10)")  # it ends while this other cell waits for it
    assert kernel.eval("(cj.state, cj.result())") == ("done", 5)
    assert eval_until(kernel, "cb_seen", bool) == [5]
    # The callback's error is logged in the registering cell, never raised into the job.
    wait_for(kernel, lambda: "ZeroDivisionError" in kernel.stdout(a, "stderr"), "the log", 10)
    assert not kernel.errors(a) and not kernel.errors(b)
    assert not stray(kernel, "ZeroDivisionError", a, since)
    witness.check()


@pytest.mark.parametrize("event", ["job_started", "switched_in", "switched_out", "job_finished"])
def test_an_exception_in_a_hook_disables_only_that_hook(
    kernel: KernelDriver, witness: Witness, event: str
) -> None:
    since = len(kernel.messages)
    kernel.run(
        "class BadHook:\n"
        "    calls = 0\n"
        f"    def {event}(self, job):\n"
        "        BadHook.calls += 1\n"
        "        raise RuntimeError('hook-boom')\n"
        "bad_hook = BadHook()\n"
        "igogo.add_hook(bad_hook)"
    )
    a = kernel.run(
        "@igogo.job\n"
        "def hooked():\n"
        "    for i in range(3):\n"
        "        print('H', i)\n"
        "        igogo.sleep(0.01)\n"
        "    return 'H done'\n"
        "hj = hooked()"
    )
    assert kernel.eval("(hj.wait(10), hj.state, hj.result())") == (True, "done", "H done")
    assert kernel.eval("bad_hook in igogo.lowlevel.hooks()") is False
    assert kernel.eval("BadHook.calls") == 1
    # The host's own hook is still there: output keeps going to the right cells.
    assert kernel.eval("igogo.lowlevel.current_host() in igogo.lowlevel.hooks()") is True
    job_lines(kernel, a, "H 0\nH 1\nH 2\n", since, "H ")
    assert not kernel.errors(a)
    witness.check()


def test_an_exception_in_a_child_job_reaches_the_parent_that_waits(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def kid():\n"
        "    print('K kid')\n"
        "    igogo.sleep(0.05)\n"
        "    raise LookupError('K-kid-failed')\n"
        "@igogo.job\n"
        "def parent():\n"
        "    global kid_job\n"
        "    kid_job = kid()\n"
        "    print('K parent waits')\n"
        "    return kid_job.result()\n"
        "pj = parent()"
    )
    assert kernel.eval("(pj.wait(10), pj.state, repr(pj.exception()))") == (
        True,
        "failed",
        "LookupError('K-kid-failed')",
    )
    assert kernel.eval("(kid_job.state, kid_job.exception() is pj.exception())") == (
        "failed",
        True,
    )
    wait_for(kernel, lambda: len(kernel.errors(a)) == 2, "both tracebacks in the parent's cell")
    assert error_names(kernel, a) == ["LookupError", "LookupError"]
    job_lines(kernel, a, "K parent waits\nK kid\n", since, "K ")
    witness.check()


# == 3. interrupts ============================================================================


def test_interrupt_while_idle_changes_nothing(kernel: KernelDriver, witness: Witness) -> None:
    a = kernel.run("@igogo.job\ndef napper():\n    igogo.sleep(1000)\nnp_ = napper()")
    for _ in range(3):
        kernel.interrupt()
        kernel.pump(0.2)
    assert kernel.eval("np_.state") == "sleeping"
    assert not kernel.errors(a)
    kernel.run("np_.stop(); np_.wait(5)")
    witness.check()


def test_interrupt_while_a_cell_is_busy_lands_in_that_cell(
    kernel: KernelDriver, witness: Witness
) -> None:
    b = kernel.send("print('busy'); time.sleep(30)")
    kernel.wait_until(lambda: b.busy_at is not None)
    kernel.pump(0.3)
    kernel.interrupt()
    kernel.finish(b, timeout=20)
    assert b.status == "error" and error_names(kernel, b) == ["KeyboardInterrupt"]
    assert not kernel.errors(witness.cell)
    witness.check()


def test_interrupt_while_a_cell_waits_for_a_job_ends_the_wait_only(
    kernel: KernelDriver, witness: Witness
) -> None:
    kernel.run(
        "@igogo.job\ndef spinner():\n    while True:\n        igogo.yielder()\nsp = spinner()"
    )
    b = kernel.send("sp.result()")
    kernel.wait_until(lambda: b.busy_at is not None)
    kernel.pump(0.3)
    kernel.interrupt()
    kernel.finish(b, timeout=20)
    assert error_names(kernel, b) == ["KeyboardInterrupt"]
    assert kernel.eval("sp.state") == "running"
    kernel.run("sp.stop(); sp.wait(5)")
    witness.check()


def test_interrupt_while_idle_fails_the_job_that_holds_the_cpu(
    kernel: KernelDriver, witness: Witness
) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def hog():\n"
        "    igogo.sleep(0.1)\n"
        "    while True:  # never yields\n"
        "        pass\n"
        "hg = hog()"
    )
    kernel.pump(0.5)
    c = kernel.send("print('after', hg.state)")
    kernel.pump(0.3)
    kernel.interrupt()
    kernel.finish(c, timeout=20)
    assert kernel.stdout(c) == "after failed\n"
    wait_for(kernel, lambda: kernel.errors(a), "the hog's traceback")
    assert error_names(kernel, a) == ["KeyboardInterrupt"]
    assert kernel.eval("repr(hg.exception())") == "KeyboardInterrupt()"
    witness.check()


def test_interrupt_while_a_job_is_ending_completes_its_ending(
    kernel: KernelDriver, witness: Witness
) -> None:
    """Issue 12, item 2: a done callback that sleeps, and the kernel interrupted meanwhile."""
    b = kernel.send(
        "ending_seen = []\n"
        "@igogo.job\n"
        "def ending():\n"
        "    igogo.sleep(0.3)\n"
        "    return 42\n"
        "ej = ending()\n"
        "ej.add_done_callback(lambda j: time.sleep(2))\n"
        "ej.add_done_callback(lambda j: ending_seen.append('second'))\n"
        "threading.Thread(target=lambda: ending_seen.append(ej.result()), daemon=True).start()\n"
        "ej.wait()"
    )
    kernel.wait_until(lambda: b.busy_at is not None)
    kernel.pump(1.0)  # in the first callback's sleep
    kernel.interrupt()
    kernel.finish(b, timeout=20)
    assert kernel.eval("(ej.state, ej.result(), ej._finished.is_set())") == ("done", 42, True)
    assert sorted(eval_until(kernel, "ending_seen", lambda s: len(s) == 2), key=str) == [
        42,
        "second",
    ]
    witness.check()


def test_interrupt_while_a_failing_job_is_ending_wakes_the_job_waiting_for_it(
    kernel: KernelDriver, witness: Witness
) -> None:
    b = kernel.send(
        "@igogo.job\n"
        "def ending_badly():\n"
        "    igogo.sleep(0.3)\n"
        "    raise ValueError('EB')\n"
        "@igogo.job\n"
        "def waits_for_it(j):\n"
        "    try:\n"
        "        j.result()\n"
        "    except ValueError as e:\n"
        "        return f'saw {e}'\n"
        "eb = ending_badly()\n"
        "eb.add_done_callback(lambda j: time.sleep(2))\n"
        "ew = waits_for_it(eb)\n"
        "eb.wait()"
    )
    kernel.wait_until(lambda: b.busy_at is not None)
    kernel.pump(1.0)
    kernel.interrupt()
    kernel.finish(b, timeout=20)
    assert kernel.eval("(eb.state, ew.wait(10), ew.state, ew.result())") == (
        "failed",
        True,
        "done",
        "saw EB",
    )
    witness.check()


# == 4. SystemExit, GeneratorExit, GreenletExit, KeyboardInterrupt raised in jobs ============


@pytest.mark.parametrize(
    ("raise_", "name"),
    [
        ("sys.exit(3)", "SystemExit"),
        ("raise GeneratorExit('ge')", "GeneratorExit"),
        ("raise KeyboardInterrupt('ki')", "KeyboardInterrupt"),
        ("raise __import__('greenlet').GreenletExit('gx')", "GreenletExit"),
    ],
    ids=["SystemExit", "GeneratorExit", "KeyboardInterrupt", "GreenletExit"],
)
def test_base_exceptions_raised_in_a_job_fail_it_and_the_kernel_lives(
    kernel: KernelDriver, witness: Witness, raise_: str, name: str
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def exits():\n"
        "    print('X before')\n"
        "    igogo.sleep(0.05)\n"
        f"    {raise_}\n"
        "    print('X never')\n"
        "xj = exits()"
    )
    assert kernel.eval("(xj.wait(10), xj.state, type(xj.exception()).__name__)") == (
        True,
        "failed",
        name,
    )
    wait_for(kernel, lambda: kernel.errors(a), "the traceback")
    assert error_names(kernel, a) == [name]
    job_lines(kernel, a, "X before\n", since, "X ")
    assert kernel.is_alive()
    witness.check()


# == 5. the extension unloaded and reloaded while jobs run; a running job's cell re-run ======

RERUN_BODY = (
    "def rerun_body(stop_after):\n"
    "    me = igogo.current_job()\n"
    "    for i in range(stop_after):\n"
    "        print(f'R{me.id}:{i}')\n"
    "        igogo.sleep(0.02)\n"
    "    return me.id\n"
)


def test_unload_and_reload_the_extension_while_jobs_run(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    kernel.run(RERUN_BODY)
    a = kernel.run("%%igogo --name magic-job\nrerun_body(40)")
    try:
        kernel.run("%unload_ext igogo")
        gone = kernel.run("%%igogo\nprint('should not run')", ok=False)
        assert gone.status == "error" and "should not run" not in kernel.stdout(gone)
        kernel.run("%load_ext igogo")
        b = kernel.run("%%igogo --name again\nrerun_body(5)")
        kernel.run("%reload_ext igogo")
        c = kernel.run("%%igogo --name reloaded\nrerun_body(5)")
        ids = kernel.eval(
            "[j.id for j in igogo.jobs() if j.name in ('magic-job', 'again', 'reloaded')][-3:]"
        )
        assert kernel.eval(f"igogo.wait(*[j for j in igogo.jobs() if j.id in {ids!r}], timeout=20)")
        assert kernel.eval(f"[j.state for j in igogo.jobs() if j.id in {ids!r}]") == ["done"] * 3
        for ex, job_id, n in zip((a, b, c), ids, (40, 5, 5), strict=True):
            expected = "".join(f"R{job_id}:{i}\n" for i in range(n))
            job_lines(kernel, ex, expected, since, f"R{job_id}:")
    finally:
        kernel.run("%load_ext igogo")  # idempotent
    witness.check()


def test_rerunning_a_running_jobs_cell_starts_a_second_job_beside_it(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    kernel.run(RERUN_BODY)
    cell = "%%igogo\nrerun_body(10**9)"
    a = kernel.run(cell)
    kernel.pump(0.2)
    b = kernel.run(cell)
    jobs = kernel.eval(
        "[(j.id, j.state) for j in igogo.jobs() if j.name.startswith('cell [')][-2:]"
    )
    (id_a, _), (id_b, _) = jobs
    assert id_a != id_b and all(s in ("running", "sleeping", "pending") for _, s in jobs)
    advanced(kernel, "len([ln for ln in igogo.jobs()[-1].output.splitlines()])", 3)
    kernel.run(
        f"for j in igogo.jobs():\n    if j.id in ({id_a}, {id_b}):\n        j.stop(); j.wait(5)"
    )
    for ex, job_id in ((a, id_a), (b, id_b)):
        wait_for(kernel, lambda ex=ex: kernel.stdout(ex), "output")
        kernel.pump(0.3)
        lines = kernel.stdout(ex).splitlines()
        assert lines == [f"R{job_id}:{i}" for i in range(len(lines))], "lost or foreign lines"
        assert not stray(kernel, f"R{job_id}:", ex, since)
    assert kernel.eval(f"[j.state for j in igogo.jobs() if j.id in ({id_a}, {id_b})]") == [
        "stopped",
        "stopped",
    ]
    witness.check()


# == 6. churn and memory ======================================================================

CHURN = """\
@igogo.job
def churn_one(i):
    igogo.sleep(0)
    if i % 10 == 0:
        raise ValueError(i)  # some fail: their tracebacks must not pin anything either
    return bytes(2000)
def churn(n=1000):
    jobs = [churn_one(i) for i in range(n)]
    igogo.wait(*jobs, timeout=120)
    states = {j.state for j in jobs}
    del jobs
    return states
"""


def test_1000_job_churn_gives_memory_back(kernel: KernelDriver, witness: Witness) -> None:
    kernel.run(CHURN)
    first = kernel.run("print(sorted(churn()))", timeout=180)  # warm-up: rows, tables, caches
    assert kernel.stdout(first) == "['done', 'failed']\n"
    base = kernel.eval("(rss_mb(), live_objects(igogo.Job))")
    for _ in range(3):
        kernel.run("churn()", timeout=180)
    after = kernel.eval("(rss_mb(), live_objects(igogo.Job))")
    print(f"RSS {base[0]:.1f} MB -> {after[0]:.1f} MB; Job objects {base[1]} -> {after[1]}")
    assert after[0] <= base[0] + 15, f"RSS grew from {base[0]:.1f} to {after[0]:.1f} MB"
    # What igogo keeps of finished jobs is bounded: the history, and the rows of finished jobs.
    kept = kernel.eval(
        "len(igogo.jobs()) + __import__('igogo_jupyter._board')._board.KEEP_FINISHED"
    )
    assert after[1] <= kept + 10, f"{after[1]} Job objects alive, at most {kept} are kept"
    witness.check()


MEMORY_HOG = """\
@igogo.job
def holds_memory(mb, fail):
    block = b'\\x01' * (mb * 2**20)
    igogo.sleep(0.05)
    if fail:
        raise MemoryError(f'held {{len(block)}} bytes')
    return len(block)
"""


@pytest.mark.parametrize("fail", [False, True], ids=["done", "failed"])
def test_a_dropped_job_gives_its_memory_back(
    kernel: KernelDriver, witness: Witness, fail: bool
) -> None:
    """Issue 12, item 8: what igogo keeps for display must not pin a finished job's frames."""
    kernel.run(MEMORY_HOG.format())
    kernel.run(f"mj = holds_memory(1, {fail}); mj.wait(10); del mj")  # warm-up
    base = kernel.eval("rss_mb()")
    kernel.run(f"mj = holds_memory(300, {fail}); mj.wait(30)")
    assert kernel.eval("mj.state") == ("failed" if fail else "done")
    kernel.run("del mj")
    kernel.run(f"mj = holds_memory(1, {fail}); mj.wait(10); del mj")  # a newer error, too
    after = kernel.eval("rss_mb()")
    print(f"RSS {base:.1f} MB -> {after:.1f} MB")
    assert after <= base + 10, f"RSS {after:.1f} MB, {after - base:.1f} MB above the baseline"
    witness.check()


# == 7. output: volume, huge lines, odd characters ============================================


def test_100000_lines_arrive_in_order_in_the_jobs_cell(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def flood():\n"
        "    for i in range(100_000):\n"
        "        print('L', i)\n"
        "        igogo.yielder()\n"
        "fl = flood()"
    )
    b = kernel.run("print('cell while flooding'); igogo.sleep(0.2); print('cell end')")
    assert kernel.stdout(b) == "cell while flooding\ncell end\n"
    assert kernel.eval("(fl.wait(120), fl.state)", timeout=150) == (True, "done")
    expected = "".join(f"L {i}\n" for i in range(100_000))
    wait_for(kernel, lambda: len(kernel.stdout(a)) >= len(expected), "100,000 lines", 120)
    kernel.pump(0.3)
    got = kernel.stdout(a)
    assert got == expected, diff(got, expected)
    assert not stray(kernel, '"L 1', a, since)
    witness.check()


def test_a_1_mb_line_arrives_whole(kernel: KernelDriver, witness: Witness) -> None:
    a = kernel.run(
        "@igogo.job\n"
        "def big_line():\n"
        "    igogo.sleep(0.05)\n"
        "    print('B' * 1_000_000)\n"
        "    print('B after')\n"
        "bl = big_line()"
    )
    assert kernel.eval("(bl.wait(20), bl.state)") == (True, "done")
    expected = "B" * 1_000_000 + "\nB after\n"
    wait_for(kernel, lambda: len(kernel.stdout(a)) >= len(expected), "the 1 MB line")
    assert kernel.stdout(a) == expected
    assert kernel.eval("bl.output.splitlines()[-1]") == "B after"
    witness.check()


CONTROL = "\\x00\\x01\\x07\\x08\\x0b\\x0c\\x1b[31mred\\x1b[0m\\x7f\\u2028\\ufeff tab\\tend"


def test_control_characters_arrive_as_printed(kernel: KernelDriver, witness: Witness) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def controls():\n"
        "    igogo.sleep(0.05)\n"
        f"    print('C1 {CONTROL}')\n"
        "    print('C2 half-line\\rC2 overwritten', end='')\n"
        "    print('\\nC3 last', file=sys.stderr)\n"
        "cc = controls()"
    )
    assert kernel.eval("(cc.wait(10), cc.state)") == (True, "done")
    expected = "C1 " + CONTROL.encode().decode("unicode_escape") + "\n"
    expected += "C2 half-line\rC2 overwritten"
    wait_for(kernel, lambda: kernel.stdout(a, "stderr"), "stderr")
    job_lines(kernel, a, expected, since, "C1 ")
    assert kernel.stdout(a, "stderr") == "\nC3 last\n"
    witness.check()


def test_a_lone_surrogate_does_not_break_output(solo: KernelDriver, witness: Witness) -> None:
    k = solo
    since = len(k.messages)
    a = k.run(
        "@igogo.job\n"
        "def surrogate():\n"
        "    igogo.sleep(0.05)\n"
        "    print('S1 before')\n"
        "    igogo.sleep(0.1)\n"
        "    print('S2 \\ud800 lone')\n"
        "    igogo.sleep(0.1)\n"
        "    print('S3 after')\n"
        "sg = surrogate()"
    )
    assert k.eval("(sg.wait(10), sg.state)") == (True, "done")
    k.pump(0.5)
    hooked = k.eval("igogo.lowlevel.current_host() in igogo.lowlevel.hooks()")
    b = k.run("@igogo.job\ndef later():\n    print('S later')\nlt = later(); lt.wait(5)")
    wait_for(k, lambda: "S later" in k.stdout(b), "a later job's output")
    assert k.eval("lt.output") == "S later\n"
    text = k.stdout(a)
    assert "S1 before\n" in text and "S3 after\n" in text
    assert "S2 \\ud800 lone\n" in text  # escaped, as UTF-8 can carry it
    assert not stray(k, "S1 ", a, since)
    assert hooked, "the host's hook was removed"
    witness.check()


# == 8. workers: a killed loky worker, a killed Dask worker, an executor shut down ============

PID_FILES = """\
import tempfile
pid_dir = tempfile.mkdtemp()
def record_pid_and_sleep(x, seconds=1.5):
    import os, time
    open(os.path.join(pid_dir, f'{x}-{os.getpid()}'), 'w').close()
    time.sleep(seconds)
    return x * 10
def worker_pids():
    return sorted({int(n.split('-')[1]) for n in os.listdir(pid_dir)})
"""


def kill_a_worker(k: KernelDriver) -> int:
    pids = eval_until(k, "worker_pids()", bool)
    pid = pids[0]  # type: ignore[index]
    k.run(f"os.kill({pid}, signal.SIGKILL)")
    return int(pid)


def test_a_killed_loky_worker_fails_the_offload_with_worker_died(
    kernel: KernelDriver, witness: Witness
) -> None:
    kernel.run(PID_FILES)
    a = kernel.run(
        "@igogo.job\n"
        "def offloads():\n"
        "    try:\n"
        "        return igogo.offload(record_pid_and_sleep, 1, 30)\n"
        "    finally:\n"
        "        print('O finally')\n"
        "oj = offloads()"
    )
    kill_a_worker(kernel)
    assert kernel.eval("(oj.wait(60), oj.state, type(oj.exception()).__name__)") == (
        True,
        "failed",
        "WorkerDiedError",
    )
    assert "O finally" in kernel.stdout(a)
    wait_for(kernel, lambda: kernel.errors(a), "the traceback")
    assert error_names(kernel, a) == ["WorkerDiedError"]
    # The pool is replaced: the next call works.
    assert kernel.eval("igogo.offload(record_pid_and_sleep, 2, 0)", timeout=90) == 20
    witness.check()


def test_a_killed_loky_worker_under_a_map_is_retried(
    kernel: KernelDriver, witness: Witness
) -> None:
    kernel.run(PID_FILES)
    a = kernel.run("mp = igogo.map(record_pid_and_sleep, range(6), retries=3, chunksize=1)")
    kill_a_worker(kernel)
    assert kernel.eval("(mp.wait(120), mp.state)", timeout=150) == (True, "done")
    assert kernel.eval("mp.results()") == [x * 10 for x in range(6)]
    assert kernel.eval("max(s.attempts for s in mp.status())") >= 2
    assert not kernel.errors(a)
    witness.check()


def test_a_killed_dask_worker_under_a_map(solo: KernelDriver, witness: Witness) -> None:
    k = solo
    k.run(PID_FILES)
    k.run(
        "from dask.distributed import LocalCluster, Client\n"
        "import logging; logging.getLogger('distributed').setLevel(logging.CRITICAL)\n"
        "cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,\n"
        "                       dashboard_address=None, silence_logs=logging.CRITICAL)\n"
        "client = Client(cluster)",
        timeout=120,
    )
    try:
        a = k.run(
            "dm = igogo.map(record_pid_and_sleep, range(6), executor=client, retries=3,"
            " chunksize=1)"
        )
        kill_a_worker(k)
        assert k.eval("(dm.wait(120), dm.state)", timeout=150) == (True, "done")
        assert k.eval("dm.results()") == [x * 10 for x in range(6)]
        assert not k.errors(a)
        witness.check()
    finally:
        k.run("client.close(); cluster.close()", timeout=60, ok=False)


def test_an_executor_shut_down_under_a_map_ends_it_and_restart_finishes(
    kernel: KernelDriver, witness: Witness
) -> None:
    a = kernel.run(
        "def slow_square(x):\n"
        "    time.sleep(0.2)\n"
        "    return x * x\n"
        "import multiprocessing\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "def spawned_pool():\n"
        "    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('spawn'))\n"
        "pool = spawned_pool()\n"
        "sm = igogo.map(slow_square, range(20), executor=pool, chunksize=1)"
    )
    eval_until(kernel, "sum(s.state == 'ok' for s in sm.status())", lambda n: n >= 2)
    kernel.run("pool.shutdown(wait=False, cancel_futures=True)")
    assert kernel.eval("(sm.wait(30), sm.state)") == (True, "failed")
    assert kernel.eval("isinstance(sm.exception(), igogo.IgogoError)") is True
    assert kernel.eval("sum(s.state == 'ok' for s in sm.status())") < 20
    kernel.run("pool2 = spawned_pool(); sm2 = sm.restart(executor=pool2)")
    assert kernel.eval("sm2.results(60)", timeout=90) == [x * x for x in range(20)]
    kernel.run("pool2.shutdown()")
    wait_for(kernel, lambda: kernel.errors(a), "the map's error in its cell")
    witness.check()


def test_a_thread_pool_map_leaves_the_kernels_streams_alone(
    solo: KernelDriver, witness: Witness
) -> None:
    k = solo
    k.run(
        "real_streams = sys.stdout, sys.stderr\n"
        "def slow_square(x):\n"
        "    time.sleep(0.05)\n"
        "    return x * x\n"
        "tp = ThreadPoolExecutor(2)\n"
        "tm = igogo.map(slow_square, range(40), executor=tp, chunksize=1)"
    )
    assert k.eval("tm.results(60)") == [x * x for x in range(40)]
    assert k.eval("(sys.stdout, sys.stderr) == real_streams") is True
    ex = k.run("print('cell output')")
    assert k.stdout(ex) == "cell output\n"
    witness.check()


def test_offload_to_a_shut_down_executor_raises_broken_executor(
    kernel: KernelDriver, witness: Witness
) -> None:
    a = kernel.run(
        "dead = ThreadPoolExecutor(1); dead.shutdown()\n"
        "@igogo.job\n"
        "def to_dead():\n"
        "    return igogo.offload(abs, -1, executor=dead)\n"
        "td = to_dead()"
    )
    assert kernel.eval("(td.wait(10), td.state, type(td.exception()).__name__)") == (
        True,
        "failed",
        "BrokenExecutorError",
    )
    wait_for(kernel, lambda: kernel.errors(a), "the traceback")
    witness.check()


# == 9. timeouts in every state ===============================================================


@pytest.mark.parametrize("state", [s for s in BODIES if s != "paused"])
def test_timeout_in_every_state(kernel: KernelDriver, witness: Witness, state: str) -> None:
    since = len(kernel.messages)
    a = kernel.run(victim_code(state, ", timeout=0.5") + "v = victim_fn()")
    assert kernel.eval("(v.wait(20), v.state, v.stopped())") == (True, "timed out", True)
    b = kernel.run("v.result()", ok=False)
    assert error_names(kernel, b) == ["JobTimeoutError"]
    job_lines(kernel, a, "V start\nV finally\n", since, "V ")
    assert not kernel.errors(a)
    kernel.run("vblocker.stop(); vblocker.wait(5)")
    witness.check()


def test_timeout_of_a_pending_job_it_never_runs(kernel: KernelDriver, witness: Witness) -> None:
    a = kernel.run(victim_code("sleeping", ", timeout=0.2") + "v = victim_fn()\ntime.sleep(0.5)")
    assert kernel.eval("(v.wait(10), v.state, v._greenlet)") == (True, "timed out", None)
    kernel.pump(0.2)
    assert "V " not in kernel.stdout(a)
    kernel.run("vblocker.stop(); vblocker.wait(5)")
    witness.check()


def test_timeout_of_a_job_paused_from_outside(kernel: KernelDriver, witness: Witness) -> None:
    a = kernel.run(victim_code("paused", ", timeout=1.5") + "v = victim_fn()")
    eval_until(kernel, "v.state", lambda s: s == "sleeping")
    kernel.run("v.pause()")
    assert kernel.eval("(v.wait(20), v.state)") == (True, "timed out")
    assert kernel.stdout(a) == "V start\nV finally\n"
    kernel.run("vblocker.stop(); vblocker.wait(5)")
    witness.check()


def test_wait_timeouts_leave_the_waited_for_things_alone(
    kernel: KernelDriver, witness: Witness
) -> None:
    """Timeouts of waits, in a cell and in a job: the wait ends, what it waited for goes on."""
    kernel.run(
        "@igogo.job\ndef long_nap():\n    igogo.sleep(1000)\nln = long_nap()\n"
        "wq, we = igogo.Queue(), igogo.Event()"
    )
    b = kernel.run(
        "try:\n    ln.result(timeout=0.2)\n"
        "except TimeoutError as e:\n    print('T1', type(e).__name__)\n"
        "try:\n    wq.get(timeout=0.2)\nexcept queue.Empty:\n    print('T2 empty')\n"
        "print('T3', we.wait(timeout=0.2), igogo.wait(ln, timeout=0.2), igogo.wait_all(0.2))"
    )
    assert kernel.stdout(b) == "T1 TimeoutError\nT2 empty\nT3 False False False\n"
    kernel.run(
        "@igogo.job\n"
        "def waits_briefly():\n"
        "    out = []\n"
        "    try:\n        ln.result(timeout=0.2)\n"
        "    except TimeoutError:\n        out.append('r')\n"
        "    try:\n        wq.get(timeout=0.2)\n    except queue.Empty:\n        out.append('q')\n"
        "    out.append(we.wait(timeout=0.2))\n"
        "    out.append(ln.wait(0.2))\n"
        "    return out\n"
        "wb = waits_briefly()"
    )
    assert kernel.eval("wb.result(20)") == ["r", "q", False, False]
    assert kernel.eval("ln.state") == "sleeping"
    kernel.run("ln.stop(); ln.wait(5)")
    witness.check()


# == 10. jobs started from threads and from async cells =======================================


def test_jobs_started_from_threads_run_and_print_in_the_starting_cell(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def threaded(n):\n"
        "    igogo.sleep(0.01)\n"
        "    print('TH', n)\n"
        "    return n * 2\n"
        "thread_jobs = []\n"
        "def start(n):\n"
        "    thread_jobs.append(threaded(n))\n"
        "threads = [threading.Thread(target=start, args=(n,)) for n in range(8)]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
        "igogo.wait(*thread_jobs, timeout=20)"
    )
    assert sorted(kernel.eval("[j.result() for j in thread_jobs]")) == [n * 2 for n in range(8)]
    wait_for(kernel, lambda: kernel.stdout(a).count("TH") == 8, "8 lines")
    assert sorted(kernel.stdout(a).splitlines()) == [f"TH {n}" for n in range(8)]
    assert not stray(kernel, "TH ", a, since)
    witness.check()


def test_a_job_started_from_a_thread_after_its_cell_ended_prints_where_the_thread_does(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    kernel.run(
        "@igogo.job\n"
        "def late(n):\n"
        "    print('LT job', n)\n"
        "    return n\n"
        "late_jobs = []\n"
        "def later():\n"
        "    time.sleep(0.5)\n"
        "    print('LT thread')\n"
        "    late_jobs.append(late(1))\n"
        "threading.Thread(target=later).start()"
    )
    # The latest cell while the thread prints and starts its job (at 0.5 s); it outlasts
    # both, so that no evaluation of ours runs meanwhile and catches the thread's print.
    b = kernel.run("time.sleep(1.5)")
    eval_until(kernel, "late_jobs and late_jobs[0].done()", bool)
    assert kernel.eval("(late_jobs[0].state, late_jobs[0].result())") == ("done", 1)
    assert kernel.eval("late_jobs[0].output") == "LT job 1\n"

    # Where the kernel sends that thread's prints (on ipykernel 7: the request running then).
    def thread_line() -> list[dict]:
        return [
            m
            for m in kernel.messages[since:]
            if m["msg_type"] == "stream" and "LT thread" in m["content"]["text"]
        ]

    wait_for(kernel, thread_line, "the thread's own print")
    home_id = thread_line()[0]["parent_header"].get("msg_id")
    home = kernel.executions.get(home_id)
    assert home is not None, "the thread's print went to no cell of this test"
    wait_for(kernel, lambda: "LT job 1" in kernel.stdout(home), "the job's line beside it")
    lines = [ln for ln in kernel.stdout(home).splitlines() if ln.startswith("LT ")]
    assert lines == ["LT thread", "LT job 1"]
    assert not stray(kernel, "LT ", home, since)
    assert b.status == "ok"
    witness.check()


def test_jobs_started_and_awaited_in_async_cells(kernel: KernelDriver, witness: Witness) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def asy(n):\n"
        "    for i in range(3):\n"
        "        print(f'AS{n}:{i}')\n"
        "        igogo.sleep(0.02)\n"
        "    return n\n"
        "await asyncio.sleep(0.05)\n"
        "aj = asy(1)\n"
        "r1 = await aj\n"
        "r2 = await asyncio.gather(asy(2), asyncio.sleep(0.1))\n"
        "print('AS results', r1, r2[0])"
    )
    assert kernel.stdout(a) == (
        "AS1:0\nAS1:1\nAS1:2\nAS2:0\nAS2:1\nAS2:2\nAS results 1 2\n"
    ) or sorted(kernel.stdout(a).splitlines()) == sorted(
        ["AS1:0", "AS1:1", "AS1:2", "AS2:0", "AS2:1", "AS2:2", "AS results 1 2"]
    )
    assert not stray(kernel, "AS", a, since)
    witness.check()


def test_a_job_started_by_a_task_that_outlives_its_async_cell(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def asy3():\n"
        "    for i in range(3):\n"
        "        print(f'AS3:{i}')\n"
        "        igogo.sleep(0.02)\n"
        "    return 3\n"
        "async def later_start():\n"
        "    await asyncio.sleep(0.4)\n"
        "    j = asy3()\n"
        "    return await j\n"
        "task = asyncio.ensure_future(later_start())\n"
        "await asyncio.sleep(0)"
    )
    kernel.run("time.sleep(0.01)")  # another cell runs meanwhile
    assert eval_until(kernel, "task.done() and task.result()", bool) == 3
    job_lines(kernel, a, "AS3:0\nAS3:1\nAS3:2\n", since, "AS3:")
    witness.check()


def test_a_job_started_in_a_done_callback_prints_in_the_registering_cell(
    kernel: KernelDriver, witness: Witness
) -> None:
    since = len(kernel.messages)
    a = kernel.run(
        "@igogo.job\n"
        "def first():\n"
        "    igogo.sleep(0.3)\n"
        "@igogo.job\n"
        "def follow_up():\n"
        "    print('FU follow-up')\n"
        "follow = []\n"
        "fj1 = first()\n"
        "fj1.add_done_callback(lambda j: (print('FU callback'), follow.append(follow_up())))"
    )
    kernel.run("time.sleep(0.01)")  # the latest cell when the callback runs
    eval_until(kernel, "follow and follow[0].done()", bool)
    job_lines(kernel, a, "FU callback\nFU follow-up\n", since, "FU ")
    witness.check()


# == 11. an exception that cannot be printed ==================================================


def test_an_unprintable_exception_beside_a_live_job(solo: KernelDriver, witness: Witness) -> None:
    k = solo
    since = len(k.messages)
    k.run(
        "class Unprintable(Exception):\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('str-failed')\n"
        "@igogo.job\n"
        "def other_alive():\n"
        "    igogo.sleep(1000)\n"
        "oa = other_alive()"
    )
    a = k.run(
        "@igogo.job\n"
        "def unprintable():\n"
        "    print('U before')\n"
        "    igogo.sleep(0.05)\n"
        "    raise Unprintable()\n"
        "uj = unprintable()"
    )
    assert k.eval("(uj.wait(10), uj.state, type(uj.exception()).__name__)") == (
        True,
        "failed",
        "Unprintable",
    )
    k.pump(0.3)
    # Later jobs' output, their rows and the job table keep working.
    b = k.run(
        "@igogo.job\ndef after_u():\n    print('U later')\n    return 1\nau = after_u(); au.wait(5)"
    )
    wait_for(k, lambda: "U later" in k.stdout(b), "a later job's output")
    assert k.eval("(au.state, au.output)") == ("done", "U later\n")
    assert k.eval("igogo.lowlevel.current_host() in igogo.lowlevel.hooks()") is True
    table = k.run("igogo.jobs()")
    assert table.status == "ok" and "Unprintable" in repr(k.outputs(table, widgets=True))
    k.run("print(repr(igogo.jobs()))")
    row_state = k.eval(
        "__import__('igogo_jupyter._board', fromlist=['x']).controls_for(au).info.value"
    )
    assert "done" in row_state
    # Its traceback, in its own cell.
    wait_for(k, lambda: k.errors(a), "the unprintable exception's traceback", 10)
    assert error_names(k, a) == ["Unprintable"]
    assert "unprintable" in tb_text(k.errors(a)[0]).lower()
    assert k.stdout(a) == "U before\n"
    assert not stray(k, "U before", a, since)
    k.run("oa.stop(); oa.wait(5)")
    witness.check()
