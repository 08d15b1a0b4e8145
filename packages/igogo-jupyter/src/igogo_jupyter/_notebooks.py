"""``map_notebook``: one notebook, many parameter sets, each run by papermill in a worker.

The work is an ordinary :func:`igogo.map`: every parameter set is one item of
the map, so ``status()`` lists the sets, a failed set is an error on its row,
and ``restart()`` runs again only the sets that failed.  What travels to a
worker is a small picklable task (the parameters and the file name chosen for
the run) and :class:`_NotebookRunner`, which calls papermill there.  Papermill
starts a kernel of its own for every run, inside that worker process.

Those kernels talk over Unix sockets in a private temporary directory, not
TCP.  With TCP, jupyter_client picks free ports by binding and releasing
them, and the kernel binds them again a moment later; two workers starting
kernels at once can pick the same port, and the loser's kernel dies while its
client waits a whole minute for a reply.  A socket file in a directory of its
own cannot be taken by anyone else.  Windows has no such sockets in ZeroMQ,
so it keeps TCP.

Only the standard library and igogo are imported here; papermill is imported
in the workers, when a run starts.
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from igogo import MapJob

__all__ = ["NotebookRun", "NotebookRunError", "map_notebook"]

INSTALL_HINT = "pip install 'igogo-jupyter[notebooks]'"

_SLUG_LIMIT = 60
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


@dataclass(frozen=True, slots=True)
class NotebookRun:
    """One successful run: the parameters it got and where its executed notebook is."""

    parameters: dict[str, Any]
    path: Path


class NotebookRunError(Exception):
    """A run of the notebook failed: a cell raised an exception.

    The message names the cell, the error, the parameter set and the executed
    notebook, ``path``, written up to the failing cell (papermill marks that
    cell).  ``traceback`` is the cell's traceback as the notebook shows it,
    also the exception's cause.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        parameters: dict[str, Any] | None = None,
        ename: str = "",
        evalue: str = "",
        traceback: str = "",
    ) -> None:
        super().__init__(message)
        self.path = path
        self.parameters = parameters
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback


class CellTraceback(Exception):
    """The traceback of the cell that failed, as the cause of a :class:`NotebookRunError`."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True, repr=False)
class _Task:
    """One item of the map: a parameter set and the file its run writes."""

    parameters: dict[str, Any]
    filename: str

    def __repr__(self) -> str:  # what the status table shows for the item
        return repr(self.parameters)


class _NotebookRunner:
    """What runs in a worker: papermill over the notebook, for one parameter set.

    Picklable (it holds only strings), so any executor can take it.  A plain
    dict is accepted too: an item added later with ``MapJob.submit(dict)``.
    """

    def __init__(self, notebook: str, output_dir: str, kernel_name: str | None) -> None:
        self.notebook = notebook
        self.output_dir = output_dir
        self.kernel_name = kernel_name
        self.__name__ = f"map_notebook({Path(notebook).name})"  # in igogo's error notes

    def __call__(self, task: _Task | Mapping[str, Any]) -> NotebookRun:
        if isinstance(task, _Task):
            parameters, filename = task.parameters, task.filename
        else:  # submitted later: no index, so a random tag keeps the name unique
            parameters = _checked_parameters(task, "the submitted item")
            filename = _filename(Path(self.notebook).stem, f"s{uuid.uuid4().hex[:6]}", parameters)
        try:
            import papermill
            from papermill.exceptions import PapermillExecutionError
        except ImportError:
            raise ImportError(
                f"map_notebook needs papermill in the worker: {INSTALL_HINT}"
            ) from None
        os.makedirs(self.output_dir, exist_ok=True)  # again: it may have gone since (restart)
        output = os.path.join(self.output_dir, filename)
        sockets = None if sys.platform == "win32" else tempfile.mkdtemp(prefix="igogo-kernel-")
        try:
            papermill.execute_notebook(
                _literal(self.notebook),  # papermill formats paths with the parameters
                _literal(output),
                parameters=parameters,
                kernel_name=self.kernel_name,
                progress_bar=False,
                cwd=os.path.dirname(self.notebook),  # as Jupyter runs it: relative paths work
                **_transport(sockets),
            )
        except PapermillExecutionError as e:
            where = f"cell In [{e.exec_count}]" if e.exec_count else f"cell {e.cell_index}"
            evalue = str(e.evalue).strip().splitlines()[0] if str(e.evalue).strip() else ""
            traceback = _plain("\n".join(e.traceback)).strip("\n")
            # One line here; the cell's traceback rides along once, as the cause.
            raise NotebookRunError(
                f"{where} raised {e.ename}: {evalue} (parameters {parameters!r}); "
                f"partial output in {output}",
                path=output,
                parameters=parameters,
                ename=e.ename,
                evalue=str(e.evalue),
                traceback=traceback,
            ) from CellTraceback(traceback)
        finally:
            if sockets is not None:
                shutil.rmtree(sockets, ignore_errors=True)
        return NotebookRun(parameters=dict(parameters), path=Path(output))


def _transport(sockets: str | None) -> dict[str, Any]:
    """nbclient's ``config`` for a kernel on Unix sockets under ``sockets`` (None: TCP)."""
    if sockets is None:
        return {}
    from traitlets.config import Config

    # ``ip`` is the sockets' path prefix; left alone it is "kernel-ipc", relative
    # to the notebook's folder, where every run would look for the same files.
    return {"config": Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/k"}})}


def _literal(path: str) -> str:
    return path.replace("{", "{{").replace("}", "}}")


def _plain(text: str) -> str:
    """Text without ANSI colour codes."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _checked_value(value: Any, where: str) -> Any:
    """``value`` as papermill can write it into a cell: None, str, bool, int, float, list, dict."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_checked_value(v, where) for v in value]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: dict keys must be strings; got {k!r}")
            out[k] = _checked_value(v, where)
        return out
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()  # numpy scalars: their Python value
    raise TypeError(
        f"{where}: {value!r} is a {type(value).__name__}; a notebook parameter must be "
        "None, str, bool, int, float, or a list or dict of those"
    )


