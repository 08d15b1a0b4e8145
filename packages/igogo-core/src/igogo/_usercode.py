"""What counts as user code, and where a preemptible job may be switched out.

A preemptible job is switched out only at the end of a loop iteration in user
code, and only when *every* Python frame between the job's entry and that loop
is user code or a frame known to do nothing but call user code (so that a
library's locks and invariants hold around every switch).  This module decides
both, per file name (``co_filename``), once; :mod:`igogo._preempt` asks it.

**The default.**

* cells: ipykernel's ``<tempdir>/ipykernel_<pid>/<hash>.py``, terminal
  IPython's ``<ipython-input-N-...>`` and the REPL's ``<stdin>``;
* files outside the interpreter's standard library and site-packages
  (``sysconfig`` paths ``stdlib``, ``platstdlib``, ``purelib``, ``platlib``,
  ``site.getsitepackages()`` and the user site): a script, a local module, a
  package installed in editable mode from a checkout;
* not code without a file (other ``<...>`` names: ``exec``'d strings, code that
  libraries generate such as dataclasses' ``__init__``).

**The user's rules.**  ``igogo.configure(preempt_include=[...],
preempt_exclude=[...])`` changes it by module name (``"mypkg"``,
``"mypkg.sub"``: the package's directory or the module's file) or by path (a
directory, a file, or a ``<...>`` name such as ``"<string>"``).  The most
specific rule wins (the longest matching path); on a tie, exclusion wins.

**Integrations are library code, wherever they are installed.**  igogo itself
and every package registered with :func:`add_library` (igogo-jupyter,
igogo-mpl and igogo-tqdm register themselves) are never user code, whatever the
rules say: an integration installed in editable mode from a checkout behaves
exactly as its wheel does.

**Frames that only call user code.**  Some integration functions exist to run
the user's code and hold nothing around the call: the ``%%igogo`` magic's
``exec`` of the cell, for one.  Registered with :func:`add_passthrough`, their
frames do not stop a switch in the user code they called, as a job's own entry
frame (``Job._run``) does not.
"""

from __future__ import annotations

import importlib.util
import os
import site
import sysconfig
from types import CodeType
from typing import TYPE_CHECKING, Final

from ._job import Job

if TYPE_CHECKING:
    from types import FrameType

__all__ = [
    "ENTRY",
    "add_library",
    "add_passthrough",
    "check_scope",
    "is_user_code",
    "scope",
    "set_scope",
    "switchable",
]

ENTRY: Final = Job._run.__code__
"""The bottom frame of every job: walks over a job's frames stop there."""


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(os.path.abspath(os.path.expanduser(path))))


_libraries: list[str] = [_norm(os.path.dirname(__file__)) + os.sep]
"""Directories that are library code whatever the rules say: igogo and its integrations."""
_passthrough: set[CodeType] = set()
_include: tuple[str, ...] = ()
_exclude: tuple[str, ...] = ()
_rules: list[tuple[str, bool, bool]] = []
"""(path, is a directory or a ``<...>`` prefix, include) for each rule, resolved."""
_verdicts: dict[str, bool] = {}
"""File name -> counts as user code; reset when the rules change."""
_roots: tuple[str, ...] | None = None


def _library_roots() -> tuple[str, ...]:
    """Directories whose files are library code: the stdlib and every site-packages."""
    global _roots
    if _roots is None:
        paths = sysconfig.get_paths()
        found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
        found.update(getattr(site, "getsitepackages", list)())
        user = getattr(site, "getusersitepackages", lambda: None)()
        if user:
            found.add(user)
        _roots = tuple(sorted({_norm(p) + os.sep for p in found if p}))
    return _roots


def is_user_code(filename: str) -> bool:
    """Whether code from ``filename`` (a ``co_filename``) is user code (see the essay)."""
    verdict = _verdicts.get(filename)
    if verdict is None:
        verdict = _verdicts[filename] = _classify(filename)
    return verdict


