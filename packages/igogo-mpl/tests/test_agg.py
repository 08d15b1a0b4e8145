"""In this process, with Agg and no display host (as in a script): pyplot per job, nothing shown.

Jobs here are driven by the test waiting for them (igogo's blocking host).
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref
from typing import Any

import pytest

import igogo


def first_y(fig: Any) -> list[float]:
    """The second y value of each line of the figure's first axes: tells the lines apart."""
    return [float(line.get_ydata()[1]) for line in fig.axes[0].lines]


def test_jobs_and_regular_code_each_have_their_own_current_figure(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    seen: dict[str, tuple[list[float], list[int]]] = {}

    @igogo.job
    def plotter(name: str, offset: float) -> Any:
        for i in range(5):
            plt.plot([0, 1, 2], [0, offset + i, 0])  # no plt.figure(): the current one
            igogo.sleep(0.001)
        seen[name] = first_y(plt.gcf()), plt.get_fignums()
        return plt.gcf()

    plt.plot([0, 1, 2], [0, 100, 0])
    mine = plt.gcf()
    a, b = plotter("a", 10), plotter("b", 20)
    igogo.sleep(0.005)  # the jobs run (and plot) while regular code waits here
    plt.plot([0, 1, 2], [0, 200, 0])  # still on regular code's figure
    assert igogo.wait_all(10)

    assert seen["a"] == ([10, 11, 12, 13, 14], [1])  # numbers are per party too
    assert seen["b"] == ([20, 21, 22, 23, 24], [1])
    assert plt.gcf() is mine
    assert first_y(mine) == [100, 200]
    # Without a display host a finished job's figures join regular code's pyplot,
    # open (renumbered, as number 1 is taken), and regular code's stays current.
    fa, fb = a.result(), b.result()
    assert sorted(plt.get_fignums()) == [1, 2, 3]
    assert {fa.number, fb.number} == {2, 3}
    assert plt.figure(fa.number) is fa
    assert first_y(plt.gcf()) == [10, 11, 12, 13, 14]


def test_a_running_jobs_figures_are_invisible_to_regular_pyplot(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    go = igogo.Event()

    @igogo.job
    def holder() -> None:
        plt.plot([1, 2, 3])
        plt.figure()
        go.wait()
        assert len(plt.get_fignums()) == 2  # still both, after regular code closed "all"

    j = holder()
    igogo.sleep(0.01)
    assert plt.get_fignums() == []
    assert len(mpl.figures(j)) == 2  # how regular code reaches them
    plt.close("all")
    assert len(mpl.figures(j)) == 2
    go.set()
    j.result(timeout=5)
    assert len(plt.get_fignums()) == 2


def test_figures_lists_the_running_jobs_own(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    plt.figure()

    @igogo.job
    def mine() -> int:
        plt.figure()
        plt.figure()
        return len(mpl.figures())

    assert mine().result(timeout=5) == 2
    assert len(mpl.figures()) == 3  # regular code's, after the job's joined


def test_display_of_a_figure_without_display_host_prints_it(
    mpl: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import matplotlib.pyplot as plt

    @igogo.job
    def show() -> None:
        fig = plt.figure()
        igogo.display(fig)

    show().result(timeout=5)
    out = capsys.readouterr().out
    assert "Figure" in out and "640" in out  # print() or IPython display(), as for any object


def test_no_figure_leaks_over_100_iterations(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    counts: list[int] = []

    @igogo.job
    def loop() -> None:
        for i in range(100):
            fig, ax = plt.subplots()
            ax.plot([0, i])
            igogo.sleep(0)
            plt.close(fig)
            counts.append(len(plt.get_fignums()))

    loop().result(timeout=20)
    assert set(counts) == {0}
    assert plt.get_fignums() == []


def test_figures_of_finished_jobs_are_freed_once_closed(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    refs: list[weakref.ref[Any]] = []

    @igogo.job
    def one(i: int) -> None:
        plt.plot([0, i])
        refs.append(weakref.ref(plt.gcf()))
        igogo.sleep(0)

    for i in range(100):
        one(i)
    assert igogo.wait_all(20)
    assert len(plt.get_fignums()) == 100  # a script's figures stay open until it closes them
    plt.close("all")
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


def test_at_a_prompt_a_finished_jobs_figures_stay_its_own(
    mpl: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host that says ``interactive = True`` (terminal IPython): regular code is a person,
    whose next plt.plot must not draw on a finished job's figure."""
    import types

    import matplotlib.pyplot as plt

    from igogo import lowlevel

    monkeypatch.setattr(lowlevel, "current_host", lambda: types.SimpleNamespace(interactive=True))

    @igogo.job
    def drawer() -> Any:
        plt.plot([0, 7])
        igogo.sleep(0)
        return plt.gcf()

    j = drawer()
    assert igogo.wait_all(10)
    fig = j.result()
    assert plt.get_fignums() == []  # not handed to regular code, as in a script
    assert mpl.figures(j) == [fig]  # open, in the job's own pyplot
    plt.plot([0, 1])
    assert plt.gcf() is not fig
    assert first_y(fig) == [7]
    assert plt.get_fignums() == [1]


def test_deactivate_hands_every_jobs_figures_to_regular_code(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    from igogo_mpl._plugin import MplPlugin

    other = MplPlugin()  # a second instance, so the process's plugin stays as it is
    igogo.remove_hook(mpl.plugin)
    other.activate()
    try:
        go = igogo.Event()

        @igogo.job
        def drawer() -> None:
            plt.plot([0, 7])
            go.wait()

        j = drawer()
        igogo.sleep(0.01)
        assert plt.get_fignums() == []
        other.deactivate()
        assert len(plt.get_fignums()) == 1
        go.set()
        j.result(timeout=5)
    finally:
        other.deactivate()
        igogo.add_hook(mpl.plugin)


def test_configure(mpl: Any) -> None:
    before = mpl.configure()
    try:
        assert mpl.configure(interval=0.5) == {"interval": 0.5, "max_share": before["max_share"]}
        assert mpl.configure(max_share=0.25) == {"interval": 0.5, "max_share": 0.25}
        for bad in (-1, float("nan"), "1", True):
            with pytest.raises(ValueError, match="interval="):
                mpl.configure(interval=bad)
        for bad in (0, 1.5, float("inf"), "0.1", True):
            with pytest.raises(ValueError, match="max_share="):
                mpl.configure(max_share=bad)
        assert mpl.configure() == {"interval": 0.5, "max_share": 0.25}
    finally:
        mpl.configure(**before)


def run_script(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"MPLBACKEND": "agg", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_script_plots_from_jobs_and_saves_their_figures(tmp_path: Any) -> None:
    out = run_script(f"""
        import igogo
        import matplotlib.pyplot as plt

        @igogo.job
        def curve(k):
            for i in range(3):
                plt.plot([0, 1], [0, k * i])
                igogo.sleep(0.001)
            plt.savefig({str(tmp_path)!r} + f"/curve{{k}}.png")
            return plt.gcf()

        jobs = [curve(k) for k in (1, 2)]
        igogo.wait_all()
        for f in (j.result() for j in jobs):
            print(len(f.axes[0].lines), f.number)
        print(sorted(plt.get_fignums()), igogo.plugins()["mpl"])
        """)
    assert out.split("\n")[:3] == ["3 1", "3 2", "[1, 2] active"]
    assert (tmp_path / "curve1.png").stat().st_size > 1000
    assert (tmp_path / "curve2.png").stat().st_size > 1000


def test_activation_imports_nothing_and_pyplot_imported_in_a_job_is_the_jobs() -> None:
    out = run_script("""
        import sys
        import igogo, igogo.lowlevel
        igogo.job(lambda: None)().result()   # activates the plugins
        print("matplotlib" in sys.modules, "IPython" in sys.modules)
        from igogo_mpl._plugin import PLUGIN
        print(any(h is PLUGIN for h in igogo.lowlevel.hooks()))  # no cost per switch yet

        @igogo.job
        def late():
            import matplotlib.pyplot as plt   # first import, inside a job
            plt.plot([1, 2])
            igogo.sleep(0.001)
            plt.plot([3, 4])
            return len(plt.gca().lines), plt.get_fignums()

        j = late()
        igogo.sleep(0.0005)
        import matplotlib.pyplot as plt
        print(plt.get_fignums(), any(h is PLUGIN for h in igogo.lowlevel.hooks()))
        print(j.result())
        """)
    assert out.split("\n")[:4] == ["False False", "False", "[] True", "(2, [1])"]
