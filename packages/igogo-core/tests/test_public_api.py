"""The exported names: a snapshot, so that any change to the public API is deliberate."""

from __future__ import annotations

import importlib.resources
import inspect

import igogo

EXPECTED = [
    "AsyncioHost",
    "BlockingHost",
    "BrokenExecutorError",
    "DeadlockError",
    "Event",
    "Host",
    "ITEM_STATES",
    "IgogoError",
    "ItemStatus",
    "Job",
    "JobFunction",
    "JobList",
    "JobOptions",
    "JobTimeoutError",
    "KINDS",
    "MapError",
    "MapJob",
    "MapStatus",
    "NotInJobError",
    "Queue",
    "STATES",
    "Stop",
    "StoppedError",
    "WorkerDiedError",
    "WorkerError",
    "WorkerTraceback",
    "WrongThreadError",
    "__version__",
    "add_hook",
    "clear_output",
    "configure",
    "current_job",
    "deactivate_plugin",
    "display",
    "job",
    "jobs",
    "map",
    "offload",
    "plugins",
    "remove_hook",
    "run",
    "sleep",
    "stop",
    "stop_all",
    "stop_by_cell_id",
    "stop_latest",
    "wait",
    "wait_all",
    "yielder",
]


def test_all_is_exactly_the_expected_names() -> None:
    assert sorted(EXPECTED) == EXPECTED
    assert sorted(igogo.__all__) == EXPECTED
    assert len(set(igogo.__all__)) == len(igogo.__all__)


def test_every_exported_name_resolves() -> None:
    for name in igogo.__all__:
        assert getattr(igogo, name) is not None, name


def test_star_import_gives_exactly_the_exported_names() -> None:
    namespace: dict[str, object] = {}
    exec("from igogo import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == EXPECTED


def test_no_public_name_is_left_out_of_all() -> None:
    public = {
        name
        for name, value in vars(igogo).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    # The IPython extension entry points are found by name, not imported.
    assert public - set(igogo.__all__) <= {"load_ipython_extension", "unload_ipython_extension"}


def test_exceptions_form_the_documented_families() -> None:
    assert issubclass(igogo.Stop, BaseException)
    assert not issubclass(igogo.Stop, Exception)  # `except Exception` does not swallow it
    for error in (
        igogo.StoppedError,
        igogo.DeadlockError,
        igogo.NotInJobError,
        igogo.WrongThreadError,
        igogo.WorkerError,
        igogo.MapError,
    ):
        assert issubclass(error, igogo.IgogoError)
    assert issubclass(igogo.WorkerDiedError, igogo.WorkerError)
    assert issubclass(igogo.BrokenExecutorError, igogo.WorkerError)
    assert issubclass(igogo.JobTimeoutError, igogo.StoppedError)
    assert issubclass(igogo.IgogoError, Exception)


def test_the_version_and_constants() -> None:
    assert isinstance(igogo.__version__, str)
    assert igogo.__version__.count(".") >= 1
    assert igogo.KINDS == ("text", "markdown", "html")
    assert len(igogo.STATES) == 9


def test_the_package_is_marked_as_typed() -> None:
    marker = importlib.resources.files("igogo") / "py.typed"
    assert marker.is_file()
