"""What jobs write while the terminal's prompt waits: finished lines above it, live ones kept.

prompt_toolkit's ``patch_stdout`` proxy (IPython's ``sys.stdout`` at the prompt)
erases the prompt, writes what it was given and draws the prompt again below
it.  That is right for whole lines, and wrong for a line being redrawn: a
progress bar writes ``\\r`` and the bar, never a newline, so the prompt would
be drawn on the bar's own line, and tqdm's several bars move the cursor up
into lines the prompt has drawn over.

So at the prompt a job's text does not go to the proxy as it is written.  Each
job gets a :class:`Block`: the lines it has written since its last finished
one, with a cursor that follows ``\\r``, ``\\n``, cursor-up and erase-line as a
terminal would.  When the jobs are at rest (after each step, after each tick)
the :class:`Screen` draws: the lines a block's cursor has left below are
finished and go above for good; the lines at and below the cursor are *live*
(a bar, half a line) and are drawn, every job's in turn, just above the
prompt, and redrawn in place (the cursor moved up over them) the next time.
A live line is cut to the terminal's width, so that each takes one row and
moving up over them is exact.

Drawing only at rest is what makes the cursor's row mean something: tqdm
flushes in the middle of drawing its second bar (the cursor a line down, about
to come back up), never at the end of a job's step.  Output of one job stays
in order; two jobs' lines interleave step by step.  A new prompt starts over:
what was live stays on the screen above it as it was, and the next draw starts
below.  Text written by something else through the same proxy meanwhile (a
thread printing) lands between, and the next redraw may overwrite a line of it.
"""

from __future__ import annotations

import os
import re
from typing import Any, Final

__all__ = ["Block", "Screen"]

_TOKENS: Final = re.compile(r"\x1b\[(\d*)A|\x1b\[([012]?)K|\r|\n|[^\r\n\x1b]+|\x1b")
"""Cursor up, erase in line, carriage return, newline, text (other escapes count as text)."""


class Block:
    """One job's lines since its last finished one, and its cursor among them."""

    __slots__ = ("col", "ended", "lines", "row")

    def __init__(self) -> None:
        self.lines = [""]
        self.row = 0
        self.col = 0
        self.ended = False

    def feed(self, text: str) -> None:
        """Apply ``text`` as a terminal would, at the cursor."""
        lines = self.lines
        for m in _TOKENS.finditer(text):
            token = m.group()
            if token == "\n":
                self.row += 1
                self.col = 0
                if self.row == len(lines):
                    lines.append("")
            elif token == "\r":
                self.col = 0
            elif m.group(1) is not None:  # cursor up; never above this block's first line
                self.row = max(0, self.row - int(m.group(1) or 1))
                self.col = min(self.col, len(lines[self.row]))
            elif m.group(2) is not None:  # erase to the end (0), the start (1) or all (2)
                line, col, mode = lines[self.row], self.col, m.group(2) or "0"
                if mode == "0":
                    lines[self.row] = line[:col]
                elif mode == "1":
                    lines[self.row] = " " * col + line[col:]
                else:
                    lines[self.row] = " " * col
            else:
                line, col = lines[self.row], self.col
                if len(line) < col:
                    line += " " * (col - len(line))
                lines[self.row] = line[:col] + token + line[col + len(token) :]
                self.col = col + len(token)

    def take_finished(self) -> list[str]:
        """The lines above the cursor, which leave the block: the cursor has moved on."""
        done = self.lines[: self.row]
        del self.lines[: self.row]
        self.row = 0
        return done

    def live(self) -> list[str]:
        """The lines at and below the cursor, but for an empty one the cursor just reached."""
        lines = self.lines
        if lines[-1] == "" and (self.row < len(lines) - 1 or self.col == 0):
            return lines[:-1]
        return list(lines)

    def empty(self) -> bool:
        return self.lines == [""] and self.col == 0


class Screen:
    """The jobs' blocks above the prompt, drawn through the prompt's own output."""

    def __init__(self) -> None:
        self.blocks: dict[int, Block] = {}
        self.out: Any = None
        """The prompt's stream (prompt_toolkit's proxy) the blocks are drawn through."""
        self.drawn = 0
        """Live rows drawn last time, just above the prompt: the next draw moves up over them."""
        self.dirty = False

    def feed(self, key: int, text: str, out: Any) -> None:
        """Job ``key`` wrote ``text`` while the prompt waits; ``out`` is that prompt's stream."""
        if out is not self.out:  # a new prompt: what was drawn stays above, as it is
            self.out = out
            self.drawn = 0
        block = self.blocks.get(key)
        if block is None:
            block = self.blocks[key] = Block()
        block.feed(text)
        self.dirty = True

    def end(self, key: int) -> None:
        """Job ``key`` has ended: its live lines are finished at the next draw."""
        block = self.blocks.get(key)
        if block is not None:
            block.ended = True
            self.dirty = True

    def draw(self) -> None:
        """Draw what changed, when the jobs are at rest."""
        out = self.out
        if not self.dirty:
            return
        self.dirty = False
        if out is None or getattr(out, "closed", False):
            # The prompt has gone (a cell runs): what was live stays on the screen as it
            # was, and the next prompt draws afresh.
            self.out, self.drawn = None, 0
            for key in [k for k, b in self.blocks.items() if b.ended]:
                del self.blocks[key]
            return
        parts = [f"\x1b[{self.drawn}A\r" if self.drawn else "\r"]
        live: list[str] = []
        for key, block in list(self.blocks.items()):
            finished = block.take_finished()
            if block.ended:
                finished += block.live()
                del self.blocks[key]
            elif block.empty():
                del self.blocks[key]  # it comes back with the job's next write
            else:
                live += block.live()
            parts.extend(f"{line}\x1b[K\n" for line in finished)
        width = _columns(out)
        parts.extend(f"{line[:width]}\x1b[K\n" for line in live)
        parts.append("\x1b[J")  # rows drawn last time and live no more
        self.drawn = len(live)
        out.write("".join(parts))
        out.flush()


def _columns(out: Any) -> int:
    """The width a live line may take: one column short of the terminal's (no wrap pending)."""
    try:
        return max(os.get_terminal_size(out.fileno()).columns - 1, 1)
    except (AttributeError, OSError, ValueError):
        return 10**6
