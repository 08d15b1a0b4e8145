"""The original igogo installed beside igogo-core: two distributions, one import package.

The original igogo (PyPI distribution ``igogo``, 1.x) is a different project that uses the
same import package, ``igogo``.  Installed in one environment, the two write into the same
directory: whichever was installed last owns ``igogo/__init__.py``, and uninstalling either
removes that file for both.

Found without a metadata scan, which would add milliseconds to every ``import igogo``: every
release of the original ships ``igogo/loaders.py``, a name igogo-core never uses, so one
``stat`` tells.  ``import igogo`` warns when that file is there (igogo-core's ``__init__`` is
the one running, so igogo works until either distribution is uninstalled or upgraded);
:mod:`igogo.lowlevel`, which every integration imports, raises when the ``igogo`` package
around it is not igogo-core's (the original's ``__init__``, or none at all after
``pip uninstall igogo`` took it).
"""

from __future__ import annotations

import os
import sys
import warnings

ORIGINAL_ONLY = "loaders.py"
"""A module every release of the original igogo has, and igogo-core never will."""

REPOSITORY = "https://github.com/igogo-dev/igogo"

FIX = (
    "Fix: `pip uninstall igogo`, then reinstall igogo-core the way you installed it, with "
    "`--force-reinstall --no-deps` (from the repository: pip install --force-reinstall "
    f'--no-deps "igogo-core @ git+{REPOSITORY}#subdirectory=packages/igogo-core"; '
    "once igogo-core is on PyPI: pip install --force-reinstall --no-deps igogo-core)."
)

SAME_PACKAGE = (
    "the original igogo (PyPI distribution `igogo`) is a different project that uses the same "
    "import package `igogo` as igogo-core: installed in one environment, the two overwrite "
    "each other's files, and uninstalling either removes the other's `igogo/__init__.py`"
)


def original_installed() -> bool:
    """Whether the original igogo's files are in this package's directory."""
    return os.path.exists(os.path.join(os.path.dirname(__file__), ORIGINAL_ONLY))


def _original_name() -> str:
    """``igogo 1.1.0``, or ``igogo`` when its metadata is gone (only when it was found)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"igogo {version('igogo')}"
    except PackageNotFoundError:
        return "igogo"


def warn_if_original_installed() -> None:
    """At ``import igogo`` (igogo-core's): warn when the original igogo is installed too."""
    if original_installed():
        warnings.warn(
            f"{_original_name()} (the original igogo) is installed in this environment beside "
            f"igogo-core, in the same directory {os.path.dirname(__file__)}: {SAME_PACKAGE}. "
            f"This `import igogo` is igogo-core's. {FIX}",
            RuntimeWarning,
            stacklevel=2,
        )


def require_igogo_core_package() -> None:
    """In :mod:`igogo.lowlevel`: raise unless the ``igogo`` package is igogo-core's.

    igogo-core's ``__init__`` sets ``__version__`` before it imports anything; the
    original's has none, and a package whose ``__init__.py`` is gone has none either.
    """
    package = sys.modules.get(__package__ or "igogo")
    if getattr(package, "__version__", None) is not None:
        return
    init = os.path.join(os.path.dirname(__file__), "__init__.py")
    if not os.path.exists(init):
        what = f"igogo-core's {init} is missing"
    elif original_installed():
        what = f"{init} is the original igogo's, not igogo-core's"
    else:
        what = f"{init} is not igogo-core's"
    raise ImportError(f"igogo is broken here: {what}. Likely cause: {SAME_PACKAGE}. {FIX}")
