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
    "JobState",
    "JobTimeoutError",
    "MapError",
    "MapJob",
    "MapStatus",
    "MisuseError",
    "NotInJobError",
    "Queue",
    "STATES",
    "Stop",
    "StoppedError",
    "UnknownPluginError",
    "WorkerDiedError",
    "WorkerError",
    "WorkerTraceback",
    "WrongThreadError",
    "__version__",
    "add_hook",
    "as_completed",
    "clear_output",
    "configure",
    "current_job",
    "deactivate_plugin",
    "display",
    "job",
    "jobs",
    "lowlevel",
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
        if not name.startswith("_") and (not inspect.ismodule(value) or name == "lowlevel")
    }
    # The IPython extension entry points are found by name, not imported.
    assert public - set(igogo.__all__) <= {"load_ipython_extension", "unload_ipython_extension"}


def test_exceptions_form_the_documented_families() -> None:
    assert issubclass(igogo.Stop, BaseException)
    assert not issubclass(igogo.Stop, Exception)  # `except Exception` does not swallow it
    for error in (
        igogo.MisuseError,
        igogo.UnknownPluginError,
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
    for misuse in (igogo.NotInJobError, igogo.DeadlockError, igogo.WrongThreadError):
        assert issubclass(misuse, igogo.MisuseError)
    assert issubclass(igogo.MisuseError, RuntimeError)  # what these were before 0.2
    assert issubclass(igogo.UnknownPluginError, KeyError)


def test_the_version_and_constants() -> None:
    assert isinstance(igogo.__version__, str)
    assert igogo.__version__.count(".") >= 1
    assert len(igogo.STATES) == 9


def test_the_package_is_marked_as_typed() -> None:
    marker = importlib.resources.files("igogo") / "py.typed"
    assert marker.is_file()


LOWLEVEL = [
    "JOB_ENTRY_CODES",
    "AsyncioHost",
    "BlockingHost",
    "Hook",
    "Host",
    "ImportWatch",
    "JobOptions",
    "JobRecord",
    "OptionSpec",
    "Timer",
    "add_hook",
    "call_at",
    "calls_user_code",
    "check_flag",
    "check_number",
    "clock",
    "current_host",
    "end_tick",
    "error_line",
    "failure",
    "hooks",
    "live_jobs",
    "progress_bar",
    "register_library",
    "register_option",
    "remove_hook",
]


def test_the_lowlevel_layer_is_exactly_the_expected_names() -> None:
    assert igogo.lowlevel.__all__ == LOWLEVEL
    for name in LOWLEVEL:
        assert getattr(igogo.lowlevel, name) is not None, name


def test_the_lint_bans_every_private_module_outside_the_core() -> None:
    """A new private module must be added to ruff's banned-api list in the root pyproject."""
    import pkgutil
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    banned = config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"]
    private = {
        f"igogo.{m.name}" for m in pkgutil.iter_modules(igogo.__path__) if m.name.startswith("_")
    }
    assert private <= set(banned), sorted(private - set(banned))
