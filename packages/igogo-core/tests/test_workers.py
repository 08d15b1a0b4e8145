"""igogo.offload against real process pools (loky, the standard library's) and a Dask cluster."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import igogo
from igogo._hub import SCHED

pytestmark = [pytest.mark.workers, pytest.mark.usefixtures("two_workers")]

try:  # `hatch run core:test` has no cloudpickle, and deselects these tests (-m 'not workers')
    import cloudpickle
except ImportError:
    pass
else:
    # pytest imports this file under a name the workers cannot import: its functions travel
    # by value, as a notebook's do.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def notebook_function(source: str, name: str) -> Callable[..., Any]:
    """A function defined the way a notebook cell defines it: in ``__main__``, by value only."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(source, namespace)
    fn: Callable[..., Any] = namespace[name]
    assert fn.__module__ == "__main__"
    return fn


def square(x: int) -> int:
    return x * x


def chatty(x: int) -> int:
    import sys

    print(f"working on {x}")
    print(f"warning about {x}", file=sys.stderr)
    print(f"done with {x}")
    return x + 1


def fail(message: str) -> None:
    raise ValueError(message)


def kill_myself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def touch_later(path: str, seconds: float) -> None:
    time.sleep(seconds)
    Path(path).write_text("ran")


class Unpicklable(Exception):
    def __init__(self, lock: Any) -> None:
        super().__init__("holds a lock")
        self.lock = lock

    def __reduce__(self) -> Any:
        raise TypeError("no pickling for you")


def raise_unpicklable() -> None:
    raise Unpicklable(threading.Lock())


def return_lock() -> Any:
    return threading.Lock()


# -- results and errors -----------------------------------------------------------------------


def test_offload_in_regular_code_returns_the_workers_result() -> None:
    assert igogo.offload(square, 12) == 144
    assert igogo.offload(pow, 2, 10) == 1024
    assert igogo.offload(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]


def test_offload_runs_in_another_process() -> None:
    assert igogo.offload(os.getpid) != os.getpid()


def test_a_job_waits_parked_while_other_jobs_run() -> None:
    ticks = []

    @igogo.job
    def busy() -> None:
        while True:
            ticks.append(1)
            igogo.sleep(0.01)

    @igogo.job
    def waiter() -> int:
        nap = notebook_function("import time\ndef f():\n    time.sleep(0.6)\n    return 7\n", "f")
        return igogo.offload(nap)

    b = busy()
    w = waiter()
    assert w.result(timeout=30) == 7
    assert len(ticks) >= 10  # the other job ran all along
    b.stop()
    b.wait()


def test_what_the_worker_prints_comes_back_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert igogo.offload(chatty, 1) == 2
    out, err = capsys.readouterr()
    assert out == "working on 1\ndone with 1\n"
    assert err == "warning about 1\n"


def test_the_workers_exception_is_raised_with_its_traceback_attached() -> None:
    with pytest.raises(ValueError, match=r"^bad input") as info:
        igogo.offload(fail, "bad input")
    cause = info.value.__cause__
    assert isinstance(cause, igogo.WorkerTraceback)
    assert "in fail" in cause.text and "raise ValueError(message)" in cause.text
    assert any("worker process" in note for note in info.value.__notes__)


def test_the_worker_traceback_shows_lines_only_this_process_has() -> None:
    """A notebook cell's source is in the kernel's linecache, not in a fresh worker's."""
    import linecache

    filename = "/tmp/igogo-test-cell-4711.py"  # never written: like an IPython cell file
    source = "def fragile(x):\n    if x:\n        raise KeyError('the line that failed')\n"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)
    try:
        with pytest.raises(KeyError) as info:
            igogo.offload(namespace["fragile"], 1)
    finally:
        del linecache.cache[filename]
    text = info.value.__cause__.text  # type: ignore[union-attr]
    assert f'File "{filename}", line 3, in fragile\n' in text
    assert "\n    raise KeyError('the line that failed')\nKeyError" in text


