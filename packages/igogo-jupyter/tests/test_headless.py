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

from igogo_jupyter.testing import cell_text, run_notebook

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


def run(headless: bool, cells: list[str] = CELLS, **env: str) -> Any:
    return run_notebook(cells, headless=headless, env=env, timeout=60)


def test_headless_puts_every_jobs_output_in_its_own_cell() -> None:
    nb = run(True, IGOGO_HEADLESS_FAIL="0")
    texts = [cell_text(c) for c in nb.cells]
    assert texts[0] == "hello 0\nhello 1\nhello 2\nto stderr\n"
    assert texts[1].startswith("about to fail\n")
    assert "ValueError" in texts[1] and "headless boom" in texts[1]
    assert "bad()" in texts[1] or "raise ValueError" in texts[1]  # the user's frames
    raw = "".join(o.get("data", {}).get("text/plain", "") for o in nb.cells[1].outputs)
    assert "\x1b[" not in raw  # readable where it is kept: no colour codes
    assert texts[3] == "from the magic\n"
    assert texts[4] == "before wait\nall done\n"
    assert not any(o.output_type == "error" for c in nb.cells for o in c.outputs)
    # One output per job, in its own cell, and none left empty.
    displays = [[o for o in c.outputs if o.output_type == "display_data"] for c in nb.cells]
    assert [len(d) for d in displays] == [1, 1, 0, 1, 0]
    assert all(any(o.data.values()) for d in displays for o in d)


def test_a_failed_job_fails_the_run_at_the_cell_that_waits() -> None:
    """As a failing cell would: nbclient raises, so papermill and nbconvert exit non-zero."""
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError) as caught:
        run(True)
    message = ANSI.sub("", str(caught.value))
    assert "JobsFailedError" in message
    assert "1 igogo job failed: 'bad' (cell [2]): ValueError: headless boom" in message
    assert "igogo.wait_all()" in message  # the cell that waited for the jobs


def test_a_failed_job_fails_a_papermill_run_with_a_non_zero_exit(tmp_path: Any) -> None:
    import subprocess
    import sys

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    source, target = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    env = dict(os.environ, IGOGO_HEADLESS="1")
    env.pop("IGOGO_HEADLESS_FAIL", None)
    run = subprocess.run(
        [sys.executable, "-m", "papermill", str(source), str(target), "--kernel", "python3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert run.returncode != 0, run.stderr[-2000:]
    assert "JobsFailedError" in run.stderr
    executed = nbformat.read(target, as_version=4)
    assert "headless boom" in cell_text(executed.cells[2])  # papermill adds a first cell


def test_rich_jobs_are_recorded_rendered() -> None:
    cells = [
        "import igogo\n%load_ext igogo",
        "%%igogo --kind markdown\nprint('# Title')\nprint('*done*')",
        "%%igogo --kind html\nprint('<b>bold</b>')",
        "igogo.wait_all()",
    ]
    nb = run(True, cells)
    (md,) = [o for o in nb.cells[1].outputs if o.get("data", {}).get("text/markdown")]
    assert md.data["text/markdown"] == "# Title\n*done*\n"
    (page,) = [o for o in nb.cells[2].outputs if o.get("data", {}).get("text/html")]
    assert page.data["text/html"] == "<b>bold</b>\n"


def test_without_headless_an_unattended_run_is_warned_once_in_the_notebook() -> None:
    cells = [
        "import igogo\n@igogo.job\ndef quiet():\n    igogo.sleep(0.01)\nquiet();",
        "quiet();",
        "igogo.wait_all()",
    ]
    nb = run(False, cells)
    texts = [cell_text(c) for c in nb.cells]
    assert "IGOGO_HEADLESS=1" in texts[0] and "RuntimeWarning" in texts[0]
    assert "IGOGO_HEADLESS" not in texts[1] + texts[2]


def test_without_headless_the_notebook_still_completes() -> None:
    nb = run(False)
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
        global_display_parents = False

        def request_fds(self) -> list[int]:
            return []

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
    nb = run(True, cells)
    first = cell_text(nb.cells[0])
    assert "short job ran" in first
    assert "'first slot'" in first and "'second slot'" in first
    (shown,) = nb.cells[0].outputs  # its text and both slots, in one display
    assert "<pre>short job ran\n</pre>" in shown.data["text/html"]
    for cell in nb.cells[1:]:
        assert "short job ran" not in cell_text(cell)
        assert "slot" not in cell_text(cell)
