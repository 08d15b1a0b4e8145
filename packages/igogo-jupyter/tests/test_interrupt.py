"""The kernel's interrupt (SIGINT, ``interrupt_mode`` "signal") with jobs around.

What a cell sees of SIGINT is not what the idle kernel has: ipykernel installs
Python's default handler while it handles a request and ``SIG_IGN`` while
idle, and igogo puts its own handler in place only during its ticks.  So the
idle handler is read from a loop callback that runs between cells and outside
any tick.
"""

from __future__ import annotations

import time

from igogo_jupyter.testing import KernelDriver

TICKER = (
    "@igogo.job\n"
    "def ticker():\n"
    "    global ticks\n"
    "    ticks = 0\n"
    "    while True:\n"
    "        ticks += 1\n"
    "        igogo.sleep(0.01)\n"
    "tk = ticker()"
)

IDLE_HANDLER = (
    "idle_handlers = []\n"
    "get_ipython().kernel.io_loop.asyncio_loop.call_later(\n"
    "    0.2, lambda: idle_handlers.append(repr(signal.getsignal(signal.SIGINT))))"
)


def idle_sigint_handler(kernel: KernelDriver) -> str:
    """The SIGINT handler while the kernel is idle (read outside cells and ticks)."""
    kernel.run(IDLE_HANDLER)
    kernel.pump(0.4)  # no cell runs meanwhile
    (handler,) = kernel.eval("idle_handlers")
    return handler


def ticks_advance(kernel: KernelDriver) -> bool:
    before = kernel.eval("ticks")
    kernel.run("igogo.sleep(0.1)")
    return kernel.eval("ticks") > before


def test_idle_kernel_ignores_sigint_before_any_job(kernel: KernelDriver) -> None:
    assert idle_sigint_handler(kernel) == "<Handlers.SIG_IGN: 1>"
    assert kernel.eval("repr(signal.getsignal(signal.SIGINT))") == (
        "<built-in function default_int_handler>"
    )


def test_interrupt_while_a_normal_cell_runs_interrupts_that_cell_only(
    kernel: KernelDriver,
) -> None:
    a = kernel.run(TICKER)
    b = kernel.send("time.sleep(10)")
    kernel.wait_until(lambda: b.busy_at is not None)
    time.sleep(0.3)
    kernel.interrupt()
    kernel.finish(b, timeout=10)
    assert b.status == "error"
    assert [e["ename"] for e in kernel.errors(b)] == ["KeyboardInterrupt"]
    assert not kernel.errors(a)
    assert kernel.eval("tk.done()") is False
    assert ticks_advance(kernel)
    kernel.run("tk.stop()")


def test_interrupt_while_a_cell_waits_for_a_job_interrupts_the_cell(kernel: KernelDriver) -> None:
    """A cell in ``job.result()`` while the job spins: the wait is interrupted, the job is not."""
    a = kernel.run(
        "@igogo.job\n"
        "def spin_forever():\n"
        "    while True:\n"
        "        igogo.yielder()\n"
        "sf = spin_forever()"
    )
    b = kernel.send("sf.result()")
    kernel.wait_until(lambda: b.busy_at is not None)
    time.sleep(0.3)
    kernel.interrupt()
    kernel.finish(b, timeout=10)
    assert [e["ename"] for e in kernel.errors(b)] == ["KeyboardInterrupt"]
    assert not kernel.errors(a)
    assert kernel.eval("sf.state") == "running"
    kernel.run("sf.stop(); sf.wait(2)")


def test_interrupt_while_idle_stops_the_job_holding_the_cpu(kernel: KernelDriver) -> None:
    a = kernel.run(TICKER)
    b = kernel.run(
        "@igogo.job\n"
        "def hog():\n"
        "    x = 0\n"
        "    igogo.sleep(0.05)  # its first step ends here: its cell ends, the kernel is idle\n"
        "    while True:  # never yields\n"
        "        x += 1\n"
        "hg = hog()"
    )
    time.sleep(0.3)
    # The hog holds the kernel: a new cell cannot start until the interrupt.
    c = kernel.send("print('after the interrupt', hg.state)")
    kernel.pump(0.3)
    assert c.busy_at is None
    kernel.interrupt()
    kernel.finish(c, timeout=10)
    assert kernel.stdout(c) == "after the interrupt failed\n"

    kernel.wait_until(lambda: kernel.errors(b), timeout=5)
    assert [e["ename"] for e in kernel.errors(b)] == ["KeyboardInterrupt"]  # in ITS cell
    assert not kernel.errors(a) and not kernel.errors(c)
    assert kernel.eval("(hg.state, repr(hg.exception()), tk.done())") == (
        "failed",
        "KeyboardInterrupt()",
        False,
    )
    assert ticks_advance(kernel)  # the other job kept running
    assert kernel.is_alive()
    # While jobs still exist, and after they are gone, the idle kernel ignores SIGINT again.
    assert idle_sigint_handler(kernel) == "<Handlers.SIG_IGN: 1>"
    kernel.run("tk.stop(); tk.wait(2)")
    assert idle_sigint_handler(kernel) == "<Handlers.SIG_IGN: 1>"
    assert kernel.eval("repr(signal.getsignal(signal.SIGINT))") == (
        "<built-in function default_int_handler>"
    )


