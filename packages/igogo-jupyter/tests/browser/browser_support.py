"""A real Jupyter server and a real browser, driven the way a person uses them.

:class:`JupyterServer` starts JupyterLab 4 (``jupyter lab``) or Notebook 7
(``jupyter notebook``) on 127.0.0.1 with an empty token, a temporary root
directory and temporary config, data and runtime directories; the kernel is the
``python3`` kernel of this interpreter's environment (found in ``sys.prefix``).
Its user settings turn off lazy cell rendering (``windowingMode: none``) so
that every cell's output is in the page, and turn off news and update checks.

:class:`NotebookPage` opens a notebook written to the server's root in
headless Chromium (Debian's ``chromium``, launched by Python playwright through
``executable_path``), runs cells by clicking them and pressing Shift+Enter,
and reads what the page shows.  Every wait is on a condition of the page, with
generous time limits: the machines running these tests are small and shared.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[4]
SCREENSHOTS = REPO / "artifacts" / "screenshots"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

WAIT_MS = 60_000
"""Default limit for a condition of the page (ms): generous, the machines are small."""
STDOUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]'

SETTINGS: dict[str, dict[str, Any]] = {
    # Every cell rendered, not only the visible ones, so all outputs can be read.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # No news or update pop-ups (and no requests for them).
    "@jupyterlab/apputils-extension/notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JupyterServer:
    """``jupyter lab`` or ``jupyter notebook`` in temporary directories, until :meth:`stop`."""

    def __init__(self, app: str) -> None:
        assert app in ("lab", "notebook")
        self.app = app
        self.tmp = Path(tempfile.mkdtemp(prefix=f"igogo-{app}-"))
        self.root = self.tmp / "root"
        self.config = self.tmp / "config"
        for d in (self.root, self.config, self.tmp / "data", self.tmp / "runtime"):
            d.mkdir()
        self.settings_dir = self.config / "lab" / "user-settings"
        for plugin, values in SETTINGS.items():
            self.write_settings(plugin, values)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        for var in ("IGOGO_HEADLESS", "PYTEST_CURRENT_TEST", "JUPYTER_PATH"):
            env.pop(var, None)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.config),
            JUPYTER_DATA_DIR=str(self.tmp / "data"),
            JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.settings_dir),
            JUPYTERLAB_WORKSPACES_DIR=str(self.tmp / "workspaces"),
        )
        self.log_path = self.tmp / "server.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                app,
                "--no-browser",
                "--allow-root",  # the project's machines and CI run as root
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                "--IdentityProvider.token=",
                "--ServerApp.password=",
                "--ServerApp.disable_check_xsrf=True",  # the tests call the REST API directly
                f"--ServerApp.root_dir={self.root}",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_up(90)

    def write_settings(self, plugin: str, values: dict[str, Any]) -> None:
        """User settings of ``plugin`` (``@scope/package/plugin``), read at the next page load."""
        path = self.settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    def remove_settings(self, plugin: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.settings_dir / f"{plugin}.jupyterlab-settings").unlink()

    def _wait_up(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited:\n{self.log()}")
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"jupyter {self.app} did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()[-5000:]

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def session_for(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.api("GET", "/api/sessions") if s["path"] == name), None)

    def shutdown_session(self, name: str) -> None:
        session = self.session_for(name)
        if session is not None:
            with contextlib.suppress(OSError):
                self.api("DELETE", f"/api/sessions/{session['id']}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def notebook_url(self, name: str, workspace: str) -> str:
        if self.app == "lab":
            # A workspace of the test's own: nothing of another test's layout is restored.
            return f"{self.url}/lab/workspaces/{workspace}/tree/{name}"
        return f"{self.url}/notebooks/{name}"


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))


class NotebookPage:
    """One notebook open in its own browser context, with its own kernel."""

    def __init__(self, server: JupyterServer, browser: Any, name: str, cells: list[str]) -> None:
        self.server = server
        self.name = f"{name}.ipynb"
        self.path = server.root / self.name
        write_notebook(self.path, cells)
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(WAIT_MS)
        self.page = self.context.new_page()
        # Leaving a page with unsaved changes asks first: say yes, as a person reloading would.
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.goto(server.notebook_url(self.name, workspace=name))
        self.wait_ready()
        if server.app == "lab":  # more room for the notebook: close the file browser
            left = self.page.locator("#jp-left-stack")
            if left.is_visible():
                self.page.keyboard.press("Control+b")
                self.wait_for(lambda: not left.is_visible(), "the left sidebar to close")

    # -- page state -------------------------------------------------------------------------

    def wait_ready(self) -> None:
        """Wait until the notebook shows its cells and its kernel is connected and idle."""
        self.page.wait_for_selector(".jp-Notebook .jp-Cell")
        end = time.monotonic() + WAIT_MS / 1000
        while True:
            session = self.server.session_for(self.name)
            kernel = session and session["kernel"]
            if kernel and kernel["execution_state"] == "idle" and kernel["connections"] >= 1:
                break
            if time.monotonic() > end:
                raise TimeoutError(f"the kernel of {self.name} did not become ready: {session}")
            time.sleep(0.2)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()
        self.server.shutdown_session(self.name)

    def reload(self) -> None:
        self.page.reload()
        self.wait_ready()

    # -- cells ------------------------------------------------------------------------------------

    def cell(self, i: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(i)

    def prompt(self, i: int) -> str:
        return str(self.cell(i).locator(".jp-InputPrompt").inner_text()).strip()

    def run(self, i: int) -> None:
        """Run cell ``i`` as a person does: click into it, press Shift+Enter.

        Returns once the cell has been sent to the kernel (its prompt shows ``[*]`` or a
        number); use :meth:`wait_finished` to wait for its end.
        """
        before = self.prompt(i)
        self.cell(i).locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        self.wait_for(
            lambda: self.prompt(i) != before and re.search(r"\[(\*|\d+)\]", self.prompt(i)),
            f"cell {i} to start",
        )

    def wait_finished(self, i: int) -> None:
        self.wait_for(lambda: re.search(r"\[\d+\]", self.prompt(i)), f"cell {i} to finish")

    def stdout(self, i: int) -> str:
        """All the stdout text cell ``i`` shows."""
        return "".join(self.cell(i).locator(STDOUT).all_inner_texts())

    def all_stdout(self) -> str:
        return "".join(self.page.locator(f".jp-Notebook {STDOUT}").all_inner_texts())

    def rows(self, i: int) -> Any:
        """The job control rows shown in cell ``i`` (outside job tables)."""
        return self.cell(i).locator(".jp-OutputArea-output > .igogo-row")

    def save(self) -> None:
        """Save with Ctrl+S and wait until the file on disk holds the widgets' outputs."""
        before = self.path.stat().st_mtime_ns
        self.page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        self.wait_for(
            lambda: (
                self.path.stat().st_mtime_ns != before
                and "application/vnd.jupyter.widget-view+json" in self.path.read_text()
            ),
            "the notebook to be saved",
        )

    # -- waiting and looking ------------------------------------------------------------------

    def wait_for(self, condition: Any, what: str, timeout: float = WAIT_MS / 1000) -> None:
        """Poll ``condition`` (a callable reading the page) until it holds."""
        end = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < end:
            try:
                if condition():
                    return
            except Exception as e:  # the page may be re-rendering; try again
                last_error = e
            self.page.wait_for_timeout(100)
        self.screenshot(f"FAILED-{self.name.removesuffix('.ipynb')}")
        detail = f" (last error: {last_error})" if last_error else ""
        raise TimeoutError(f"timed out waiting for {what}{detail}")

    def screenshot(self, name: str, notebook_only: bool = False) -> Path:
        """Save ``artifacts/screenshots/<name>.png``: the page, or only the notebook's panel."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if notebook_only:
            self.page.locator(".jp-NotebookPanel").first.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path))
        return path


def row_state(row: Any) -> str:
    return str(row.locator(".igogo-state").get_attribute("data-state"))


def row_last(row: Any) -> str:
    return str(row.locator(".igogo-last").inner_text()).strip()


def row_elapsed(row: Any) -> str:
    return str(row.locator(".igogo-elapsed").inner_text()).strip()
