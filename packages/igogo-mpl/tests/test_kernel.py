"""Figures of jobs in a real kernel, with the inline backend: which cell shows what.

Each message's parent tells which cell it is addressed to; which lines are on
which figure is read inside the kernel (``first_y``: the second y value of each
line, as every line drawn here has its own).
"""

from __future__ import annotations

import math

import pytest

from igogo_jupyter.testing import Execution, KernelDriver

X1 = 2 * math.pi / 49  # x[1] in the kernel
# Regular code's open figures, and how many of the figures in `refs` are still alive.
LEFT = "(plt.get_fignums(), gc.collect() * 0 + sum(r() is not None for r in refs))"

HELPERS = """\
def first_y(fig):
    return [float(line.get_ydata()[1]) for line in fig.axes[0].lines]
from igogo_mpl._images import bundle
"""


@pytest.fixture(autouse=True)
def _helpers(kernel: KernelDriver) -> None:
    kernel.run(HELPERS)


def images(kernel: KernelDriver, ex: Execution) -> list[tuple[str, str | None, str]]:
    """(message type, display id, PNG) of every image message addressed to ``ex``'s cell."""
    kernel.drain()
    return [
        (m["msg_type"], m["content"].get("transient", {}).get("display_id"), data["image/png"])
        for m in kernel.outputs(ex, ("display_data", "update_display_data", "execute_result"))
        if "image/png" in (data := m["content"]["data"])
    ]


def one_display(shown: list[tuple[str, str | None, str]]) -> str:
    """Check ``shown`` is one display updated in place; return its display id."""
    assert shown, "no figure shown"
    ids = {did for _, did, _ in shown}
    assert len(ids) == 1, f"{len(ids)} displays: {ids}"
    kinds = [kind for kind, _, _ in shown]
    assert kinds == ["display_data"] + ["update_display_data"] * (len(kinds) - 1)
    did = ids.pop()
    assert did is not None and did.startswith("igogo-mpl-")
    return did


def final_png(kernel: KernelDriver, fig: str) -> str:
    """The PNG of figure ``fig`` (an expression in the kernel) as it is now."""
    png = kernel.eval(f"bundle({fig})[0]['image/png']")
    assert isinstance(png, str)
    return png


def test_job_plots_sin_while_a_cell_plots_cos(kernel: KernelDriver) -> None:
    """The original example: plt.plot in a loop in a job, with no plt.figure()."""
    job = kernel.run(
        "rec = {}\n"
        "@igogo.job\n"
        "def sines():\n"
        "    for i in range(40):\n"
        "        plt.plot(x, np.sin(x) + i)\n"
        "        igogo.sleep(0.02)\n"
        "    rec['job'] = first_y(plt.gcf())\n"
        "    rec['job_fig'] = plt.gcf()\n"
        "j = sines()"
    )
    kernel.wait_until(lambda: images(kernel, job), timeout=10)  # it is drawing
    cell = kernel.run(
        "plt.plot(x, np.cos(x) + 100)\n"
        "rec['cell'] = first_y(plt.gcf())\n"
        "rec['job_running'] = not j.done()\n"
        "rec['job_lines'] = len(igogo_mpl.figures(j)[0].axes[0].lines)"
    )
    waiting = kernel.run("igogo.wait_all(30)")
    after = kernel.run("print('a cell after the job')")
    rec = kernel.eval("{k: v for k, v in rec.items() if k != 'job_fig'}")

    assert rec["job_running"] and 0 < rec["job_lines"] < 40
    assert rec["cell"] == [pytest.approx(math.cos(X1) + 100)]
    assert rec["job"] == [pytest.approx(math.sin(X1) + i) for i in range(40)]
    # The cell shows exactly one figure, its own; the job's cell only the job's.
    assert [kind for kind, _, _ in images(kernel, cell)] == ["display_data"]
    shown = images(kernel, job)
    one_display(shown)
    assert shown[-1][2] == final_png(kernel, "rec['job_fig']")  # ends in its final state
    assert images(kernel, waiting) == [] and images(kernel, after) == []
    assert kernel.eval("plt.get_fignums()") == []  # the job's figure was closed