def test_a_job_that_never_yields_from_its_start_keeps_its_cell_until_interrupted(
    kernel: KernelDriver,
) -> None:
    """A new job takes its first step as the cell that started it ends: a job with no
    switch point at all holds that cell, and an interrupt lands in the job."""
    a = kernel.run(TICKER)
    b = kernel.send(
        "@igogo.job\n"
        "def hog_from_start():\n"
        "    while True:  # never yields\n"
        "        pass\n"
        "hs = hog_from_start()"
    )
    c = kernel.send("print('after the interrupt', hs.state)")
    kernel.wait_until(lambda: b.busy_at is not None)
    kernel.pump(0.3)
    assert b.idle_at is None
    kernel.interrupt()
    kernel.finish(b, timeout=10)
    kernel.finish(c, timeout=10)
    assert b.status == "ok"  # the cell's own code ran to its end; the job failed
    assert [e["ename"] for e in kernel.errors(b)] == ["KeyboardInterrupt"]
    assert kernel.stdout(c) == "after the interrupt failed\n"
    assert not kernel.errors(a) and not kernel.errors(c)
    assert ticks_advance(kernel)
    kernel.run("tk.stop()")
    assert idle_sigint_handler(kernel) == "<Handlers.SIG_IGN: 1>"


def test_interrupts_while_a_cell_waits_beside_a_job_that_never_yields(
    kernel: KernelDriver,
) -> None:
    """Two interrupts, two intents: the first is for the waiting cell, which gets it when the
    job holding the CPU yields; a job that never yields gets the second, and the cell then
    ends with the first.  The other jobs carry on."""
    a = kernel.run(TICKER)
    b = kernel.send(
        "@igogo.job\n"
        "def hog_in_wait():\n"
        "    x = 0\n"
        "    while True:  # never yields\n"
        "        x += 1\n"
        "hw = hog_in_wait()\n"
        "igogo.wait_all()"
    )
    kernel.wait_until(lambda: b.busy_at is not None)
    kernel.pump(0.3)
    kernel.interrupt()
    kernel.pump(0.3)
    assert b.idle_at is None and not kernel.errors(b)  # the job holds the CPU: no effect yet
    kernel.interrupt()
    kernel.finish(b, timeout=10)
    assert b.status == "error"
    # The job's traceback (shown in its cell, b) and the cell's own.
    assert [e["ename"] for e in kernel.errors(b)] == ["KeyboardInterrupt"] * 2
    assert not kernel.errors(a)
    assert kernel.eval("(hw.state, tk.done())") == ("failed", False)
    assert ticks_advance(kernel)
    kernel.run("tk.stop()")
    assert idle_sigint_handler(kernel) == "<Handlers.SIG_IGN: 1>"


def test_interrupt_while_idle_with_no_job_holding_the_cpu_changes_nothing(
    kernel: KernelDriver,
) -> None:
    a = kernel.run(TICKER)
    kernel.pump(0.1)
    kernel.interrupt()
    kernel.pump(0.3)
    assert kernel.eval("tk.done()") is False
    assert not kernel.errors(a)
    assert ticks_advance(kernel)
    kernel.run("tk.stop()")


def test_sigint_inside_a_job_is_igogos_handler(kernel: KernelDriver) -> None:
    kernel.run(
        "@igogo.job\n"
        "def reads_handler():\n"
        "    return repr(signal.getsignal(signal.SIGINT))\n"
        "rh = reads_handler()"
    )
    assert "InterruptGuard._handler" in kernel.eval("rh.result(2)")
