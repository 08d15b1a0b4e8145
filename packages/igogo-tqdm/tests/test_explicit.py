"""``from igogo_tqdm import tqdm, trange``: job bars with or without the plugin."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import tqdm.auto

import igogo
import igogo_tqdm
from igogo_tqdm import _bars

N = 300_000


@pytest.fixture(params=["plugin active", "plugin off"])
def plugin_state(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "plugin off":
        igogo_tqdm.plugin.deactivate()
    try:
        yield request.param
    finally:
        igogo_tqdm.plugin.activate()


def test_the_explicit_class_is_tqdm_auto() -> None:
    assert issubclass(igogo_tqdm.tqdm, tqdm.auto.tqdm)
    bar = igogo_tqdm.trange(3, file=io.StringIO())
    assert isinstance(bar, igogo_tqdm.tqdm)
    assert list(bar) == [0, 1, 2]


def test_explicit_bars_in_a_job_switch_on_each_step(plugin_state: str, spinner: list[int]) -> None:
    @igogo.job
    def loop() -> tuple[int, int, bool]:
        before = spinner[0]
        for _ in igogo_tqdm.tqdm(range(N), file=io.StringIO()):
            pass
        middle = spinner[0]
        bar = igogo_tqdm.tqdm(total=N, file=io.StringIO())
        for _ in range(N):
            bar.update()
        bar.close()
        return middle - before, spinner[0] - middle, _bars.owner(bar) is igogo.current_job()

    iterated, updated, owned = loop().result()
    assert iterated > 0 and updated > 0 and owned


def test_explicit_bars_outside_jobs_never_switch(plugin_state: str, spinner: list[int]) -> None:
    for _ in igogo_tqdm.trange(N, file=io.StringIO()):
        pass
    assert spinner[0] == 0


def test_a_stopped_job_closes_its_explicit_bar(plugin_state: str) -> None:
    stream = io.StringIO()
    bars: list[Any] = []

    @igogo.job(name="explicit")
    def work() -> None:
        bars.append(igogo_tqdm.tqdm(total=100, file=stream))
        while True:
            bars[0].update()
            igogo.sleep(0.001)

    job = work()
    igogo.sleep(0.05)
    job.stop()
    job.wait(5)
    assert bars[0].disable and bars[0].n < 100
    assert "igogo: job 'explicit' stopped" in stream.getvalue()


def test_with_the_plugin_active_a_step_is_one_switch_point_not_two() -> None:
    """The explicit class leaves the work to the plugin's wrappers: no double wrapping."""

    @igogo.job
    def layers() -> list[str]:
        it: Any = iter(igogo_tqdm.tqdm(range(3), file=io.StringIO()))
        names = []
        while hasattr(it, "gi_code"):
            names.append(it.gi_code.co_name)
            it = it.gi_frame.f_locals.get("it") if it.gi_frame is not None else None
        return names

    assert layers().result() == ["_yielding", "__iter__"]


def test_an_explicit_bar_made_while_the_plugin_was_active_keeps_its_handling() -> None:
    """Deactivating the plugin takes the plugin's handling away, not the explicit class's."""
    stream = io.StringIO()
    bars: list[Any] = []
    go = igogo.Event()

    @igogo.job(name="explicit")
    def work() -> None:
        bars.append(igogo_tqdm.tqdm(total=100, file=stream))  # plugin active: its wrappers run
        go.wait()
        for _ in range(10):
            bars[0].update()
            igogo.sleep(0.001)
        igogo.sleep(10)

    job = work()
    igogo.sleep(0.01)
    igogo_tqdm.plugin.deactivate()
    try:
        go.set()
        igogo.sleep(0.05)
        job.stop()
        job.wait(5)
    finally:
        igogo_tqdm.plugin.activate()
    assert bars[0].disable and bars[0].n == 10
    assert "igogo: job 'explicit' stopped" in stream.getvalue()
