"""Fixtures of the browser tests: Chromium (once per session), a Jupyter server per module.

Chromium is Debian's (``apt-get install chromium``; ``.ci/run`` installs it when
missing), launched by Python playwright with ``executable_path``:
``playwright install`` cannot download browsers on these machines.  With
``CI=true`` a missing browser or playwright fails the tests; elsewhere they are
skipped with the reason.

They run in both environments of ``hatch test --all`` (ipykernel 6.29 and 7),
about a minute each: ipykernel 6 addresses displays differently, and the
browser is where that would show.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from browser_support import CHROMIUM_ARGS, JupyterServer, NotebookPage

IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if shutil.which("chromium") is None:
        return "chromium is not installed (apt-get install -y chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (it is in the hatch-test environments)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, for one test module.

    Not for the whole session: playwright's sync API keeps an asyncio loop running in
    this thread while it is started, and other tests of the session use ``asyncio.run``.
    """
    reason = _unavailable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true, so the browser tests must run, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _server(app: str, browser: Any) -> Iterator[JupyterServer]:
    server = JupyterServer(app)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lab(browser: Any) -> Iterator[JupyterServer]:
    """JupyterLab 4, one per test module."""
    yield from _server("lab", browser)


@pytest.fixture(scope="module")
def notebook7(browser: Any) -> Iterator[JupyterServer]:
    """Notebook 7, one per test module."""
    yield from _server("notebook", browser)


@pytest.fixture
def open_notebook(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``open_notebook(server, cells)``: a new notebook with those cells, open in its own page.

    Closed (and its kernel shut down) after the test.
    """
    pages: list[NotebookPage] = []

    def open_(server: JupyterServer, cells: list[str], name: str | None = None) -> NotebookPage:
        page = NotebookPage(server, browser, name or request.node.name.replace("test_", ""), cells)
        pages.append(page)
        return page

    yield open_
    for page in pages:
        page.close()
