"""Preemption's cost, in any interpreter that has igogo-core: timed by the stdlib, no pyperf.

``python bench/preempt.py --measure NAME [--quick] -o FILE`` runs one measure in
this fresh interpreter and writes its samples as JSON, ``{"python": "3.13", "samples": {name:
[values]}}``.  bench/core.py (in the ``bench`` environment, on pyperf) runs it with each
interpreter, its own (3.11) and those of the ``core.py3.12`` / ``core.py3.13`` environments
(igogo-core alone), and makes the samples pyperf benchmarks named with the version.
Preemption has one mechanism for 3.11 (a trace armed when a slice ends) and another for 3.12
and later (``sys.monitoring`` local events on the user's code objects): see igogo/_preempt.py.

* ``ploop``: a loop alone in a job, preemptible (``@igogo.job(preempt=True)``) and with
  preemption off (``preempt=False``, twice: the second is the control), bodies of about 1 µs
  and 10 µs (calibrated here), in turns round by round: the ratio is taken inside this one
  run.  The jobs run copies of one function, each with its own code object, so that arming
  one for preemption leaves the others as they were.
* ``plain``: a plain function's loop in regular code (not in a job), in three processes
  forked from this one once warm: in one, a preemptive job ran that same function and ended
  (on 3.12+ its code object keeps igogo's local events); in the others no preemptive job
  ever ran (their job was cooperative).  They time the loop in turns, round by round, so the
  ratio is taken in the same moments; the two never-preempted ones give the control.

This file is user code (outside the standard library and site-packages), as a user's script is.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

import igogo

Samples = dict[str, list[float]]


def body_steps(target_s: float) -> int:
    """How many ``s += i * i`` steps last ``target_s`` here (fastest of many short batches)."""

    def best(k: int) -> float:
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            for _ in range(200):
                s = 0
                for i in range(k):
                    s += i * i
            times.append((time.perf_counter() - t0) / 200)
        return min(times)

    k = 256
    for _ in range(3):
        k = max(int(k * target_s / best(k)), 1)
    return k


def body(n: int, k: int) -> float:
    """``n`` iterations of a ``k``-step body: seconds per iteration."""
    t0 = time.perf_counter()
    for _ in range(n):
        s = 0
        for i in range(k):
            s += i * i
    return (time.perf_counter() - t0) / n


def copy(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with a code object of its own (the same bytecode)."""
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__)


def run_job(fn: Callable[..., float], preempt: bool, *args: int) -> float:
    """``fn(*args)`` in a job, preemptible or not; fails if igogo did not make it so."""
    job = igogo.job(preempt=preempt)(fn)(*args)
    value = job.result()
    if job.preemptive != preempt:
        raise RuntimeError(f"the job ran with preemptive={job.preemptive}, not {preempt}")
    return value


def loop(quick: bool) -> Samples:
    seconds, rounds = (0.02, 3) if quick else (0.05, 60)  # many short rounds: the load varies
    out: Samples = {}
    kinds = {"preempt": True, "off": False, "control": False}  # control: off, another copy
    order = list(kinds)
    for label, target in (("1us", 1e-6), ("10us", 10e-6)):
        k, n = body_steps(target), max(int(seconds / target), 1)
        fns = {kind: copy(body) for kind in kinds}
        for r in range(rounds):  # each round in another order
            for kind in order[r % 3 :] + order[: r % 3]:
                value = run_job(fns[kind], kinds[kind], n, k)
                out.setdefault(f"ploop-{label}-{kind}", []).append(value)
    return out


class Forked:
    """A child process, forked now, that runs ``body`` in a job (preemptible or not) until it
    ends, then times ``body(n, k)`` in regular code each time it is asked."""

    def __init__(self, preempt: bool, n: int, k: int, job_n: int, cpu: int | None) -> None:
        ask_r, self._ask = os.pipe()
        self._answer, answer_w = os.pipe()
        self.pid = os.fork()
        if self.pid:
            os.close(ask_r)
            os.close(answer_w)
            return
        os.close(self._ask)
        os.close(self._answer)
        try:
            if cpu is not None:  # the same CPU for all: none is favoured by the other jobs' load
                os.sched_setaffinity(0, {cpu})
            run_job(body, preempt, job_n, k)
            while os.read(ask_r, 1) == b"t":
                os.write(answer_w, struct.pack("d", body(n, k)))
            os._exit(0)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(1)

    def time(self) -> float:
        os.write(self._ask, b"t")
        answer = os.read(self._answer, 8)
        if len(answer) != 8:
            raise RuntimeError("a timing process failed (its job was not what it should be?)")
        return float(struct.unpack("d", answer)[0])

    def close(self) -> None:
        os.write(self._ask, b"q")
        os.close(self._ask)
        os.close(self._answer)
        os.waitpid(self.pid, 0)


def plain(quick: bool) -> Samples:
    """Three processes forked from this one once it is warm (the same code, the same memory,
    the same CPU): one's job was preemptive, the others' cooperative; they time the same loop
    in turns."""
    seconds, rounds, job_s = (0.005, 3, 0.05) if quick else (0.005, 300, 0.3)
    k = body_steps(1e-6)
    n = max(int(seconds / 1e-6), 1)
    body(n, k)  # warm: the children inherit it
    kinds = {"preempted": True, "never": False, "control": False}
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    job_n = int(job_s / 1e-6)
    children = {kind: Forked(preempt, n, k, job_n, cpu) for kind, preempt in kinds.items()}
    out: Samples = {f"plain-{kind}": [] for kind in kinds}
    try:
        order = list(kinds)
        for r in range(rounds):  # each round in another order
            for kind in order[r % 3 :] + order[: r % 3]:
                out[f"plain-{kind}"].append(children[kind].time())
    finally:
        for child in children.values():
            child.close()
    return out


MEASURES: dict[str, Callable[[bool], Samples]] = {"ploop": loop, "plain": plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--measure", required=True, choices=MEASURES)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-o", required=True)
    args = parser.parse_args()
    # The first job of a process looks up the host and the plugins: not measured.
    igogo.job(name="warm-up")(lambda: None)().result()
    samples = MEASURES[args.measure](args.quick)
    python = "{}.{}".format(*sys.version_info[:2])
    with open(args.o, "w", encoding="utf-8") as f:
        json.dump({"python": python, "samples": samples}, f)


if __name__ == "__main__":
    main()
