"""The plugin: found through its entry point, activated at the first job, undone exactly.

Checks that need a process nobody has touched (what activation imports, what
deactivation leaves behind) run in a fresh interpreter.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import io
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import tqdm.auto as tqdm_auto
import tqdm.std as tqdm_std
from tqdm import tqdm, trange

import igogo
import igogo_tqdm
from igogo_tqdm import _bars, _plugin


def run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its stdout (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_entry_point_names_the_plugin() -> None:
    (ep,) = [e for e in importlib.metadata.entry_points(group="igogo.plugins") if e.name == "tqdm"]
    assert ep.value == "igogo_tqdm:plugin"
    plugin = ep.load()
    assert plugin is igogo_tqdm.plugin
    assert callable(plugin.activate) and callable(plugin.deactivate)


def test_the_first_job_activates_it_and_deactivation_restores_tqdm_exactly() -> None:
    out = run_python(
        """
        import sys
        import tqdm.std
        import igogo, igogo_tqdm
        from igogo_tqdm._plugin import WRAPPED

        cls = tqdm.std.tqdm
        before = dict(vars(cls))
        assert not igogo_tqdm.plugin.active  # importing did nothing
        igogo.run(lambda: None)
        assert igogo.plugins()["tqdm"] == "active"
        replaced = sorted(k for k, v in vars(cls).items() if before.get(k) is not v)
        assert replaced == sorted(WRAPPED), replaced
        assert set(vars(cls)) == set(before)

        igogo.deactivate_plugin("tqdm")
        assert igogo.plugins()["tqdm"] == "deactivated"
        assert set(vars(cls)) == set(before)
        assert all(vars(cls)[k] is v for k, v in before.items())
        assert not [f for f in sys.meta_path if type(f).__module__.startswith("igogo_tqdm")]
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_activation_before_tqdm_is_imported_imports_nothing_and_waits_for_it() -> None:
    out = run_python(
        """
        import sys
        import igogo, igogo_tqdm
        from importlib.machinery import SourceFileLoader
        from igogo.lowlevel import ImportWatch

        def watches():
            return [
                f for f in sys.meta_path
                if isinstance(f, ImportWatch) and f.name == "tqdm.std"
            ]

        igogo.run(lambda: None)  # activates the plugin
        assert igogo_tqdm.plugin.active and not igogo_tqdm.plugin.wrapped
        heavy = [m for m in ("tqdm", "ipywidgets", "IPython") if m in sys.modules]
        assert not heavy, heavy
        assert len(watches()) == 1 and sys.meta_path[0] is watches()[0]

        import tqdm.std as std  # the watch wraps tqdm's class as tqdm.std is imported

        assert igogo_tqdm.plugin.wrapped
        assert watches() == []  # and removes itself
        assert type(std.__loader__) is SourceFileLoader
        assert std.__spec__.loader is std.__loader__

        @igogo.job
        def loop():
            bar = std.tqdm(range(3))
            return list(bar), bar._igogo_job is igogo.current_job()

        assert loop().result() == ([0, 1, 2], True)
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_deactivating_before_tqdm_is_imported_removes_the_watch() -> None:
    out = run_python(
        """
        import sys
        import igogo_tqdm

        meta_path = list(sys.meta_path)
        igogo_tqdm.plugin.activate()
        assert len(sys.meta_path) == len(meta_path) + 1
        igogo_tqdm.plugin.deactivate()
        assert sys.meta_path == meta_path
        import tqdm.std
        assert not igogo_tqdm.plugin.wrapped
        assert not hasattr(tqdm.std.tqdm.__iter__, "__wrapped__")
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_activate_and_deactivate_twice_are_harmless() -> None:
    plugin = igogo_tqdm.plugin
    saved = dict(plugin._saved)
    plugin.activate()
    assert dict(plugin._saved) == saved
    plugin.deactivate()
    plugin.deactivate()
    try:
        assert all(vars(tqdm_std.tqdm)[k] is v for k, v in saved.items())
    finally:
        plugin.activate()
    assert plugin.wrapped


def test_tqdms_signature_is_kept() -> None:
    plugin = igogo_tqdm.plugin
    active = inspect.signature(tqdm_std.tqdm.__init__)
    plugin.deactivate()
    try:
        assert inspect.signature(tqdm_std.tqdm.__init__) == active
    finally:
        plugin.activate()


# -- outside jobs, tqdm is tqdm ----------------------------------------------------------------

Draw = Callable[[io.StringIO], Any]


def draw_iterated(f: io.StringIO) -> Any:
    return sum(tqdm(range(50), file=f, mininterval=0, bar_format="{desc}|{n}/{total}|"))


def draw_manual(f: io.StringIO) -> Any:
    with tqdm(total=7, file=f, mininterval=0, desc="manual", bar_format="{desc}|{n}/{total}") as b:
        for _ in range(7):
            b.update()
            b.set_postfix_str("x")
    return b.n


def draw_nested(f: io.StringIO) -> Any:
    fmt = "{desc}|{n}/{total}"
    positions = []
    for _ in trange(3, file=f, mininterval=0, desc="outer", bar_format=fmt):
        inner = tqdm(range(4), file=f, mininterval=0, leave=False, desc="in", bar_format=fmt)
        positions.append(inner.pos)
        for _ in inner:
            pass
    return positions


def test_outside_jobs_bars_draw_exactly_as_without_the_plugin(spinner: list[int]) -> None:
    """Same text, same values, and no job ever gets a turn (a job is alive meanwhile)."""
    draws: list[Draw] = [draw_iterated, draw_manual, draw_nested]
    with_plugin = []
    for draw in draws:
        f = io.StringIO()
        with_plugin.append((draw(f), f.getvalue()))
    igogo_tqdm.plugin.deactivate()
    try:
        without = []
        for draw in draws:
            f = io.StringIO()
            without.append((draw(f), f.getvalue()))
    finally:
        igogo_tqdm.plugin.activate()
    assert with_plugin == without
    assert spinner[0] == 0


def test_outside_jobs_the_loop_is_tqdms_own_generator() -> None:
    bar = tqdm(range(3), file=io.StringIO())
    it = iter(bar)
    assert it.gi_code is igogo_tqdm.plugin._saved["__iter__"].__code__  # type: ignore[attr-defined]
    assert list(it) == [0, 1, 2]
    assert "_igogo_job" not in vars(bar)


def test_wrapped_attributes_are_the_documented_ones() -> None:
    assert set(igogo_tqdm.plugin._saved) == set(_plugin.WRAPPED)
    for name in _plugin.WRAPPED:
        assert vars(tqdm_std.tqdm)[name] is not igogo_tqdm.plugin._saved[name]


def test_a_job_started_by_igogo_finds_the_plugin_active() -> None:
    @igogo.job
    def status() -> str:
        return igogo.plugins()["tqdm"]

    assert status().result() == "active"


# -- bars for igogo.map ---------------------------------------------------------------------------


def test_the_plugin_makes_the_bars_of_maps_inside_their_job(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``progress_bar(total=, desc=)``: a ``tqdm.auto`` bar counting items, owned by the job."""
    from igogo.lowlevel import progress_bar

    @igogo.job(name="mapper")
    def make() -> tuple[Any, igogo.Job[Any] | None, list[int]]:
        bar = progress_bar(total=3, desc="map(f)")  # what igogo.map calls, in its job
        bar.update(1)
        bar.total = 5  # MapJob.submit() grows it
        bar.refresh()
        bar.update(4)
        counts = [bar.n, bar.total]
        bar.close()
        return bar, igogo.current_job(), counts

    job = make()
    bar, me, counts = job.result()
    assert isinstance(bar, tqdm_auto.tqdm)
    assert me is job and _bars.owner(bar) is job
    assert (bar.desc, bar.unit, counts) == ("map(f)", "item", [5, 5])
    final = capsys.readouterr().err.rstrip("\n").rsplit("\r", 1)[-1]
    assert final.startswith("map(f): 100%|██████████| 5/5 [") and "item/s]" in final


def test_outside_jobs_the_method_makes_a_plain_bar(capsys: pytest.CaptureFixture[str]) -> None:
    bar = igogo_tqdm.plugin.progress_bar(total=2, desc="loose")
    bar.update(2)
    bar.close()
    assert isinstance(bar, tqdm_auto.tqdm) and _bars.owner(bar) is None
    assert "loose: 100%|██████████| 2/2 [" in capsys.readouterr().err


def double(x: int) -> int:
    return 2 * x


def test_a_map_shows_its_bar_through_the_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    """``igogo.map`` (threads here: no worker processes needed) draws one bar to the end."""
    with ThreadPoolExecutor(2) as pool:
        m = igogo.map(double, range(6), executor=pool)
        assert m.results(10) == [0, 2, 4, 6, 8, 10]
    err = capsys.readouterr().err
    assert err.count("map(double): 100%|██████████| 6/6 [") == 1, err
    assert err.endswith("item/s]\n"), err


def test_a_stopped_maps_text_bar_stays_where_it_stopped_with_a_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ThreadPoolExecutor(2) as pool:
        m = igogo.map(time.sleep, [0.1] * 20, executor=pool, name="naps")
        igogo.sleep(0.25)  # regular code: the map runs meanwhile
        m.stop()
        assert m.wait(5) and m.state == "stopped"
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert lines[-1] == "igogo: job 'naps' stopped; its progress bar stays where it stopped"
    assert lines[-2].startswith("naps: ") and "/20 [" in lines[-2] and "100%" not in lines[-2]


def test_a_finished_maps_text_bar_gets_no_note(capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadPoolExecutor(2) as pool:
        m = igogo.map(double, range(3), executor=pool, return_exceptions=True)
        assert m.results(10) == [0, 2, 4]
    assert "igogo: job" not in capsys.readouterr().err


# -- deactivation detaches everything -----------------------------------------------------------

PACKAGE_DIR = str(Path(igogo_tqdm.__file__).resolve().parent)


def plugin_calls(during: Callable[[], object]) -> list[str]:
    """The functions of igogo_tqdm that ran during ``during()`` (jobs included)."""
    seen: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE_DIR):
            seen.append(frame.f_code.co_qualname)

    # The jobs' greenlets run on this thread: sys.setprofile follows them.
    sys.setprofile(profile)
    try:
        during()
    finally:
        sys.setprofile(None)
    return seen


@pytest.mark.parametrize("outcome", ["stopped", "failed"])
def test_a_job_with_bars_gets_nothing_of_the_plugin_once_it_is_deactivated(outcome: str) -> None:
    stream = io.StringIO()
    go = igogo.Event()
    bars: list[Any] = []

    @igogo.job(name="early")
    def work() -> Any:
        bar = tqdm(total=10, file=stream)  # made while the plugin is active: the job's
        bars.append(bar)
        bar.update(3)
        for _ in tqdm(range(3), file=stream):
            pass
        go.wait()
        if outcome == "failed":
            raise ValueError("after deactivation")
        igogo.sleep(10)

    job = work()
    igogo.sleep(0.01)
    assert job.state == "waiting"
    (bar,) = bars
    igogo_tqdm.plugin.deactivate()
    try:

        def end() -> None:
            go.set()
            if outcome == "stopped":
                igogo.sleep(0.01)
                job.stop()
            job.wait(5)

        assert plugin_calls(end) == []
        assert job.state == outcome
        # Left as tqdm leaves a bar its code did not close: open, no note below it.
        assert not bar.disable and bar.n == 3
        assert "igogo:" not in stream.getvalue()
        bar.close()
    finally:
        igogo_tqdm.plugin.activate()


def test_a_loop_running_when_the_plugin_is_deactivated_stops_yielding(
    spinner: list[int],
) -> None:
    turns: list[int] = []

    @igogo.job
    def loop() -> None:
        for i in tqdm(range(2000), file=io.StringIO(), mininterval=0):
            if i == 1000:
                igogo_tqdm.plugin.deactivate()  # from the job itself, mid-loop
                turns.append(spinner[0])
            if i % 100 == 0:
                time.sleep(0.002)  # so that each time slice ends within the loop
        turns.append(spinner[0])

    try:
        loop().result(timeout=30)
    finally:
        igogo_tqdm.plugin.activate()
    before, after = turns
    assert before > 0  # while active, the loop shared the time
    assert after == before  # once deactivated, tqdm's own loop: no switch point
