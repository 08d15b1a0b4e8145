"""igogo_jupyter.map_notebook: a notebook run once per parameter set by papermill, in workers.

Every run starts a kernel in a worker process (a second or two each), so the tests keep to a
handful of runs on two workers.  The maps are driven from regular code here (``results()``
runs the scheduler while it waits); one test does the same from a real kernel.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

import igogo
from igogo.lowlevel import live_jobs
from igogo_jupyter import NotebookRun, NotebookRunError, map_notebook
from igogo_jupyter._notebooks import _checked_parameters, _filename

pytestmark = pytest.mark.workers

PARAMETERS_CELL = 'x = 1\nlabel = "default"\nmarker = ""'
# Fails while `marker` names a file that does not exist yet, creating it: the first run with
# a marker fails, every later one succeeds.
WORK_CELL = """\
import os
if marker and not os.path.exists(marker):
    open(marker, "w").close()
    raise RuntimeError(f"first run with x={x} fails")
print(f"{label}: {x} squared is {x * x}")
"""


def write_notebook(path: Path, kernelspec: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(PARAMETERS_CELL, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(WORK_CELL),
    ]
    if kernelspec:
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
    nbformat.write(nb, path)
    return path


def cell_texts(path: Path) -> list[str]:
    """Source and output text of every code cell of an executed notebook."""
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = [cell.source]
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") or out.get("evalue", ""))
            parts.extend(v for v in out.get("data", {}).values() if isinstance(v, str))
        texts.append("\n".join(parts))
    return texts


@pytest.fixture(scope="module", autouse=True)
def two_workers() -> Iterator[None]:
    before = igogo.configure()["workers"]
    igogo.configure(workers=2)
    yield
    igogo.configure(workers=before)


@pytest.fixture(autouse=True)
def no_job_left() -> Iterator[None]:
    yield
    leaked = [repr(j) for j in live_jobs()]
    if leaked:
        igogo.stop_all()
        igogo.wait_all(10)
        pytest.fail(f"the test left jobs alive: {leaked}")


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "square.ipynb")


def test_each_parameter_set_runs_into_its_own_notebook(notebook: Path) -> None:
    sets = [{"x": 2, "label": "two"}, {"x": 3, "label": "three"}, {"x": 4, "label": "a b/c"}]
    m = map_notebook(notebook, sets, kernel_name="python3")
    assert isinstance(m, igogo.MapJob)
    assert m.name == "map_notebook(square.ipynb)"
    # The status table shows each parameter set as the item.
    assert [repr(row.item) for row in m.status()] == [repr(s) for s in sets]

    runs = m.results(timeout=90)

    assert all(isinstance(r, NotebookRun) for r in runs)
    assert [r.parameters for r in runs] == sets  # in input order
    out = notebook.parent / "square-runs"  # the default output_dir
    assert [r.path for r in runs] == [
        out / "square-0-x=2_label=two.ipynb",
        out / "square-1-x=3_label=three.ipynb",
        out / "square-2-x=4_label=a-b-c.ipynb",
    ]
    assert sorted(out.iterdir()) == sorted(r.path for r in runs)
    for run, (x, label) in zip(runs, [(2, "two"), (3, "three"), (4, "a b/c")], strict=True):
        text = "\n".join(cell_texts(run.path))
        assert f"x = {x}" in text  # papermill's injected-parameters cell
        assert f"{label}: {x} squared is {x * x}" in text
    assert [row.state for row in m.status()] == ["ok", "ok", "ok"]
    assert "{'x': 4, 'label': 'a b/c'}" in repr(m.status())


@pytest.mark.skipif(sys.platform == "win32", reason="ZeroMQ has no Unix sockets there")
def test_runs_started_together_reach_their_kernels_over_private_unix_sockets(
    tmp_path: Path,
) -> None:
    # Two workers start kernels at the same moment.  Over TCP both could pick the
    # same free port (one kernel then dies and its run waits a minute for nothing);
    # each kernel here must listen on socket files of its own, removed afterwards.
    path = tmp_path / "where.ipynb"
    cells = [
        nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import json, ipykernel.connect\n"
            "info = json.loads(ipykernel.connect.get_connection_info())\n"
            "print('TRANSPORT', info['transport'], info['ip'])"
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)

    runs = map_notebook(path, [{"x": 1}, {"x": 2}], kernel_name="python3").results(timeout=90)

    seen = []
    for run in runs:
        text = "\n".join(cell_texts(run.path))
        line = next(t for t in text.splitlines() if t.startswith("TRANSPORT "))
        _, transport, prefix = line.split()
        assert transport == "ipc", line
        seen.append(Path(prefix))
    assert seen[0].parent != seen[1].parent
    assert all(p.is_absolute() and not p.parent.exists() for p in seen)
    assert not list(tmp_path.glob("kernel-ipc*"))  # nothing left in the notebook's folder


def test_a_failing_run_is_an_error_item_and_restart_runs_it_again(
    notebook: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "failed-once"
    sets = [{"x": 1}, {"x": 2, "marker": str(marker)}, {"x": 3}]
    out = tmp_path / "runs"
    m = map_notebook(notebook, sets, output_dir=out, kernel_name="python3")

    with pytest.raises(igogo.MapError, match=r"item 1 \(\{'x': 2, 'marker'"):
        m.results(timeout=90)

    assert [row.state for row in m.status()] == ["ok", "error", "ok"]
    errors = m.exceptions()
    assert list(errors) == [1]
    err = errors[1]
    assert isinstance(err, NotebookRunError)
    message = str(err)
    assert "raised RuntimeError: first run with x=2 fails" in message
    assert "square-1-x=2_marker=" in message  # where the partial notebook is
    assert err.ename == "RuntimeError"
    assert err.parameters == sets[1]
    assert "first run with x=2 fails" in err.traceback
    assert "RuntimeError: first run with x=2 fails" in m.status()[1].error
    # The partially executed notebook is written, with the error in the failing cell.
    partial = Path(err.path or "")
    assert partial.parent == out and partial.exists()
    assert "first run with x=2 fails" in "\n".join(cell_texts(partial))

    again = m.restart()
    runs = again.results(timeout=90)

    assert [r.parameters for r in runs] == sets
    assert [row.attempts for row in again.status()] == [1, 2, 1]  # only the failed one re-ran
    assert runs[1].path == partial  # the same file, now complete
    assert "default: 2 squared is 4" in "\n".join(cell_texts(partial))
    assert len(list(out.iterdir())) == 3


def test_retries_and_items_submitted_later(notebook: Path, tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    m = map_notebook(
        notebook, [{"x": 5, "marker": str(marker)}], retries=1, kernel_name="python3", name="nb"
    )
    index = m.submit({"x": 6, "label": "extra"})
    assert index == 1

    runs = m.results(timeout=90)

    assert [row.attempts for row in m.status()] == [2, 1]  # failed once, retried
    assert runs[0].parameters == {"x": 5, "marker": str(marker)}
    extra = runs[1].path
    assert extra.parent == notebook.parent / "square-runs"
    assert extra.name.startswith("square-s") and extra.name.endswith("-x=6_label=extra.ipynb")
    assert "extra: 6 squared is 36" in "\n".join(cell_texts(extra))


def test_bad_input_is_refused_before_anything_runs(
    notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = [{"x": 1}]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        map_notebook(tmp_path / "missing.ipynb", ok)
    with pytest.raises(FileNotFoundError, match="is a directory"):
        map_notebook(tmp_path, ok)
    (tmp_path / "junk.ipynb").write_text("not json")
    with pytest.raises(ValueError, match=r"cannot read .* as a notebook"):
        map_notebook(tmp_path / "junk.ipynb", ok)
    bare = write_notebook(tmp_path / "bare.ipynb", kernelspec=False)
    with pytest.raises(ValueError, match=r"names no kernel .* kernel_name='python3'"):
        map_notebook(bare, ok)

    with pytest.raises(TypeError, match="got a single dict"):
        map_notebook(notebook, {"x": 1})
    with pytest.raises(TypeError, match="iterable of dicts"):
        map_notebook(notebook, "x=1")
    with pytest.raises(TypeError, match="iterable of dicts"):
        map_notebook(notebook, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="parameters is empty"):
        map_notebook(notebook, [])
    with pytest.raises(TypeError, match="parameter set 1 is 2; every parameter set must be a dict"):
        map_notebook(notebook, [{"x": 1}, 2])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="'not a name' is not a Python variable name"):
        map_notebook(notebook, [{"not a name": 1}])
    with pytest.raises(ValueError, match="'class' is not a Python variable name"):
        map_notebook(notebook, [{"class": 1}])
    with pytest.raises(TypeError, match=r"parameter set 0, parameter 'x': .* is a object"):
        map_notebook(notebook, [{"x": object()}])

    (tmp_path / "taken").write_text("")
    with pytest.raises(FileExistsError, match="not a directory"):
        map_notebook(notebook, ok, output_dir=tmp_path / "taken")
    with pytest.raises(ValueError, match="retries=-1"):
        map_notebook(notebook, ok, retries=-1)

    monkeypatch.setitem(sys.modules, "papermill", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'igogo-jupyter\[notebooks\]'"):
        map_notebook(notebook, ok)

    assert not live_jobs()


def test_exported() -> None:
    import igogo_jupyter

    assert {"map_notebook", "NotebookRun", "NotebookRunError"} <= set(igogo_jupyter.__all__)
    assert igogo_jupyter.map_notebook is map_notebook


def test_file_names_are_readable_and_safe() -> None:
    assert _filename("nb", "07", {"alpha": 0.1, "depth": 3}) == "nb-07-alpha=0.1_depth=3.ipynb"
    assert _filename("nb", "0", {}) == "nb-0.ipynb"
    name = _filename("nb", "1", {"path": "../../etc/passwd", "q": "a b*c?{d}"})
    assert "/" not in name and " " not in name and "{" not in name
    long = _filename("nb", "2", {"words": "x" * 500})
    assert len(long) < 80 and long.startswith("nb-2-words=xxx") and long.endswith(".ipynb")


def test_parameter_values_become_what_papermill_can_write() -> None:
    np = pytest.importorskip("numpy")
    checked = _checked_parameters(
        {"n": np.int64(3), "xs": (1, 2.5), "opts": {"a": None, "b": [True]}}, "set 0"
    )
    assert checked == {"n": 3, "xs": [1, 2.5], "opts": {"a": None, "b": [True]}}
    assert type(checked["n"]) is int
    with pytest.raises(TypeError, match="dict keys must be strings"):
        _checked_parameters({"opts": {1: 2}}, "set 0")


def test_from_a_kernel(kernel: Any, notebook: Path) -> None:
    out = notebook.parent / "from-kernel"
    kernel.run(
        "import igogo_jupyter\n"
        "igogo.configure(workers=2)\n"
        f"m = igogo_jupyter.map_notebook({str(notebook)!r}, [{{'x': 7}}, {{'x': 8}}],"
        f" output_dir={str(out)!r}, kernel_name='python3')\n"
    )
    ex = kernel.run("print([r.path.name for r in m.results(timeout=90)], m.state)", timeout=120)
    assert "['square-0-x=7.ipynb', 'square-1-x=8.ipynb'] done" in kernel.stdout(ex)
    assert "default: 8 squared is 64" in "\n".join(cell_texts(out / "square-1-x=8.ipynb"))
