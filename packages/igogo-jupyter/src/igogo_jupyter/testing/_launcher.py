"""Start an ipykernel whose ZeroMQ sockets never drop a message.

A ZeroMQ PUB socket silently drops the messages of a subscriber that is 1,000
messages behind (the default high-water mark).  A kernel sending tens of megabytes
of IOPub messages to a busy test or benchmark would then lose some, and what the
client counts would be short.  Here every ZeroMQ context made in the kernel process
gives its sockets no high-water mark (no limit).

A kernel that stalls in a test should say where: with ``IGOGO_TESTING_STACKS`` set to
a file's path, ``SIGUSR1`` makes the kernel write every thread's stack there
(:mod:`faulthandler`, from C, so a stuck interpreter still answers).  The driver
sends it when a cell does not finish in time.  Nothing else changes.

:class:`~igogo_jupyter.testing.KernelDriver` runs this file *by its path*, with any
environment's interpreter (``python _launcher.py -f CONNECTION_FILE``), also one
without igogo installed (the benchmark's original igogo 1.1.0): it imports only
``zmq`` and ``ipykernel``, which every kernel environment has.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from typing import Any

import zmq

_original_init = zmq.Context.__init__


def _unbounded_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.sockopts[zmq.SNDHWM] = 0
    self.sockopts[zmq.RCVHWM] = 0


def main() -> None:
    """Launch ipykernel with unbounded ZeroMQ sockets (arguments from ``sys.argv``)."""
    # Running this file put its directory first on sys.path: take it off, so that the
    # kernel imports nothing from here (``igogo_jupyter.testing``'s private modules).
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    zmq.Context.__init__ = _unbounded_init  # type: ignore[method-assign]
    stacks = os.environ.pop("IGOGO_TESTING_STACKS", "")
    if stacks:
        # Kept open for the kernel's life: faulthandler writes to its descriptor.
        faulthandler.register(signal.SIGUSR1, open(stacks, "a"), all_threads=True)  # noqa: SIM115

    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
