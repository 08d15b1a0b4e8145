"""The example notebooks run top to bottom in a real kernel, unattended, as CI runs them.

Each notebook in ``examples/`` is executed with nbclient in a fresh ipykernel whose
environment has ``IGOGO_HEADLESS=1``: the kernel host then writes each job's printed output
into a placeholder in the job's own cell when the job ends, so nbclient records it there.
The tests check that nothing failed anywhere, and that the jobs' output landed in the cells
that started them and nowhere else.

The notebooks are also stored executed, with their outputs, for readers on GitHub and the
documentation site: ``hatch run docs:examples`` runs them the same way and writes them back
(``docs/tools/run_examples.py``).  The stored outputs are checked like a fresh run's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))

# Per notebook: (a piece of the source that picks out one code cell, strings that must appear
# in that cell's outputs and in no other cell's). For job cells these are the job's own lines:
# found there, and not in the cell that waited for the job, they show the output was routed.
EXPECTED: dict[str, list[tuple[str, list[str]]]] = {
    "01-hello-world": [
        (
            'first = hello("igogo")',
            [
                "Hello, world from igogo (1/4)",
                "Hello, world from igogo (4/4)",
                "Hello, world from another igogo (1/4)",
                "Hello, world from another igogo (4/4)",
            ],
        ),
        ("sum of squares", ["this cell ran while the jobs were running; sum of squares: 285"]),
        ("%%igogo --name countdown", ["5...", "1...", "liftoff!"]),
        ("def heartbeat", ["beat 1", "beat 2", "heartbeat stopped after"]),
        ("%igogo stop heartbeat", ["stopped 1 job", "'stopped'"]),
        ("igogo.wait_all()", ["igogo and another igogo are done; countdown_left = 0"]),
    ],
    "02-keep-working": [
        (
            "run = train()",
            ["epoch   100: loss", "epoch   300: loss", "(lr 0.0005)", "converged at"],
        ),
        ('config["lr"] = 0.5', ["lr raised at epoch", "epochs with the new lr"]),
        ("final_loss = run.result()", ["trained for", "final loss"]),
    ],
    "03-producer-consumer": [
        (
            "producer = produce()",
            [
                "produced rows       0-  9,999",
                "produced rows 190,000-199,999",
                "for room in the queue",
                "producer: all chunks sent",
                "consumed rows from       0;  10,000 rows so far",
                "consumed rows from 190,000; 200,000 rows so far",
                "consumer: done",
            ],
        ),
        ('print("queue:"', ["queue: <igogo.Queue", "chunks done:"]),
        ("first = row_means[0]", ["first chunk correct: True"]),
        ("igogo.wait_all()", ["200,000 rows processed in 20 chunks", "job states: done done"]),
    ],
    "04-markdown-output": [
        (
            "report = sweep(",
            [
                "### Step-size sweep",
                "| step size | steps | final x | result |",
                "| 0.1 | 67 | 3 | converged |",
                "**diverged**",
                "*sweep finished*",
            ],
        ),
        ("%%igogo --kind markdown", ["#### Pipeline", "- [x] **export** done", "all steps done"]),
        (
            "checked = health_check(",
            ['<span style="color:darkorange">search: slow (240 ms)</span>', "check complete"],
        ),
        ("pi_job = estimate_pi()", ["pi ~ 3.1", "from 400,000 random points"]),
        ("igogo.wait_all()", ["pi estimate: 3.1"]),
    ],
    "05-progress-bars": [
        ("%%igogo --name process", ["processed 100,000 rows"]),
        ("rows processed so far", ["of 100,000 rows processed so far"]),
        ("igogo.wait_all()", ["all rows correct: True"]),
    ],
    "06-two-plots": [
        ("waves_job = waves()", ["waves: 60 frames drawn"]),
        ("walks_job = random_walks()", ["random walks: 5 walkers, 3000 steps, final spread"]),
        (
            "import igogo_mpl",
            ["figures in this cell's pyplot: [1]", "lines on the job's figure: 2"],
        ),
        ("igogo.wait_all()", ["both jobs done: done done", "figures left open: []"]),
    ],
    "07-parallel-hyperparameters": [
        ("watcher = watch(m)", ["sweep finished: 12/12 ok"]),
        ("line_error = float(", ["a straight line scores 0.447; the sweep is at"]),
        (
            "scores = m.results()",
            [
                "hidden=32  lr=0.3   validation MSE 0.066",
                "best setting: {'hidden': 32, 'lr': 0.3}, 6.7x better than a straight line",
            ],
        ),
        ("dask_watcher = watch(m_dask)", ["sweep on dask finished: 12/12 ok"]),
        ("dask_scores = m_dask.results()", ["the cluster found the same scores: True"]),
    ],
    "08-plain-loop": [
        ("%%igogo --name training", ["epoch 500: loss", "epoch 2000: loss", "training done"]),
        # The plain loop (no yielder) was still running when this cell ran.
        (
            "while len(history) < 300",
            ["this cell ran while the loop was at epoch", "still training: True"],
        ),
        ("igogo.wait_all()", ["done after 2000 epochs"]),
    ],
}

# Seconds a notebook may take; each takes a few. Hangs are caught by nbclient's timeout.
MAX_SECONDS = 60


def output_text(output: dict[str, Any]) -> str:
    """The text an output shows: a stream's text, a display's str data, an error's traceback."""
    kind = output["output_type"]
    if kind == "stream":
        return str(output["text"])
    if kind == "error":
        return "\n".join(output["traceback"])
    data = output.get("data", {})
    return "\n".join(v for v in data.values() if isinstance(v, str))


