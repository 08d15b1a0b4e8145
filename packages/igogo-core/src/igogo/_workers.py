"""Work in other processes: the executors that take it, and the default pool's signals.

The promise igogo keeps for notebook state is that only code on the
scheduler's thread touches it.  Work handed to a worker therefore travels as
a pickled copy and comes back as a pickled copy; a job waiting for it is
parked like any other wait, so the kernel and the other jobs run meanwhile.

Three kinds of executor are accepted, and look the same to the rest of igogo:

* ``None``: a reusable process pool from loky, created on first use and kept
  (``igogo.configure(workers=N)`` sizes it).  If a worker dies, loky's pool
  breaks and the next call gets a fresh one.
* any :class:`concurrent.futures.Executor`: a ``ProcessPoolExecutor`` (spawned
  or forked), a ``ThreadPoolExecutor``, loky's own executors, and so on.
* a ``dask.distributed.Client``, whose ``get_executor()`` gives such an
  executor on the cluster.

For process executors the function and its arguments are pickled here, with
cloudpickle when it is installed, before they are submitted.  Functions
defined in a notebook then work under spawn too, and an argument that cannot
be pickled is reported at once, by name, in the caller.  In the worker,
:func:`igogo._inworker.call_in_worker` runs the function with its prints
captured, pickles the result (or the exception and its traceback as text)
itself, and sends all of it back as one value, which :mod:`igogo._replies`
reads: whatever the executor, the caller sees the same outcomes and the same
error messages.  Calls to a Dask cluster are pickled the same way (Dask then
only moves bytes), so their tracebacks name the user's files too.

Interrupts
----------
Jupyter interrupts a kernel by sending SIGINT to the kernel's whole process
group, and the default pool's workers are in that group: an interrupt meant
for a job that hogs the CPU, or for a cell that waits, used to kill the items
the workers were running (``KeyboardInterrupt`` in each).  An interrupt is
addressed to the kernel, so the default pool's workers ignore SIGINT: the
items in flight finish, and whatever waited for them decides what to do (a
waiting cell stops waiting; a stopped job drops its calls).

The workers stay in the kernel's process group on purpose.  A worker that
left it (``setsid``/``setpgid`` in the worker) would escape the interrupt too,
but also what the group is for: a kernel restart or shutdown kills the group
(jupyter_client) and ipykernel's shutdown terminates the children *in its
group*, so a busy worker of its own group would live on, orphaned.  Ignoring
SIGINT keeps SIGTERM and SIGKILL reaching the workers as before; a process a
worker starts inherits the ignored SIGINT too, so its work is kept as well.

A worker ignores SIGINT from its initializer on (:func:`_ignore_interrupts`),
but loky's worker is a fresh interpreter that imports for a while before the
initializer runs: an interrupt then killed it (measured: every time, for an
interrupt sent up to 0.4 s after the call that started the workers), the pool
broke, and the items failed with WorkerDiedError.  So the thread that submits
to the default pool blocks SIGINT while it may be starting workers
(:func:`_no_interrupts_while_starting_workers`): a blocked signal stays
blocked across fork and exec, so an interrupt sent to a worker that is still
starting waits, pending, until the initializer sets SIGINT to ignored (which
discards it) and unblocks it.  loky's manager thread, which starts
replacements later, is started by such a submit and inherits the block.  No
interrupt is lost meanwhile: one sent to the kernel while the submitting
thread blocks SIGINT is taken by another thread (Python then runs the handler
in the main thread as usual), or waits the few milliseconds until the block
ends.  The standard library's resource tracker unblocks SIGINT when it starts
(Python 3.11 to 3.13), which would undo the block in the middle of a start,
so it is started before the first block.  The resource trackers protect their
own start the same way (bpo-33613).  One start stays outside the block: loky
resizes a pool (after ``igogo.configure(workers=...)``) while it waits for
the running calls, a wait that must stay interruptible, so workers added then
have the short window before their initializer.

Executors the user passes in are left as they are: their processes and their
signal policy belong to whoever made them, and igogo could only reach a
worker that happens to take a call.  Their workers get the kernel's
interrupts when they share its process group: a ``ProcessPoolExecutor``
created with ``initializer=signal.signal, initargs=(signal.SIGINT,
signal.SIG_IGN)`` ignores them; a Dask ``LocalCluster`` started in the kernel
loses its workers to an interrupt (start the cluster outside the kernel, or
have its workers ignore SIGINT).  An item that a worker's interrupt killed
fails with ``KeyboardInterrupt`` and a note that says where it came from.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, Final

from ._errors import BrokenExecutorError, WorkerError
from ._inworker import call_in_worker, dumps
from ._replies import function_name

__all__ = ["Pool", "settings"]

settings: Final[dict[str, int | None]] = {"workers": None}
"""``workers``: the size of the default process pool (None: loky's choice, the CPU count).
Written by :func:`igogo.configure`, which checks it."""


def _ignore_interrupts() -> None:
    """The default pool's worker initializer: the kernel's interrupts are not for workers.

    SIGINT may arrive blocked (see the module's notes): set it to ignored first,
    which discards one that is pending, then unblock it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class Pool:
    """The executor a call or a map uses, with igogo's submit around it.

    What comes back is read by :func:`igogo._replies.decode`.
    """

    def __init__(self, executor: object = None) -> None:
        self.given = executor
        self.kind = "default"
        self._executor: Executor | None = None
        if executor is None:
            _default_executor()  # fail now, clearly, if loky is missing
        elif type(executor).__module__.startswith("distributed.") and hasattr(
            executor, "get_executor"
        ):
            self.kind = "dask"
            self._executor = executor.get_executor(pure=False)
        elif isinstance(executor, Executor):
            from concurrent.futures import ThreadPoolExecutor

            self.kind = "threads" if isinstance(executor, ThreadPoolExecutor) else "processes"
            self._executor = executor
        else:
            raise TypeError(
                f"executor={executor!r}: expected None (igogo's default process pool), "
                "a concurrent.futures.Executor or a dask.distributed.Client"
            )

    def executor(self) -> Executor:
        # The default pool is asked for each time: after a worker died loky gives a new one.
        return _default_executor() if self._executor is None else self._executor

    def workers(self) -> int:
        """How many calls the executor runs at once (its workers, or Dask threads)."""
        if self.kind == "dask":
            try:
                n = sum(self.given.nthreads().values())  # type: ignore[attr-defined]
            except Exception:
                n = 0
            return max(n, 1)
        size = getattr(self.executor(), "_max_workers", None)
        return size if isinstance(size, int) and size > 0 else os.cpu_count() or 1

    def pickled(self, fn: Callable[..., Any]) -> Callable[..., Any] | bytes:
        """``fn`` as it is sent: pickled once for a process pool (a map reuses it)."""
        if self.kind == "threads":
            return fn
        try:
            return dumps(fn)
        except Exception as e:
            raise WorkerError(
                f"cannot send {function_name(fn)} to a worker: {type(e).__name__}: {e}. "
                "A function sent to workers, and what it refers to, must be picklable "
                "(with cloudpickle)"
            ) from e

    def submit(
        self,
        fn: Callable[..., Any],
        calls: list[tuple[tuple[Any, ...], dict[str, Any]]],
        sent_fn: Callable[..., Any] | bytes | None = None,
    ) -> Future[Any]:
        """Send calls of ``fn`` as one task: ``calls`` is a list of ``(args, kwargs)``.

        Raises WorkerError if they cannot be sent, BrokenExecutorError if the
        executor refuses them.  ``sent_fn`` is what :meth:`pickled` gave for
        ``fn``, when the caller keeps it.
        """
        if sent_fn is None:
            sent_fn = self.pickled(fn)
        payload: bytes | list[tuple[tuple[Any, ...], dict[str, Any]]] = calls
        if isinstance(sent_fn, bytes):
            try:
                payload = dumps(calls)
            except Exception as e:
                raise WorkerError(
                    f"cannot send {function_name(fn)}(...) to a worker: "
                    f"{type(e).__name__}: {e}. Its arguments must be picklable (with "
                    "cloudpickle): no open files, locks, sockets, generators or live connections"
                ) from e
        ex = self.executor()
        pid = os.getpid()
        try:
            if self._executor is not None:
                return ex.submit(call_in_worker, sent_fn, payload, pid)
            try:
                with _no_interrupts_while_starting_workers():  # loky starts workers here
                    return ex.submit(call_in_worker, sent_fn, payload, pid)
            except RuntimeError:
                # A worker of the default pool died and loky has not replaced it yet.
                fresh = _default_executor(fresh=True)
                with _no_interrupts_while_starting_workers():
                    return fresh.submit(call_in_worker, sent_fn, payload, pid)
        except RuntimeError as e:  # shut down, or a broken pool (BrokenExecutor is one)
            raise BrokenExecutorError(
                f"executor {self.describe()} takes no more work ({type(e).__name__}: {e}); "
                "pass a new executor"
            ) from e
        except TypeError as e:  # Dask cannot serialize the task
            raise WorkerError(
                f"cannot send {function_name(fn)}(...) to the Dask cluster: {e}. "
                "The function and its arguments must be picklable"
            ) from e

    def describe(self) -> str:
        if self.kind == "default":
            return "igogo's default process pool (loky)"
        return repr(self.given)


def _default_executor(fresh: bool = False) -> Executor:
    try:
        from loky import get_reusable_executor
    except ImportError:
        raise ImportError(
            "igogo's default process pool needs loky: pip install 'igogo-core[workers]' "
            "(or pass executor=concurrent.futures.ProcessPoolExecutor())"
        ) from None
    # Idle workers live 5 minutes (loky's default is 10 s): the next map in a notebook
    # usually comes later than that, and should not pay for new processes and imports.
    # The initializer is a module-level function, the same object at every call, so loky
    # keeps reusing the executor (it compares the arguments).
    if fresh:  # the one loky has is broken: a new one, now
        return get_reusable_executor(  # type: ignore[no-any-return]
            max_workers=settings["workers"],
            timeout=300,
            kill_workers=True,
            reuse=False,
            initializer=_ignore_interrupts,
        )
    return get_reusable_executor(  # type: ignore[no-any-return]
        max_workers=settings["workers"], timeout=300, initializer=_ignore_interrupts
    )


_trackers_started = False


@contextlib.contextmanager
def _no_interrupts_while_starting_workers() -> Iterator[None]:
    """Block SIGINT in this thread meanwhile: the workers it starts inherit the block.

    Not around waits: a thread that blocks SIGINT cannot be interrupted out of
    a blocking wait in C, so this covers only a submit, which starts workers
    (fork and exec, a few milliseconds each) but does not wait for them.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: Jupyter does not signal a group
        yield
        return
    global _trackers_started
    if not _trackers_started:
        _trackers_started = True
        _start_resource_trackers()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_resource_trackers() -> None:
    """Start the resource trackers loky uses, before SIGINT is blocked (see the module notes).

    Starting one later, inside the block, unblocks SIGINT (the standard library's
    up to Python 3.13).  loky starts both with its first worker anyway.
    """
    from multiprocessing import resource_tracker

    with contextlib.suppress(Exception):
        resource_tracker.ensure_running()
    with contextlib.suppress(Exception):
        from loky.backend import resource_tracker as loky_tracker

        loky_tracker.ensure_running()