def test_a_function_travels_with_its_file_name_and_lines() -> None:
    """cloudpickle 3.1.3 renames a by-value function's file to "<dynamic-code>": ours do not."""
    import pickle

    from igogo._inworker import dumps

    source = "def outer(x):\n    def inner(y):\n        return y + 1\n    return inner(x)\n"
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, "/tmp/igogo-cell-99.py", "exec"), namespace)
    copy = pickle.loads(dumps(namespace["outer"]))
    assert copy(1) == 2
    assert copy.__code__.co_filename == "/tmp/igogo-cell-99.py"
    (inner,) = [c for c in copy.__code__.co_consts if hasattr(c, "co_filename")]
    assert (inner.co_filename, inner.co_firstlineno) == ("/tmp/igogo-cell-99.py", 2)


def test_notebook_functions_and_lambdas_run_in_loky_workers() -> None:
    triple = notebook_function("def triple(x):\n    return 3 * x\n", "triple")
    offset = 5
    assert igogo.offload(triple, 4) == 12
    assert igogo.offload(lambda x: x + offset, 1) == 6


def test_notebook_functions_run_in_a_spawning_process_pool() -> None:
    triple = notebook_function("def triple(x):\n    return 3 * x\n", "triple")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert igogo.offload(triple, 5, executor=pool) == 15
        assert igogo.offload(lambda: "lambda", executor=pool) == "lambda"


def test_an_argument_that_cannot_be_pickled_is_named_at_once() -> None:
    with pytest.raises(igogo.WorkerError, match=r"cannot send len\(\.\.\.\).*_thread\.lock"):
        igogo.offload(len, threading.Lock())
    assert igogo.offload(square, 3) == 9  # the pool is fine


def test_a_result_that_cannot_be_pickled_says_so() -> None:
    with pytest.raises(igogo.WorkerError, match="result of return_lock could not be pickled"):
        igogo.offload(return_lock)


def test_an_exception_that_cannot_be_pickled_keeps_its_type_and_message() -> None:
    with pytest.raises(igogo.WorkerError, match="Unpicklable: holds a lock") as info:
        igogo.offload(raise_unpicklable)
    assert isinstance(info.value.__cause__, igogo.WorkerTraceback)


def test_a_killed_worker_is_an_error_and_the_next_call_gets_a_new_pool() -> None:
    with pytest.raises(igogo.WorkerDiedError, match="worker process running kill_myself died"):
        igogo.offload(kill_myself)
    assert igogo.offload(square, 4) == 16


def test_a_shut_down_executor_is_a_broken_executor_error() -> None:
    pool = ProcessPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(igogo.BrokenExecutorError, match=r"takes no more work.*new executor"):
        igogo.offload(square, 2, executor=pool)


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(TypeError, match="fn must be callable; got 42"):
        igogo.offload(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"executor='pool'.*concurrent\.futures\.Executor"):
        igogo.offload(square, 1, executor="pool")


def test_a_thread_pool_shares_memory_and_pickles_nothing() -> None:
    lock = threading.Lock()
    with ThreadPoolExecutor(1) as pool:
        assert igogo.offload(lambda lk: lk is lock, lock, executor=pool) is True


# -- interrupts ------------------------------------------------------------------------------
# Jupyter interrupts a kernel by sending SIGINT to its process group, and the default pool's
# workers are in that group.  (test_map.py sends SIGINT to busy and to starting workers.)


def sigint_state() -> tuple[int, str, bool]:
    """In a worker: its process group, its SIGINT handler, and whether it blocks SIGINT."""
    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return os.getpgrp(), repr(signal.getsignal(signal.SIGINT)), blocked


def interrupt_myself(seconds: float) -> str:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(seconds)  # KeyboardInterrupt here, unless SIGINT is ignored
    return "finished"


