"""What a job writes to stdout and stderr: passed on, remembered, or rendered.

While a job runs, ``sys.stdout`` and ``sys.stderr`` are the job's own
:class:`JobStream` objects (swapped in and out by the host's switch hooks).
For a ``kind='text'`` job they pass every write straight on to the kernel's
stream, which addresses it to the job's cell by the job's context: the cost
stays linear, one stream message per flush.  Each stream also keeps a bounded
tail of the text (``job.host_data['igogo_jupyter'].tail``) for job tables and
for headless runs.

For ``kind='markdown'`` and ``kind='html'`` the stdout text is not streamed:
it is rendered as Markdown or HTML into one display in the job's cell, updated
in place at most :data:`RICH_INTERVAL` seconds apart and once more at the end.
stderr (warnings, for example) stays an ordinary stream.
"""

from __future__ import annotations

import io
import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from igogo import Job

    from ._host import JupyterHost

__all__ = ["RICH_INTERVAL", "TAIL_LINES", "JobStream", "RichRender", "StreamView"]

RICH_INTERVAL = 0.1
"""Minimum seconds between two renders of a markdown or html job's text."""
TAIL_LINES = 200
"""Lines of output remembered per job."""
PARTIAL_CHARS = 10_000
"""Characters of an unfinished line remembered (progress bars redraw one line with \\r)."""


class Tail:
    """The last ``maxlen`` lines a job wrote (all if None), in order, both streams mixed.

    The unfinished line is kept as pieces, joined only when a line ends or someone
    reads it: appending never copies what came before (``partial += text`` did,
    which is quadratic in a line redrawn with ``\r`` many times).  A piece holding
    a ``\r`` with text after it starts a redraw: the pieces before it are dropped,
    as a terminal or a notebook drops what it overwrites.
    """

    __slots__ = ("_pieces", "_size", "lines", "maxlen", "writes")

    def __init__(self, maxlen: int | None = TAIL_LINES) -> None:
        self.maxlen = maxlen
        self.lines: deque[str] | None = None
        """Made at the first finished line: an empty deque costs a block (~600 bytes) per job."""
        self._pieces: list[str] = []
        self._size = 0
        self.writes = 0
        """How many writes it has seen: readers tell by it whether anything changed."""

    @property
    def partial(self) -> str:
        """The unfinished last line (progress bars redraw it with ``\r``)."""
        pieces = self._pieces
        if len(pieces) > 1:
            pieces[:] = ["".join(pieces)]
        return pieces[0] if pieces else ""

    def add(self, text: str) -> None:
        self.writes += 1
        if "\n" in text:
            head, *middle, last = (self.partial + text).split("\n")
            lines = self.lines
            if lines is None:
                lines = self.lines = deque(maxlen=self.maxlen)
            lines.append(head)
            lines.extend(middle)
            self._pieces = [last] if last else []
            self._size = len(last)
            return
        redraw = text.rfind("\r", 0, len(text) - 1)
        if redraw >= 0:  # what this line showed before is overwritten
            text = text[redraw:]
            self._pieces, self._size = [], 0
        self._pieces.append(text)
        self._size += len(text)
        if self._size > 2 * PARTIAL_CHARS and self.maxlen is not None:
            kept = self.partial[-PARTIAL_CHARS:]
            self._pieces, self._size = [kept], len(kept)

    def text(self) -> str:
        body = "\n".join(self.lines) if self.lines else ""
        partial = self.partial
        if partial:
            return f"{body}\n{partial}" if body else partial
        return body + "\n" if body else ""


def _encodable(text: str) -> str:
    """``text`` with lone surrogates escaped (``\\ud800``): what UTF-8 can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class StreamView(io.TextIOBase):
    """A job's stdout or stderr: a view on a stream that belongs to someone else.

    ``close()`` does nothing.  ``io.IOBase`` flushes a stream it closes, and closes
    one that is collected; a finished job's streams are collected wherever the
    garbage collector runs, also inside the kernel stream's own ``write`` while it
    holds its lock.  A flush from there waits for ipykernel's IOPub thread, which
    waits for that lock: the kernel stalled for the flush timeout, 10 s per stream.
    Nor is the kernel's stream (or the terminal) the job's to close.
    """

    def close(self) -> None:
        pass

    def writable(self) -> bool:
        return True


class JobStream(StreamView):
    """A job's stdout or stderr: writes go into the tail, and on to ``target`` if any."""

    def __init__(self, target: Any, tail: Tail, render: RichRender | None = None) -> None:
        self.target = target
        self.tail = tail
        self.render = render
        self.name = getattr(target, "name", "<igogo>")

    def write(self, s: str) -> int:
        n = len(s)
        if not s.isascii():  # cheap for ASCII; the rest must encode, or the kernel's
            s = _encodable(s)  # message would fail and take the lines around it along
        self.tail.add(s)
        if self.render is not None:
            self.render.tail.add(s)
            self.render.changed()
        elif self.target is not None:
            self.target.write(s)
        return n

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def fileno(self) -> int:
        if self.target is None:
            raise OSError("a headless igogo job's stream has no file descriptor")
        return int(self.target.fileno())


class RichRender:
    """Renders a markdown or html job's stdout into one display, rate-limited.

    ``tail`` is the render's own: it holds only what the job's stdout wrote.
    """

    def __init__(self, host: JupyterHost, job: Job[Any], tail: Tail) -> None:
        self.host = host
        self.job = job
        self.tail = tail
        self.display_id = f"igogo-{job.id}-text-{time.time_ns()}"
        self.last = 0.0
        self.timer: Any = None
        self.shown = False

    def _obj(self) -> Any:
        from IPython.display import HTML, Markdown

        cls = Markdown if self.job.options.kind == "markdown" else HTML
        return cls(self.tail.text())

    def start(self) -> None:
        """Show the (empty) display; called in the starting cell."""
        from IPython.display import display

        display(self._obj(), display_id=self.display_id)
        self.shown = True

    def changed(self) -> None:
        wait = self.last + RICH_INTERVAL - time.monotonic()
        if wait <= 0:
            self.flush()
        elif self.timer is None:
            self.timer = self.host.loop.call_later(wait, self.flush)

    def flush(self) -> None:
        """Render now (from the job, a timer, or the job's end)."""
        from IPython.display import update_display

        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.last = time.monotonic()
        obj = self._obj()
        self.host.for_job(self.job, lambda: update_display(obj, display_id=self.display_id))
