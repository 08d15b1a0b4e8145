"""The public API's types, checked by mypy (``hatch run lint:check``), never run.

Each ``assert_type`` states what a user's type checker infers; a change of the
API's types makes mypy fail here, as a changed signature makes the snapshot test
fail.
"""

from __future__ import annotations

import math
from typing import Any, Literal, assert_type

import igogo


@igogo.job
def double(x: int) -> int:
    return 2 * x


@igogo.job(name="typed", preempt=True)
def greet(name: str, *, punctuation: str = "!") -> str:
    return name + punctuation


def square(x: int) -> float:
    return math.sqrt(x)


def check_jobs() -> None:
    j = double(21)
    assert_type(j, igogo.Job[int])
    assert_type(j.result(), int)
    assert_type(greet("you", punctuation="?"), igogo.Job[str])
    assert_type(j.state, igogo.JobState)
    state: Literal["pending", "running", "sleeping", "waiting", "paused", "done", "failed",
                   "stopped", "timed out"] = j.state  # fmt: skip
    assert_type(state, igogo.JobState)
    assert_type(igogo.STATES, tuple[igogo.JobState, ...])
    assert_type(j.preemptive, bool)


def check_map() -> None:
    m = igogo.map(square, [1, 4, 9])
    assert_type(m, igogo.MapJob[int, float])
    assert_type(m.results(), list[float])
    assert_type(m.submit(16), int)
    assert_type(m.restart(), igogo.MapJob[int, float])
    loose = igogo.map(square, range(3), return_exceptions=True)
    assert_type(loose, igogo.MapJob[int, float | BaseException])
    assert_type(loose.results(), list[float | BaseException])
    assert_type(m.exceptions(), dict[int, BaseException])


def scale(x: int, *, by: float = 1.0) -> float:
    return x * by


def check_offload() -> None:
    assert_type(igogo.offload(scale, 3, by=2.0), float)
    assert_type(igogo.offload(scale, 3, executor=None), float)  # executor: the result typed
    igogo.offload(scale, "3")  # type: ignore[call-overload]
    igogo.offload(scale, 3, factor=2.0)  # type: ignore[call-arg]


def check_misc() -> None:
    assert_type(igogo.wait(double(1), timeout=1.0), bool)
    assert_type(igogo.jobs(), igogo.JobList)
    assert_type(igogo.configure(), dict[str, Any])
