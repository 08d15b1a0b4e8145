"""Real kernels for tests and benchmarks: start an ipykernel, send cells, read what it sent.

igogo's promises in a notebook are about messages: a job's print reaches *its* cell
as an ordinary ``stream`` message, a new cell starts within milliseconds beside
spinning jobs, 2,000 printed lines cost a few kilobytes.  Only a real kernel, started
through jupyter_client and read on its IOPub channel, can show them; a fake shell
would test the fake.  This package is that kernel driver, shared by the tests of
igogo-jupyter, igogo-mpl and igogo-tqdm and by ``bench/``.  It is never imported by
``import igogo_jupyter`` (it needs jupyter_client: ``pip install igogo-jupyter[testing]``).

The driver (:class:`KernelDriver`)
    ``KernelDriver.start()`` starts a kernel, ``run(code)`` executes a cell and waits for
    it, ``send(code)`` / ``finish(ex)`` split that in two so that a caller can time a
    cell sent while others run, ``eval(expr)`` reads a value back.  Every IOPub message
    read is kept in ``messages``, stamped with the monotonic time it arrived
    (``_received``) and the bytes it took on the wire (``_bytes``), so a test can check,
    long after the fact, which cell (execute request) each output was addressed to:
    ``outputs(ex)``, ``stdout(ex)``, ``texts(ex)``, ``errors(ex)``, ``wire_bytes(ex)``.
    An :class:`Execution` records when its cell was sent and when its ``busy`` and
    ``idle`` statuses arrived: ``start_latency`` is how long the kernel took to start it.
    A cell that does not finish in time raises :class:`TimeoutError` that says where each
    of the kernel's threads was (``stacks()``): a stalled kernel shows why.

Why it reads IOPub itself
    ZeroMQ drops messages silently for a subscriber more than 1,000 messages behind, on
    both ends.  A kernel flooding IOPub (the original igogo sends 8,000 messages for
    2,000 printed lines) would lose some and every count would be short.  So the kernel
    runs through ``_launcher.py`` (ipykernel with no high-water marks; run by its path,
    it works with any environment's interpreter, also one without igogo, as the
    benchmark's original igogo 1.1.0), the client's sockets have none either, and
    messages are read from the socket as frames, whose size is what "bytes sent" means.
    Timing stays accurate because the driver blocks on IOPub alone while it waits.

Other interpreters
    ``KernelDriver.start(python=...)`` runs the kernel with another environment's
    interpreter (a private kernelspec points at it; its ``bin`` goes first on PATH).
    Each kernel gets a private IPython directory: the user's profile stays out.

The fixtures' machinery (pytest)
    ``running_kernel(setup)`` is a started kernel in which ``setup`` ran, shut down on
    exit: the conftests' ``kernel`` fixtures are built on it.  :class:`LeakCheck` stops
    every job in a kernel after a test and fails a test that left jobs alive or fails
    the package's own checks; a conftest using it also imports the hook
    ``pytest_runtest_makereport``, so that a test that failed already is not failed
    again.  These three need pytest and are imported from here on first use only, so
    the benchmark uses the driver without pytest.

Widgets as a browser sees them
    :class:`WidgetModels` rebuilds the kernel's widgets from the IOPub messages the driver
    read, finds a job's control row (``parts(job_id)``: its info, its Stop and Pause
    buttons) and clicks a button as a browser does; ``widget_outputs(driver, ex)`` is what
    a cell displayed as widgets.

Whole notebooks
    ``run_notebook(cells, headless=True)`` executes cells as nbclient (and papermill)
    does, in a kernel with ``IGOGO_HEADLESS=1``; ``cell_text(cell)`` is what a cell kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igogo_jupyter.testing._driver import (
    OUTPUT_TYPES,
    WIDGET_MIME,
    Execution,
    KernelDriver,
    Message,
    kernel_time,
    running_kernel,
)
from igogo_jupyter.testing._widgets import WidgetModel, WidgetModels, widget_outputs

if TYPE_CHECKING:
    from igogo_jupyter.testing._fixtures import (
        Cleanup,
        LeakCheck,
        did_fail,
        pytest_runtest_makereport,
    )
    from igogo_jupyter.testing._notebooks import cell_text, run_notebook

__all__ = [
    "OUTPUT_TYPES",
    "WIDGET_MIME",
    "Cleanup",
    "Execution",
    "KernelDriver",
    "LeakCheck",
    "Message",
    "WidgetModel",
    "WidgetModels",
    "cell_text",
    "did_fail",
    "kernel_time",
    "pytest_runtest_makereport",
    "run_notebook",
    "running_kernel",
    "widget_outputs",
]

_NEED_PYTEST = frozenset({"Cleanup", "LeakCheck", "pytest_runtest_makereport", "did_fail"})


def __getattr__(name: str) -> Any:
    if name in ("cell_text", "run_notebook"):  # nbclient loads on first use
        from igogo_jupyter.testing import _notebooks

        return getattr(_notebooks, name)
    if name in _NEED_PYTEST:
        from igogo_jupyter.testing import _fixtures

        return getattr(_fixtures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
