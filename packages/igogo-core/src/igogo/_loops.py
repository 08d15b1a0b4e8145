"""A job's own asyncio event loop, kept to that job across switches.

A job may run an event loop of its own (``asyncio.run(main())`` inside a
job).  asyncio records the running loop per thread, and every greenlet of the
thread shares that record.  Left alone, the next job (or the hub) would find
the first job's loop "running" and could neither start its own nor use
``asyncio.run``.  So as a job leaves the CPU, the hub takes its running loop
away from the thread (:func:`take_away`), and puts it back as the job
returns (:func:`put_back`).

asyncio is never imported for this: the functions are bound the first time
asyncio is found in ``sys.modules``, and until then no job can have a loop.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._job import Job

__all__ = ["bound", "put_back", "running", "take_away"]

bound = False
"""Whether asyncio's get/set of the thread's running loop are bound (asyncio is imported)."""
_get: Callable[[], Any]
_set: Callable[[Any], None]


def running() -> object:
    """The thread's running asyncio loop (None if none or asyncio is not imported)."""
    global bound, _get, _set
    if not bound:
        if "asyncio" not in sys.modules:
            return None
        from asyncio import events

        _get, _set = events._get_running_loop, events._set_running_loop
        bound = True
    return _get()


def take_away(job: Job[Any]) -> None:
    """``job`` leaves the CPU: the loop it runs, if any, stops being the thread's."""
    mine = running()
    if mine is not None:
        job._loop = mine
        _set(None)
    elif job._loop is not None:
        job._loop = None  # its loop ended meanwhile


def put_back(job: Job[Any]) -> None:
    """``job`` (which runs a loop of its own) returns to the CPU: the loop is the thread's again."""
    _set(job._loop)
