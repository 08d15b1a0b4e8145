"""Text bars in a plain Python script: two jobs drawing bars under ``igogo.run``.

The script's stderr is replayed on a tiny terminal model (carriage return,
newline, cursor up: all tqdm uses) to get the lines a user would see at the end.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

HEADER = """\
import igogo
from tqdm import tqdm


def rows(n):
    total = 0
    for i in tqdm(range(n), desc="rows", mininterval=0.01):  # no igogo.yielder() anywhere
        total += i
    return total
"""


def run_script(tmp_path: Path, body: str) -> tuple[str, str]:
    script = tmp_path / "script.py"
    script.write_text(HEADER + textwrap.dedent(body))
    # Bytes, decoded here: text mode would turn tqdm's carriage returns into newlines.
    done = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=60)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    return out, err


def screen(text: str) -> list[str]:
    """The lines a terminal shows after ``text`` (tqdm's control characters applied)."""
    lines: list[list[str]] = [[]]
    row = col = 0
    for token in re.findall(r"\x1b\[A|\r|\n|[^\r\n\x1b]+|\x1b", text):
        if token == "\x1b[A":
            row = max(row - 1, 0)
        elif token == "\r":
            col = 0
        elif token == "\n":
            row, col = row + 1, 0
        else:
            while len(lines) <= row:
                lines.append([])
            line = lines[row]
            line.extend(" " * (col - len(line)))
            line[col : col + len(token)] = token
            col += len(token)
    return [s for s in ("".join(line).rstrip() for line in lines) if s]


def test_bars_of_two_jobs_are_named_and_both_end_at_100_percent(tmp_path: Path) -> None:
    out, err = run_script(
        tmp_path,
        """
        def main():
            a = igogo.job(name="load")(rows)(400_000)
            b = igogo.job(name="train")(rows)(600_000)
            print(a.result(), b.result())

        igogo.run(main)
        """,
    )
    assert out.split() == [str(400_000 * 399_999 // 2), str(600_000 * 599_999 // 2)]
    lines = screen(err)
    assert all(s.startswith(("load: rows:", "train: rows:")) for s in lines), lines
    assert re.match(r"load: rows: 100%\|█+\| 400000/400000 \[", lines[0]), lines
    assert re.match(r"train: rows: 100%\|█+\| 600000/600000 \[", lines[1]), lines
    # (When the first bar closes, the other moves down a line, as with any two tqdm bars
    # drawn at once: its earlier line can stay below as it was.)
    assert len(lines) <= 3, lines
    # Both moved at once: 'train' had drawn progress before 'load' was complete.
    first_train = re.search(r"train: rows: +\d+%", err)
    assert first_train is not None and "100%" not in first_train.group()
    assert first_train.start() < err.index("load: rows: 100%")


def test_a_stopped_jobs_bar_stays_where_it_stopped_with_a_note(tmp_path: Path) -> None:
    out, err = run_script(
        tmp_path,
        """
        def main():
            a = igogo.job(name="load")(rows)(10**9)
            b = igogo.job(name="train")(rows)(300_000)
            b.result()
            a.stop()
            a.wait()
            print(a.state, b.state)

        igogo.run(main)
        """,
    )
    assert out.split() == ["stopped", "done"]
    lines = screen(err)
    (load,) = [s for s in lines if s.startswith("load: rows:")]
    percent = int(re.match(r"load: rows: +(\d+)%", load).group(1))  # type: ignore[union-attr]
    assert percent < 100
    assert "igogo: job 'load' stopped; its progress bar stays where it stopped" in lines
    assert any(re.match(r"train: rows: 100%\|█+\| 300000/300000", s) for s in lines), lines


def test_a_single_jobs_bar_keeps_its_description(tmp_path: Path) -> None:
    out, err = run_script(tmp_path, "print(igogo.run(rows, 200_000))\n")
    assert out.strip() == str(200_000 * 199_999 // 2)
    (line,) = screen(err)
    assert re.match(r"rows: 100%\|█+\| 200000/200000 \[", line), line
