"""Execute the example notebooks in real kernels and store them with their outputs.

    hatch run docs:examples                 # every notebook in examples/, written back in place
    hatch run docs:examples 05 08           # only the notebooks whose names contain 05 or 08
    hatch run docs:examples --output-dir d  # write the executed copies into d/ instead

Each notebook runs top to bottom in a fresh ipykernel (the ``python3`` kernel of the running
interpreter) whose environment has ``IGOGO_HEADLESS=1``: igogo then writes every job's output
into the job's own cell when the job ends, which a headless client (nbclient here) would
otherwise drop.  The notebook's folder is the kernel's working directory.  A cell that raises,
or a job whose cell shows a traceback or a warning, fails the run and nothing is written for
that notebook.  Cell sources are never changed; outputs and execution counts are replaced, and
no timing metadata is recorded, so that a re-run changes only what the notebooks print.  The
empty displays a job leaves in its cell for output it never produced (igogo's headless
placeholders: a display slot never used, no figure drawn) are dropped.

The documentation build (``docs/hooks/igogo_docs.py``) uses :func:`execute` for the site.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIMEOUT = 180  # seconds per cell; each notebook takes a few seconds in all


def notebooks(patterns: list[str] | None = None) -> list[Path]:
    """The example notebooks, in order; with ``patterns``, those whose name contains one."""
    paths = sorted(EXAMPLES.glob("*.ipynb"))
    if patterns:
        paths = [p for p in paths if any(s in p.name for s in patterns)]
    return paths


def problems(nb: Any) -> list[str]:
    """What is wrong with an executed notebook's outputs (empty when nothing is)."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                found.append(f"{cell.source[:60]!r}: {output['ename']}: {output['evalue']}")
                continue
            texts = [output.get("text", "")]
            texts += [v for v in output.get("data", {}).values() if isinstance(v, str)]
            for word in ("Traceback", "Warning"):
                if any(word in t for t in texts):
                    found.append(f"{cell.source[:60]!r}: {word} in its output")
    return found


def is_empty_placeholder(output: Any) -> bool:
    """An empty display igogo placed for a job's output in a headless run, still empty."""
    return (
        output["output_type"] == "display_data"
        and set(output.get("data", {})) == {"text/plain"}
        and not output["data"]["text/plain"]
        and not output.get("metadata")
    )


def execute(path: Path, output: Path | None = None) -> float:
    """Run the notebook at ``path``, write it to ``output`` (default: in place); the seconds.

    Raises ``RuntimeError`` (nothing written) if a cell failed or an output shows a
    traceback or a warning.
    """
    nb = nbformat.read(path, as_version=4)
    saved = os.environ.get("IGOGO_HEADLESS")
    os.environ["IGOGO_HEADLESS"] = "1"  # the kernel inherits this process's environment
    try:
        client = NotebookClient(
            nb,
            timeout=TIMEOUT,
            kernel_name="python3",
            allow_errors=True,  # reported below with every other problem
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.monotonic()
        client.execute()
        seconds = time.monotonic() - start
    finally:
        if saved is None:
            del os.environ["IGOGO_HEADLESS"]
        else:
            os.environ["IGOGO_HEADLESS"] = saved
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_empty_placeholder(o)]
    found = problems(nb)
    if found:
        raise RuntimeError(f"{path.name}:\n  " + "\n  ".join(found))
    nbformat.validate(nb)
    nbformat.write(nb, output or path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", help="run only notebooks whose name contains one")
    parser.add_argument("--output-dir", type=Path, help="write here instead of in place")
    args = parser.parse_args(argv)
    paths = notebooks(args.patterns)
    if not paths:
        print(f"no notebook in {EXAMPLES} matches {args.patterns}", file=sys.stderr)
        return 2
    if args.output_dir:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    total = time.monotonic()
    for path in paths:
        target = args.output_dir / path.name if args.output_dir else path
        try:
            seconds = execute(path, target)
        except Exception as e:  # a failed notebook is reported; the others still run
            failed += 1
            print(f"FAILED {path.name}: {e}", file=sys.stderr)
        else:
            print(f"{path.name}: {seconds:.1f} s -> {os.path.relpath(target)}")
    print(f"{len(paths) - failed} of {len(paths)} notebooks in {time.monotonic() - total:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