def cell_text(cell: dict[str, Any]) -> str:
    return "\n".join(output_text(o) for o in cell.get("outputs", []))


def code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def find_cell(nb: Any, marker: str) -> Any:
    matches = [c for c in code_cells(nb) if marker in c.source]
    assert len(matches) == 1, f"{len(matches)} code cells contain {marker!r}"
    return matches[0]


def check_outputs(nb: Any, name: str) -> None:
    """No cell failed, no job's output shows a traceback or a warning, and every expected
    string is in the output of its cell and of no other."""
    cells = code_cells(nb)
    for cell in cells:
        for output in cell.outputs:
            assert output["output_type"] != "error", output_text(output)
        text = cell_text(cell)
        # A failed job writes its traceback into its placeholder (not an "error" output).
        assert "Traceback" not in text, f"in cell {cell.source[:60]!r}:\n{text}"
        assert "Warning" not in text, f"in cell {cell.source[:60]!r}:\n{text}"

    for marker, strings in EXPECTED.get(name, []):
        cell = find_cell(nb, marker)
        text = cell_text(cell)
        for s in strings:
            assert s in text, f"{s!r} missing from the cell with {marker!r}; it shows:\n{text}"
            elsewhere = [c.source[:60] for c in cells if c is not cell and s in cell_text(c)]
            assert not elsewhere, f"{s!r} (from the cell with {marker!r}) also in {elsewhere}"


@pytest.fixture(scope="module", autouse=True)
def _examples_exist() -> None:
    assert NOTEBOOKS, f"no notebooks in {EXAMPLES}"


def test_every_expectation_names_a_notebook() -> None:
    assert set(EXPECTED) <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_executed(path: Path) -> None:
    """Stored as one run top to bottom left it (hatch run docs:examples), for the python3
    kernel: every code cell executed, in order, and outputs as a fresh run must show."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    counts = [cell.execution_count for cell in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"execution counts {counts}: store the notebook as one run top to bottom left it "
        "(hatch run docs:examples)"
    )
    check_outputs(nb, path.stem)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_headless(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel nbclient starts inherits this process's environment.
    monkeypatch.setenv("IGOGO_HEADLESS", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=False,  # a failing cell raises CellExecutionError here
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    start = time.monotonic()
    client.execute()
    elapsed = time.monotonic() - start
    assert elapsed < MAX_SECONDS, f"{path.name} took {elapsed:.1f} s"
    check_outputs(nb, path.stem)  # the outputs of this run: nbclient replaced the stored ones
