"""Run tqdm's and matplotlib's own test suites with igogo's plugins active, inside jobs.

``hatch run plugin-suites:tqdm`` / ``:mpl`` / ``:all`` (extra arguments go to pytest).

Why: a plugin that wraps tqdm's class or swaps pyplot's figure registry must
leave the library working as its authors test it.  Their own suites are the
widest check there is, far wider than this project's tests of the plugins.

Where the tests come from, for the versions installed in the environment:

* tqdm ships its tests in its sdist only: ``pip download tqdm==<version>
  --no-deps --no-binary :all:``, unpacked into ``suites/.cache/tqdm-<version>/``
  (its ``tests/`` and the pytest settings of its ``pyproject.toml``, not its
  sources: the tests import the installed tqdm).
* matplotlib's wheel ships its tests without the baseline images of its image
  comparisons; its sdist has them.  pip prepares an sdist's metadata before it
  saves the file, and matplotlib's build backend (meson-python) would configure
  a whole build for that (downloading FreeType and Qhull, finding a compiler),
  so for the download :data:`METADATA_ONLY_MESONPY` stands in for the backend
  and hands pip the sdist's own ``PKG-INFO``.  Unpacked into
  ``suites/.cache/matplotlib-<version>/``, in the sdist's layout: the suites of
  :data:`MPL_SUITES` with their ``conftest.py`` and baseline images, and the
  documentation page that ``test_doc_pyplot_summary`` reads.  The tests import
  the installed matplotlib, whose wheel bundles the FreeType version the
  baseline images were made with.

Each suite runs twice through the pytest plugin :mod:`igogo_inside`: its tests
inside jobs, then in regular code beside the active plugin.  ``--without-igogo``
runs the same tests once with no igogo at all (no pytest plugin, no igogo
plugin active), to tell what the environment causes (missing converters, fonts)
from what a plugin causes.  The exit status is non-zero if any run had a
failure that is not an expected difference.
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

MPL_CONFTEST_MARK = "\n\n# Added by igogo's suites/run.py:\n"
# Appended to matplotlib's conftest: the suites, which are not a package here, answer to their
# own names (test_pyplot names `matplotlib.tests.test_pyplot` in an rcParam).
MPL_CONFTEST_EXTRA = """
import sys as _sys
import types as _types
from pathlib import Path as _Path

_tests = _types.ModuleType("matplotlib.tests")
_tests.__path__ = [str(_Path(__file__).parent)]
_sys.modules["matplotlib.tests"] = _tests
"""

METADATA_ONLY_MESONPY = '''"""Not meson-python: gives pip the metadata of the sdist's PKG-INFO."""
import email
import os


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    meta = email.message_from_string(text)
    name = f"{meta['Name'].replace('-', '_')}-{meta['Version']}.dist-info"
    os.mkdir(os.path.join(metadata_directory, name))
    with open(os.path.join(metadata_directory, name, "METADATA"), "w", encoding="utf-8") as f:
        f.write(text)
    return name
'''
"""The module ``mesonpy`` that pip imports as matplotlib's build backend while downloading."""


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
    """The suites of :data:`MPL_SUITES` for the installed version, from its sdist (once)."""
    import matplotlib

    version = matplotlib.__version__
    target = CACHE / f"matplotlib-{version}"
    tests = target / "lib" / "matplotlib" / "tests"
    if not (tests / "baseline_images").is_dir():
        shutil.rmtree(target, ignore_errors=True)  # a partial or older copy
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "backend").mkdir()
            (Path(tmp) / "backend" / "mesonpy.py").write_text(METADATA_ONLY_MESONPY)
            env = dict(os.environ, PYTHONPATH=str(Path(tmp) / "backend"))
            pip = [sys.executable, "-m", "pip", "download", f"matplotlib=={version}", "--no-deps"]
            pip += ["--no-binary", "matplotlib", "--no-build-isolation", "--dest", tmp]
            subprocess.run(pip, env=env, check=True)
            (sdist,) = Path(tmp).glob("matplotlib-*.tar.gz")
            staging = Path(tmp) / "unpacked"
            top = f"matplotlib-{version}/"
            wanted = [f"{top}lib/matplotlib/tests/{n}.py" for n in ("conftest", *MPL_SUITES)]
            wanted += [f"{top}lib/matplotlib/tests/baseline_images/{n}/" for n in MPL_SUITES]
            wanted += [f"{top}doc/api/pyplot_summary.rst"]
            with tarfile.open(sdist) as tar:
                members = [m for m in tar.getmembers() if m.name.startswith(tuple(wanted))]
                tar.extractall(staging, members=members, filter="data")
            (staging / top / "lib/matplotlib/tests/baseline_images").mkdir(exist_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / top, target)
    conftest = (tests / "conftest.py").read_text().split(MPL_CONFTEST_MARK)[0]
    (tests / "conftest.py").write_text(conftest + MPL_CONFTEST_MARK + MPL_CONFTEST_EXTRA)
    # Their own pytest settings (matplotlib's pyproject.toml's are for a source checkout):
    # none but a root, so that pytest picks up no other configuration.
    (tests / "pytest.ini").write_text("[pytest]\n")
    return tests


def pytest_run(where: Path, plugin: str, mode: str, extra: list[str]) -> int:
    """Run the tests in *where*: ``inside`` jobs, ``outside`` them, or ``without`` igogo."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    cmd += ["-o", "console_output_style=classic", "-rfEX"]
    if mode != "without":
        cmd += ["-p", "igogo_inside", "--igogo-plugin", plugin]
    if mode == "outside":
        cmd.append("--igogo-outside")
    label = {"inside": "inside jobs", "outside": "in regular code", "without": "without igogo"}
    print(f"\n=== {plugin}: tests {label[mode]}: {' '.join(cmd[1:])} (in {where})", flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "agg")
    return subprocess.run(cmd + extra, cwd=where, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("which", choices=["tqdm", "mpl", "all"])
    parser.add_argument(
        "--without-igogo",
        action="store_true",
        help="run the same tests once without igogo, for comparison",
    )
    args, extra = parser.parse_known_args(argv)
    modes = ["without"] if args.without_igogo else ["inside", "outside"]
    suites = []
    if args.which in ("tqdm", "all"):
        suites.append(("tqdm", tqdm_tests()))
    if args.which in ("mpl", "all"):
        suites.append(("mpl", mpl_tests()))
    codes = [pytest_run(where, name, mode, extra) for name, where in suites for mode in modes]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
