"""``%%igogo`` and ``%igogo`` in a real kernel; loading and unloading the extension."""

from __future__ import annotations

import re

import pytest
from kernel_driver import Execution, KernelDriver


def usage_error(k: KernelDriver, ex: Execution) -> str:
    """The UsageError text a cell showed (IPython prints it on stderr, no traceback)."""
    assert ex.status == "error"
    err = k.stdout(ex, "stderr")
    assert err.startswith("UsageError: "), err
    return err


def live_jobs(k: KernelDriver) -> list[str]:
    return k.eval("[j.name for j in igogo.jobs() if not j.done()]")


def test_cell_runs_as_a_job_in_the_notebook_namespace(kernel: KernelDriver) -> None:
    a = kernel.run(
        "%%igogo\n"
        "magic_x = 41\n"
        "def magic_fn():\n"
        "    return magic_x + 1\n"
        "igogo.sleep(0.2)  # the cell has replied by now\n"
        "magic_y = magic_fn()\n"
        "print('job done')"
    )
    assert kernel.eval("(magic_x, 'magic_y' in globals())") == (41, False)
    name, done = kernel.eval("(igogo.jobs()[-1].name, igogo.jobs()[-1].done())")
    assert not done
    assert name == f"cell [{a.reply['content']['execution_count']}]"
    kernel.run("igogo.jobs()[-1].result(5)")
    assert kernel.eval("(magic_y, magic_fn())") == (42, 42)
    kernel.wait_until(lambda: kernel.stdout(a) == "job done\n", timeout=5)


def test_ipython_syntax_inside_the_cell(kernel: KernelDriver) -> None:
    a = kernel.run("%%igogo\n%time t_value = sum(range(10))\n!echo hi-from-shell\nignored = 1")
    kernel.run("igogo.wait_all(5)")
    kernel.wait_until(lambda: "hi-from-shell" in kernel.stdout(a), timeout=5)
    out = kernel.stdout(a)
    assert "Wall time" in out
    assert kernel.eval("t_value") == 45


def test_last_expression_is_displayed_in_the_cell(kernel: KernelDriver) -> None:
    a = kernel.run("%%igogo\nigogo.sleep(0.05)\nlast_value = 6\nlast_value * 7")
    b = kernel.run("igogo.wait_all(5)")
    kernel.wait_until(lambda: kernel.texts(a), timeout=5)
    assert kernel.texts(a) == ["42"]
    assert not kernel.outputs(a, ("execute_result",))
    assert kernel.texts(b) == ["True"]  # the waiting cell shows only its own result
    # A None expression shows nothing, as in a normal cell.
    c = kernel.run("%%igogo\nNone")
    kernel.run("igogo.wait_all(5)")
    kernel.drain(0.3)
    assert not kernel.texts(c)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("--name worker", {"name": "worker"}),
        ("--kind markdown", {"kind": "markdown"}),
        ("--displays 2", {"displays": 2}),
        ("--timeout 30", {"timeout": 30.0}),
        ("--no-warn-rewrite", {"warn_rewrite": False}),
        (
            "--name 'two words' --kind html --displays 3 --timeout 0.5",
            {"name": "two words", "kind": "html", "displays": 3, "timeout": 0.5},
        ),
        ("name='x', displays=2", {"name": "x", "displays": 2}),
        ("kind='markdown', timeout=60", {"kind": "markdown", "timeout": 60}),
    ],
)
def test_options(kernel: KernelDriver, line: str, expected: dict) -> None:
    kernel.run(f"%%igogo {line}\nigogo.sleep(0.05)")
    options = kernel.eval(
        "(lambda o: dict(name=o.name, kind=o.kind, displays=o.displays, "
        "timeout=o.timeout, warn_rewrite=o.warn_rewrite))(igogo.jobs()[-1].options)"
    )
    assert {k: options[k] for k in expected} == expected
    kernel.run("igogo.wait_all(5)")


def test_markdown_option_renders_the_cells_prints(kernel: KernelDriver) -> None:
    a = kernel.run("%%igogo --kind markdown\nprint('# Title')\nprint('text')")
    kernel.run("igogo.wait_all(5)")
    kernel.wait_until(lambda: kernel.outputs(a, ("update_display_data",)), timeout=5)
    kernel.drain(0.2)
    last = kernel.outputs(a, ("update_display_data",))[-1]["content"]["data"]
    assert last["text/markdown"] == "# Title\ntext\n"
    assert kernel.stdout(a) == ""


