"""A worker's reply, read in the caller: values, exceptions and their tracebacks.

:func:`decode` turns a finished future of :func:`igogo._inworker.call_in_worker`
into one :class:`Outcome` per call.  It runs on the executor's thread (a done
callback) as well as the scheduler's, so it only unpickles and words errors,
and touches no scheduler state.

An exception raised in the worker is raised here as itself, so ``except
ValueError`` works across the process boundary.  Its traceback cannot travel,
so the worker's text of it becomes the exception's ``__cause__``
(:class:`~igogo.WorkerTraceback`), and a note names the function and the
worker's pid.  A worker started fresh has no copy of the notebook's cells, so
its traceback names their frames without their lines; this process has them,
and fills them in.

When the executor itself fails a call (a worker died, the call was cancelled)
every item the call carried gets the same outcome: a
:class:`~igogo.WorkerDiedError` or :class:`~igogo.WorkerError` whose cause is
the executor's own exception.
"""

from __future__ import annotations

import linecache
import pickle
import re
import sys
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any, Final, NamedTuple

from ._errors import WorkerDiedError, WorkerError, WorkerTraceback

__all__ = ["Outcome", "decode", "function_name", "replay"]


class Outcome(NamedTuple):
    """What came back from one call: its value or its exception, prints and timing."""

    value: Any
    exception: BaseException | None
    output: list[tuple[bool, str]]
    seconds: float | None
    pid: int | None

    def unwrap(self) -> Any:
        """Print what the worker printed (into the current job's output), then return or raise."""
        replay(self.output)
        if self.exception is not None:
            raise self.exception
        return self.value


def replay(output: list[tuple[bool, str]]) -> None:
    """Write a worker's captured prints to this process's stdout and stderr, in order."""
    if not output:
        return
    for is_err, text in output:
        (sys.stderr if is_err else sys.stdout).write(text)
    sys.stdout.flush()


def function_name(fn: Callable[..., Any]) -> str:
    """How messages about a call name its function."""
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn))


def decode(fut: Future[Any], fn: Callable[..., Any], n: int = 1) -> list[Outcome]:
    """Turn a finished future of ``call_in_worker`` into ``n`` :class:`Outcome` s."""
    try:
        exc = fut.exception()
    except CancelledError as e:
        return [Outcome(None, e, [], None, None)] * n
    if exc is not None:
        return [Outcome(None, _executor_error(exc, fn), [], None, None)] * n
    outcomes = [_decode_one(raw, fn) for raw in fut.result()]
    return outcomes * n if len(outcomes) == 1 else outcomes


def _decode_one(raw: tuple[Any, ...], fn: Callable[..., Any]) -> Outcome:
    kind, data, text, output, seconds, pid = raw
    if kind == "unpicklable":
        err: BaseException = WorkerError(
            f"the result of {function_name(fn)} could not be pickled to send it back: {data}"
        )
        return Outcome(None, err, output, seconds, pid)
    try:
        obj = pickle.loads(data)
    except Exception as e:
        what = "result" if kind == "ok" else "exception"
        err = WorkerError(
            f"the {what} of {function_name(fn)} could not be unpickled here: "
            f"{type(e).__name__}: {e}"
        )
        return Outcome(None, err, output, seconds, pid)
    if kind == "ok":
        return Outcome(obj, None, output, seconds, pid)
    if text and isinstance(obj, BaseException):
        obj.__cause__ = WorkerTraceback(_with_source(text))
        obj.add_note(f"(raised by {function_name(fn)} in worker process {pid})")
        if isinstance(obj, KeyboardInterrupt):
            obj.add_note(
                "The worker process got an interrupt (SIGINT). An executor's workers get "
                "the kernel's interrupts when they share its process group; igogo's "
                "default pool ignores them, and a ProcessPoolExecutor does when created "
                "with initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)"
            )
    return Outcome(None, obj, output, seconds, pid)


_FRAME: Final = re.compile(r'^(\s*)File "(.+)", line (\d+), in ')


def _with_source(text: str) -> str:
    """Fill in the source lines a worker could not show: cells of this notebook, say."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        m = _FRAME.match(line)
        if m is None:
            continue
        indent = m.group(1)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt.startswith(indent + " ") and not _FRAME.match(nxt):
            continue  # the worker had the source
        source = linecache.getline(m.group(2), int(m.group(3))).strip()
        if source:
            out.append(f"{indent}  {source}")
    return "\n".join(out)


def _executor_error(exc: BaseException, fn: Callable[..., Any]) -> BaseException:
    name = type(exc).__name__
    if name in ("TerminatedWorkerError", "BrokenProcessPool", "KilledWorker"):
        err: WorkerError = WorkerDiedError(
            f"the worker process running {function_name(fn)} died (killed, out of memory or "
            f"crashed): {name}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
        )
    elif name == "CancelledError":
        err = WorkerError(f"the call to {function_name(fn)} was cancelled by the executor")
    else:
        err = WorkerError(f"the executor failed to run {function_name(fn)}: {name}: {exc}")
    err.__cause__ = exc
    return err
