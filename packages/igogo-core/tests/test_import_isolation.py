"""``import igogo`` has no side effects and loads no Jupyter or plotting module.

Each check runs in a fresh interpreter, since this test process has imported
plenty already.  Only the modules loaded after the interpreter started count,
so that whatever the environment preloads (``.pth`` files) does not matter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = ["IPython", "ipykernel", "jupyter_client", "matplotlib", "tqdm", "ipywidgets"]


def newly_loaded(code: str, watch: list[str]) -> list[str]:
    """Which of ``watch`` ``code`` loads in a fresh interpreter."""
    program = textwrap.dedent(
        f"""
        import json, sys
        before = set(sys.modules)
        {textwrap.indent(textwrap.dedent(code), " " * 8).strip()}
        print(json.dumps([m for m in {watch!r} if m in sys.modules and m not in before]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_import_igogo_loads_no_jupyter_plotting_or_asyncio_module() -> None:
    assert newly_loaded("import igogo", [*HEAVY, "asyncio"]) == []


def test_the_check_sees_a_module_that_is_loaded() -> None:
    assert newly_loaded("import igogo, asyncio", [*HEAVY, "asyncio"]) == ["asyncio"]


def test_import_igogo_does_not_look_up_entry_points_or_start_anything() -> None:
    code = """
        import threading
        import igogo
        from igogo._hub import SCHED
        assert SCHED.host is None and not SCHED.live and SCHED.owner is None
        assert threading.active_count() == 1
    """
    assert newly_loaded(code, ["importlib.metadata"]) == []


def test_a_script_running_jobs_loads_no_jupyter_or_plotting_module() -> None:
    code = """
        import igogo

        @igogo.job
        def work(n):
            for _ in range(n):
                igogo.sleep(0)
            return n

        assert work(3).result() == 3
        assert igogo.run(lambda: work(2).result()) == 2
    """
    assert newly_loaded(code, HEAVY) == []