def test_displays_option_gives_the_cell_slots(kernel: KernelDriver) -> None:
    a = kernel.run(
        "%%igogo --displays 2\nfor i in range(4):\n    igogo.display(f'd{i}')\n    igogo.sleep(0)"
    )
    kernel.run("igogo.wait_all(5)")
    kernel.wait_until(lambda: len(kernel.texts(a)) == 4, timeout=5)
    kinds = [m["msg_type"] for m in kernel.outputs(a, ("display_data", "update_display_data"))]
    assert kinds == ["display_data", "display_data", "update_display_data", "update_display_data"]


def test_timeout_option_stops_the_job(kernel: KernelDriver) -> None:
    kernel.run("%%igogo --name slow --timeout 0.2\nwhile True:\n    igogo.sleep(0.01)")
    assert kernel.eval("igogo.jobs()[-1].wait(3)") is True
    assert kernel.eval("igogo.jobs()[-1].state") == "timed out"


def test_keyword_name_option_names_the_job(kernel: KernelDriver) -> None:
    kernel.run("%%igogo name='x', displays=2\nigogo.sleep(0.05)")
    assert kernel.eval("(igogo.jobs()[-1].name, igogo.jobs()[-1].options.displays)") == ("x", 2)
    kernel.run("igogo.wait_all(5)")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--bogus 1", "unrecognized arguments: --bogus"),
        ("--kind pdf", "invalid choice: 'pdf'"),
        ("--displays -1", "displays must be an integer >= 1"),
        ("--displays two", "invalid int value"),
        ("--timeout -5", "must be a positive number"),
        ("--name", "expected one argument"),
        ("--name 'unclosed", "cannot split the options"),
        ("bogus=1", "unknown job option(s) 'bogus'"),
        ("kind='pdf'", "allowed kinds are"),
        ("displays=0", "displays must be an integer >= 1"),
        ("name='x' displays=2", "cannot parse the options"),
        ("'x'", "options must be given as name=value"),
    ],
)
def test_bad_options_print_a_usage_error_and_start_nothing(
    kernel: KernelDriver, line: str, message: str
) -> None:
    before = kernel.eval("len(igogo.jobs())")
    ex = kernel.run(f"%%igogo {line}\nbad_option_ran = True", ok=False)
    err = usage_error(kernel, ex)
    assert message in err
    assert "%%igogo [--name NAME]" in err or "name=value" in err
    assert kernel.eval("len(igogo.jobs())") == before
    assert kernel.eval("'bad_option_ran' in globals()") is False


def test_keyword_options_are_never_evaluated(kernel: KernelDriver, tmp_path) -> None:
    marker = tmp_path / "evaluated"
    for value in (
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"open({str(marker)!r}, 'w').name",
        "__import__('os').getcwd()",
    ):
        before = kernel.eval("len(igogo.jobs())")
        ex = kernel.run(f"%%igogo name={value}\nbad_option_ran = True", ok=False)
        err = usage_error(kernel, ex)
        assert "must be a literal value" in err
        assert kernel.eval("len(igogo.jobs())") == before
    assert not marker.exists(), "an option was evaluated"
    assert kernel.eval("'bad_option_ran' in globals()") is False


def test_syntax_error_in_the_cell_starts_nothing(kernel: KernelDriver) -> None:
    before = kernel.eval("len(igogo.jobs())")
    ex = kernel.run("%%igogo\nx = (", ok=False)
    assert ex.status == "error"
    assert kernel.errors(ex)[0]["ename"] == "SyntaxError"
    assert kernel.eval("len(igogo.jobs())") == before


def test_error_in_the_cell_body_shows_in_that_cell(kernel: KernelDriver) -> None:
    a = kernel.run("%%igogo\nigogo.sleep(0.05)\nraise RuntimeError('in magic')")
    kernel.run("igogo.wait_all(5)")
    kernel.wait_until(lambda: kernel.errors(a), timeout=5)
    (err,) = kernel.errors(a)
    assert (err["ename"], err["evalue"]) == ("RuntimeError", "in magic")
    tb = "\n".join(err["traceback"])
    assert "_magic.py" not in tb and "_job.py" not in tb  # the user's cell only
    assert f"In[{a.reply['content']['execution_count']}]" in re.sub(r"\x1b\[[0-9;]*m", "", tb)
    assert a.status == "ok"  # the cell itself succeeded: it only started the job


def test_line_magic_lists_jobs(kernel: KernelDriver) -> None:
    a = kernel.run("%%igogo --name listed-job\nwhile True:\n    igogo.sleep(0.01)")
    number = a.reply["content"]["execution_count"]
    ex = kernel.run("%igogo")
    # In a notebook the list is the live job table (a widget); its text form is the table.
    (result,) = kernel.outputs(ex, ("execute_result",), widgets=True)
    table = result["content"]["data"]["text/plain"]
    header, *rows = table.splitlines()
    assert header.split() == ["id", "name", "origin", "state", "elapsed"]
    row = next(r for r in rows if "listed-job" in r)
    assert row.split()[2] == str(number)
    assert row.split()[3] in ("sleeping", "running")
    kernel.run("igogo.stop_all()")


