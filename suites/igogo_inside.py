"""A pytest plugin that runs another library's own tests inside igogo jobs, a plugin active.

The best proof that igogo-tqdm and igogo-mpl leave tqdm and matplotlib intact
is the libraries' own test suites, run as their authors run them, with the
plugin active and each test function running inside a job, where the plugin
does its work (bars that yield, a pyplot per job).  Fixtures set up and tear
down in regular code, as a notebook's cells would; only the test's body is the
job's.  With ``--igogo-outside`` the plugin is active and the tests run in
regular code, as a notebook's cells do beside jobs.

Options: ``--igogo-plugin tqdm|mpl`` names the plugin to activate (the first
job activates every installed plugin anyway, as in a notebook);
``--igogo-outside`` keeps the tests out of jobs.  Tests listed in
:data:`EXPECTED` differ on purpose: they are marked ``xfail(strict=True)``
with the reason, so each must still fail, and for that reason only.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import pytest

import igogo

EXPECTED: dict[str, dict[str, str]] = {
    "mpl": {
        "test_animation.py::test_null_movie_writer": (
            "figure numbers are per party (a job's pyplot is its own): the `anim` fixture "
            "makes figure 1 in regular code, so plt.figure(1) in the test's job makes the "
            "job's own figure 1, a new one; the job reaches the fixture's figure through "
            "the object, plt.figure(fig)"
        ),
    },
    "tqdm": {},
}
"""Per plugin: test id (file::name, parameters left out) -> why its outcome differs."""


RAN_IN_JOBS: list[bool] = []
"""For each test function called through this plugin: whether it found itself in a job."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("igogo", "run the tests inside igogo jobs")
    group.addoption(
        "--igogo-plugin",
        choices=sorted(EXPECTED),
        required=True,
        help="the igogo plugin to activate before the first test",
    )
    group.addoption(
        "--igogo-outside",
        action="store_true",
        help="keep the plugin active but run each test in regular code, not in a job",
    )


def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("--igogo-plugin")
    if name == "tqdm":
        import igogo_tqdm

        igogo_tqdm.plugin.activate()
    else:
        import igogo_mpl

        igogo_mpl.plugin.activate()
    # The first job of the process activates every installed plugin, as in a notebook.
    igogo.run(lambda: None)
    if igogo.plugins().get(name) != "active":
        raise pytest.UsageError(f"igogo plugin {name!r} is not active: {igogo.plugins()}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expected = EXPECTED[config.getoption("--igogo-plugin")]
    if config.getoption("--igogo-outside"):
        return  # the expected differences are those of tests run inside jobs
    for item in items:
        reason = expected.get(item.nodeid.split("[")[0].rsplit("/", 1)[-1])
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Call the test function as pytest would, but as the body of an igogo job."""
    if pyfuncitem.config.getoption("--igogo-outside"):
        return None
    fn = pyfuncitem.obj  # as other plugins left it (pytest-asyncio: a synchronous wrapper)
    if inspect.iscoroutinefunction(fn):
        return None  # no async plugin took it: pytest's own handling (skip with a warning)
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    def body() -> Any:
        RAN_IN_JOBS.append(igogo.current_job() is not None)
        return fn(**args)

    job = igogo.job(name=pyfuncitem.name)(body)()
    result = job.result()  # regular code waits: the scheduler runs the job meanwhile
    if result is not None:
        warnings.warn(
            pytest.PytestReturnNotNoneWarning(
                f"test function {pyfuncitem.nodeid} returned {type(result).__name__}"
            ),
            stacklevel=1,
        )
    return True


def pytest_report_header(config: pytest.Config) -> list[str]:
    where = "in regular code" if config.getoption("--igogo-outside") else "inside igogo jobs"
    plugins: dict[str, Any] = dict(igogo.plugins())
    return [f"igogo: tests run {where}; plugins {plugins}"]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    inside = sum(RAN_IN_JOBS)
    where = "outside jobs, by request" if config.getoption("--igogo-outside") else "inside jobs"
    terminalreporter.write_line(
        f"igogo: {inside} test function(s) ran inside a job ({where}); plugins {igogo.plugins()}"
    )
