"""Headless runs: every job's output ends up in its own cell for nbclient and papermill.

Such clients record only the messages of the cell they are executing, so
anything a job sends to its own cell after that cell finished is dropped.  With
``IGOGO_HEADLESS=1`` in the kernel's environment a job streams nothing live.
Instead, while its cell still runs, it places empty displays in that cell: one
for its text and one per display slot.  When the job ends, the text it printed
(and its traceback, if it failed) and the last content of each slot are sent as
updates of those displays, from the cell running at that moment (typically
``igogo.wait_all()``); the client then applies them to the job's own cell.  A
job that ends while no cell runs is written out when the next cell starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._host import JobOutput, JupyterHost

__all__ = ["Headless"]

Update = tuple[str, dict[str, Any], dict[str, Any]]


class Headless:
    """The headless policy of one :class:`JupyterHost`."""

    def __init__(self, host: JupyterHost) -> None:
        self.host = host
        self.pending: list[Update] = []

    def adopt(self, out: JobOutput) -> None:
        """Place the job's empty displays in the cell that starts it."""
        for did in (out.headless_id, *out.slot_ids):
            self.reserve(did)
        out.shown = [True] * len(out.slot_ids)

    def reserve(self, display_id: str) -> None:
        """Place an empty display in the running cell, to be filled by :meth:`update_displays`.

        Integrations with displays of their own in a job's cell (igogo-mpl's
        final figures) use this and :meth:`update_displays` through the host's
        ``headless`` attribute.
        """
        from IPython.display import display

        display({"text/plain": ""}, raw=True, display_id=display_id)

    def record(self, out: JobOutput, slot: int, obj: Any) -> None:
        """Keep what ``igogo.display`` put into ``slot``, to be written out at the end."""
        data, metadata = self.host.bridge.shell.display_formatter.format(obj)
        out.slot_content[slot] = (data, metadata)

    def write_out(self, out: JobOutput) -> None:
        """Send the job's text and slots now, or at the next cell if none runs now."""
        updates: list[Update] = [(out.headless_id, {"text/plain": out.tail.text()}, {})]
        updates += [
            (out.slot_ids[i], data, md) for i, (data, md) in sorted(out.slot_content.items())
        ]
        self.update_displays(updates)

    def update_displays(self, updates: list[Update]) -> None:
        """Send these display updates now, or when the next cell starts if no cell runs now."""
        if self.host.in_loop_tick:
            if not self.pending:
                self.host.bridge.shell.events.register("pre_run_cell", self._next_cell)
            self.pending += updates
        else:
            self._send(updates)

    def _next_cell(self, info: object = None) -> None:
        self.host.bridge.shell.events.unregister("pre_run_cell", self._next_cell)
        updates, self.pending = self.pending, []
        self._send(updates)

    @staticmethod
    def _send(updates: list[Update]) -> None:
        from IPython.display import update_display

        for did, data, metadata in updates:
            update_display(data, raw=True, metadata=metadata, display_id=did)
