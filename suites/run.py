"""Run tqdm's and matplotlib's own test suites with igogo's plugins active, inside jobs.

``hatch run plugin-suites:tqdm`` / ``:mpl`` / ``:all`` (extra arguments go to pytest).

Why: a plugin that wraps tqdm's class or swaps pyplot's figure registry must
leave the library working as its authors test it.  Their own suites are the
widest check there is, far wider than this project's tests of the plugins.

Where the tests come from, for the versions installed in the environment:

* tqdm ships its tests in its sdist only: ``pip download tqdm==<version>
  --no-deps --no-binary :all:``, unpacked into ``suites/.cache/tqdm-<version>/``
  (its ``tests/`` and the pytest settings of its ``pyproject.toml``, not its
  sources: the tests import the installed tqdm).  tqdm's suite runs twice: its
  tests inside jobs, then in regular code beside the active plugin.
* matplotlib ships ``matplotlib/tests`` in its wheel, without the baseline
  images its image comparisons need (its ``tests/__init__.py`` refuses to
  import without them).  The suites named in :data:`MPL_SUITES` are copied
  with their ``conftest.py`` into ``suites/.cache/matplotlib-<version>/`` and
  the image comparisons against baseline files are deselected (they fail
  for want of the file, with or without igogo); ``check_figures_equal``
  comparisons, which draw both figures, run.

Each run goes through the pytest plugin :mod:`igogo_inside`.  The exit status
is non-zero if any run had a failure that is not an expected difference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
MPL_SUITES = (
    "test_pyplot",
    "test_figure",
    "test_animation",
    "test_widgets",
    "test_legend",
    "test_constrainedlayout",
    "test_tightlayout",
)
"""matplotlib's suites that exercise pyplot and figures the most."""

# Added to matplotlib's conftest in the copy: the copied modules answer to their own names
# (test_pyplot names `matplotlib.tests.test_pyplot` in an rcParam), and image comparisons
# against baseline files that the wheel does not ship are deselected, and counted.
MPL_CONFTEST_EXTRA = """

import sys as _sys
import types as _types
from pathlib import Path as _Path

_tests = _types.ModuleType("matplotlib.tests")
_tests.__path__ = [str(_Path(__file__).parent)]
_sys.modules["matplotlib.tests"] = _tests

def _compares_with_a_baseline_file(obj):
    # image_comparison's wrapper sits under other decorators: look through the functions
    # each one wraps (__wrapped__) or closes over.
    todo, seen = [obj], set()
    while todo:
        f = todo.pop()
        code = getattr(f, "__code__", None)
        if code is None or id(f) in seen:
            continue
        seen.add(id(f))
        if code.co_qualname.startswith("_pytest_image_comparison"):
            return True
        todo.append(getattr(f, "__wrapped__", None))
        todo += [c.cell_contents for c in f.__closure__ or () if callable(c.cell_contents)]
    return False


def pytest_collection_modifyitems(config, items):
    kept = [i for i in items if not _compares_with_a_baseline_file(getattr(i, "obj", None))]
    dropped = [i for i in items if i not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
"""


def tqdm_tests() -> Path:
    """tqdm's tests for the installed version, from its sdist (downloaded once)."""
    import tqdm

    version = tqdm.__version__
    target = CACHE / f"tqdm-{version}"
    if (target / "tests").is_dir():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", f"tqdm=={version}", "--no-deps"]
        subprocess.run([*pip, "--no-binary", ":all:", "--dest", tmp], check=True)
        (sdist,) = Path(tmp).glob("tqdm-*.tar.gz")
        staging = Path(tmp) / "unpacked"
        with tarfile.open(sdist) as tar:
            top = f"tqdm-{version}/"
            wanted = [m for m in tar.getmembers() if m.name.startswith(top + "tests/")]
            wanted += [tar.getmember(top + "pyproject.toml")]
            tar.extractall(staging, members=wanted, filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging / f"tqdm-{version}", target)
    return target


def mpl_tests() -> Path:
    """The suites of :data:`MPL_SUITES` from the installed wheel, with their conftest."""
    import matplotlib

    source = Path(matplotlib.__file__).parent / "tests"
    target = CACHE / f"matplotlib-{matplotlib.__version__}"
    target.mkdir(parents=True, exist_ok=True)
    for name in MPL_SUITES:
        shutil.copyfile(source / f"{name}.py", target / f"{name}.py")
    conftest = (source / "conftest.py").read_text()
    (target / "conftest.py").write_text(conftest + MPL_CONFTEST_EXTRA)
    # Their own pytest settings (matplotlib's pyproject.toml is not in the wheel):
    # none but a root, so that pytest picks up no other configuration.
    (target / "pytest.ini").write_text("[pytest]\n")
    return target


def pytest_run(where: Path, plugin: str, outside: bool, extra: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", "-p", "igogo_inside", "--igogo-plugin", plugin]
    cmd += ["-p", "no:cacheprovider", "-o", "console_output_style=classic", "-rfEX"]
    if outside:
        cmd.append("--igogo-outside")
    label = f"{plugin}: tests {'in regular code' if outside else 'inside jobs'}"
    print(f"\n=== {label}: {' '.join(cmd[1:])} (in {where})", flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "agg")
    return subprocess.run(cmd + extra, cwd=where, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("which", choices=["tqdm", "mpl", "all"])
    args, extra = parser.parse_known_args(argv)
    codes = []
    if args.which in ("tqdm", "all"):
        where = tqdm_tests()
        codes.append(pytest_run(where, "tqdm", outside=False, extra=extra))
        codes.append(pytest_run(where, "tqdm", outside=True, extra=extra))
    if args.which in ("mpl", "all"):
        codes.append(pytest_run(mpl_tests(), "mpl", outside=False, extra=extra))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
