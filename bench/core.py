"""igogo-core in plain interpreters: a yield, a switch, memory, timers, fairness, preemption.

``python bench/core.py [pyperf options]``: the micro benchmarks (pyperf's Runner); ``--measure
NAME``: the others (common.py).  What each is, and on which interpreters: bench/README.md.
"""

import gc
import multiprocessing
import os
import random
import sys
import time
import timeit
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from types import FunctionType

import greenlet

import igogo
from common import Samples, in_turns, main

STEPS = "s = 0\nfor i in range(k):\n    s += i * i"  # the body's steps, as body() runs them


def body_steps(target_s: float) -> int:
    """How many ``s += i * i`` steps last ``target_s`` here (the fastest of many batches)."""
    k = 256
    for _ in range(3):
        times = timeit.repeat(STEPS, f"k = {k}", number=200, repeat=20)
        k = max(int(k * target_s / (min(times) / 200)), 1)
    return k


def body(n: int, k: int) -> float:
    """``n`` iterations of a ``k``-step body: seconds per iteration."""
    t0 = time.perf_counter()
    for _ in range(n):
        s = 0
        for i in range(k):
            s += i * i
    return (time.perf_counter() - t0) / n


def yielding(n: int, k: int) -> float:
    """:func:`body` with a ``yielder()`` per iteration."""
    t0 = time.perf_counter()
    for _ in range(n):
        s = 0
        for i in range(k):
            s += i * i
        igogo.yielder()
    return (time.perf_counter() - t0) / n


def in_job(body: Callable[[int], float]) -> Callable[[int], float]:
    """A pyperf time function running ``body(loops)`` inside a job (timed in the job)."""
    job = igogo.job(name=body.__name__)(body)
    return lambda loops: job(loops).result()


def empty_loop(loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        pass
    return time.perf_counter() - t0


def yielder_loop(loops: int) -> float:
    y = igogo.yielder
    t0 = time.perf_counter()
    for _ in range(loops):
        y()
    return time.perf_counter() - t0


def sleep0_loop(loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        igogo.sleep(0)
    return time.perf_counter() - t0


def greenlet_pair(loops: int) -> float:
    main = greenlet.getcurrent()

    def child() -> None:
        while True:
            main.switch()

    g = greenlet.greenlet(child)
    g.switch()
    t0 = time.perf_counter()
    for _ in range(loops):
        g.switch()
    dt = time.perf_counter() - t0
    g.throw(greenlet.GreenletExit)
    return dt


def run_job(fn: Callable[..., float], preempt: bool, *args: int) -> float:
    """``fn(*args)`` in a job, preemptible or not; fails if igogo did not make it so."""
    job = igogo.job(preempt=preempt)(fn)(*args)
    value = job.result()
    if job.preemptive != preempt:
        raise RuntimeError(f"the job ran with preemptive={job.preemptive}, not {preempt}")
    return value


def loop(quick: bool) -> Samples:
    (n, rounds), k = (200, 2) if quick else (20_000, 9), body_steps(10e-6)
    bare, yielder = igogo.job(body), igogo.job(yielding)
    timers = {"bare": lambda: bare(n, k).result(), "yielder": lambda: yielder(n, k).result()}
    return in_turns(rounds, timers, "loop-{}")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def sleepers(quick: bool, busy: bool = False) -> Samples:
    n, scale = (200, 50) if quick else (10_000, 1)
    rng = random.Random(20240601)
    delays = [rng.uniform(0.2, 1.0) / scale for _ in range(n)]
    late: list[float] = []
    parked, at_full, running = [0], [], True

    @igogo.job
    def sleeper(d: float) -> None:
        parked[0] += 1
        if parked[0] == n:  # the others all sleep now
            at_full.append(rss() - rss0)
        due = time.monotonic() + d
        igogo.sleep(d)
        late.append(time.monotonic() - due)

    @igogo.job
    def spinner() -> None:
        while running:
            igogo.yielder()

    gc.collect()
    rss0 = rss()
    if busy:
        spinner()
    igogo.wait(*[sleeper(d) for d in delays])
    running = False
    igogo.wait_all()
    if busy:
        return {"sleepers-busy-lateness": late}
    return {"sleepers-lateness": late, "sleepers-rss-per-job": [at_full[0] / n]}


def fairness(quick: bool) -> Samples:
    n, seconds = (20, 0.04) if quick else (1_000, 2.0)
    counts = [0.0] * n
    running = True

    @igogo.job
    def spin(i: int) -> None:
        c = 0
        while running:
            c += 1
            igogo.yielder()
        counts[i] = c

    for i in range(n):
        spin(i)
    igogo.sleep(seconds)
    running = False
    igogo.wait_all()
    return {"fairness-iterations": counts}


def ploop(quick: bool) -> Samples:
    seconds, rounds = (0.02, 3) if quick else (0.05, 60)  # many short rounds: the load varies
    kinds = {"preempt": True, "off": False, "control": False}
    out: Samples = {}
    for label, target in (("1us", 1e-6), ("10us", 10e-6)):
        k, n = body_steps(target), max(int(seconds / target), 1)
        timers = {  # each a copy of body with a code object of its own
            kind: partial(run_job, FunctionType(body.__code__.replace(), globals()), on, n, k)
            for kind, on in kinds.items()
        }
        out |= in_turns(rounds, timers, f"ploop-{label}-{{}}")
    return out


def plain(quick: bool) -> Samples:
    """Three processes forked once warm (the same code, memory and CPU): each runs ``body`` in a
    job, preemptible or not, until it ends, then times ``body(n, k)`` in regular code when asked."""
    rounds, job_s = (3, 0.05) if quick else (300, 0.3)
    k, n = body_steps(1e-6), 5000  # 5 ms of ~1 µs iterations
    body(n, k)  # warm: the children inherit it
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None

    def timer(conn: Connection, preempt: bool) -> None:  # a forked child's life
        if cpu is not None:  # the same CPU for all: none is favoured by the others' load
            os.sched_setaffinity(0, {cpu})
        run_job(body, preempt, int(job_s / 1e-6), k)
        while conn.recv():
            conn.send(body(n, k))

    def ask(conn: Connection) -> float:
        conn.send(True)
        return float(conn.recv())

    fork, ours = multiprocessing.get_context("fork"), {}
    for kind, on in {"preempted": True, "never": False, "control": False}.items():
        ours[kind], theirs = fork.Pipe()
        fork.Process(target=timer, args=(theirs, on)).start()
        theirs.close()  # so that a child's end is an EOF here
    try:
        return in_turns(rounds, {kind: partial(ask, c) for kind, c in ours.items()}, "plain-{}")
    finally:
        for conn in ours.values():
            conn.send(False)
        for child in multiprocessing.active_children():
            child.join()


if __name__ == "__main__":
    igogo.job(name="warm-up")(lambda: None)().result()  # the host's lookup: not measured
    if "--measure" in sys.argv:
        busy = {"sleepers-busy": partial(sleepers, busy=True), "ploop": ploop, "plain": plain}
        main({"loop": loop, "sleepers": sleepers, "fairness": fairness} | busy)
    else:
        import pyperf

        runner = pyperf.Runner()
        runner.metadata["description"] = "igogo-core: a yield and a switch"
        runner.bench_time_func("empty-loop", in_job(empty_loop))
        runner.bench_time_func("yielder", in_job(yielder_loop))
        runner.bench_time_func("sleep0", in_job(sleep0_loop))
        runner.bench_time_func("greenlet-pair", greenlet_pair)
