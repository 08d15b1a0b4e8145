"""Job bars, in process (igogo's blocking host, text bars written to StringIO).

Ownership, the switch point per step, the bars a stopped or failed job leaves,
names and line positions of text bars from several jobs.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import tqdm.asyncio as tqdm_asyncio
import tqdm.auto as tqdm_auto
import tqdm.notebook as tqdm_notebook
from tqdm import tqdm, trange

import igogo
from igogo_tqdm import _bars

N = 300_000  # far longer than one time slice (15 ms) at ~0.2 us a step


def text_bar(iterable: Any = None, **kwargs: Any) -> Any:
    kwargs.setdefault("file", io.StringIO())
    return tqdm(iterable, **kwargs)


# -- ownership ---------------------------------------------------------------------------------


def test_a_bar_made_in_a_job_belongs_to_the_job() -> None:
    @igogo.job
    def make() -> Any:
        bar = text_bar(total=3)
        bar.close()
        return bar, igogo.current_job()

    bar, job = make().result()
    assert _bars.owner(bar) is job
    outside = text_bar(total=3)
    outside.close()
    assert _bars.owner(outside) is None
    assert _bars.ATTR not in vars(outside)


def test_every_tqdm_entry_point_makes_job_bars() -> None:
    @igogo.job
    def make() -> list[Any]:
        bars = [
            tqdm(range(2), file=io.StringIO()),
            trange(2, file=io.StringIO()),
            tqdm_auto.tqdm(range(2), file=io.StringIO()),
            tqdm_auto.trange(2, file=io.StringIO()),
            tqdm_asyncio.tqdm(range(2), file=io.StringIO()),
            tqdm_notebook.tqdm(range(2), display=False),
            tqdm_notebook.trange(2, display=False),
        ]
        for bar in bars:
            assert list(bar) == [0, 1]
        return bars

    job = make()
    assert all(_bars.owner(b) is job for b in job.result())


# -- switch points -----------------------------------------------------------------------------


def test_each_iteration_in_a_job_is_a_switch_point(spinner: list[int]) -> None:
    """No yielder in the loop, yet the other job runs while it goes on."""

    @igogo.job
    def loop() -> int:
        before = spinner[0]
        total = 0
        for i in text_bar(range(N)):
            total += i
        assert total == N * (N - 1) // 2
        return spinner[0] - before

    assert loop().result() > 0


def test_each_update_in_a_job_is_a_switch_point(spinner: list[int]) -> None:
    @igogo.job
    def manual() -> int:
        before = spinner[0]
        with text_bar(total=N) as bar:
            for _ in range(N):
                bar.update()
        assert bar.n == N
        return spinner[0] - before

    assert manual().result() > 0


def test_without_a_bar_the_same_loop_does_not_switch(spinner: list[int]) -> None:
    """The control for the two tests above."""

    @igogo.job
    def loop() -> int:
        before = spinner[0]
        for _ in range(N):
            pass
        return spinner[0] - before

    assert loop().result() == 0


def test_bars_outside_jobs_never_switch(spinner: list[int]) -> None:
    for _ in text_bar(range(N)):
        pass
    with text_bar(total=N) as bar:
        for _ in range(N):
            bar.update()
    assert spinner[0] == 0  # regular code never gave the job a turn
    igogo.sleep(0.02)
    assert spinner[0] > 0


def test_a_job_bar_iterated_outside_any_job_does_not_switch(spinner: list[int]) -> None:
    @igogo.job
    def make() -> Any:
        return text_bar(range(N))

    bar = make().result()
    before = spinner[0]
    assert sum(bar) == N * (N - 1) // 2
    assert spinner[0] == before


def test_the_loop_sees_every_item_and_the_bar_ends_complete() -> None:
    stream = io.StringIO()

    @igogo.job
    def loop() -> tuple[list[int], Any]:
        bar = text_bar(range(5), file=stream, bar_format="{n}/{total}", mininterval=0)
        return list(bar), bar

    items, bar = loop().result()
    assert items == [0, 1, 2, 3, 4]
    assert bar.n == 5 and bar.disable  # closed by tqdm at the end of the loop
    assert stream.getvalue().endswith("5/5\n")


def test_breaking_out_of_a_loop_closes_the_bar_as_tqdm_does() -> None:
    @igogo.job
    def loop() -> Any:
        bar = text_bar(range(N))
        for i in bar:
            if i == 10:
                break
        return bar

    bar = loop().result()
    assert bar.disable and bar.n == 10  # tqdm counts an item once the body is done with it


def test_nested_bars_in_a_job() -> None:
    stream = io.StringIO()

    @igogo.job
    def nested() -> list[int]:
        positions = []
        for _ in text_bar(range(3), file=stream, desc="outer"):
            inner = text_bar(range(1000), file=stream, desc="inner", leave=False)
            positions.append(inner.pos)
            for _ in inner:
                pass
        return positions

    assert nested().result() == [1, 1, 1]
    assert "inner" in stream.getvalue()


# -- the end of a job --------------------------------------------------------------------------


def test_a_stopped_job_closes_its_open_bars_and_leaves_a_note() -> None:
    stream = io.StringIO()
    bars: list[Any] = []

    @igogo.job(name="worker")
    def work() -> None:
        bar = text_bar(total=100, file=stream, bar_format="{n}/{total}", mininterval=0)
        bars.append(bar)
        while True:
            bar.update()
            igogo.sleep(0.001)

    job = work()
    igogo.sleep(0.05)
    job.stop()
    job.wait(5)
    (bar,) = bars
    assert job.state == "stopped"
    assert bar.disable and 0 < bar.n < 100  # closed, where it stopped
    text = stream.getvalue()
    note = "igogo: job 'worker' stopped; its progress bar stays where it stopped"
    assert text.rstrip("\n").endswith(note)
    assert f"{bar.n}/100\n" in text


def test_a_job_stopped_inside_a_bar_loop() -> None:
    stream = io.StringIO()
    bars: list[Any] = []

    @igogo.job(name="looper")
    def work() -> None:
        bar = text_bar(range(10**9), file=stream)
        bars.append(bar)
        for _ in bar:
            pass

    job = work()
    igogo.sleep(0.05)
    job.stop()
    job.wait(5)
    (bar,) = bars
    assert job.state == "stopped"
    assert bar.disable and 0 < bar.n < 10**9
    assert "igogo: job 'looper' stopped" in stream.getvalue()


def test_a_stopped_job_whose_bars_all_completed_gets_no_note() -> None:
    stream = io.StringIO()

    @igogo.job(name="completed-first")
    def work() -> None:
        for _ in text_bar(range(10), file=stream):
            pass
        while True:
            igogo.sleep(0.001)

    job = work()
    igogo.sleep(0.05)
    job.stop()
    job.wait(5)
    assert job.state == "stopped"
    assert "10/10" in stream.getvalue() and "igogo:" not in stream.getvalue()


def test_a_failed_job_closes_its_open_bars() -> None:
    stream = io.StringIO()

    @igogo.job(name="failing")
    def work() -> None:
        bar = text_bar(total=10, file=stream)
        bar.update(3)
        raise ValueError("boom")

    job = work()
    with pytest.raises(ValueError, match="boom"):
        job.result()
    (bar,) = _bars_of(job)
    assert bar.disable and bar.n == 3
    assert "igogo: job 'failing' failed" in stream.getvalue()


def test_a_finished_job_leaves_its_open_bars_as_tqdm_does() -> None:
    stream = io.StringIO()

    @igogo.job
    def work() -> Any:
        bar = text_bar(total=10, file=stream)
        bar.update(4)
        return bar

    bar = work().result()
    assert not bar.disable  # still open: the caller may go on with it
    assert "igogo:" not in stream.getvalue()
    bar.close()


def test_a_stopped_job_turns_its_notebook_bar_red() -> None:
    bars: list[Any] = []

    @igogo.job
    def work() -> None:
        bar = tqdm_notebook.tqdm(total=100, display=False)
        bars.append(bar)
        while True:
            bar.update()
            igogo.sleep(0.001)

    job = work()
    igogo.sleep(0.05)
    job.stop()
    job.wait(5)
    (bar,) = bars
    _, progress, _ = bar.container.children
    assert progress.bar_style == "danger"
    assert bar.disable and progress.value == bar.n < 100


def test_a_stopped_notebook_bar_of_unknown_length_turns_red_too() -> None:
    bars: list[Any] = []

    @igogo.job
    def work() -> None:
        bar = tqdm_notebook.tqdm(display=False)
        bars.append(bar)
        while True:
            bar.update()
            igogo.sleep(0.001)

    job = work()
    igogo.sleep(0.05)
    job.stop()
    job.wait(5)
    (bar,) = bars
    assert bar.container.children[1].bar_style == "danger"


# -- text bars of several jobs on one output ---------------------------------------------------


def run_bars(streams: dict[str, io.StringIO], desc: str = "rows") -> dict[str, Any]:
    """One job per name, each drawing a bar on its stream; both bars open at once."""
    bars: dict[str, Any] = {}

    def draw(name: str) -> None:
        bar = bars[name] = text_bar(total=3, file=streams[name], desc=desc)
        for _ in range(3):
            igogo.sleep(0.005)
            bar.update()
        bar.close()

    jobs = [igogo.job(name=name)(draw)(name) for name in streams]
    igogo.wait(*jobs)
    return bars


def test_text_bars_of_several_jobs_on_one_output_are_named() -> None:
    shared = io.StringIO()
    bars = run_bars({"load": shared, "train": shared})
    assert bars["load"].desc == "load: rows"
    assert bars["train"].desc == "train: rows"
    assert "load: rows: 100%" in shared.getvalue()
    assert "train: rows: 100%" in shared.getvalue()
    assert {bars["load"].pos, bars["train"].pos} == {0, 1}


def test_bars_of_one_job_or_on_separate_outputs_are_not_named() -> None:
    bars = run_bars({"alone": io.StringIO()})
    assert bars["alone"].desc == "rows"
    bars = run_bars({"a": io.StringIO(), "b": io.StringIO()})
    assert bars["a"].desc == bars["b"].desc == "rows"
    assert bars["a"].pos == bars["b"].pos == 0  # each output has its own first line


def test_a_bar_without_description_is_named_by_its_job() -> None:
    shared = io.StringIO()
    bars = run_bars({"x": shared, "y": shared}, desc="")
    assert (bars["x"].desc, bars["y"].desc) == ("x", "y")


def test_positions_of_bars_outside_jobs_are_tqdms_own() -> None:
    a = text_bar(total=1)
    b = text_bar(total=1)  # a different StringIO: tqdm still counts every bar
    try:
        assert (a.pos, b.pos) == (0, 1)
    finally:
        b.close()
        a.close()


def _bars_of(job: igogo.Job[Any]) -> list[Any]:
    state = job.host_data[_bars.PLUGIN_KEY]  # bars made through the plugin's wrappers
    return [b for b in (r() for r in state.bars.values()) if b is not None]


def test_tqdm_write_still_works_in_a_job() -> None:
    stream = io.StringIO()

    @igogo.job
    def work() -> None:
        with text_bar(total=2, file=stream) as bar:
            tqdm.write("a message", file=stream)
            bar.update(2)

    work().result()
    assert "a message\n" in stream.getvalue()
