"""A script's failing jobs: each failure shown once, as Python shows an uncaught exception.

Each scenario is a small script run in a subprocess with the real interpreter's
exception display; the tests read its stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import igogo

IGOGO_DIR = os.path.dirname(igogo.__file__)

PARSE = """
import igogo

@igogo.job
def parse(line):
    igogo.sleep(0.01)
    raise ValueError(f"bad line {line!r}")
"""


def run_script(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(PARSE) + textwrap.dedent(source))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)


def igogo_frames(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip().startswith(f'File "{IGOGO_DIR}')]


def test_a_failure_raised_through_run_and_a_waiting_job_is_shown_once(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        def main():
            j = parse("x=1")
            return j.result()

        igogo.run(main)
        """,
    )
    assert run.returncode == 1
    assert run.stderr.count("ValueError: bad line 'x=1'") == 1, run.stderr
    assert run.stderr.startswith("Traceback (most recent call last):")
    assert "igogo job" not in run.stderr  # no report of its own: Python's display only
    # The user's frames, and of igogo's only the igogo.run call the script made.
    assert [f.rsplit(", in ", 1)[1] for f in igogo_frames(run.stderr)] == ["run"], run.stderr
    assert "in main\n    return j.result()" in run.stderr and "in parse" in run.stderr


def test_a_failure_nobody_takes_is_reported_once_with_the_jobs_name(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        parse("a")
        igogo.sleep(0.1)
        print("the script goes on")
        """,
    )
    assert run.returncode == 0
    assert run.stdout == "the script goes on\n"
    assert run.stderr.count("igogo job 'parse' failed:") == 1, run.stderr
    assert run.stderr.count("ValueError: bad line 'a'") == 1
    assert igogo_frames(run.stderr) == [], run.stderr


def test_a_failure_the_script_handles_is_not_shown(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        j = parse("b")
        try:
            j.result()
        except ValueError as e:
            print("handled:", e)
        """,
    )
    assert run.returncode == 0
    assert run.stdout == "handled: bad line 'b'\n"
    assert run.stderr == ""


def test_a_job_that_waits_without_taking_the_result_leaves_the_failure_reported(
    tmp_path: Path,
) -> None:
    """``wait()`` only waits: the failure is still nobody's, so igogo shows it."""
    run = run_script(
        tmp_path,
        """
        j = parse("c")
        igogo.wait(j)
        print("waited:", j.state)
        """,
    )
    assert run.stdout == "waited: failed\n"
    assert run.stderr.count("igogo job 'parse' failed:") == 1, run.stderr
