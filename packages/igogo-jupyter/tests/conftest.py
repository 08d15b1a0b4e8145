"""Fixtures for the tests against real ipykernel kernels.

* ``kernel``: one kernel per test module (starting one costs about a second),
  with ``igogo`` imported and the extension loaded.
* ``fresh_kernel``: a new kernel for one test, for tests that need a process
  nobody has touched (what importing does, loading the extension).
* After every test that used a kernel, every job is stopped and waited for in
  it; a test that left jobs alive FAILS (a leaked job would make the next
  tests' timings and outputs meaningless), and so does one that left the
  scheduler with a host attached or a hook registered although no job is left.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kernel_driver import KernelDriver

SETUP = "import igogo, time, signal, sys, asyncio\n%load_ext igogo"

# Runs in the kernel after each test: what was alive, then stop everything.
CLEANUP = """\
def _igogo_test_cleanup():
    import igogo
    from igogo._hosts import _plugins
    from igogo._hub import SCHED
    alive = [repr(j) for j in igogo.jobs() if not j.done()]
    igogo.stop_all()
    ended = igogo.wait_all(5)
    plugins = [id(p) for p in _plugins.values()]  # active plugins may keep their hooks
    hooks = [h for h in SCHED.hooks.hooks if id(h) not in plugins]
    return alive, ended, repr(SCHED.host), len(hooks)
print('@@cleanup@@' + repr(_igogo_test_cleanup()))
del _igogo_test_cleanup
"""


def cleanup(driver: KernelDriver) -> list[str]:
    """Stop every job in ``driver``'s kernel; returns what was wrong (empty: all clean)."""
    import ast

    if not driver.is_alive():
        return ["the kernel died"]
    try:
        ex = driver.run(CLEANUP, timeout=20)
    except (TimeoutError, AssertionError) as e:
        return [f"cleanup failed: {e}"]
    text = driver.stdout(ex)
    alive, ended, host, hooks = ast.literal_eval(text[text.index("@@cleanup@@") + 11 :].strip())
    problems = []
    if alive:
        problems.append(f"{len(alive)} igogo job(s) were still alive: {', '.join(alive)}")
    if not ended:
        problems.append("stop_all() did not end every job within 5 s")
    elif host != "None" or hooks:
        problems.append(f"no job is left, yet the host {host} / {hooks} hook(s) remain attached")
    return problems


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed_key] = report.failed
    return report


_failed_key = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelDriver]:
    """A kernel shared by the tests of one module (igogo imported, extension loaded)."""
    driver = KernelDriver.start()
    try:
        driver.run(SETUP)
        yield driver
    finally:
        driver.shutdown()


def _check_after_test(request: pytest.FixtureRequest, driver: KernelDriver) -> None:
    problems = cleanup(driver)
    if problems and not request.node.stash.get(_failed_key, False):
        pytest.fail("after the test: " + "; ".join(problems))


@pytest.fixture
def fresh_kernel(request: pytest.FixtureRequest) -> Iterator[KernelDriver]:
    """A kernel of this test's own, in which nothing has run yet (checked like ``kernel``)."""
    driver = KernelDriver.start()
    try:
        yield driver
        _check_after_test(request, driver)
    finally:
        driver.shutdown()


@pytest.fixture(autouse=True)
def no_leaked_jobs(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the module's kernel: stop every job; fail if any was alive."""
    yield
    if "kernel" in request.fixturenames:
        _check_after_test(request, request.getfixturevalue("kernel"))
