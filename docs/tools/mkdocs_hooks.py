"""MkDocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

* The example notebooks of ``examples/`` become pages under ``examples/``.  ``mkdocs build``
  first executes each of them in a real kernel with ``IGOGO_HEADLESS=1``
  (:func:`run_examples.execute`, the code behind ``hatch run docs:examples``) and renders
  the executed copy; a notebook that fails fails the build.  ``mkdocs serve`` renders the
  outputs committed in ``examples/`` instead, for a quick preview.  ``IGOGO_DOCS_EXECUTE=1``
  or ``=0`` chooses either way for both commands.
* ``bench/results/kernels.png``, the benchmarks' chart, is published as
  ``benchmarks/kernels.png``: the benchmark pages show the chart the last benchmark run
  drew, as they include its tables (``--8<--`` snippets).
* ``mkdocs serve`` also watches those files, and the other files the pages include.
* After the build, every public name that ``packages/igogo-core/tests/api_snapshot.txt``
  lists must have its entry in the API reference (the site's ``objects.inv``); one that
  has none is a warning, which fails a strict build.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

import run_examples  # docs/tools/run_examples.py, next to this file
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.igogo_docs")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "bench" / "results" / "kernels.png"
API_SNAPSHOT = ROOT / "packages" / "igogo-core" / "tests" / "api_snapshot.txt"
# Files outside docs/ that pages include or show: `mkdocs serve` rebuilds when they change.
WATCHED = [ROOT / "examples", ROOT / "bench" / "results", ROOT / "CHANGELOG.md"]

_state: dict[str, Any] = {"command": "build", "tmp": None, "executed": {}}


def on_startup(command: str, dirty: bool, **kwargs: Any) -> None:
    _state["command"] = command


def on_shutdown(**kwargs: Any) -> None:
    if _state["tmp"] is not None:
        shutil.rmtree(_state["tmp"], ignore_errors=True)
        _state["tmp"] = None


def execute_examples() -> bool:
    """Whether this build executes the notebooks (IGOGO_DOCS_EXECUTE, else: not when serving)."""
    value = os.environ.get("IGOGO_DOCS_EXECUTE", "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    if value:
        raise PluginError(f"IGOGO_DOCS_EXECUTE={value!r}: must be 1 or 0")
    return _state["command"] != "serve"


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    for path in WATCHED:
        if str(path) not in config.watch:
            config.watch.append(str(path))
    return config


def executed_copy(path: Path) -> Path:
    """The notebook at ``path`` executed, in a temporary folder; once per content (serve)."""
    key = (path.name, path.read_bytes())
    done: dict[tuple[str, bytes], Path] = _state["executed"]
    if key in done and done[key].exists():
        return done[key]
    if _state["tmp"] is None:
        _state["tmp"] = tempfile.mkdtemp(prefix="igogo-docs-")
    target = Path(_state["tmp"]) / "examples" / path.name
    target.parent.mkdir(exist_ok=True)
    try:
        seconds = run_examples.execute(path, target)
    except Exception as e:
        raise PluginError(f"executing examples/{path.name} failed: {e}") from e
    log.info("executed examples/%s in %.1f s", path.name, seconds)
    done[key] = target
    return target


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: MkDocsConfig, **kwargs: Any) -> Files:
    execute = execute_examples()
    if not execute:
        log.info("examples: rendering the outputs stored in examples/ (not executed)")
    for path in run_examples.notebooks():
        source = executed_copy(path) if execute else path
        # A file under <folder>/examples/, not File.generated(): mkdocs-jupyter's wrapper of
        # a notebook's File finds its source only through src_dir.
        files.append(
            File(
                f"examples/{path.name}",
                src_dir=str(source.parent.parent),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    files.append(File.generated(config, "benchmarks/kernels.png", abs_src_path=str(CHART)))
    return files


def snapshot_names(text: str) -> list[str]:
    """The dotted names api_snapshot.txt lists: modules' names and their classes' members."""
    names: list[str] = []
    cls = ""
    for line in text.splitlines():
        match = re.match(r"( *)(?:class |def |property )?([\w.]+)", line)
        if line.startswith(("[", "module ")) or not match:
            continue
        indent, name = match.groups()
        if indent:
            names.append(f"{cls}.{name}")
        else:
            names.append(name)
            cls = name if line.startswith("class ") else cls
    return names


def inventory_names(path: Path) -> set[str]:
    """The names in a Sphinx inventory (objects.inv, version 2) as mkdocstrings writes it."""
    header, _, body = path.read_bytes().partition(b"zlib.\n")
    if not header.startswith(b"# Sphinx inventory version 2"):
        raise PluginError(f"{path}: not a Sphinx inventory of version 2")
    return {line.split(" ", 1)[0] for line in zlib.decompress(body).decode().splitlines()}


def on_post_build(config: MkDocsConfig, **kwargs: Any) -> None:
    documented = inventory_names(Path(config.site_dir) / "objects.inv")
    missing = [n for n in snapshot_names(API_SNAPSHOT.read_text()) if n not in documented]
    if missing:
        log.warning(
            "the API reference lacks %d public name(s) of %s: %s",
            len(missing),
            API_SNAPSHOT.relative_to(ROOT),
            ", ".join(missing),
        )
    else:
        log.info("API reference: all public names of the API snapshot are documented")
