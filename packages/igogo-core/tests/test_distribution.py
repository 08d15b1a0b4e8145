"""The original igogo installed beside igogo-core (both own the import package ``igogo``).

Each test lays out an ``igogo`` directory the way pip leaves it (a copy of igogo-core's, with
the original's files or without its ``__init__.py``) and imports it in a fresh interpreter
that sees only that directory and greenlet (``-S``: no site-packages, so no installed igogo).
``.ci/check-wheels`` does the same with the real original igogo 1.1.0 from PyPI and pip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import greenlet
import pytest

import igogo

FIX = "Fix: `pip uninstall igogo`, then reinstall igogo-core"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory with a copy of igogo-core's ``igogo`` package and of greenlet."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(Path(igogo.__file__).parent, tmp_path / "igogo", ignore=ignore)
    shutil.copytree(Path(greenlet.__file__).parent, tmp_path / "greenlet", ignore=ignore)
    return tmp_path


def python(site: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def the_original_over(site: Path, *, init: bool) -> None:
    """What installing the original igogo 1.x last leaves (its files, its ``__init__``)."""
    for name in ("context.py", "core.py", "exceptions.py", "loaders.py", "magic.py"):
        (site / "igogo" / name).write_text("")
    if init:  # the original's __init__: imports its own modules, no __version__
        (site / "igogo" / "__init__.py").write_text("from .core import *\n")


def test_igogo_core_alone_imports_without_a_warning(site: Path) -> None:
    done = python(site, "import igogo, igogo.lowlevel; print(igogo.__version__)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == igogo.__version__
    assert done.stderr == ""


def test_import_igogo_warns_when_the_original_igogo_is_installed_too(site: Path) -> None:
    the_original_over(site, init=False)  # igogo-core installed after it: its __init__ is ours
    done = python(site, "import igogo, igogo.lowlevel; igogo.run(abs, -3)")
    assert done.returncode == 0, done.stderr  # igogo works meanwhile
    assert "RuntimeWarning: igogo (the original igogo) is installed" in done.stderr
    assert "beside igogo-core" in done.stderr
    assert FIX in done.stderr
    assert done.stderr.count("RuntimeWarning") == 1


def test_integrations_get_the_fix_when_the_original_igogo_was_installed_last(
    site: Path,
) -> None:
    the_original_over(site, init=True)
    done = python(site, "import igogo.lowlevel")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: igogo is broken here: ")
    assert "__init__.py is the original igogo's, not igogo-core's" in last
    assert "PyPI distribution `igogo`" in last and FIX in last


def test_integrations_get_the_fix_after_pip_uninstall_igogo_took_our_init(site: Path) -> None:
    # igogo-core installed last, then `pip uninstall igogo`: it removes every file its RECORD
    # lists, igogo/__init__.py included. What is left is a namespace package.
    (site / "igogo" / "__init__.py").unlink()
    done = python(site, "import igogo.lowlevel")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "__init__.py is missing" in last and FIX in last


def test_load_ext_igogo_without_igogo_jupyter_says_how_to_install_it(site: Path) -> None:
    done = python(site, "import igogo; igogo.load_ipython_extension(None)")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: %load_ext igogo needs the igogo-jupyter package")
    assert (
        '%pip install "igogo-jupyter @ git+https://github.com/igogo-dev/igogo'
        '#subdirectory=packages/igogo-jupyter"'
    ) in last


def test_the_check_at_import_is_one_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    """No metadata scan on the way: ``importlib.metadata`` is looked at only once found."""
    from igogo import _distribution

    calls: list[str] = []
    monkeypatch.setattr(os.path, "exists", lambda path: calls.append(path) or False)
    _distribution.warn_if_original_installed()
    assert calls == [os.path.join(os.path.dirname(_distribution.__file__), "loaders.py")]
