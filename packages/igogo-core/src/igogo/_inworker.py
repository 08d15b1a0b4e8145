"""The call as it runs in a worker process, and the bytes it travels as.

Whatever the executor, a worker runs :func:`call_in_worker`, which pickles what
each call gave (its result, or its exception with the traceback as text, its
prints and its timing) and returns all of it as one value made of bytes and
strings.  Executors differ in how they pickle a result and in what they do with
an exception that will not pickle; handing them bytes means every executor
brings back the same outcomes, and the caller (:mod:`igogo._replies`) reports
the same errors.

Executors send :func:`call_in_worker` by reference, as the name
``igogo._inworker.call_in_worker``, which the worker imports: it stays a
module-level function of this module.  The user's function travels the other
way, by value when it has to, pickled once by :func:`dumps` in the caller.  A
map sends that same function with every call, so a worker keeps the last few
it unpickled.
"""

from __future__ import annotations

import io
import marshal
import os
import pickle
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

from ._errors import WorkerError

__all__ = ["call_in_worker", "dumps"]


def dumps(obj: object) -> bytes:
    """Pickle ``obj`` for another process: with cloudpickle when it is installed.

    Code objects travel through :mod:`marshal`, which keeps every field as it
    is.  cloudpickle 3.1.3 and later replace a function's file name with
    ``"<dynamic-code>"``, so a worker's traceback lost the user's file and
    source line; carrying code ourselves gives the same traceback with every
    cloudpickle release.  Workers run the same interpreter as the caller (a
    code object never crosses Python versions, with or without cloudpickle).
    """
    try:
        import cloudpickle
    except ImportError:  # plain pickle: module-level functions only
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    buffer = io.BytesIO()
    _code_keeping_pickler(cloudpickle)(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


_pickler_class: type | None = None


def _code_keeping_pickler(cloudpickle: Any) -> Any:
    global _pickler_class
    if _pickler_class is None:

        class CodeKeepingPickler(cloudpickle.Pickler):  # type: ignore[misc]
            def reducer_override(self, obj: object) -> Any:
                if type(obj) is types.CodeType:
                    return marshal.loads, (marshal.dumps(obj),)
                return super().reducer_override(obj)

        _pickler_class = CodeKeepingPickler
    return _pickler_class


class _Capture(io.TextIOBase):
    """A worker's stdout or stderr while it runs a call: text kept, in order."""

    def __init__(self, chunks: list[tuple[bool, str]], is_err: bool) -> None:
        self._chunks = chunks
        self._is_err = is_err

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._chunks.append((self._is_err, text))
        return len(text)


_functions: dict[bytes, Callable[..., Any]] = {}
"""In a worker: the functions of recent maps, unpickled once instead of at every item."""


def _load_function(blob: bytes) -> Callable[..., Any]:
    fn = _functions.get(blob)
    if fn is None:
        if len(_functions) >= 8:
            _functions.clear()
        fn = _functions[blob] = pickle.loads(blob)
    return fn


def call_in_worker(
    fn: Callable[..., Any] | bytes, calls: list[tuple[Any, ...]] | bytes, parent_pid: int
) -> list[tuple[Any, ...]]:
    """Run calls of ``fn`` in a worker, one after the other; one outcome tuple for each.

    ``fn`` and ``calls`` (a list of ``(args, kwargs)``: a map sends short items
    several at a time) come pickled by the caller for process pools, as they
    are otherwise.  Each outcome is ``(kind, data, traceback, output, seconds,
    pid)``: ``kind`` is ``"ok"`` (data: the pickled result), ``"raised"`` (data:
    the pickled exception) or ``"unpicklable"`` (data: why the result could not
    be pickled).  If the call cannot be unpickled, the one outcome says so.
    """
    pid = os.getpid()
    try:
        if isinstance(fn, bytes):
            fn = _load_function(fn)
        todo: list[tuple[Any, ...]] = pickle.loads(calls) if isinstance(calls, bytes) else calls
    except Exception as e:
        err = WorkerError(
            f"the worker could not unpickle the call: {type(e).__name__}: {e}. A function "
            "travels as a reference to its module, which the worker must be able to "
            "import; functions defined in a notebook (in __main__) travel by value when "
            "cloudpickle is installed"
        )
        return [("raised", dumps(err), "", [], 0.0, pid)]
    # Prints are captured only in another process: in a thread of the caller's own
    # process, sys.stdout is shared with everything else.
    capture = pid != parent_pid
    return [_call_one(fn, args, kwargs, capture, pid) for args, kwargs in todo]


def _call_one(
    fn: Callable[..., Any], args: Any, kwargs: Any, capture: bool, pid: int
) -> tuple[Any, ...]:
    chunks: list[tuple[bool, str]] = []
    saved = sys.stdout, sys.stderr
    if capture:
        sys.stdout, sys.stderr = _Capture(chunks, False), _Capture(chunks, True)
    start = time.perf_counter()
    try:
        value = fn(*args, **kwargs)
    except BaseException as e:
        seconds = time.perf_counter() - start
        tb = e.__traceback__
        text = "".join(traceback.format_exception(type(e), e, tb.tb_next if tb else None))
        try:
            data = dumps(e)
        except Exception:  # an exception that cannot travel: its type and message can
            data = dumps(WorkerError(f"{type(e).__module__}.{type(e).__qualname__}: {e}"))
        return ("raised", data, text, chunks, seconds, pid)
    finally:
        if capture:  # in a thread of the caller's process the streams were never ours
            sys.stdout, sys.stderr = saved
    seconds = time.perf_counter() - start
    try:
        data = dumps(value)
    except Exception as e:
        why = f"{type(e).__name__}: {e}"
        return ("unpicklable", why, "", chunks, seconds, pid)
    return ("ok", data, "", chunks, seconds, pid)
