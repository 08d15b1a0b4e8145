"""Bars of jobs in headless runs (nbclient, as papermill runs notebooks; ``IGOGO_HEADLESS=1``).

Such runners drop what a job sends to its cell after that cell finished: a
widget bar's updates with the rest.  Each bar's final state is kept as a text
line in the job's output, which igogo-jupyter writes into the job's cell.
"""

from __future__ import annotations

import os
import re
from typing import Any

import nbformat
from nbclient import NotebookClient

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(cells: list[str]) -> Any:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = dict(os.environ, IGOGO_HEADLESS="1")
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(env=env)
    return nb


def text(cell: Any) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("display_data", "execute_result"):
            parts.append(out.data.get("text/plain", ""))
    return ANSI.sub("", "".join(parts))


def test_each_jobs_bar_ends_in_its_own_cell_at_its_final_state() -> None:
    nb = run(
        [
            "import igogo, tqdm\nfrom tqdm.auto import tqdm as auto_tqdm\n%load_ext igogo",
            "%%igogo --name widget\nfor i in auto_tqdm(range(50), desc='widget bar'):\n"
            "    igogo.sleep(0.002)",
            "%%igogo --name text\nfor i in tqdm.tqdm(range(30), desc='text bar'):\n"
            "    igogo.sleep(0.002)",
            "igogo.wait_all()",
        ]
    )
    widget, plain, waiting = (text(c) for c in nb.cells[1:])
    assert "widget bar: 100%" in widget and "50/50" in widget, widget
    assert "text bar: 100%" in plain and "30/30" in plain, plain
    assert plain.count("text bar:") == 1  # the bar's last state, not every redraw
    assert "bar" not in waiting


def test_a_maps_bar_ends_in_the_maps_cell() -> None:
    nb = run(
        [
            "import igogo\nfrom concurrent.futures import ThreadPoolExecutor\n"
            "pool = ThreadPoolExecutor(2)\n"
            "m = igogo.map(abs, range(-5, 5), executor=pool)",
            "igogo.wait_all()\nprint(m.results())",
        ]
    )
    started, waiting = (text(c) for c in nb.cells)
    assert "map(abs): 100%" in started and "10/10" in started, started
    assert "map(abs)" not in waiting
