"""Bars of jobs in headless runs (nbclient, as papermill runs notebooks; ``IGOGO_HEADLESS=1``).

Such runners drop what a job sends to its cell after that cell finished: a
widget bar's updates with the rest.  Each bar's final state is kept as a text
line in the job's output, which igogo-jupyter writes into the job's cell.
"""

from __future__ import annotations

from igogo_jupyter.testing import cell_text as text
from igogo_jupyter.testing import run_notebook as run


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
