"""The version shims of ``igogo_jupyter._kernel`` and activation, on the installed ipykernel.

CI runs this module once with ipykernel 6.29+ and once with 7.x (the two
``hatch-test`` environments); the tests of a behaviour that exists on one
version only say so when skipped.
"""

from __future__ import annotations

import os

import ipykernel
import pytest

from igogo_jupyter.testing import KernelDriver

IPYKERNEL_MAJOR = int(ipykernel.__version__.split(".")[0])


def test_the_environment_runs_the_ipykernel_it_is_named_for() -> None:
    """``hatch-test.py3.11-6`` must test ipykernel 6 and ``...-7`` ipykernel 7."""
    env = os.environ.get("HATCH_ENV_ACTIVE", "")
    if not env.startswith("hatch-test."):
        pytest.skip(f"not run by `hatch test` (HATCH_ENV_ACTIVE={env!r})")
    assert env.rsplit("-", 1)[-1] == str(IPYKERNEL_MAJOR)


def test_bridge_sees_the_running_ipykernel(kernel: KernelDriver) -> None:
    kernel.run("from igogo_jupyter import KernelBridge\nbridge = KernelBridge.current()")
    version, global_parents, kernel_version = kernel.eval(
        "(bridge.version, bridge.global_display_parents, __import__('ipykernel').__version__)"
    )
    assert kernel_version == ipykernel.__version__  # the kernel runs this environment's
    assert version[:2] == tuple(int(p) for p in kernel_version.split(".")[:2])
    assert global_parents is (IPYKERNEL_MAJOR < 7)


def test_bridge_loop_is_the_kernels_loop(kernel: KernelDriver) -> None:
    kernel.run("from igogo_jupyter import KernelBridge\nbridge = KernelBridge.current()")
    assert kernel.eval("bridge.loop is get_ipython().kernel.io_loop.asyncio_loop") is True
    assert kernel.eval("bridge.loop is asyncio.get_running_loop()") is True  # during a cell
    kernel.run("@igogo.job\ndef on_loop():\n    igogo.sleep(0.05)\nol = on_loop()")
    assert kernel.eval("igogo.lowlevel.current_host().loop is bridge.loop") is True
    kernel.run("ol.result(2)")


def test_cell_number_is_the_number_the_notebook_shows(kernel: KernelDriver) -> None:
    """IPython 9 counts ``execution_count`` up before a cell runs, older IPython after."""
    ex = kernel.run(
        "from igogo_jupyter._kernel import cell_number\n"
        "print(cell_number(get_ipython()))\n"
        "j_numbered = igogo.job(lambda: None)()"
    )
    shown = ex.reply["content"]["execution_count"]
    assert kernel.stdout(ex) == f"{shown}\n"
    assert kernel.eval("j_numbered.origin") == shown
    # Between cells (in a loop callback): the number of the last cell that ran.
    later = kernel.run(
        "numbers = []\n"
        "get_ipython().kernel.io_loop.asyncio_loop.call_later(\n"
        "    0.1, lambda: numbers.append(cell_number(get_ipython())))"
    )
    kernel.pump(0.3)  # no cell runs meanwhile
    assert kernel.eval("numbers") == [later.reply["content"]["execution_count"]]


def test_display_parent_is_restored_after_a_job_ran(kernel: KernelDriver) -> None:
    """ipykernel 6 keeps display parents globally: a job's step must put them back."""
    a = kernel.run(
        "@igogo.job\n"
        "def shows():\n"
        "    for i in range(5):\n"
        "        igogo.display(f'job display {i}')\n"
        "        igogo.sleep(0.01)\n"
        "s = shows()"
    )
    b = kernel.run(
        "from IPython.display import display\n"
        "igogo.sleep(0.03)\n"
        "display('cell display 1')\n"
        "s.result(2)\n"
        "display('cell display 2')\n"
        "'cell result'"
    )
    kernel.wait_until(lambda: len(kernel.texts(a)) == 5, timeout=5)
    assert kernel.texts(b) == ["'cell display 1'", "'cell display 2'", "'cell result'"]
    assert all("job display" in t for t in kernel.texts(a))


def test_traceback_parent_is_restored_after_a_failing_job(kernel: KernelDriver) -> None:
    a = kernel.run("@igogo.job\ndef fails():\n    igogo.sleep(0.05)\n    1 / 0\nf = fails()")
    b = kernel.run("f.wait(2)\nraise KeyError('cell error')", ok=False)
    kernel.wait_until(lambda: kernel.errors(a), timeout=5)
    assert [e["ename"] for e in kernel.errors(a)] == ["ZeroDivisionError"]
    assert [e["ename"] for e in kernel.errors(b)] == ["KeyError"]