def _checked_parameters(params: Any, where: str) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise TypeError(f"{where} is {params!r}; every parameter set must be a dict")
    checked = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(
                f"{where}: parameter name {name!r} is not a Python variable name; "
                "papermill assigns each parameter to a variable"
            )
        checked[name] = _checked_value(value, f"{where}, parameter {name!r}")
    return checked


def _slug(parameters: Mapping[str, Any]) -> str:
    """``alpha=0.1_depth=3``, made safe for a file name and kept short."""
    text = "_".join(f"{k}={v}" for k, v in parameters.items())
    text = _UNSAFE.sub("-", text).strip("-.")
    if len(text) > _SLUG_LIMIT:
        text = text[:_SLUG_LIMIT].rstrip("-._=")
    return text


def _filename(stem: str, tag: str, parameters: Mapping[str, Any]) -> str:
    slug = _slug(parameters)
    return f"{stem}-{tag}-{slug}.ipynb" if slug else f"{stem}-{tag}.ipynb"


def _read_notebook(path: Path) -> dict[str, Any]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"map_notebook: cannot read {path} as a notebook: {e}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"map_notebook: {path} is not a Jupyter notebook (no list of cells)")
    return nb


def map_notebook(
    path: str | os.PathLike[str],
    parameters: Iterable[Mapping[str, Any]],
    executor: object = None,
    output_dir: str | os.PathLike[str] | None = None,
    *,
    kernel_name: str | None = None,
    retries: int = 0,
    max_in_flight: int | None = None,
    name: str | None = None,
) -> MapJob[Any, NotebookRun]:
    """Run the notebook at ``path`` once per parameter set, in worker processes.

    Returns the running :class:`igogo.MapJob` at once.  Each parameter set (a
    dict) is injected by papermill after the cell tagged ``parameters`` (at the
    top if there is none), and the notebook runs in a fresh kernel of
    ``kernel_name`` (None: the notebook's own kernelspec), in the notebook's
    directory.  Every run writes its executed notebook into ``output_dir``
    (default: ``<notebook dir>/<stem>-runs/``, created if missing) as
    ``<stem>-<index>-<parameters>.ipynb``; runs of the same index overwrite
    what an earlier call left there.

    ``m.results()`` gives one :class:`NotebookRun` (``parameters``, ``path``)
    per set, in input order.  A run whose cell raises is an error on that item
    (:class:`NotebookRunError`, its partially executed notebook still written);
    ``m.status()`` lists every set and ``m.restart()`` runs the failed ones
    again.  ``executor``, ``retries``, ``max_in_flight`` and ``name`` are as for
    :func:`igogo.map`; with a remote cluster, the notebook and ``output_dir``
    must be on a filesystem the workers share.
    """
    if importlib.util.find_spec("papermill") is None:
        raise ImportError(f"map_notebook runs notebooks with papermill: {INSTALL_HINT}")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"map_notebook(path, ...): path must be a str or a Path; got {path!r}")
    notebook = Path(path).expanduser().resolve()
    if not notebook.is_file():
        what = "is a directory, not a notebook" if notebook.is_dir() else "does not exist"
        raise FileNotFoundError(f"map_notebook: {notebook} {what}")
    nb = _read_notebook(notebook)
    kernelspec = nb.get("metadata", {}).get("kernelspec") or {}
    if kernel_name is None and not kernelspec.get("name"):
        raise ValueError(
            f"map_notebook: {notebook.name} names no kernel (no kernelspec in its metadata); "
            "pass kernel_name='python3' or another installed kernel"
        )
    if kernel_name is not None and not isinstance(kernel_name, str):
        raise TypeError(f"kernel_name={kernel_name!r}: must be a kernel's name (a str) or None")

    given: object = parameters  # checked as what it is, not as what it should be
    if isinstance(given, Mapping):
        raise TypeError(
            "map_notebook(path, parameters): parameters must be an iterable of dicts, one per "
            "run; got a single dict (for one run, pass [parameters])"
        )
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise TypeError(
            f"map_notebook(path, parameters): parameters must be an iterable of dicts, one per "
            f"run; got {parameters!r}"
        )
    sets = [_checked_parameters(p, f"parameter set {i}") for i, p in enumerate(parameters)]
    if not sets:
        raise ValueError(
            "map_notebook(path, parameters): parameters is empty, so there is nothing to run"
        )

    if output_dir is None:
        out = notebook.parent / f"{notebook.stem}-runs"
    elif isinstance(output_dir, str | os.PathLike):
        out = Path(output_dir).expanduser().resolve()
    else:
        raise TypeError(f"output_dir={output_dir!r}: must be a str, a Path or None")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"map_notebook: output_dir {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)

    width = len(str(len(sets) - 1))
    tasks = [_Task(p, _filename(notebook.stem, f"{i:0{width}d}", p)) for i, p in enumerate(sets)]
    runner = _NotebookRunner(str(notebook), str(out), kernel_name)

    import igogo

    return igogo.map(
        runner,
        tasks,
        executor=executor,
        max_in_flight=max_in_flight,
        retries=retries,
        name=name or f"map_notebook({notebook.name})",
    )