def test_a_preemptive_cell_plotting_in_a_plain_loop_keeps_its_own_figure(
    kernel: KernelDriver,
) -> None:
    """No sleep, no yielder: the loop is switched out at its ends, its pyplot with it."""
    kernel.run("%load_ext igogo")
    job = kernel.run(
        "%%igogo --name plotter\n"
        "rec = {}\n"
        "enough = False\n"
        "end = time.monotonic() + 8\n"
        "i = 0\n"
        "while not enough and time.monotonic() < end:\n"
        "    plt.cla()\n"
        "    plt.plot(x, np.sin(x) + i % 10)\n"
        "    i += 1\n"
        "rec['job'] = first_y(plt.gcf())\n"
        "rec['job_fig'] = plt.gcf()\n"
        "rec['gave_up'] = not enough\n"
    )
    kernel.wait_until(lambda: images(kernel, job), timeout=10)  # it is drawing
    cell = kernel.run(
        "plt.plot(x, np.cos(x) + 100)\nrec['cell'] = first_y(plt.gcf())\nenough = True"
    )
    kernel.run("igogo.wait_all(30)")
    rec = kernel.eval("{k: v for k, v in rec.items() if k != 'job_fig'}")
    assert rec["gave_up"] is False  # the cell ran while the loop was still drawing
    assert rec["cell"] == [pytest.approx(math.cos(X1) + 100)]
    (job_line,) = rec["job"]
    assert math.sin(X1) <= job_line < math.sin(X1) + 10
    assert [kind for kind, _, _ in images(kernel, cell)] == ["display_data"]
    shown = images(kernel, job)
    one_display(shown)
    assert shown[-1][2] == final_png(kernel, "rec['job_fig']")
    assert kernel.eval("plt.get_fignums()") == []


def test_two_jobs_plotting_at_the_same_time_get_only_their_own_lines(
    kernel: KernelDriver,
) -> None:
    kernel.run(
        "rec = {}\n"
        "@igogo.job\n"
        "def plotter(name, offset):\n"
        "    for i in range(30):\n"
        "        plt.plot(x, x * 0 + offset + i)\n"
        "        if i == 15:\n"
        "            rec[name + ' beside'] = sum(not j.done() for j in igogo.jobs())\n"
        "        igogo.sleep(0.01)\n"
        "    rec[name] = first_y(plt.gcf())\n"
        "    rec[name + ' fig'] = plt.gcf()"
    )
    a = kernel.run("ja = plotter('a', 1000)")
    b = kernel.run("jb = plotter('b', 2000)")
    kernel.run("igogo.wait_all(30)")
    assert kernel.eval("(rec['a beside'], rec['b beside'])") == (2, 2)
    assert kernel.eval("rec['a']") == [1000 + i for i in range(30)]
    assert kernel.eval("rec['b']") == [2000 + i for i in range(30)]
    shown_a, shown_b = images(kernel, a), images(kernel, b)
    assert one_display(shown_a) != one_display(shown_b)
    assert shown_a[-1][2] == final_png(kernel, "rec['a fig']")
    assert shown_b[-1][2] == final_png(kernel, "rec['b fig']")


def test_a_failing_job_still_shows_its_last_figure(kernel: KernelDriver) -> None:
    cell = kernel.run(
        "@igogo.job\n"
        "def doomed():\n"
        "    global doomed_fig\n"
        "    for i in range(5):\n"
        "        plt.plot(x, x * 0 + i)\n"
        "        igogo.sleep(0.01)\n"
        "    plt.title('the last state')\n"
        "    doomed_fig = plt.gcf()\n"
        "    raise ValueError('plotting failed')\n"
        "doomed()"
    )
    kernel.wait_until(lambda: kernel.errors(cell), timeout=10)
    shown = images(kernel, cell)
    one_display(shown)
    assert shown[-1][2] == final_png(kernel, "doomed_fig")
    assert kernel.errors(cell)[0]["ename"] == "ValueError"
    # The figure comes before the traceback.
    order = [m["msg_type"] for m in kernel.outputs(cell, ("update_display_data", "error"))]
    assert order[-1] == "error"


