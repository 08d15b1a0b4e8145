import importlib
import json
import subprocess
import sys


def test_package_imports_and_declares_public_names() -> None:
    module = importlib.import_module("igogo_tqdm")
    assert isinstance(module.__all__, list)
    assert module.__doc__
    assert set(module.__all__) == {"TqdmPlugin", "plugin", "tqdm", "trange"}


def test_importing_the_package_imports_no_tqdm_and_changes_nothing() -> None:
    program = (
        "import json, sys\n"
        "before, meta_path = set(sys.modules), list(sys.meta_path)\n"
        "import igogo_tqdm\n"
        "loaded = [m for m in ('tqdm', 'ipywidgets', 'IPython') if m in sys.modules]\n"
        "print(json.dumps([loaded, sys.meta_path == meta_path, igogo_tqdm.plugin.active]))\n"
        "igogo_tqdm.tqdm  # the explicit class loads tqdm.auto on first use\n"
        "print(json.dumps('tqdm.auto' in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.strip().splitlines()
    assert json.loads(first) == [[], True, False]
    assert json.loads(second) is True