def test_line_magic_usage_error(kernel: KernelDriver) -> None:
    for line in ("%igogo frobnicate", "%igogo stop", "%igogo stop a b"):
        ex = kernel.run(line, ok=False)
        assert "usage: %igogo" in usage_error(kernel, ex)


LOOPER = "%%igogo --name {name}\nwhile True:\n    igogo.sleep(0.01)"


def test_line_magic_stop_all(kernel: KernelDriver) -> None:
    for name in ("s1", "s2", "s3"):
        kernel.run(LOOPER.format(name=name))
    ex = kernel.run("%igogo stop all")
    assert kernel.stdout(ex) == "stopped 3 jobs\n"
    kernel.run("igogo.wait_all(2)")
    assert live_jobs(kernel) == []


def test_line_magic_stop_latest(kernel: KernelDriver) -> None:
    kernel.run(LOOPER.format(name="older"))
    kernel.run(LOOPER.format(name="newer"))
    ex = kernel.run("%igogo stop latest")
    assert kernel.stdout(ex) == "stopped 1 job\n"
    kernel.run("igogo.sleep(0.05)")
    assert live_jobs(kernel) == ["older"]
    kernel.run("igogo.stop_all()")


def test_line_magic_stop_cell(kernel: KernelDriver) -> None:
    first = kernel.run(LOOPER.format(name="from-cell"))
    kernel.run(LOOPER.format(name="elsewhere"))
    number = first.reply["content"]["execution_count"]
    ex = kernel.run(f"%igogo stop {number}")
    assert kernel.stdout(ex) == "stopped 1 job\n"
    kernel.run("igogo.sleep(0.05)")
    assert live_jobs(kernel) == ["elsewhere"]
    ex = kernel.run("%igogo stop 99999")
    assert kernel.stdout(ex) == "stopped 0 jobs\n"
    kernel.run("igogo.stop_all()")


def test_line_magic_stop_name(kernel: KernelDriver) -> None:
    kernel.run(LOOPER.format(name="twin"))
    kernel.run(LOOPER.format(name="twin"))
    kernel.run(LOOPER.format(name="single"))
    ex = kernel.run("%igogo stop twin")
    assert kernel.stdout(ex) == "stopped 2 jobs\n"
    kernel.run("igogo.sleep(0.05)")
    assert live_jobs(kernel) == ["single"]
    kernel.run("igogo.stop_all()")


# -- the extension ------------------------------------------------------------------------

MAGICS = (
    "(lambda m: ('igogo' in m['line'], 'igogo' in m['cell']))(get_ipython().magics_manager.magics)"
)


@pytest.mark.parametrize("module", ["igogo", "igogo_jupyter"])
def test_load_unload_reload_extension(fresh_kernel: KernelDriver, module: str) -> None:
    k = fresh_kernel
    assert k.eval(MAGICS) == (False, False)
    k.run(f"%load_ext {module}")
    assert k.eval(MAGICS) == (True, True)
    a = k.run("%%igogo\nprint('loaded')")
    k.wait_until(lambda: kernel_stdout_has(k, a, "loaded"), timeout=5)

    k.run(f"%unload_ext {module}")
    assert k.eval(MAGICS) == (False, False)
    ex = k.run("%%igogo\nprint('should not run')", ok=False)
    assert "Cell magic `%%igogo` not found" in usage_error(k, ex)
    ex = k.run("%igogo", ok=False)
    assert ex.status == "error"

    k.run(f"%load_ext {module}")
    assert k.eval(MAGICS) == (True, True)
    b = k.run("%%igogo\nprint('reloaded')")
    k.wait_until(lambda: kernel_stdout_has(k, b, "reloaded"), timeout=5)


def kernel_stdout_has(k: KernelDriver, ex: Execution, text: str) -> bool:
    return text in k.stdout(ex)


def test_unload_restores_a_magic_registered_before(fresh_kernel: KernelDriver) -> None:
    k = fresh_kernel
    k.run(
        "from IPython.core.magic import register_line_magic\n"
        "@register_line_magic\n"
        "def igogo(line):\n"
        "    return 'theirs'"
    )
    k.run("%load_ext igogo_jupyter")
    assert k.texts(k.run("%igogo")) == ["no igogo jobs"]
    k.run("%unload_ext igogo_jupyter")
    assert k.texts(k.run("%igogo")) == ["'theirs'"]