def test_a_regular_cell_that_waits_keeps_its_own_figure(kernel: KernelDriver) -> None:
    job = kernel.run(
        "@igogo.job\n"
        "def busy():\n"
        "    for i in range(30):\n"
        "        plt.plot(x, x * 0 - i)\n"
        "        igogo.sleep(0.01)\n"
        "busy()"
    )
    cell = kernel.run(
        "plt.plot(x, np.cos(x))\n"
        "igogo.sleep(0.2)  # the job plots meanwhile\n"
        "plt.plot(x, np.cos(x) + 1)\n"
        "mine = first_y(plt.gcf())"
    )
    kernel.run("igogo.wait_all(30)")
    assert kernel.eval("mine") == [pytest.approx(math.cos(X1)), pytest.approx(math.cos(X1) + 1)]
    assert [kind for kind, _, _ in images(kernel, cell)] == ["display_data"]
    one_display(images(kernel, job))


def test_renders_are_rate_limited_and_configurable(kernel: KernelDriver) -> None:
    kernel.run(
        "@igogo.job\n"
        "def fast(seconds):\n"
        "    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)\n"
        "    line, = ax.plot(x, np.sin(x))\n"
        "    end = time.monotonic() + seconds\n"
        "    while time.monotonic() < end:\n"
        "        line.set_ydata(np.sin(x + time.monotonic()))\n"
        "        igogo.sleep(0.005)"
    )
    default = kernel.run("fast(1.5)\nigogo.wait_all(30)")
    n_default = len(images(kernel, default))
    # 0.3 s apart at least, plus the first and the final render
    assert 3 <= n_default <= 1.5 / 0.3 + 2
    slow = kernel.run("igogo_mpl.configure(interval=1.0)\nfast(1.5)\nigogo.wait_all(30)")
    kernel.run("igogo_mpl.configure(interval=0.3, max_share=0.1)")
    assert 2 <= len(images(kernel, slow)) <= 1.5 / 1.0 + 2


def test_auto_display_off_and_explicit_display(kernel: KernelDriver) -> None:
    quiet = kernel.run(
        "@igogo.job(auto_display_figures=False)\n"
        "def quiet():\n"
        "    plt.plot([1, 2, 3])\n"
        "    igogo.sleep(0.4)  # no render of its own\n"
        "    igogo.display(plt.gcf())\n"
        "    plt.plot([3, 2, 1])\n"
        "    igogo.sleep(0.4)\n"
        "    igogo.display(plt.gcf())  # the same display, updated\n"
        "    plt.plot([2, 2, 2])  # never shown\n"
        "    igogo.sleep(0.4)\n"
        "quiet()\n"
        "igogo.wait_all(30)"
    )
    assert [kind for kind, _, _ in images(kernel, quiet)] == [
        "display_data",
        "update_display_data",
    ]
    one_display(images(kernel, quiet))
    both = kernel.run(
        "@igogo.job\n"
        "def explicit():\n"
        "    plt.plot([1, 2, 3])\n"
        "    igogo.sleep(0.05)  # rendered automatically\n"
        "    igogo.display(plt.gcf())  # into the same display: never twice\n"
        "    igogo.display(plt.figure())  # an empty figure: shown too, explicitly\n"
        "explicit()\n"
        "igogo.wait_all(30)"
    )
    kernel.drain()
    displays = kernel.outputs(both, ("display_data",))
    with_image = [m for m in displays if "image/png" in m["content"]["data"]]
    assert len(with_image) == 1
    assert len(displays) == 2  # the empty figure shows as text, as IPython shows it


def test_plt_show_in_a_job_shows_in_its_cell(kernel: KernelDriver) -> None:
    cell = kernel.run(
        "@igogo.job\n"
        "def shower():\n"
        "    plt.plot([1, 2])\n"
        "    plt.show()  # as in a cell: shown (here, in the job's cell) and closed\n"
        "    igogo.sleep(0.05)\n"
        "    return plt.get_fignums()\n"
        "js = shower()"
    )
    after = kernel.run("igogo.wait_all(30)\nplt.plot([5, 6]);")
    assert kernel.eval("js.result()") == []
    assert len(images(kernel, cell)) == 1
    assert len(images(kernel, after)) == 1  # only the cell's own figure


