"""igogo: cooperative jobs that run beside your code, in the same thread.

A function decorated with :func:`job` starts a :class:`Job` each time it is
called: a greenlet that runs whenever the code around it lets others run,
through :func:`yielder`, :func:`sleep` or a wait.  No threads, no locks, no
data races.  ``import igogo`` has no side effects; the host that drives the
jobs (a Jupyter kernel, an asyncio loop, or your script's waits) is found when
the first job starts.
"""

# First of all: igogo.lowlevel tells by this attribute that the `igogo` package it is imported
# from is igogo-core's, not the original igogo's (see _distribution).
__version__ = "0.2.0"

from . import _distribution, lowlevel
from ._api import (
    JobList,
    add_hook,
    as_completed,
    clear_output,
    display,
    jobs,
    remove_hook,
    run,
    sleep,
    stop,
    stop_all,
    stop_by_cell_id,
    stop_latest,
    wait,
    wait_all,
)
from ._configure import configure
from ._decorator import JobFunction, job
from ._errors import (
    BrokenExecutorError,
    DeadlockError,
    IgogoError,
    JobTimeoutError,
    MapError,
    MisuseError,
    NotInJobError,
    Stop,
    StoppedError,
    UnknownPluginError,
    WorkerDiedError,
    WorkerError,
    WorkerTraceback,
    WrongThreadError,
)
from ._hosts import AsyncioHost, BlockingHost, Host
from ._hub import yielder
from ._job import STATES, Job, JobState, current_job
from ._map import MapJob, map
from ._offload import offload
from ._options import JobOptions
from ._plugins import deactivate_plugin, plugins
from ._status import ITEM_STATES, ItemStatus, MapStatus
from ._sync import Event, Queue

_distribution.warn_if_original_installed()  # one stat: is the original igogo here too?


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext igogo``: the magics live in igogo-jupyter, imported only now."""
    try:
        import igogo_jupyter
    except ModuleNotFoundError as e:
        if e.name != "igogo_jupyter":  # igogo-jupyter is there, something it needs is not
            raise
        raise ModuleNotFoundError(
            "%load_ext igogo needs the igogo-jupyter package, which is not installed in this "
            "kernel's environment. It is not on PyPI yet: install it from the repository, "
            f'%pip install "igogo-jupyter @ git+{_distribution.REPOSITORY}'
            '#subdirectory=packages/igogo-jupyter" (or %pip install ./packages/igogo-jupyter '
            "in a clone; once published, %pip install igogo-jupyter), then run %load_ext igogo "
            "again.",
            name="igogo_jupyter",
        ) from e
    igogo_jupyter.load_ipython_extension(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext igogo``: undo what loading did."""
    import igogo_jupyter

    igogo_jupyter.unload_ipython_extension(ipython)


__all__ = [
    "ITEM_STATES",
    "STATES",
    "AsyncioHost",
    "BlockingHost",
    "BrokenExecutorError",
    "DeadlockError",
    "Event",
    "Host",
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
