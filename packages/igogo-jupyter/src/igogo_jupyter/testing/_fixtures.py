"""What the conftests of the packages tested in real kernels share (pytest only).

* ``LeakCheck``: after a test, stop every job in a kernel and wait for them; a test that
  left jobs alive FAILS (a leaked job would make the next tests' timings and outputs
  meaningless), and so does one after which igogo still holds something for the jobs
  (``igogo.testing.leftovers()``: a host, a stray hook, a mock clock) or that fails the
  package's own ``checks`` (kernel code).
* ``pytest_runtest_makereport``: a conftest that uses ``LeakCheck.after_test`` imports
  this hook (pytest looks hooks up by name in the conftest), so that a test that failed
  already is not failed again for what it left behind.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Generator
from dataclasses import dataclass
from typing import NamedTuple

import pytest

from igogo_jupyter.testing._driver import KernelDriver

_MARKER = "@@cleanup@@"

# Runs in the kernel after a test: what was alive, then stop everything and wait for it;
# a job the test stopped last may still be ending (a waiting request goes before the
# jobs' next tick), so jobs get 50 ms to end before the ones alive count as left running.
# Once all ended, igogo must hold nothing for them (igogo.testing.leftovers: no host, no
# stray hook, the real clock); ``{checks}`` (the package's own checks) then append to
# ``problems``.  Kept in a function so that its names stay out of the tests' namespace.
_CLEANUP = """\
def _igogo_test_cleanup():
    import igogo, igogo.testing
    igogo.wait_all(0.05)
    alive = [repr(j) for j in igogo.jobs() if not j.done()]
    igogo.stop_all()
    ended = igogo.wait_all(5)
    problems = igogo.testing.leftovers() if ended else []
{checks}
    return alive, ended, problems
print({marker!r} + repr(_igogo_test_cleanup()))
del _igogo_test_cleanup
"""

# Whether the test itself failed, noted by pytest_runtest_makereport.
_failed_key = pytest.StashKey[bool]()


class Cleanup(NamedTuple):
    """What ``LeakCheck.run`` found in the kernel."""

    alive: list[str]  # reprs of the jobs that were still alive after the test
    ended: bool  # whether stop_all() ended every job within 5 s
    problems: list[str]  # what igogo still held once all ended, and the package's checks found


@dataclass(frozen=True)
class LeakCheck:
    """The check run in a kernel after each test that used it.

    ``checks`` is kernel code (its common indentation is removed) that ends the cleanup
    function, after every job was stopped and waited for.  It sees ``alive`` (reprs of
    the jobs that were still alive) and ``ended`` (whether they all ended), and appends
    what is wrong, as messages, to ``problems``.
    """

    checks: str = ""

    @property
    def code(self) -> str:
        """The kernel code: stops every job, runs ``checks``, prints the outcome."""
        checks = textwrap.indent(textwrap.dedent(self.checks).strip("\n"), "    ")
        return _CLEANUP.format(checks=checks, marker=_MARKER)

    def run(self, driver: KernelDriver) -> Cleanup:
        """Run ``code`` in ``driver``'s kernel (raises if it fails or times out)."""
        ex = driver.run(self.code, timeout=20)
        text = driver.stdout(ex)
        alive, ended, problems = ast.literal_eval(text[text.index(_MARKER) + len(_MARKER) :])
        return Cleanup(list(alive), bool(ended), list(problems))

    def problems(self, driver: KernelDriver) -> list[str]:
        """Stop every job in ``driver``'s kernel; returns what was wrong (empty: all clean)."""
        if not driver.is_alive():
            return ["the kernel died"]
        try:
            cleanup = self.run(driver)
        except (TimeoutError, AssertionError) as e:
            return [f"cleanup failed: {e}"]
        # Leaked jobs first: they are the likely cause of whatever the checks found.
        problems = []
        if cleanup.alive:
            alive = cleanup.alive
            problems.append(f"{len(alive)} igogo job(s) were still alive: {', '.join(alive)}")
        if not cleanup.ended:
            problems.append("stop_all() did not end every job within 5 s")
        return problems + cleanup.problems

    def after_test(
        self, request: pytest.FixtureRequest, driver: KernelDriver | None = None
    ) -> None:
        """Fail the test if it left ``driver``'s kernel unclean (``problems``).

        Without ``driver``: the module's ``kernel``, if the test used it.  A test that
        failed already is not failed again: its own failure says more.
        """
        if driver is None:
            if "kernel" not in request.fixturenames:
                return
            driver = request.getfixturevalue("kernel")
            assert isinstance(driver, KernelDriver)
        problems = self.problems(driver)
        if problems and not did_fail(request.node):
            pytest.fail("after the test: " + "; ".join(problems))


def did_fail(node: pytest.Item) -> bool:
    """Whether ``node``'s test itself failed (noted by :func:`pytest_runtest_makereport`).

    For fixtures that check what a test left behind: a test that failed already is
    not failed again for it.
    """
    return node.stash.get(_failed_key, False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note in ``item.stash`` whether the test itself failed (for ``LeakCheck.after_test``)."""
    report = yield
    if report.when == "call":
        item.stash[_failed_key] = report.failed
    return report
