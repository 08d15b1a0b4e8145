"""Notebooks run unattended (nbclient, with ``IGOGO_HEADLESS=1``): a job's final figures
are recorded in its own cell, although the job ends while a later cell runs."""

from __future__ import annotations

import os
from typing import Any

import nbformat
from nbclient import NotebookClient

CELLS = [
    "import igogo\nimport matplotlib.pyplot as plt",
    # 1: one figure, still changing after its cell has finished
    "@igogo.job\n"
    "def one():\n"
    "    for i in range(5):\n"
    "        plt.plot([0, i])\n"
    "        igogo.sleep(0.05)\n"
    "one();",
    # 2: two figures
    "@igogo.job\n"
    "def two():\n"
    "    plt.plot([1, 2])\n"
    "    igogo.sleep(0.1)\n"
    "    plt.figure()\n"
    "    plt.plot([2, 1])\n"
    "two();",
    # 3: figures not shown automatically, and one shown explicitly
    "@igogo.job(auto_display_figures=False)\n"
    "def quiet():\n"
    "    plt.plot([1, 2])\n"
    "    igogo.sleep(0.1)\n"
    "quiet();",
    "@igogo.job(auto_display_figures=False)\n"
    "def explicit():\n"
    "    igogo.sleep(0.1)\n"
    "    fig, ax = plt.subplots()\n"
    "    ax.plot([3, 1])\n"
    "    igogo.display(fig)\n"
    "explicit();",
    # 5: the running cell's own figure, while the jobs draw
    "plt.plot([5, 5])\nigogo.sleep(0.05)",
    "igogo.wait_all()\nprint(plt.get_fignums())",
]


def kinds(cell: Any) -> list[str]:
    """What a cell's outputs show: 'png', 'html' (several figures) or 'text'."""
    out = []
    for o in cell.outputs:
        data = o.get("data", {})
        if "image/png" in data:
            out.append("png")
        elif "text/html" in data:
            assert data["text/html"].count("<img") == 2
            out.append("html")
        elif data.get("text/plain"):
            out.append("text")
    return out


def test_each_jobs_final_figures_are_recorded_in_its_own_cell() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    env = dict(os.environ, IGOGO_HEADLESS="1")
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False).execute(env=env)
    shown = [kinds(c) for c in nb.cells]
    assert [s.count("png") + s.count("html") for s in shown] == [0, 1, 1, 0, 1, 1, 0]
    assert "html" in shown[2]
    assert nb.cells[6].outputs[-1]["text"] == "[]\n"
    assert not any(o.output_type == "error" for c in nb.cells for o in c.outputs)


def test_a_host_whose_headless_writer_fills_displays_gets_the_final_figures(
    mpl: Any, monkeypatch: Any
) -> None:
    """igogo-jupyter's headless writer, once it can reserve and fill displays, does it for us."""
    import matplotlib.pyplot as plt

    import igogo
    from igogo_mpl import _plugin

    calls: list[tuple[str, Any]] = []

    class Writer:
        def reserve(self, display_id: str) -> None:
            calls.append(("reserve", display_id))

        def update_displays(self, updates: list[Any]) -> None:
            calls.append(("update", updates))

    class Host:
        headless = Writer()

        def for_job(self, job: Any, fn: Any, *args: Any) -> Any:
            return fn(*args)

    monkeypatch.setattr(_plugin, "display_host", Host)

    @igogo.job
    def draw() -> None:
        plt.plot([0, 1])
        igogo.sleep(0.001)

    draw().result(timeout=5)
    assert [c[0] for c in calls] == ["reserve", "update"]
    ((did, data, _),) = calls[1][1]
    assert did == calls[0][1]
    assert "image/png" in data
    assert plt.get_fignums() == []  # shown, then closed, as in a kernel
