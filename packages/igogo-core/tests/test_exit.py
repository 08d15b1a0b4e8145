"""Scripts with Python's real SIGINT handling: Ctrl-C, SIGINT ignored, and interpreter exit.

Each scenario is a small script run in a subprocess (its own process group, so
that a signal never reaches the test run), interrupted with SIGINT once it
printed ``ready``.  The scripts print what their jobs' ``finally`` blocks did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TIMEOUT = 30.0


def run_script(
    tmp_path: Path, source: str, *, interrupt: int = 0, ignore_sigint: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``source``; after it printed ``ready``, send SIGINT ``interrupt`` times."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))

    def child_setup() -> None:
        os.setpgrp()
        if ignore_sigint:  # as a shell does for `cmd &`
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(
        [sys.executable, "-u", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=child_setup,
    )
    assert proc.stdout is not None
    out = []
    if interrupt:
        line = proc.stdout.readline()
        out.append(line)
        assert line == "ready\n", line + (proc.stderr.read() if proc.stderr else "")
        for _ in range(interrupt):
            time.sleep(0.3)  # real time: the script, another process, gets into its wait
            proc.send_signal(signal.SIGINT)
    try:
        rest, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, err = proc.communicate()
        pytest.fail(f"the script hung:\n{''.join(out) + rest}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(out) + rest, err)


JOBS = """\
import igogo

@igogo.job
def worker(name):
    try:
        while True:
            igogo.sleep(0.01)
    finally:
        print(f"{name} finally", flush=True)

@igogo.job
def hog(say_ready=False):
    if say_ready:
        print("ready", flush=True)
    try:
        while True:
            pass
    finally:
        print("hog finally", flush=True)
"""


def test_ctrl_c_in_a_script_waiting_at_module_level_runs_the_jobs_finally_blocks(
    tmp_path: Path,
) -> None:
    result = run_script(
        tmp_path,
        JOBS + "a, b = worker('a'), worker('b')\nigogo.sleep(0.1)\nprint('ready')\n"
        "igogo.wait_all()\n",
        interrupt=1,
    )
    assert result.returncode != 0 and "KeyboardInterrupt" in result.stderr
    assert sorted(result.stdout.split("\n")[1:-1]) == ["a finally", "b finally"], result.stderr


def test_one_ctrl_c_stops_igogo_run_with_a_job_that_never_yields(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        JOBS + "def main():\n    worker('a')\n    print('ready')\n    hog().wait()\n"
        "igogo.run(main)\n",
        interrupt=1,
    )
    assert result.returncode != 0 and "KeyboardInterrupt" in result.stderr
    assert sorted(result.stdout.split("\n")[1:-1]) == ["a finally", "hog finally"]


def test_two_ctrl_c_end_a_wait_beside_a_job_that_never_yields(tmp_path: Path) -> None:
    """The first is for the waiting code (held: the hog never yields); the second, the hog's."""
    result = run_script(
        tmp_path,
        JOBS + "a = worker('a')\nh = hog(say_ready=True)\n"
        "try:\n    igogo.wait_all()\nexcept KeyboardInterrupt:\n"
        "    print('wait interrupted:', h.state, type(h.exception()).__name__)\n",
        interrupt=2,
    )
    lines = result.stdout.split("\n")[1:-1]
    assert lines[:2] == ["hog finally", "wait interrupted: failed KeyboardInterrupt"], result
    assert lines[2:] == ["a finally"]  # stopped at exit
    assert result.returncode == 0, result.stderr


def test_a_script_ending_without_waiting_names_the_jobs_that_never_ran(tmp_path: Path) -> None:
    result = run_script(tmp_path, JOBS + "a = worker('never-ran')\nprint('done')\n")
    assert result.stdout == "done\n"  # stopped before it ran: its finally never started
    assert "igogo: 1 job(s) never ran before the interpreter exited" in result.stderr
    assert "'worker'" in result.stderr and "RuntimeWarning" in result.stderr
    assert result.returncode == 0


def test_jobs_alive_at_exit_are_stopped_and_their_finally_blocks_run(tmp_path: Path) -> None:
    result = run_script(tmp_path, JOBS + "a = worker('a')\nigogo.sleep(0.05)\nprint('leaving')\n")
    assert result.stdout == "leaving\na finally\n"
    assert "never ran" not in result.stderr
    assert result.returncode == 0


def test_an_ignored_sigint_stays_ignored(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        "import igogo, time\n"
        "@igogo.job\n"
        "def steady():\n"
        "    end = time.monotonic() + 1.0\n"
        "    while time.monotonic() < end:\n"
        "        igogo.yielder()\n"
        "    return 'finished'\n"
        "j = steady()\nprint('ready')\nprint(j.result())\n",
        interrupt=2,
        ignore_sigint=True,
    )
    assert result.stdout == "ready\nfinished\n", result.stderr
    assert result.returncode == 0


def test_ctrl_c_in_an_asyncio_program_follows_asyncio_run(tmp_path: Path) -> None:
    """asyncio.run cancels its main task; igogo's tick never raises instead of it."""
    result = run_script(
        tmp_path,
        JOBS + "import asyncio\n"
        "async def main():\n"
        "    worker('a'), worker('b')\n"
        "    await asyncio.sleep(0.1)\n"
        "    print('ready')\n"
        "    try:\n"
        "        await asyncio.sleep(60)\n"
        "    except asyncio.CancelledError:\n"
        "        print('main cancelled')\n"
        "        raise\n"
        "asyncio.run(main())\n",
        interrupt=1,
    )
    lines = result.stdout.split("\n")[1:-1]
    assert lines[0] == "main cancelled", result
    assert sorted(lines[1:]) == ["a finally", "b finally"]
    assert "KeyboardInterrupt" in result.stderr
    assert "_hub.py" not in result.stderr  # not raised out of igogo's tick
