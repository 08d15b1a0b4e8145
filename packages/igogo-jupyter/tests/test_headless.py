"""Notebooks run by nbclient (as papermill does), with and without ``IGOGO_HEADLESS=1``.

nbclient records only the messages of the cell it is running, so a job's
output made after its cell finished would be lost; in headless mode the host
writes each job's output into a placeholder display of the job's own cell.
"""

from __future__ import annotations

import os
import re
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    # 0: a job that prints after its cell has finished
    "import igogo\n"
    "@igogo.job\n"
    "def hello(n):\n"
    "    for i in range(n):\n"
    "        print('hello', i)\n"
    "        igogo.sleep(0.02)\n"
    "    print('to stderr', file=sys.stderr)\n"
    "import sys\n"
    "hello(3);",
    # 1: a job that fails
    "@igogo.job\n"
    "def bad():\n"
    "    igogo.sleep(0.05)\n"
    "    print('about to fail')\n"
    "    raise ValueError('headless boom')\n"
    "bad();",
    # 2: a job run through the cell magic
    "%load_ext igogo\n",
    "%%igogo --name magic\nigogo.sleep(0.03)\nprint('from the magic')",
    # 4: a normal cell, and the wait that lets every job finish
    "print('before wait')\nigogo.wait_all()\nprint('all done')",
]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_notebook(headless: bool) -> Any:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    env = dict(os.environ)
    env.pop("IGOGO_HEADLESS", None)
    if headless:
        env["IGOGO_HEADLESS"] = "1"
    client = NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False)
    client.execute(env=env)
    return nb


def cell_text(cell: Any) -> str:
    """All text a cell shows: streams and the text/plain of displays."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("display_data", "execute_result"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return ANSI.sub("", "".join(parts))


def test_headless_puts_every_jobs_output_in_its_own_cell() -> None:
    nb = run_notebook(headless=True)
    texts = [cell_text(c) for c in nb.cells]
    assert texts[0] == "hello 0\nhello 1\nhello 2\nto stderr\n"
    assert texts[1].startswith("about to fail\n")
    assert "ValueError" in texts[1] and "headless boom" in texts[1]
    assert "bad()" in texts[1] or "raise ValueError" in texts[1]  # the user's frames
    assert texts[3] == "from the magic\n"
    assert texts[4] == "before wait\nall done\n"
    assert not any(o.output_type == "error" for c in nb.cells for o in c.outputs)


def test_without_headless_the_notebook_still_completes() -> None:
    nb = run_notebook(headless=False)
    texts = [cell_text(c) for c in nb.cells]
    assert texts[4] == "before wait\nall done\n"
    # The waiting cell never shows what the jobs printed for their own cells.
    assert "hello" not in texts[4] and "headless boom" not in texts[4]


@pytest.mark.parametrize("value", ["0", ""])
def test_headless_off_values(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``IGOGO_HEADLESS=0`` or empty is the interactive mode (read by the host, locally)."""
    from igogo_jupyter._host import JupyterHost

    monkeypatch.setenv("IGOGO_HEADLESS", value)

    class FakeBridge:  # just enough for the constructor; no kernel involved
        loop = None
        main_thread_id = 0

    host = JupyterHost(FakeBridge())  # type: ignore[arg-type]
    assert host.headless is None
    monkeypatch.setenv("IGOGO_HEADLESS", "1")
    assert JupyterHost(FakeBridge()).headless is not None  # type: ignore[arg-type]


def test_headless_keeps_output_of_a_job_that_ends_between_cells_and_its_displays() -> None:
    cells = [
        "import igogo\n"
        "@igogo.job(displays=2)\n"
        "def short():\n"
        "    print('short job ran')\n"
        "    igogo.display('first slot')\n"
        "    igogo.display('second slot')\n"
        "short();",
        # the job ends on a loop tick while this cell sleeps, not in a waiting cell
        "import time\ntime.sleep(0.3)",
        "print('third cell')",
        "igogo.wait_all()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = dict(os.environ, IGOGO_HEADLESS="1")
    NotebookClient(nb, timeout=60, kernel_name="python3").execute(env=env)
    first = cell_text(nb.cells[0])
    assert "short job ran" in first
    assert "'first slot'" in first and "'second slot'" in first
    for cell in nb.cells[1:]:
        assert "short job ran" not in cell_text(cell)
        assert "slot" not in cell_text(cell)
