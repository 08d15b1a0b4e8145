"""Foreign code igogo calls (import hooks, hand-overs, timers, progress bars) is isolated."""

from __future__ import annotations

import logging
import sys
import threading
from types import ModuleType
from typing import Any

import pytest

import igogo
from igogo import _foreign, _plugins
from igogo._hub import SCHED
from igogo._imports import ImportWatch
from igogo.testing import MockClock


def test_a_failing_import_hook_never_fails_the_users_import(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "igogo_probe_mod.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    calls: list[str] = []

    def broken(module: ModuleType) -> None:
        calls.append(module.__name__)
        raise RuntimeError("plugin setup failed")

    watch = ImportWatch("igogo_probe_mod", broken, owner="probe-plugin")
    sys.meta_path.insert(0, watch)
    try:
        with caplog.at_level(logging.ERROR, logger="igogo"):
            import igogo_probe_mod  # type: ignore[import-not-found]
    finally:
        sys.modules.pop("igogo_probe_mod", None)
        if watch in sys.meta_path:
            sys.meta_path.remove(watch)
    assert igogo_probe_mod.VALUE == 42  # the user's import worked
    assert calls == ["igogo_probe_mod"]
    assert watch not in sys.meta_path  # disarmed
    status = igogo.plugins()["probe-plugin"]
    assert status.startswith("disabled: import hook for igogo_probe_mod raised RuntimeError")
    assert len([r for r in caplog.records if "probe-plugin" in r.getMessage()]) == 1


def test_a_failing_hand_over_from_a_thread_does_not_break_the_tick(
    caplog: pytest.LogCaptureFixture, autojump_clock: MockClock
) -> None:
    @igogo.job
    def steady() -> str:
        for _ in range(5):
            igogo.sleep(0.01)
        return "unharmed"

    def broken() -> None:
        raise ValueError("bad hand-over")

    j = steady()
    t = threading.Thread(target=SCHED.call_soon_threadsafe, args=(broken,))
    with caplog.at_level(logging.ERROR, logger="igogo"):
        t.start()
        t.join()
        assert j.result(timeout=10) == "unharmed"
    assert any("hand-over" in r.getMessage() for r in caplog.records)


def test_a_failing_timer_callback_does_not_break_the_tick(
    caplog: pytest.LogCaptureFixture, autojump_clock: MockClock
) -> None:
    fired: list[int] = []

    @igogo.job
    def sleeper() -> str:
        igogo.sleep(0.05)
        return "woke"

    j = sleeper()
    SCHED.call_at(autojump_clock.now(), lambda: 1 / 0)
    SCHED.call_at(autojump_clock.now(), lambda: fired.append(1))
    with caplog.at_level(logging.ERROR, logger="igogo"):
        assert j.result(timeout=10) == "woke"
    assert fired == [1]
    assert any("timer callback" in r.getMessage() for r in caplog.records)


class _BrokenBars:
    """A plugin whose bars fail on update: the map must go on, the failure reported once."""

    def __init__(self) -> None:
        self.made = 0

    def progress_bar(self, total: int, desc: str) -> Any:
        self.made += 1
        return self

    def update(self, n: int) -> None:
        raise OSError("terminal gone")

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_failing_progress_bar_is_dropped_and_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    plugin = _BrokenBars()
    monkeypatch.setattr(_plugins, "_active", {"broken-bars": plugin})  # the only bar maker
    with ThreadPoolExecutor(2) as pool, caplog.at_level(logging.ERROR, logger="igogo"):
        m = igogo.map(lambda x: x * 2, range(5), executor=pool)
        assert m.results(timeout=10) == [0, 2, 4, 6, 8]
    assert plugin.made == 1
    failed = [k for k, v in igogo.plugins().items() if "progress bar update raised" in v]
    assert failed == [_foreign.label(plugin)]
    assert len([r for r in caplog.records if "progress bar" in r.getMessage()]) == 1


def test_a_disabled_hook_is_listed_by_plugins(hook: Any) -> None:
    class Fragile:
        def job_started(self, job: igogo.Job[Any]) -> None:
            raise KeyError("hook bug")

    hook(Fragile())
    igogo.job(lambda: None)().result(timeout=5)
    ((_name, status),) = [(k, v) for k, v in igogo.plugins().items() if "Fragile" in k]
    assert status == "disabled: job_started raised KeyError: 'hook bug'"