def _classify(filename: str) -> bool:
    if filename.startswith("<"):
        path = filename
        default = filename.startswith("<ipython-input-") or filename == "<stdin>"
    else:
        path = _norm(filename)
        if path.startswith(tuple(_libraries)):
            return False  # igogo or an integration, whatever the rules say
        cell = os.path.basename(os.path.dirname(path)).startswith("ipykernel_")
        default = cell or not path.startswith(_library_roots())
    best = -1
    verdict = default
    for target, prefix, include in _rules:
        matches = path == target or (prefix and path.startswith(target))
        if matches and (len(target) > best or (len(target) == best and not include)):
            best, verdict = len(target), include
    return verdict


def switchable(frame: FrameType | None) -> bool:
    """Whether every frame from ``frame`` down to the job's entry is user code (or passes)."""
    while frame is not None:
        code = frame.f_code
        if code is ENTRY:
            return True
        if code not in _passthrough and not is_user_code(code.co_filename):
            return False
        frame = frame.f_back
    return False  # not in a job's greenlet at all


def add_library(package: str) -> None:
    """Count the imported package ``package`` as library code, wherever it is installed."""
    import sys

    module = sys.modules.get(package)
    paths = list(getattr(module, "__path__", None) or ())
    if not paths:
        raise ValueError(
            f"{package!r} is not an imported package: pass the name of a package that has "
            "been imported (an integration passes its own top-level __name__)"
        )
    for path in paths:
        root = _norm(path) + os.sep
        if root not in _libraries:
            _libraries.append(root)
    _verdicts.clear()


def add_passthrough(code: CodeType) -> None:
    """Let a switch happen in user code called from a frame running ``code``."""
    _passthrough.add(code)


# -- the user's rules -----------------------------------------------------------------------------


def _is_path(item: str) -> bool:
    return item.startswith(("<", "~", ".")) or "/" in item or os.sep in item or item.endswith(".py")


def _resolve(setting: str, item: str, include: bool) -> list[tuple[str, bool, bool]]:
    if item.startswith("<"):
        return [(item, not item.endswith(">"), include)]  # "<ipython-input-" is a prefix
    if _is_path(item):
        path = _norm(item)
        return [(path + os.sep, True, include), (path, False, include)]
    try:
        spec = importlib.util.find_spec(item)
    except (ImportError, ValueError) as e:
        raise ValueError(f"{setting}: module {item!r} cannot be found ({e})") from e
    if spec is None:
        raise ValueError(
            f"{setting}: no module named {item!r} (give a module name that can be imported, "
            "or a path)"
        )
    if spec.submodule_search_locations:
        return [(_norm(d) + os.sep, True, include) for d in spec.submodule_search_locations]
    if spec.origin is None or not os.path.isabs(spec.origin):
        raise ValueError(f"{setting}: module {item!r} has no source file (it is built in)")
    return [(_norm(spec.origin), False, include)]


def check_scope(setting: str, value: object) -> tuple[str, ...]:
    """Validate ``preempt_include`` / ``preempt_exclude``: a list of module names or paths."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(
            f"{setting}={value!r}: must be a list of module names ('mypkg.sub') or paths "
            "('./src', '/abs/file.py', '<string>'); [] for none"
        )
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{setting}: {item!r} is not a module name or a path")
        if not _is_path(item) and not all(p.isidentifier() for p in item.split(".")):
            raise ValueError(
                f"{setting}: {item!r} is neither a module name ('mypkg.sub') nor a path "
                "('./src', '/abs/file.py', '<string>')"
            )
    return tuple(value)


def set_scope(
    include: tuple[str, ...] | None = None, exclude: tuple[str, ...] | None = None
) -> None:
    """Replace the include and/or exclude rules (validated by :func:`check_scope`)."""
    global _include, _exclude
    new_include = _include if include is None else include
    new_exclude = _exclude if exclude is None else exclude
    rules: list[tuple[str, bool, bool]] = []  # resolved first: a bad name changes nothing
    for item in new_include:
        rules += _resolve("preempt_include", item, True)
    for item in new_exclude:
        rules += _resolve("preempt_exclude", item, False)
    _include, _exclude = new_include, new_exclude
    _rules[:] = rules
    _verdicts.clear()


def scope() -> dict[str, list[str]]:
    """The rules in force, as ``configure()`` reports them."""
    return {"preempt_include": list(_include), "preempt_exclude": list(_exclude)}
