"""``%%igogo`` and ``%igogo`` in a real kernel; loading and unloading the extension."""

from __future__ import annotations

import re
import shlex
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from igogo_jupyter.testing import Execution, KernelDriver


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
    # A waiting request goes before the job's first step: wait until the job has started.
    kernel.wait_until(lambda: kernel.eval("'magic_x' in globals()"), timeout=10)
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
        ("", {"preempt": True}),  # a cell is preemptible unless told otherwise
        ("--no-preempt", {"preempt": False}),
        ("--preempt --name p", {"preempt": True, "name": "p"}),
        ("preempt=False", {"preempt": False}),
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
        "timeout=o.timeout, warn_rewrite=o.warn_rewrite, preempt=o.preempt))"
        "(igogo.jobs()[-1].options)"
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
        ("--preempt=3", "--preempt and --no-preempt take no value (got '3')"),
        ("--no-preempt yes", "unrecognized arguments: yes"),
        ("preempt='yes'", "preempt='yes': must be True or False"),
        ("preempt=1", "preempt=1: must be True or False"),
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


@pytest.mark.parametrize(
    "line",
    [
        "--name {6*7}",
        "--name \"{__import__('pathlib').Path(MARKER).touch()}\"",
        "name='{__import__(\"pathlib\").Path(MARKER).touch()}'",
        "--name $MARKER",
        "--name $$MARKER",
    ],
)
def test_nothing_in_a_magic_line_is_expanded(kernel: KernelDriver, tmp_path, line: str) -> None:
    """IPython expands {...} and $name in magic lines unless told not to: ours are literal."""
    marker = tmp_path / "evaluated"
    kernel.run(f"MARKER = {str(marker)!r}")
    ex = kernel.run(f"%%igogo {line}\nigogo.current_job().name")
    kernel.run("igogo.wait_all(5)")
    kernel.wait_until(lambda: kernel.texts(ex), timeout=5)
    typed = shlex.split(line)[1] if line.startswith("--") else line[6:-1]
    assert kernel.texts(ex) == [repr(typed)]
    assert not marker.exists(), "a magic line was evaluated"


def test_nothing_in_a_stop_line_is_expanded(kernel: KernelDriver, tmp_path) -> None:
    marker = tmp_path / "evaluated"
    kernel.run(f"MARKER = {str(marker)!r}")
    kernel.run(LOOPER.format(name="{6*7}"))
    ex = kernel.run("%igogo stop {__import__('pathlib').Path(MARKER).touch()}", ok=False)
    assert "no running job is named" in usage_error(kernel, ex)
    ex = kernel.run("%igogo stop $MARKER", ok=False)
    assert "no running job is named '$MARKER'" in usage_error(kernel, ex)
    ex = kernel.run("%igogo stop {6*7}")  # the name as typed, not 42
    assert kernel.stdout(ex) == "stopped 1 job\n"
    assert not marker.exists(), "a magic line was evaluated"


# -- every option string parses to literals or is a usage error; nothing runs --------------


class _Evaluations:
    """Counts what Python evaluates while ``armed``: the ``exec`` audit event (eval, exec).

    Audit hooks cannot be removed, so one hook is added for the whole session.
    """

    armed = False
    thread = threading.get_ident()
    seen: list[str] = []  # noqa: RUF012

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        # Only this thread: other threads of the test process (clients, timers) may
        # compile and open what they like meanwhile.
        if cls.armed and event in _EVALUATING and threading.get_ident() == cls.thread:
            cls.seen.append(f"{event}{args!r:.80}")


_EVALUATING = ("exec", "os.system", "os.exec", "os.posix_spawn", "subprocess.Popen")


sys.addaudithook(_Evaluations.hook)

_TOKENS = st.sampled_from(
    [
        "--name", "--kind", "--displays", "--timeout", "--no-warn-rewrite", "markdown", "3",
        "-1", "0.5", "=", ",", "name=", "displays=", "kind=", "timeout=", "'x'", '"y z"', "{",
        "}", "--preempt", "--no-preempt", "preempt=", "{6*7}", "$HOME", "$$x",
        "__import__('os').system('true')", "open('f', 'w')",
        "lambda: 0", "()", "[1]", "\\", "'", '"', "#", ";", "!", "%", "\t", "True", "None",
    ]
)  # fmt: skip
_LINES = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(_TOKENS, st.text(max_size=6)), max_size=8).map(" ".join),
    st.lists(_TOKENS, max_size=8).map("".join),
)
_LITERALS = (str, int, float, bool, type(None))  # None: "the default" (preempt=None)


