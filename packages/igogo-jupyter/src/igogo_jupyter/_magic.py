"""The ``%%igogo`` cell magic and the ``%igogo`` line magic.

Options are parsed, never evaluated: ``--name x --kind markdown --displays 2
--timeout 60`` in the usual command-line form, or the original keyword form
``name='x', displays=2`` whose values must be Python literals (read with
``ast.literal_eval``).  A bad option raises IPython's ``UsageError``, which the
cell shows as a one-line error; nothing is started.

IPython expands ``{expression}`` and ``$name`` in a magic's line before the
magic sees it, which would evaluate whatever the line holds.  Both magics are
marked ``no_var_expand``: the line arrives exactly as typed, and ``{6*7}`` is
the four characters it looks like.

A ``%%igogo`` cell is preemptible unless told otherwise (``--no-preempt``,
``preempt=False``): its loops are switched out at their ends once its time
slice is over, so an unchanged cell with no ``igogo.yielder()`` runs beside the
notebook.  ``igogo.configure(preempt=...)`` is the default of decorated jobs,
not of cells: a cell marked ``%%igogo`` asks to run beside the notebook.
"""

from __future__ import annotations

import argparse
import ast
import shlex
import warnings
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand

import igogo
from igogo.lowlevel import calls_user_code

from ._kernel import cell_number
from ._options import KINDS

__all__ = ["IgogoMagics", "parse_options"]

_USAGE = (
    "%%igogo [--name NAME] [--kind text|markdown|html] [--displays N] [--timeout SECONDS]"
    " [--no-preempt] [--no-warn-rewrite] [--no-auto-display-figures]\n"
    "   or: %%igogo name='NAME', kind='markdown', displays=N, timeout=SECONDS, preempt=False"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit the process
        flag, found, value = message.partition(": ignored explicit argument ")
        if found:  # "--preempt=3": argparse's words are obscure
            flag = flag.removeprefix("argument ").replace("/", " and ")
            verb = "take" if " and " in flag else "takes"
            message = f"{flag} {verb} no value (got {value}): write the flag alone"
        raise UsageError(f"{message}\nusage: {_USAGE}")


def _build_parser() -> _Parser:
    p = _Parser(prog="%%igogo", add_help=False)
    p.add_argument("--name")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--displays", type=int)
    p.add_argument("--timeout", type=float)
    p.add_argument("--preempt", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--no-warn-rewrite", dest="warn_rewrite", action="store_false", default=None)
    p.add_argument(
        "--no-auto-display-figures", dest="auto_display_figures", action="store_false", default=None
    )
    return p


def parse_options(line: str) -> dict[str, Any]:
    """The job options given on a ``%%igogo`` line, validated."""
    line = line.strip()
    if not line:
        options: dict[str, Any] = {}
    elif line.startswith("-"):
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise UsageError(f"cannot split the options: {e}\nusage: {_USAGE}") from None
        ns = _build_parser().parse_args(words)
        options = {k: v for k, v in vars(ns).items() if v is not None}
    else:
        options = _keyword_options(line)
    try:
        igogo.JobOptions.from_kwargs(options)
    except (TypeError, ValueError) as e:
        raise UsageError(f"{e}\nusage: {_USAGE}") from None
    return options


def _keyword_options(line: str) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():  # an odd escape in a string: Python's warning, not ours
            warnings.simplefilter("ignore")
            call = ast.parse(f"f({line})", mode="eval").body
    except SyntaxError:
        raise UsageError(f"cannot parse the options {line!r}\nusage: {_USAGE}") from None
    assert isinstance(call, ast.Call)
    if call.args or any(k.arg is None for k in call.keywords):
        raise UsageError(f"options must be given as name=value\nusage: {_USAGE}")
    options: dict[str, Any] = {}
    for kw in call.keywords:
        assert kw.arg is not None
        try:
            options[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise UsageError(
                f"option {kw.arg}= must be a literal value (a string, number, True or False), "
                f"not {ast.unparse(kw.value)!r}"
            ) from None
    return options


@magics_class
class IgogoMagics(Magics):
    """``%%igogo`` runs its cell as a job; ``%igogo`` lists and stops jobs."""

    @cell_magic("igogo")  # type: ignore[arg-type]
    @no_var_expand
    def igogo_cell(self, line: str, cell: str) -> None:
        """Run this cell as an igogo job, beside the other cells."""
        options = parse_options(line)
        shell = self.shell
        assert shell is not None
        number = cell_number(shell)
        options.setdefault("name", f"cell [{number}]")
        options.setdefault("preempt", True)
        body = _compile_cell(shell, cell, number)
        igogo.job(**options)(_run_cell_body)(shell, body)

    @line_magic("igogo")  # type: ignore[arg-type]
    @no_var_expand
    def igogo_line(self, line: str) -> Any:
        """``%igogo`` lists the jobs; ``%igogo stop all|latest|<cell number>|<name>`` stops."""
        command, _, what = line.strip().partition(" ")
        if not command:
            return igogo.jobs()
        if command != "stop":
            raise UsageError(f"%igogo has no command {command!r}\nusage: {_LINE_USAGE}")
        what = _unquote(what.strip())
        if not what:
            raise UsageError(f"%igogo stop needs to know which jobs\nusage: {_LINE_USAGE}")
        if what == "all":
            n = igogo.stop_all()
        elif what == "latest":
            n = int(igogo.stop_latest() is not None)
        elif what.isascii() and what.isdigit():
            n = igogo.stop_by_cell_id(int(what))
        else:
            alive = [j for j in igogo.jobs() if isinstance(j, igogo.Job) and not j.done()]
            named = [j for j in alive if j.name == what]
            if not named:
                names = ", ".join(sorted({repr(j.name) for j in alive})) or "none"
                raise UsageError(
                    f"no running job is named {what!r}; the running jobs' names: {names}\n"
                    f"usage: {_LINE_USAGE}"
                )
            n = sum(j.stop() for j in named)
        print(f"stopped {n} job{'s' if n != 1 else ''}")
        return None


_LINE_USAGE = "%igogo  |  %igogo stop all|latest|<cell number>|<job name>"


def _unquote(text: str) -> str:
    """A job name as typed: quotes around it are optional (``%igogo stop 'my job'``)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _compile_cell(shell: Any, cell: str, number: int) -> tuple[Any, Any]:
    """Compile a cell as IPython would: its syntax transformed, the last expression shown."""
    source = shell.transform_cell(cell)
    filename = shell.compile.cache(source, number, raw_code=cell)
    tree = ast.parse(source, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = compile(ast.Expression(tree.body.pop().value), filename, "eval")
    return compile(tree, filename, "exec"), last


@calls_user_code  # the cell's loops may be switched out though this frame is below them
def _run_cell_body(shell: Any, body: tuple[Any, Any]) -> Any:
    code, last = body
    exec(code, shell.user_global_ns, shell.user_ns)
    if last is not None:
        value = eval(last, shell.user_global_ns, shell.user_ns)
        if value is not None:
            igogo.display(value)
        return value
    return None
