"""Fixtures for igogo-mpl: real kernels (through ``igogo_jupyter.testing``) and Agg.

* ``kernel``: one ipykernel per test module, with igogo, numpy and pyplot imported
  (the inline backend, as in any notebook).  After each test every job is stopped,
  and the test FAILS if a job was left alive, if a job's pyplot is still installed
  in place of regular code's, or if the plugin still holds state for a finished job.
* ``mpl``: in this process (Agg, no display host): the plugin active and hooked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from igogo_jupyter.testing import KernelDriver, LeakCheck, running_kernel
from igogo_jupyter.testing import pytest_runtest_makereport as pytest_runtest_makereport

SETUP = """\
import igogo, igogo_mpl, time, sys, gc, weakref
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(0, 2 * np.pi, 50)
"""

# Figures are closed after the checks so that the next test starts without any.
LEAKS = LeakCheck(
    checks="""
    import matplotlib.pyplot as plt
    from igogo_mpl._plugin import KEY, PLUGIN
    if PLUGIN.pyplots.swapped:
        problems.append("a job's pyplot is still installed")
    # The recent finished jobs: each a Job while something holds it, else its record.
    left = [repr(j) for j in igogo.jobs() if isinstance(j, igogo.Job) and KEY in j.host_data]
    if left:
        problems.append(f"plugin state kept for finished jobs {left}")
    plt.close("all")
    """
)


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelDriver]:
    """A kernel shared by the tests of one module (igogo, numpy and pyplot imported)."""
    with running_kernel(SETUP) as driver:
        yield driver


@pytest.fixture(autouse=True)
def _kernel_left_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    LEAKS.after_test(request)


@pytest.fixture
def mpl() -> Iterator[Any]:
    """The plugin, active and hooked in this process (Agg); checks it is left clean."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    import igogo
    import igogo_mpl
    from igogo.lowlevel import live_jobs
    from igogo_mpl._plugin import PLUGIN

    # Whichever test starts this process's first job activates the plugins; other
    # packages' test fixtures may have unregistered its hook since.
    was_active = PLUGIN.active
    was_hooked = igogo.remove_hook(PLUGIN)  # whether it was registered (added back below)
    PLUGIN.activate()
    igogo.add_hook(PLUGIN)
    plt.close("all")
    yield igogo_mpl
    leaked = live_jobs()
    igogo.stop_all()
    igogo.wait_all(5.0)
    swapped = PLUGIN.pyplots.swapped
    plt.close("all")
    if not was_hooked:
        igogo.remove_hook(PLUGIN)
    if not was_active:
        PLUGIN.active = False
    assert not leaked, f"the test leaked jobs: {leaked}"
    assert not swapped, "a job's pyplot is still installed"
