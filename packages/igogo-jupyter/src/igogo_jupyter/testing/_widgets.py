"""A front end's view of a kernel's widgets, rebuilt from the IOPub messages a driver read.

``WidgetModels(driver)`` replays every ``comm_open``, ``comm_msg`` (``update``) and
``comm_close`` the driver has seen, as a browser's widget manager does, so a test or a
benchmark reads a widget's current state, finds a job's control row, and clicks its
buttons the way a browser does (a ``comm_msg`` with a ``click`` event on the shell
channel), with no access to the kernel's objects.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from igogo_jupyter.testing._driver import WIDGET_MIME, KernelDriver

__all__ = ["WidgetModel", "WidgetModels", "widget_outputs"]


@dataclass
class WidgetModel:
    """One widget as a front end holds it: its comm and its current state."""

    comm_id: str
    state: dict[str, Any]
    closed: bool = False
    updates: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    """(arrival time, the state keys sent) of every update, in order."""

    @property
    def classes(self) -> list[str]:
        return list(self.state.get("_dom_classes", []))

    def children(self) -> list[str]:
        return [c.removeprefix("IPY_MODEL_") for c in self.state.get("children", [])]


class WidgetModels:
    """The widgets of a :class:`KernelDriver`'s kernel, as a front end would hold them."""

    def __init__(self, driver: KernelDriver) -> None:
        self.driver = driver
        self.models: dict[str, WidgetModel] = {}
        self._seen = 0

    def sync(self) -> WidgetModels:
        """Apply the messages read since the last sync."""
        msgs = self.driver.messages
        for m in msgs[self._seen :]:
            kind = m["msg_type"]
            content = m["content"]
            if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
                state = dict(content["data"].get("state", {}))
                self.models[content["comm_id"]] = WidgetModel(content["comm_id"], state)
            elif kind == "comm_msg":
                model = self.models.get(content["comm_id"])
                data = content["data"]
                if model is not None and data.get("method") == "update":
                    model.state.update(data["state"])
                    model.updates.append((m["_received"], dict(data["state"])))
            elif kind == "comm_close":
                model = self.models.get(content["comm_id"])
                if model is not None:
                    model.closed = True
        self._seen = len(msgs)
        return self

    # -- finding things -----------------------------------------------------------------------

    def row(self, job_id: int) -> WidgetModel:
        self.sync()
        rows = [m for m in self.models.values() if f"igogo-job-{job_id}" in m.classes]
        assert len(rows) == 1, f"{len(rows)} rows for job #{job_id}"
        return rows[0]

    def parts(self, job_id: int) -> dict[str, WidgetModel]:
        """The row's info, buttons box, last-output and (while it lives) stop/pause models."""
        row = self.row(job_id)
        info, buttons, last = (self.models[c] for c in row.children())
        parts = {"row": row, "info": info, "buttons": buttons, "last": last}
        for c in buttons.children():
            b = self.models[c]
            if "igogo-stop" in b.classes:
                parts["stop"] = b
            if "igogo-pause" in b.classes:
                parts["pause"] = b
        return parts

    def state_of(self, job_id: int) -> str:
        value = self.parts(job_id)["info"].state["value"]
        found = re.search(r'data-state="([^"]+)"', value)
        assert found, value
        return found.group(1)

    def last_text(self, job_id: int) -> str:
        value = self.parts(job_id)["last"].state["value"]
        return re.sub(r"<[^>]+>", "", value)

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> None:
        def check() -> bool:
            self.sync()
            try:
                return bool(predicate())
            except (AssertionError, KeyError, ValueError):
                return False

        self.driver.wait_until(check, timeout)

    # -- acting as the browser --------------------------------------------------------------

    def click(self, model: WidgetModel) -> float:
        """Send a button click, as the browser does; returns when it was sent."""
        msg = self.driver.kc.session.msg(
            "comm_msg",
            {"comm_id": model.comm_id, "data": {"method": "custom", "content": {"event": "click"}}},
        )
        sent = time.monotonic()
        self.driver.kc.shell_channel.send(msg)
        return sent


def widget_outputs(driver: KernelDriver, ex: Any) -> list[dict[str, Any]]:
    """The data of the display/execute_result messages of ``ex`` that show a widget."""
    return [
        m["content"]["data"]
        for m in driver.outputs(ex, ("display_data", "execute_result"), widgets=True)
        if WIDGET_MIME in m["content"]["data"]
    ]
