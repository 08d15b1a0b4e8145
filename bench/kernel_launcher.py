"""Start an ipykernel whose ZeroMQ sockets never drop a message (kernel benchmark only).

A ZeroMQ PUB socket silently drops the messages for a subscriber that is 1,000
messages behind (the default high-water mark).  A kernel sending tens of megabytes
of IOPub messages to a benchmark on a busy machine would then lose some of them,
and the benchmark would undercount what the kernel sent.  Here every ZeroMQ context
created in the kernel process gets a high-water mark of 0 (no limit) as the
default for its sockets, the same for every system measured; nothing else changes.

Run by any environment's interpreter as ``python kernel_launcher.py -f CONNECTION_FILE``:
it imports only ``zmq`` and ``ipykernel``, which every kernel environment has.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import zmq

_original_init = zmq.Context.__init__


def _unbounded_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.sockopts[zmq.SNDHWM] = 0
    self.sockopts[zmq.RCVHWM] = 0


if __name__ == "__main__":
    # Running this file put its directory (bench/) first on sys.path: take it off,
    # so that the kernel imports nothing from the benchmark.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    zmq.Context.__init__ = _unbounded_init  # type: ignore[method-assign]

    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
