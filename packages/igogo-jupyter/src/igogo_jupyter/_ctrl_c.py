"""Ctrl-C at the terminal's prompt, for a job that holds the CPU.

While prompt_toolkit reads a line the terminal is in raw mode: Ctrl-C is a key
(byte 3) that prompt_toolkit reads when its loop gets control back, and the
terminal sends no SIGINT.  A job that never yields, run from the input hook,
never gives that loop control back, so the key would wait forever and the
prompt would be frozen for good.  Only a signal reaches code that never yields.

So the terminal is made to send SIGINT for Ctrl-C again (its ``ISIG`` mode),
but only while a job has held the CPU for :data:`HOLD` seconds in one step: a
job taking its ordinary turn (a slice is at most 15 ms) leaves Ctrl-C a key,
which reaches the prompt as soon as the tick ends and clears the line as usual.
A watcher thread turns ``ISIG`` on (a thread, because the main thread is the
one held); the end of the step turns it off, before anything else runs.  The
suspend and quit keys stay plain keys meanwhile, and typed-ahead input is kept
(``NOFLSH``): the line being typed survives.

Where the signal lands is igogo's interrupt policy (``igogo/_interrupt.py``),
not ours.  For each tick run from the input hook, prompt_toolkit's SIGINT
handler (asyncio's) is replaced by ``SIG_IGN``: igogo takes SIGINT over that
for a host that routes interrupts to jobs, exactly as at an idle ipykernel.  A
Ctrl-C then fails the job that holds the CPU with ``KeyboardInterrupt``, and
one that arrives between steps, or while a job is within its slice, is
dropped (the key is gone: press it again).  asyncio's wake-up descriptor is
switched off for the tick too, or prompt_toolkit would also see the signal and
abort the prompt.  The handler, the descriptor and the terminal's attributes
are put back exactly when the tick ends, and no greenlet is switched anywhere
here: the handler only raises, the hooks only record.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Final

if sys.platform != "win32":  # (the terminal host is POSIX only; this module imports anywhere)
    import termios

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["HOLD", "PromptInterrupts"]

HOLD: Final = 0.1
"""Seconds a job's step runs at the prompt before Ctrl-C becomes a signal (slices are <= 15 ms)."""
_POLL: Final = 0.05
"""How often the watcher looks at the running step while the input hook ticks."""


class PromptInterrupts:
    """Turns Ctrl-C into SIGINT while a job holds the CPU during a tick at the prompt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd = -1  # the terminal, during a tick at the prompt
        self._raw: list[Any] | None = None  # its attributes before ISIG went on (put back exactly)
        self._began: float | None = None  # when the running step started (None: between steps)
        self._ticking = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def close(self) -> None:
        """Let the watcher thread end (it does within a poll); safe from anywhere."""
        self._closed = True
        self._ticking.set()

    @contextlib.contextmanager
    def tick(self, fd: int) -> Iterator[None]:
        """Around one tick run from the input hook (main thread); ``fd`` is the terminal."""
        found = signal.getsignal(signal.SIGINT)
        # A handler set from C cannot be put back exactly; signals are the main thread's.
        if found is None or fd < 0 or threading.current_thread() is not threading.main_thread():
            yield
            return
        wakeup = signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self._fd = fd
        self._start_watcher()
        self._ticking.set()
        try:
            yield
        finally:
            self._ticking.clear()
            self.step_ended()
            self._fd = -1
            signal.signal(signal.SIGINT, found)
            signal.set_wakeup_fd(wakeup)

    # -- the switch hooks, on the main thread ---------------------------------------------

    def step_began(self) -> None:
        if self._fd >= 0:
            self._began = time.monotonic()

    def step_ended(self) -> None:
        self._began = None
        if self._raw is not None:
            with self._lock:
                self._keys_again()

    # -- the watcher thread ---------------------------------------------------------------

    def _start_watcher(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._closed = False
            self._thread = threading.Thread(
                target=self._watch, name="igogo-prompt-ctrl-c", daemon=True
            )
            self._thread.start()

    def _watch(self) -> None:
        while True:
            self._ticking.wait()
            if self._closed:
                return
            time.sleep(_POLL)
            began = self._began
            if began is None or self._raw is not None or time.monotonic() - began < HOLD:
                continue
            with self._lock:
                if self._began is began and self._fd >= 0:  # still that step, still ticking
                    self._signals_on()

    # -- the terminal's attributes (under the lock) ------------------------------------------

    def _signals_on(self) -> None:
        fd = self._fd
        try:
            raw = termios.tcgetattr(fd)
            attrs = [*raw[:6], list(raw[6])]
            attrs[3] |= termios.ISIG | termios.NOFLSH  # lflag
            # Only Ctrl-C: no suspend (Ctrl-Z) or quit (Ctrl-\) behind the user's back.
            for key in (termios.VSUSP, termios.VQUIT):
                attrs[6][key] = b"\x00"
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        except (OSError, termios.error):
            return
        self._raw = raw

    def _keys_again(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self._fd, termios.TCSANOW, raw)
