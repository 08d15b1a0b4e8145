"""Handing the kernel's loop back at once when a request waits.

Jobs run in ticks on the kernel's loop: a tick runs the ready jobs for up to
``tick_budget`` (15 ms) and then returns to the loop, which answers whatever
arrived meanwhile.  Left at that, a new cell beside spinning jobs waits for the
rest of the tick, and each later step of the kernel's own handling of it (a
loop callback or task step) may wait for another whole tick.

Three things make a waiting request the loop's first business instead:

* **A watch thread** blocks in ``select`` on the file descriptor of the socket
  requests reach the main thread on (``KernelBridge.request_fds``).  When it
  turns readable the thread calls :func:`igogo.lowlevel.end_tick`: the running
  job's slice ends at its next switch point and the tick returns.  Then the
  thread waits for the loop's turn (the next tick that runs) before looking
  again, so one request ends one tick.  The thread never touches the socket;
  ``select`` on its descriptor is safe from any thread.
* **Ticks give way to the loop's own work** (``JupyterHost._tick``): a tick
  due while the loop has callbacks ready (the kernel dispatching the request,
  a cell's task between two awaits) is put off by one gap, for at most one
  tick's budget in a row, so jobs are never starved by a busy loop.
* **A quiet moment** (:data:`QUIET`): no tick for 2 ms after a request ended
  one, so the kernel's own threads answer it with the GIL free.

The watch thread is woken by the operating system, but it runs Python and so
needs the GIL, which a thread spinning in Python hands over only after
``sys.getswitchinterval()`` (5 ms by default).  So does ipykernel 7's shell
channel thread, which forwards each request, and the IOPub thread, which sends
the kernel's ``busy`` and ``idle``.  While jobs run in a kernel, the interval
is lowered to :data:`SWITCH_INTERVAL`; it costs nothing while no other thread
asks for the GIL, and it is put back when the last job ends, unless someone
else changed it meanwhile.  Each hand-over on a request's way (this thread, the
kernel's IOPub thread) waits up to one interval, so it adds up: in one kernel,
rounds in turns, a new cell beside 3 spinning jobs started after 1.44 x the idle
kernel's wait at 100 µs and 1.20 x at 30 µs on ipykernel 6 (1.13 and 0.97 on 7);
50 and 20 µs did no better than 30.  Two threads both computing in Python lose
a few percent of their throughput at 30 µs, which is why the interval is only
lowered while jobs run in a kernel.

Terminal IPython uses the same watch on the prompt's input: a key pressed
while jobs run at the prompt ends the tick, and the prompt draws it at once.
"""

from __future__ import annotations

import math
import select
import sys
import threading
import time

from igogo.lowlevel import end_tick

__all__ = ["SWITCH_INTERVAL", "RequestWatch"]

SWITCH_INTERVAL = 0.00003
"""The GIL switch interval while jobs run in a kernel (seconds)."""
QUIET = 0.002
"""Seconds without a tick after a request ended one: the kernel's threads have the GIL."""


class RequestWatch:
    """A daemon thread that ends the running tick when a request waits."""

    def __init__(self, fds: list[int]) -> None:
        self.fds = fds
        self._attached = threading.Event()
        self._turn = threading.Event()
        self._thread: threading.Thread | None = None
        self.quiet_until = 0.0
        """No tick before this time (monotonic): a request is being answered."""
        self._saved_interval: float | None = None

    def attach(self) -> None:
        """Jobs are running: watch, and let the kernel's threads have the GIL promptly."""
        if not self.fds:
            return
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            self._saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
        self._attached.set()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="igogo-requests", daemon=True)
            self._thread.start()

    def detach(self) -> None:
        """No job is left: stop watching, and put the switch interval back if it is still ours."""
        self._attached.clear()
        saved, self._saved_interval = self._saved_interval, None
        if saved is not None and _is(SWITCH_INTERVAL):
            sys.setswitchinterval(saved)

    def turn(self) -> None:
        """The loop has had its turn (a tick runs): look at the socket again."""
        self._turn.set()

    def _run(self) -> None:
        fds = self.fds
        while True:
            self._attached.wait()
            try:
                select.select(fds, [], [])
            except (OSError, ValueError):  # the kernel closed its socket: it is shutting down
                return
            if not self._attached.is_set():
                continue
            self._turn.clear()
            self.quiet_until = time.monotonic() + QUIET
            end_tick()
            # One request ends one tick: wait until a tick runs again (the loop has
            # taken the request by then) before the descriptor is looked at again.
            self._turn.wait(0.05)


def _is(interval: float) -> bool:
    """Whether the switch interval is ``interval`` (CPython keeps it in whole microseconds)."""
    return math.isclose(sys.getswitchinterval(), interval, rel_tol=1e-3)