def test_the_default_pools_workers_ignore_sigint_and_stay_in_the_process_group() -> None:
    """Ignored, not blocked; and in our group, which a kernel restart kills as a whole."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    states = {igogo.offload(sigint_state) for _ in range(4)}
    assert states == {(os.getpgrp(), repr(signal.SIG_IGN), False)}
    # Submitting blocked SIGINT in this thread for a moment: it is as it was.
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_that_reaches_a_default_worker_does_not_stop_its_call() -> None:
    assert igogo.offload(interrupt_myself, 0.3) == "finished"


def test_a_waiting_job_gets_its_result_although_its_worker_got_sigint() -> None:
    @igogo.job
    def waiter() -> str:
        return igogo.offload(interrupt_myself, 0.3)

    assert waiter().result(timeout=30) == "finished"


def test_a_pool_passed_in_is_left_as_it_is_and_its_interrupt_is_explained() -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool, pytest.raises(KeyboardInterrupt) as info:
        igogo.offload(interrupt_myself, 5, executor=pool)
    notes = "\n".join(info.value.__notes__)
    assert "worker process got an interrupt (SIGINT)" in notes
    assert "initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)" in notes
    # What the note (and the README) advise: such a pool ignores the kernel's interrupts.
    ignoring = ProcessPoolExecutor(
        1, mp_context=spawn, initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)
    )
    with ignoring:
        assert igogo.offload(interrupt_myself, 0.3, executor=ignoring) == "finished"
        assert igogo.offload(sigint_state, executor=ignoring)[1] == repr(signal.SIG_IGN)


# -- stopping ----------------------------------------------------------------------------------


def test_stopping_a_waiting_job_cancels_its_queued_call(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with ProcessPoolExecutor(1) as pool:
        # The one worker is busy, and the pool's call queue (workers + 1 calls) is full:
        # a call behind those is still the pool's to cancel.
        blockers = [pool.submit(time.sleep, 0.5) for _ in range(3)]

        @igogo.job
        def waiter() -> None:
            igogo.offload(touch_later, str(marker), 0.0, executor=pool)

        w = waiter()
        igogo.sleep(0.2)
        assert w.state == "waiting"
        t0 = time.monotonic()
        w.stop()
        assert w.wait(timeout=5)
        assert w.state == "stopped"
        assert time.monotonic() - t0 < 1.0  # did not wait for the busy worker (1.3 s left)
        for b in blockers:
            b.result()
    assert not marker.exists()  # the queued call never ran


def test_stop_reaches_a_job_whose_call_is_already_running() -> None:
    @igogo.job
    def waiter() -> None:
        igogo.offload(time.sleep, 3)

    w = waiter()
    igogo.sleep(0.5)
    t0 = time.monotonic()
    w.stop()
    assert w.wait(timeout=5) and w.state == "stopped"
    assert time.monotonic() - t0 < 2


# -- Dask ---------------------------------------------------------------------------------------


def test_offload_to_a_dask_cluster(dask_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    source = "def triple(x):\n    print('tripling', x)\n    return 3 * x\n"
    triple = notebook_function(source, "triple")
    assert igogo.offload(triple, 7, executor=dask_client) == 21
    assert capsys.readouterr().out == "tripling 7\n"  # printed in a Dask worker process
    # Dask sends functions of importable modules by reference: a notebook's go by value.
    failing = notebook_function("def failing(m):\n    raise ValueError(m)\n", "failing")
    with pytest.raises(ValueError, match="from dask") as info:
        igogo.offload(failing, "from dask", executor=dask_client)
    assert isinstance(info.value.__cause__, igogo.WorkerTraceback)


def test_a_dask_workers_traceback_names_the_users_file_and_line(dask_client: Any) -> None:
    import linecache

    filename = "/tmp/igogo-test-cell-4712.py"  # never written: like an IPython cell file
    source = "def fragile(x):\n    raise KeyError(f'dask line {x}')\n"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)
    try:
        with pytest.raises(KeyError) as info:
            igogo.offload(namespace["fragile"], 1, executor=dask_client)
    finally:
        del linecache.cache[filename]
    text = info.value.__cause__.text  # type: ignore[union-attr]
    assert f'File "{filename}", line 2, in fragile\n' in text
    assert "\n    raise KeyError(f'dask line {x}')\nKeyError" in text


def test_a_job_offloading_to_dask_can_be_stopped(dask_client: Any) -> None:
    @igogo.job
    def waiter() -> None:
        igogo.offload(time.sleep, 5, executor=dask_client)

    before = set(dask_client.futures)
    w = waiter()
    igogo.sleep(0.3)
    ours = set(dask_client.futures) - before
    assert len(ours) == 1  # the task is on the cluster
    w.stop()
    assert w.wait(timeout=5) and w.state == "stopped"
    deadline = time.monotonic() + 5
    while ours & set(dask_client.futures) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not ours & set(dask_client.futures)  # and released
    assert not SCHED.live
