"""A griffe extension for the API reference: Sphinx roles in docstrings become links.

The packages' docstrings are reST-flavoured and name other objects with Sphinx roles (:func:`job`,
:class:`Job`, :meth:`Job.result`, ``:mod:`igogo.lowlevel```).  Markdown has no roles, so
this extension rewrites each one before mkdocstrings renders the docstring: into a
cross-reference to the public name (``igogo.Job.result``, not ``igogo._job.Job.result``)
when the target is part of the documented API, else into plain inline code.  A name is
looked up as written, then from the docstring's own class and module outwards, then in
the docstring's top-level package.  Definition lists and ``::`` literal blocks are
turned into their Markdown forms, and a few special methods that tell a reader nothing
(``__repr__``, ``__slots__``, ...) are left out.  The packages' source is never changed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[2]
SEARCH_PATHS = [str(p) for p in sorted((ROOT / "packages").glob("*/src"))]
# The modules the API reference documents, each with every name of its `__all__`: the sections
# of the API snapshot (packages/igogo-core/tests/api_snapshot.txt), which its test writes from
# its own list, so the two cannot drift apart. A name exported by two of them is linked to the
# first (igogo.Host rather than igogo.lowlevel.Host).
_SNAPSHOT = ROOT / "packages" / "igogo-core" / "tests" / "api_snapshot.txt"
PUBLIC_MODULES = [line[1:-1] for line in _SNAPSHOT.read_text().splitlines() if line.startswith("[")]
# Special methods that say nothing a reader of the API needs (__init__'s parameters are shown
# with the class: merge_init_into_class).
HIDDEN = {"__repr__", "__str__", "__get__", "__hash__", "__eq__", "__init_subclass__", "__slots__"}
# reST that Markdown reads differently: a definition list (a term, then its definition
# indented by four spaces) becomes one for the def_list extension; a paragraph ending in "::"
# before an indented code block ends in ":".
DEFINITION = re.compile(r"(?:^|(?<=\n\n))([^\s*\-][^\n]*)\n {4}(?=\S)")
LITERAL = re.compile(r"::\n\n(?= {4})")
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|data|mod|exc|obj|const):`(~?)([\w.]+)(\(\))?`")


def _target(obj: Any) -> Any:
    """The object an alias points to (the object itself otherwise); None if unresolvable."""
    try:
        return obj.final_target if obj.is_alias else obj
    except Exception:  # an alias to something outside the loaded packages
        return None


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of a loaded package (see the module doc)."""

    def __init__(self) -> None:
        super().__init__()
        self._loader: griffe.GriffeLoader | None = None
        self._public: dict[str, str] = {}

    def _load(self) -> griffe.GriffeLoader:
        """A separate load of all four packages, to map every object to its public name."""
        if self._loader is not None:
            return self._loader
        loader = griffe.GriffeLoader(search_paths=SEARCH_PATHS)
        for top in sorted({m.split(".")[0] for m in PUBLIC_MODULES}):
            loader.load(top)
        loader.resolve_aliases(implicit=False, external=False)
        classes: list[tuple[Any, str]] = []
        for modname in PUBLIC_MODULES:
            module = loader.modules_collection[modname]
            self._public.setdefault(module.path, modname)
            for name in module.exports or []:
                target = _target(module.members[str(name)]) if str(name) in module.members else None
                if target is None:
                    continue
                public = f"{modname}.{name}"
                self._public.setdefault(target.path, public)
                if target.is_class:
                    classes.append((target, public))
        # A class's own public members first, then the inherited ones, under their owner.
        for cls, public in classes:
            for name, member in cls.members.items():
                if not name.startswith("_"):
                    self._public.setdefault(member.path, f"{public}.{name}")
        for cls, _ in classes:
            for name, member in cls.all_members.items():
                target = _target(member)
                if not name.startswith("_") and target is not None and target.path in self._public:
                    self._public.setdefault(f"{cls.path}.{name}", self._public[target.path])
        self._loader = loader
        return loader

    def _resolve(self, scope_path: str, name: str) -> str | None:
        """The public path ``name`` refers to, seen from the object at ``scope_path``."""
        collection = self._load().modules_collection
        scopes: list[str] = [""]
        parts = scope_path.split(".")
        scopes += [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
        for scope in scopes:
            path = f"{scope}.{name}" if scope else name
            if path in self._public:
                return self._public[path]
            try:
                obj = collection[path]
            except Exception:
                continue
            target = _target(obj)
            if target is not None and target.path in self._public:
                return self._public[target.path]
        return None

    def _rewrite(self, obj: Any) -> None:
        docstring = obj.docstring
        if docstring is None:
            return
        docstring.value = DEFINITION.sub(r"\1\n:   ", docstring.value)
        docstring.value = LITERAL.sub(":\n\n", docstring.value)

        def replace(match: re.Match[str]) -> str:
            short, name, call = match.group(1), match.group(2), match.group(3) or ""
            text = (name.rsplit(".", 1)[-1] if short else name) + call
            public = self._resolve(obj.path, name)
            return f"[`{text}`][{public}]" if public else f"`{text}`"

        docstring.value = ROLE.sub(replace, docstring.value)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        stack: list[Any] = [pkg]
        while stack:
            obj = stack.pop()
            self._rewrite(obj)
            if obj.is_class:
                for name in HIDDEN & obj.members.keys():
                    del obj.members[name]
            stack.extend(m for m in obj.members.values() if not m.is_alias)
