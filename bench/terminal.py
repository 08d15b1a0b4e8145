"""Terminal IPython in a pseudo-terminal (pexpect): a key's echo beside jobs, jobs at the prompt.

The kinds (``0``, ``3``, ``preempt3``) and what is timed: bench/README.md.
"""

import ast
import contextlib
import os
import re
import sys
import tempfile
import time
from typing import Any

import pexpect

from common import Samples, main

ARGS = ["-m", "IPython", "--no-banner", "--no-confirm-exit", "--colors=nocolor"]
ARGS += ["--HistoryManager.enabled=False", "--TerminalInteractiveShell.term_title=False"]
ARGS += ["--TerminalInteractiveShell.autosuggestions_provider=None"]
ESC = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
T = 60.0  # seconds anything may take to appear
SPIN = "@igogo.job\ndef spin(i):\n    while True:\n        _s[i] += 1\n        igogo.yielder()\n"
JOBS = {"0": [], "3": [SPIN, "_h = [spin(i) for i in range(3)]"]}
JOBS["preempt3"] = [f"%%igogo\nwhile True:\n    _s[{i}] += 1" for i in range(3)]
READ = "(sum(_s), time.perf_counter())"
DRIVE = "_d = {}; igogo.wait_all({}); (sum(_s) - _d[0]) / (time.perf_counter() - _d[1])"
P = {False: dict(samples=40, gap_s=0.1, warm_s=1.0, quiet_s=2.0, rounds=3)}  # by quick
P[True] = dict(samples=5, gap_s=0.02, warm_s=0.1, quiet_s=0.2, rounds=1)


class Prompt:
    """A terminal IPython in a pty; ``seen``: what it showed since the last prompt found."""

    def __init__(self, tmp: str) -> None:
        env = {**os.environ, "IPYTHONDIR": f"{tmp}/ipython", "MPLBACKEND": "Agg"}
        env |= {"PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
        kw = {"cwd": tmp, "env": env, "dimensions": (40, 120), "encoding": "utf-8"}
        self.child = pexpect.spawn(sys.executable, ARGS, **kw)
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before each write otherwise
        self.n, self.seen = 1, ""
        self.shown(r"In \[1\]:")

    def read(self, timeout: float) -> None:
        with contextlib.suppress(pexpect.TIMEOUT):
            self.seen += self.child.read_nonblocking(1 << 16, timeout)

    def shown(self, pattern: str) -> str:
        """What was shown before ``pattern`` appeared (escapes taken out); the rest is kept."""
        deadline = time.monotonic() + T
        while (m := re.search(pattern, text := ESC.sub("", self.seen))) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pattern!r} not shown; the terminal shows:\n{text[-2000:]}")
            self.read(0.1)
        self.seen = text[m.end() :]
        return text[: m.start()]

    def run(self, code: str) -> str:
        """Type ``code`` (pasted if it has several lines) and Enter; what it printed."""
        paste = f"\x1b[200~{code}\n\x1b[201~" if "\n" in code else code
        self.child.send(paste + "\r" * (1 + code.startswith("%%")))  # %%: ends at a blank line
        self.n += 1
        return self.shown(rf"In \[{self.n}\]:")

    def value(self, expr: str) -> Any:
        return ast.literal_eval(re.findall(r"Out\[\d+\]: ([^\r\n]*)", self.run(expr))[-1])

    def echo(self, gap: float) -> float:
        """Seconds from one key written until its echo is read, after ``gap`` s of quiet."""
        end = time.monotonic() + gap
        while (left := end - time.monotonic()) > 0:
            self.read(left)
        self.seen, t0 = "", time.perf_counter()
        self.child.send("x")
        while "x" not in self.seen:
            self.read(T)
        return time.perf_counter() - t0


def session(kind: str, p: dict[str, Any]) -> Samples:
    with tempfile.TemporaryDirectory(prefix="igogo-bench-term-") as tmp:
        t = Prompt(tmp)
        try:
            for code in ["%load_ext igogo", "import igogo, time; _s = [0] * 3", *JOBS[kind]]:
                t.run(code)
            preemptive = t.value("[j.preemptive for j in igogo.jobs()]")
            if preemptive != [kind == "preempt3"] * (3 if JOBS[kind] else 0):
                raise RuntimeError(f"not the jobs expected: preemptive {preemptive}")
            time.sleep(p["warm_s"])
            keys = [t.echo(p["gap_s"]) for _ in range(p["samples"])]
            t.child.send("\x15")  # Ctrl-U: the line typed goes
            out = {f"term-keys-{kind}": keys}
            for _ in range(p["rounds"] if JOBS[kind] else 0):
                (a, ta), (b, tb) = t.value(READ), t.value(READ)
                time.sleep(p["quiet_s"])
                c, tc = t.value(READ)
                quiet = ((c - b) - (b - a)) / ((tc - tb) - (tb - ta))
                out.setdefault(f"term-quiet-{kind}", []).append(quiet)
                driven = t.value(DRIVE.format(READ, p["quiet_s"]))
                out.setdefault(f"term-driven-{kind}", []).append(driven)
            return out
        finally:
            t.child.close(force=True)


if __name__ == "__main__":
    main({"prompt": lambda quick: {n: v for k in JOBS for n, v in session(k, P[quick]).items()}})
