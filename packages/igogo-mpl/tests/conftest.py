"""Fixtures for igogo-mpl: real kernels (through igogo-jupyter's kernel driver) and Agg.

* ``kernel``: one ipykernel per test module, with igogo, numpy and pyplot imported
  (the inline backend, as in any notebook).  After each test every job is stopped,
  and the test FAILS if a job was left alive, if a job's pyplot is still installed
  in place of regular code's, or if the plugin still holds state for a finished job.
* ``mpl``: in this process (Agg, no display host): the plugin active and hooked.
"""

from __future__ import annotations

import ast
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The driver for real kernels lives with igogo-jupyter's tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "igogo-jupyter" / "tests"))

from kernel_driver import KernelDriver

SETUP = """\
import igogo, igogo_mpl, time, sys, gc, weakref
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(0, 2 * np.pi, 50)
"""

CLEANUP = """\
def _igogo_mpl_cleanup():
    import igogo, igogo_mpl
    from igogo._hub import SCHED
    from igogo_mpl._plugin import KEY, PLUGIN
    alive = [repr(j) for j in igogo.jobs() if not j.done()]
    igogo.stop_all()
    ended = igogo.wait_all(5)
    problems = []
    if PLUGIN._swapped:
        problems.append("a job's pyplot is still installed")
    left = [repr(j) for j in SCHED.history if KEY in j.host_data]
    if left:
        problems.append(f"plugin state kept for finished jobs {left}")
    plt.close("all")
    return alive, ended, problems
print('@@cleanup@@' + repr(_igogo_mpl_cleanup()))
del _igogo_mpl_cleanup
"""


def cleanup(driver: KernelDriver) -> list[str]:
    if not driver.is_alive():
        return ["the kernel died"]
    try:
        ex = driver.run(CLEANUP, timeout=20)
    except (TimeoutError, AssertionError) as e:
        return [f"cleanup failed: {e}"]
    text = driver.stdout(ex)
    alive, ended, problems = ast.literal_eval(text[text.index("@@cleanup@@") + 11 :].strip())
    if alive:
        problems.append(f"{len(alive)} igogo job(s) were still alive: {', '.join(alive)}")
    if not ended:
        problems.append("stop_all() did not end every job within 5 s")
    return list(problems)


_failed_key = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed_key] = report.failed
    return report


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelDriver]:
    driver = KernelDriver.start()
    try:
        driver.run(SETUP)
        yield driver
    finally:
        driver.shutdown()


@pytest.fixture(autouse=True)
def _kernel_left_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "kernel" in request.fixturenames:
        problems = cleanup(request.getfixturevalue("kernel"))
        if problems and not request.node.stash.get(_failed_key, False):
            pytest.fail("after the test: " + "; ".join(problems))


@pytest.fixture
def mpl() -> Iterator[Any]:
    """The plugin, active and hooked in this process (Agg); checks it is left clean."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    import igogo
    import igogo_mpl
    from igogo._hub import SCHED
    from igogo_mpl._plugin import PLUGIN

    # Whichever test starts this process's first job activates the plugins; other
    # packages' test fixtures may have unregistered its hook since.
    was_active = PLUGIN.active
    was_hooked = any(h is PLUGIN for h in SCHED.hooks.hooks)
    PLUGIN.activate()
    igogo.add_hook(PLUGIN)
    plt.close("all")
    yield igogo_mpl
    leaked = [j for j in SCHED.live.values()]
    for j in leaked:
        j.stop()
    SCHED.pump(lambda: not SCHED.live, time.monotonic() + 5.0)
    swapped = PLUGIN._swapped
    plt.close("all")
    if not was_hooked:
        igogo.remove_hook(PLUGIN)
    if not was_active:
        PLUGIN.active = False
    assert not leaked, f"the test leaked jobs: {leaked}"
    assert not swapped, "a job's pyplot is still installed"
