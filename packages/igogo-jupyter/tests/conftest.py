"""Fixtures for the tests against real ipykernel kernels.

* ``kernel``: one kernel per test module (starting one costs about a second),
  with ``igogo`` imported and the extension loaded.
* ``fresh_kernel``: a new kernel for one test, for tests that need a process
  nobody has touched (what importing does, loading the extension).
* After every test that used a kernel, every job is stopped and waited for in
  it; a test that left jobs alive FAILS (a leaked job would make the next
  tests' timings and outputs meaningless), and so does one that left the
  scheduler with a host attached or a hook registered although no job is left.

The driver and this machinery are ``igogo_jupyter.testing``, shared with igogo-mpl's and
igogo-tqdm's tests and with ``bench/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from igogo_jupyter.testing import KernelDriver, LeakCheck, running_kernel
from igogo_jupyter.testing import pytest_runtest_makereport as pytest_runtest_makereport

SETUP = "import igogo, time, signal, sys, asyncio\n%load_ext igogo"

# No job left alive, and once none is, no host and no hooks but the active plugins'
# (which keep theirs for the next job): LeakCheck's own checks, igogo-jupyter adds none.
LEAKS = LeakCheck()


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelDriver]:
    """A kernel shared by the tests of one module (igogo imported, extension loaded)."""
    with running_kernel(SETUP) as driver:
        yield driver


@pytest.fixture
def fresh_kernel(request: pytest.FixtureRequest) -> Iterator[KernelDriver]:
    """A kernel of this test's own, in which nothing has run yet (checked like ``kernel``)."""
    with running_kernel() as driver:
        yield driver
        LEAKS.after_test(request, driver)


@pytest.fixture(autouse=True)
def no_leaked_jobs(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the module's kernel: stop every job; fail if any was alive."""
    yield
    LEAKS.after_test(request)