@pytest.fixture(scope="module")
def shell() -> Iterator[Any]:
    """An in-process IPython shell with the extension loaded (no kernel, no job started)."""
    from IPython.core.interactiveshell import InteractiveShell

    import igogo_jupyter

    ip = InteractiveShell.instance()
    igogo_jupyter.load_ipython_extension(ip)
    yield ip
    igogo_jupyter.unload_ipython_extension(ip)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(line=_LINES)
@example(line="preempt=None")  # None is a literal too: "the default"
def test_any_option_line_gives_literal_options_or_a_usage_error(
    shell: Any, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    """Through IPython's own magic call: options are literals, or a UsageError; nothing runs."""
    from IPython.core.error import UsageError

    import igogo

    started: list[dict[str, Any]] = []

    def fake_job(**options: Any) -> Any:  # records the options instead of starting a job
        started.append(options)
        return lambda fn: lambda *args: None

    monkeypatch.setattr(igogo, "job", fake_job)
    line = line.replace("\n", " ").replace("\r", " ")  # a magic line is one line
    _Evaluations.seen.clear()
    _Evaluations.armed = True
    try:
        shell.run_cell_magic("igogo", line, "never_run = 1")
    except UsageError:
        assert not started
    else:
        (options,) = started
        assert set(options) <= {"name", "kind", "displays", "timeout", "warn_rewrite",
                                "auto_display_figures", "preempt"}  # fmt: skip
        assert all(type(v) in _LITERALS for v in options.values()), options
        name = options.get("name", "")
        if line.lstrip().startswith("-") and not re.fullmatch(r"cell \[\d+\]", name):
            assert name in shlex.split(line)  # the word as typed, unexpanded
    finally:
        _Evaluations.armed = False
    assert not _Evaluations.seen, f"{line!r} made Python evaluate: {_Evaluations.seen}"
    assert "never_run" not in shell.user_ns


@settings(max_examples=200, deadline=None)
@given(what=_LINES)
def test_any_stop_line_stops_by_name_or_is_a_usage_error(shell: Any, what: str) -> None:
    from IPython.core.error import UsageError

    what = what.replace("\n", " ").replace("\r", " ")
    _Evaluations.seen.clear()
    _Evaluations.armed = True
    try:
        shell.run_line_magic("igogo", f"stop {what}")
    except UsageError:
        pass
    finally:
        _Evaluations.armed = False
    assert not _Evaluations.seen, f"{what!r} made Python evaluate: {_Evaluations.seen}"


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
    # A waiting request goes before the job's first step: list it once it has started.
    kernel.wait_until(lambda: kernel.eval("igogo.jobs()[-1].state") != "pending", timeout=10)
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
    for line, message in (
        ("%igogo frobnicate", "%igogo has no command 'frobnicate'"),
        ("%igogo kill 3", "%igogo has no command 'kill'"),
        ("%igogo stop", "%igogo stop needs to know which jobs"),
    ):
        ex = kernel.run(line, ok=False)
        err = usage_error(kernel, ex)
        assert message in err and "usage: %igogo" in err


def test_stop_by_an_unknown_name_lists_the_names(kernel: KernelDriver) -> None:
    kernel.run(LOOPER.format(name="alpha"))
    kernel.run(LOOPER.format(name="'beta gamma'"))
    ex = kernel.run("%igogo stop no_such_job", ok=False)
    err = usage_error(kernel, ex)
    assert "no running job is named 'no_such_job'" in err
    assert "'alpha', 'beta gamma'" in err
    ex = kernel.run("%igogo stop beta gamma")  # a name with a space, quotes optional
    assert kernel.stdout(ex) == "stopped 1 job\n"
    kernel.run("igogo.stop_all()")


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