def test_no_figure_leaks_over_100_iterations(kernel: KernelDriver) -> None:
    kernel.run(
        "refs, counts = [], []\n"
        "@igogo.job\n"
        "def many():\n"
        "    for i in range(100):\n"
        "        fig, ax = plt.subplots(figsize=(1, 1), dpi=20)\n"
        "        ax.plot([0, i])\n"
        "        refs.append(weakref.ref(fig))\n"
        "        igogo.sleep(0)\n"
        "        plt.close(fig)\n"
        "        counts.append(len(plt.get_fignums()))\n"
        "    for i in range(100):  # and 100 lines on one figure\n"
        "        plt.cla()\n"
        "        plt.plot([0, i])\n"
        "        counts.append(len(plt.get_fignums()))\n"
        "        igogo.sleep(0)\n"
        "many()\n"
        "igogo.wait_all(60)"
    )
    assert kernel.eval("sorted(set(counts))") == [0, 1]
    assert kernel.eval("counts[:100] == [0] * 100 and counts[100:] == [1] * 100")
    assert kernel.eval(LEFT) == ([], 0)  # no open figure; every figure freed
    # 100 jobs, each leaving its figure open when it ends: closed after their final render.
    cell = kernel.run(
        "refs = []\n"
        "@igogo.job\n"
        "def one(i):\n"
        "    plt.figure(figsize=(1, 1), dpi=20)\n"
        "    plt.plot([0, i])\n"
        "    refs.append(weakref.ref(plt.gcf()))\n"
        "    igogo.sleep(0.01)\n"
        "for i in range(100):\n"
        "    one(i)\n"
        "igogo.wait_all(60)"
    )
    assert kernel.eval(LEFT) == ([], 0)  # no open figure; every figure freed
    assert len({did for _, did, _ in images(kernel, cell)}) == 100


def test_a_figure_that_cannot_be_drawn_is_reported_and_the_job_goes_on(
    kernel: KernelDriver,
) -> None:
    cell = kernel.run(
        "@igogo.job\n"
        "def broken():\n"
        "    plt.plot([1, 2])\n"
        "    plt.title(r'$\\notacommand{x}$')  # mathtext fails when the figure is drawn\n"
        "    igogo.sleep(0.05)\n"
        "    plt.title('fixed')\n"
        "    igogo.sleep(0.05)\n"
        "    return 'finished'\n"
        "jb = broken()\n"
        "igogo.wait_all(30)"
    )
    assert kernel.eval("jb.result()") == "finished"
    assert "igogo-mpl: could not draw" in kernel.stdout(cell, "stderr")
    one_display(images(kernel, cell))  # drawn once it could be
    assert kernel.eval("igogo_mpl.plugin in igogo.lowlevel.hooks()")


def test_a_job_drawing_on_the_cells_figure_leaves_it_to_the_cell(kernel: KernelDriver) -> None:
    """Whoever made a figure owns it: the job draws on it, the cell shows it, once."""
    cell = kernel.run(
        "fig, ax = plt.subplots()\n"
        "igogo.job(lambda: (plt.sca(ax), plt.plot([1, 0])))()\n"
        "igogo.wait_all(30)\n"
        "owned = (fig.number, plt.get_fignums(), len(ax.lines))"
    )
    assert kernel.eval("owned") == (1, [1], 1)
    # The cell's inline display, and no display of the job's own.
    assert [(kind, did) for kind, did, _ in images(kernel, cell)] == [("display_data", None)]
    assert kernel.eval("plt.get_fignums()") == []  # closed by the cell's inline backend


def test_a_cell_making_a_jobs_figure_current_leaves_it_to_the_job(kernel: KernelDriver) -> None:
    """The job's end closes its figure also in the cell's pyplot: no cell draws on it later."""
    job = kernel.run(
        "made = []\n"
        "@igogo.job\n"
        "def maker():\n"
        "    made.append(plt.figure())\n"
        "    plt.plot([1, 2])\n"
        "    igogo.sleep(0.3)\n"
        "    plt.plot([2, 1])\n"
        "jm = maker()"
    )
    kernel.wait_until(lambda: kernel.eval("bool(made)"), timeout=10)
    kernel.run("plt.figure(made[0])  # current here too, nothing drawn")
    kernel.run("jm.wait(30)")
    assert kernel.eval("plt.get_fignums()") == []
    later = kernel.run("plt.plot([3, 3])\nlater = (plt.gcf() is made[0], plt.get_fignums())")
    assert kernel.eval("later") == (False, [1])
    assert [(kind, did) for kind, did, _ in images(kernel, later)] == [("display_data", None)]
    one_display(images(kernel, job))
