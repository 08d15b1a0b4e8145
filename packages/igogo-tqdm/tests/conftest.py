"""Fixtures for igogo-tqdm's tests.

* In-process tests run jobs on igogo's blocking host (no kernel); the plugin is
  active for them, as igogo activates it at the first job of a process.  After
  each test no job may be left alive, and the plugin must be active again.
* ``kernel``: one real ipykernel per test module, started through jupyter_client
  with ``igogo_jupyter.testing`` (the kernel driver and the fixtures' machinery),
  with igogo, the magics and tqdm loaded.  After each test that used it, every job in
  it is stopped; a test that left jobs alive fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import igogo
import igogo_tqdm
from igogo.lowlevel import live_jobs
from igogo_jupyter.testing import KernelDriver, LeakCheck, running_kernel

KERNEL_SETUP = (
    "import igogo, time, sys\n"
    "import tqdm, tqdm.auto, tqdm.notebook\n"
    "from tqdm.auto import tqdm as auto_tqdm\n"
    "%load_ext igogo"
)

# Stops every job in the kernel and reports what was alive and what igogo still held;
# igogo-tqdm adds no checks of its own and words its failure itself (below).
KERNEL_CLEANUP = LeakCheck()


@pytest.fixture(autouse=True)
def _plugin_active_and_no_leaked_jobs(request: pytest.FixtureRequest) -> Iterator[None]:
    igogo_tqdm.plugin.activate()
    budget = igogo.configure()["tick_budget"]
    yield
    igogo.configure(tick_budget=budget)
    if not igogo_tqdm.plugin.active:
        igogo_tqdm.plugin.activate()
        pytest.fail("the test left the igogo-tqdm plugin deactivated")
    leaked = live_jobs()
    if leaked:
        igogo.stop_all()
        igogo.wait_all(5.0)
        pytest.fail(f"the test leaked igogo jobs: {leaked}")
    if "kernel" in request.fixturenames:
        driver: KernelDriver = request.getfixturevalue("kernel")
        alive, ended, held = KERNEL_CLEANUP.run(driver)
        if alive or not ended:
            pytest.fail(f"the test left jobs alive in the kernel: {alive} (all ended: {ended})")
        if held:
            pytest.fail(f"after the test, in the kernel: {'; '.join(held)}")


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelDriver]:
    """A kernel shared by the tests of one module."""
    with running_kernel(KERNEL_SETUP) as driver:
        yield driver


@pytest.fixture
def spinner() -> Iterator[list[int]]:
    """A job that counts its turns: ``spinner[0]`` grows only while jobs get to run."""
    count = [0]

    @igogo.job(name="spinner")
    def spin() -> None:
        while True:
            count[0] += 1
            igogo.sleep(0)

    job = spin()
    yield count
    job.stop()
    job.wait(5)
