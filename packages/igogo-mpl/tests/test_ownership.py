"""Whoever made a figure owns it: making it current elsewhere never duplicates or renumbers it.

In this process, with Agg and no display host (a script): a finished job's own
figures join regular code's pyplot, so a figure listed twice or renumbered
there shows at once in ``plt.get_fignums()`` and ``fig.number``.
"""

from __future__ import annotations

from typing import Any

import pytest

import igogo


def ys(fig: Any) -> list[float]:
    """The first y value of each line of the figure's first axes."""
    return [float(line.get_ydata()[0]) for line in fig.axes[0].lines]


@pytest.mark.parametrize("how", ["figure", "sca"])
def test_a_job_drawing_on_regular_codes_figure_leaves_it_regular_codes(mpl: Any, how: str) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()

    def borrow() -> None:
        if how == "figure":
            plt.figure(fig)
        else:
            plt.sca(ax)
        plt.plot([1, 0])

    igogo.run(borrow)
    assert fig.number == 1
    assert plt.get_fignums() == [1]
    assert plt.gcf() is fig
    assert ys(fig) == [1]  # the job did draw on it
    plt.close(fig)
    assert plt.get_fignums() == []


def test_regular_code_drawing_on_a_jobs_figure_leaves_it_the_jobs(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    made: list[Any] = []
    go = igogo.Event()

    @igogo.job
    def maker() -> list[int]:
        made.append(plt.figure())
        plt.plot([1, 2])
        go.wait()
        plt.plot([3, 4])  # still on its own figure
        return plt.get_fignums()

    j = maker()
    igogo.sleep(0.01)
    assert plt.get_fignums() == []
    plt.figure(made[0])  # regular code makes the job's figure current
    plt.plot([5, 6])
    assert plt.get_fignums() == [1]
    go.set()
    assert j.result(timeout=5) == [1]
    # The job's figure joined regular code's pyplot once, with its number.
    assert made[0].number == 1
    assert plt.get_fignums() == [1]
    assert ys(made[0]) == [1, 5, 3]
    plt.close(made[0])
    assert plt.get_fignums() == []


def test_a_figure_keeps_its_number_when_regular_code_has_figures_of_its_own(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    mine = plt.figure()  # regular code's 1
    other = plt.figure()  # regular code's 2
    plt.figure(mine)

    def borrow() -> list[int]:
        theirs = plt.figure()  # the job's own first figure: its number 1
        plt.plot([8, 8])
        plt.figure(other)
        plt.plot([7, 7])
        return [theirs.number, *plt.get_fignums()]

    assert igogo.run(borrow) == [1, 1, 2]
    # The job's own figure joined as 3 (1 is taken); the borrowed one is still 2.
    assert plt.get_fignums() == [1, 2, 3]
    assert (mine.number, other.number) == (1, 2)
    assert plt.gcf() is mine  # regular code's current figure is still current
    assert ys(plt.figure(3)) == [8]


def test_a_borrowed_figure_its_owner_closes_leaves_the_borrowers_pyplot(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    go = igogo.Event()

    @igogo.job
    def borrower() -> tuple[list[int], list[int]]:
        plt.sca(ax)
        plt.plot([1, 0])
        before = plt.get_fignums()
        go.wait()
        return before, plt.get_fignums()

    j = borrower()
    igogo.sleep(0.01)
    plt.close(fig)  # the owner closes it while the job still has it current
    go.set()
    assert j.result(timeout=5) == ([1], [])
    assert plt.get_fignums() == []


def test_closing_a_borrowed_figure_closes_it_for_the_borrower_only(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure()

    def borrow_and_close() -> list[int]:
        plt.figure(fig)
        plt.close(fig)
        return plt.get_fignums()

    assert igogo.run(borrow_and_close) == []
    assert plt.get_fignums() == [1]  # regular code's own still open
    assert plt.gcf() is fig


def test_a_job_drawing_on_another_jobs_figure_leaves_it_to_that_job(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    made: list[Any] = []
    go = igogo.Event()

    @igogo.job
    def owner() -> None:
        made.append(plt.subplots()[1])
        plt.plot([1, 1])
        go.wait()
        plt.plot([3, 3])

    @igogo.job
    def borrower() -> list[int]:
        plt.sca(made[0])
        plt.plot([2, 2])
        return plt.get_fignums()

    a = owner()
    igogo.sleep(0.01)
    assert borrower().result(timeout=5) == [1]
    # The borrower's end neither handed the figure to regular code nor closed it.
    assert plt.get_fignums() == []
    assert len(_figures(a)) == 1
    go.set()
    a.result(timeout=5)
    fig = made[0].figure
    assert plt.get_fignums() == [1] and fig.number == 1
    assert ys(fig) == [1, 2, 3]


def test_reopening_a_closed_figure_in_a_job_makes_it_the_jobs(mpl: Any) -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plt.close(fig)

    def reopen() -> None:
        plt.figure(fig)  # as in plain pyplot: a closed figure is registered again
        plt.plot([4, 4])

    igogo.run(reopen)
    assert plt.get_fignums() == [1]  # the job's figure, handed to regular code at its end
    assert plt.gcf() is fig


def _figures(job: igogo.Job[Any]) -> list[Any]:
    import igogo_mpl

    return igogo_mpl.figures(job)


def test_after_run_main_the_script_has_mains_figures_as_after_calling_main(mpl: Any) -> None:
    """``igogo.run(main)`` leaves pyplot as ``main()`` would: its figures open, its last current."""
    import matplotlib.pyplot as plt

    @igogo.job
    def helper() -> None:
        plt.plot([3, 2, 1])
        plt.title("helper")

    def main() -> None:
        plt.plot([1, 2, 3])
        plt.title("main")
        helper().result()

    igogo.run(main)
    titles = {n: plt.figure(n).axes[0].get_title() for n in plt.get_fignums()}
    assert sorted(titles.values()) == ["helper", "main"]  # both open, ready for savefig
    assert plt.gca().get_title() == "main"  # main's current figure is the script's
    plt.plot([5, 5])  # the script's next plot goes where main's would have
    assert ys(plt.gcf())[-1] == 5
    plt.close("all")
