"""The public API of all four packages, snapshotted: names and signatures.

Every public module's ``__all__`` and the signature (``inspect.signature`` text)
of every public callable, and of the public methods of every public class, are
compared with ``api_snapshot.txt`` beside this file.  Changing the API is then
a visible diff in review.  After a deliberate change, rewrite the snapshot with
``IGOGO_UPDATE_API_SNAPSHOT=1 hatch test -- packages/igogo-core/tests/test_api_snapshot.py``
and record the change in CHANGELOG.md.

The integration packages are snapshotted where they are installed (``hatch
test``); the core-only environment checks igogo's own modules.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import re
import typing
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("api_snapshot.txt")
MODULES = (
    "igogo",
    "igogo.lowlevel",
    "igogo.testing",
    "igogo_jupyter",
    "igogo_jupyter.testing",
    "igogo_mpl",
    "igogo_tqdm",
)


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    return re.sub(r" at 0x[0-9a-f]+", "", text)  # a sentinel's repr: no address


def _describe(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    lines = []
    for name in module.__all__:
        obj = getattr(module, name)
        where = f"{module_name}.{name}"
        if typing.get_origin(obj) is not None:  # a type alias (``dict[str, Any]``, a Literal)
            lines.append(f"{where} = {obj!r}")
        elif inspect.isclass(obj):
            bases = ", ".join(b.__name__ for b in obj.__bases__ if b is not object)
            lines.append(f"class {where}({bases}){_signature(obj)}")
            for attr, member in sorted(vars(obj).items()):
                if attr.startswith("_") and attr not in ("__call__", "__await__", "__iter__"):
                    continue
                if callable(member) or isinstance(member, (staticmethod, classmethod)):
                    fn = (
                        member.__func__
                        if isinstance(member, (staticmethod, classmethod))
                        else member
                    )
                    lines.append(f"    def {attr}{_signature(fn)}")
                elif isinstance(member, property):
                    lines.append(f"    property {attr}")
        elif inspect.ismodule(obj):
            lines.append(f"module {where}")
        elif callable(obj):
            lines.append(f"def {where}{_signature(obj)}")
        else:
            lines.append(f"{where}: {type(obj).__name__}")
    return lines


def _current(installed: list[str]) -> list[str]:
    out = []
    for name in installed:
        out.append(f"[{name}]")
        out += _describe(name)
    return out


def _installed() -> list[str]:
    names = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        names.append(name)
    return names


def _sections(lines: list[str], keep: list[str]) -> list[str]:
    """The snapshot's lines for the modules in ``keep`` only."""
    out, on = [], False
    for line in lines:
        if line.startswith("["):
            on = line[1:-1] in keep
        if on:
            out.append(line)
    return out


def test_the_public_api_matches_the_snapshot() -> None:
    installed = _installed()
    current = _current(installed)
    if os.environ.get("IGOGO_UPDATE_API_SNAPSHOT"):
        if installed != list(MODULES):
            pytest.fail("update the snapshot where every package is installed (hatch test)")
        SNAPSHOT.write_text("\n".join(current) + "\n")
    expected = _sections(SNAPSHOT.read_text().splitlines(), installed)
    diff = "\n".join(difflib.unified_diff(expected, current, "snapshot", "now", lineterm=""))
    assert current == expected, (
        "the public API changed; if that is deliberate, rewrite the snapshot "
        "(IGOGO_UPDATE_API_SNAPSHOT=1) and record it in CHANGELOG.md:\n" + diff
    )