@pytest.mark.skipif(IPYKERNEL_MAJOR < 7, reason="subshells exist from ipykernel 7 on")
def test_job_started_in_a_subshell_runs_on_the_main_thread(kernel: KernelDriver) -> None:
    """jupyter_client has no ``create_subshell`` here: the driver sends the control message."""
    kernel.run("import threading\nmain_thread = threading.get_ident()")
    reply = kernel.control("create_subshell_request", {})
    assert reply["status"] == "ok"
    sub = reply["subshell_id"]
    try:
        ex = kernel.finish(
            kernel.send(
                "in_subshell = threading.get_ident() != main_thread\n"
                "@igogo.job\n"
                "def from_subshell():\n"
                "    igogo.sleep(0.05)\n"
                "    print('main thread:', threading.get_ident() == main_thread)\n"
                "    igogo.display('sub display')\n"
                "    return 7\n"
                "sj = from_subshell()\n"
                "print('result', sj.result(5))",
                subshell_id=sub,
            )
        )
        assert ex.status == "ok"
        assert kernel.eval("in_subshell") is True
        kernel.wait_until(lambda: "main thread" in kernel.stdout(ex), timeout=5)
        assert kernel.stdout(ex) == "main thread: True\nresult 7\n"
        assert kernel.texts(ex) == ["'sub display'"]
        number = ex.reply["content"]["execution_count"]
        assert kernel.eval("(sj.state, sj.origin)") == ("done", number)

        # A main-thread cell runs meanwhile, and a subshell cell stops a main-thread job.
        kernel.run(
            "@igogo.job\n"
            "def main_loop():\n"
            "    while True:\n"
            "        igogo.sleep(0.01)\n"
            "ml = main_loop()"
        )
        stop = kernel.finish(kernel.send("print(ml.stop())", subshell_id=sub))
        assert kernel.stdout(stop) == "True\n"
        assert kernel.eval("(ml.wait(2), ml.state)") == (True, "stopped")
    finally:
        kernel.control("delete_subshell_request", {"subshell_id": sub})


def test_not_a_kernel_here() -> None:
    """In a process that is not a kernel (this one), no host is offered."""
    import igogo_jupyter

    assert igogo_jupyter.KernelBridge.current() is None
    assert igogo_jupyter.find_host() is None


def test_import_does_nothing_and_jobs_need_no_setup(fresh_kernel: KernelDriver) -> None:
    """Importing registers no magic, no hook, no host, no signal handler; ``import igogo`` and
    ``@igogo.job`` work with no other step."""
    k = fresh_kernel
    snapshot = (
        "(lambda ip: ("
        "'igogo' in ip.magics_manager.magics['line'], "
        "'igogo' in ip.magics_manager.magics['cell'], "
        "{e: len(c) for e, c in ip.events.callbacks.items()}, "
        "repr(__import__('signal').getsignal(__import__('signal').SIGINT)), "
        "len(ip.input_transformers_post), len(ip.ast_transformers)"
        "))(get_ipython())"
    )
    before = k.eval(snapshot)
    k.run("import igogo")
    assert k.eval("'igogo_jupyter' in __import__('sys').modules") is False
    k.run("import igogo_jupyter")
    assert k.eval(snapshot) == before
    assert before[:2] == (False, False)
    # The bridge to the kernel, and the job options this host registers (no IPython import).
    loaded = k.eval(
        "sorted(m for m in __import__('sys').modules if m.startswith('igogo_jupyter.'))"
    )
    assert loaded == ["igogo_jupyter._kernel", "igogo_jupyter._options"]
    assert k.eval("(igogo.lowlevel.current_host(), igogo.lowlevel.hooks())") == (None, [])

    a = k.run(
        "@igogo.job\n"
        "def first():\n"
        "    igogo.sleep(0.05)\n"
        "    print('first job')\n"
        "fj = first()\n"
        "host_name = type(igogo.lowlevel.current_host()).__name__"
    )
    k.run("fj.result(2)")
    assert k.eval("host_name") == "JupyterHost"
    k.wait_until(lambda: k.stdout(a) == "first job\n", timeout=5)
    assert k.eval(snapshot) == before  # the host came and went without traces
