"""Terminal IPython through a pseudo-terminal: jobs run while the prompt waits for input.

Each test starts a real ``ipython`` (prompt_toolkit, no colours, no banner, an
IPython directory of its own, Agg for matplotlib) under pexpect and types into
it as a person would.  What the terminal shows is read from the bytes IPython
writes, with the escape sequences taken out: every assertion is about what
appeared and in which order, never about how fast, so that a loaded two-core
machine only makes the tests slower.  A cell is pasted (bracketed paste, as a
terminal sends a paste), so IPython does not indent it a second time.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("pseudo-terminals are POSIX", allow_module_level=True)

# Python 3.13 warns that forking a process with threads may deadlock the child; pexpect's
# child only sets up the terminal and execs IPython.
pytestmark = pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded, use of forkpty:DeprecationWarning"
)

ROWS, COLS = 40, 120
TIMEOUT = 60.0
"""Seconds anything may take to appear: generous, for a loaded CI machine."""
ARGS = [
    "-m",
    "IPython",
    "--no-banner",
    "--no-confirm-exit",
    "--colors=nocolor",
    "--HistoryManager.enabled=False",
    "--TerminalInteractiveShell.term_title=False",
    "--TerminalInteractiveShell.autosuggestions_provider=None",
]
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Terminal:
    """A terminal IPython in a pseudo-terminal, and what it has shown so far."""

    def __init__(self, cwd: Path) -> None:
        env = {
            **os.environ,
            "IPYTHONDIR": str(cwd / "ipython-dir"),
            "MPLBACKEND": "Agg",
            "PROMPT_TOOLKIT_NO_CPR": "1",  # nobody answers cursor position requests here
            "TERM": "xterm-256color",
        }
        self.child = pexpect.spawn(
            sys.executable,
            ARGS,
            cwd=str(cwd),
            env=env,
            dimensions=(ROWS, COLS),
            encoding="utf-8",
            codec_errors="replace",
        )
        self.raw = ""
        self.count = 1
        """The number of the prompt waiting now (``In [count]:``)."""
        self.prompt_shown = self.wait_for(r"In \[1\]:").end()
        """Where in the text that prompt was first drawn: what jobs print at it comes after."""

    @property
    def text(self) -> str:
        """Everything shown so far, escape sequences taken out, carriage returns as newlines."""
        return _ESCAPES.sub("", self.raw).replace("\r", "\n")

    def read(self, seconds: float) -> None:
        try:
            self.raw += self.child.read_nonblocking(1 << 16, seconds)
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            raise AssertionError(
                f"IPython exited; the terminal shows:\n{self.text[-3000:]}"
            ) from None

    def wait_for(self, pattern: str, after: int = 0, timeout: float = TIMEOUT) -> re.Match[str]:
        """The first match of ``pattern`` in the text from ``after`` on, once it has appeared."""
        rx = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text, after)
            if m is not None:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{pattern!r} did not appear within {timeout} s; the terminal shows:\n"
                    + self.text[-3000:]
                )
            self.read(0.2)

    def type(self, code: str) -> None:
        """Type ``code`` at the prompt, pasted if it has several lines; no Enter."""
        code = code.strip("\n")
        if "\n" in code:
            self.child.send(f"\x1b[200~{code}\n\x1b[201~")
        else:
            self.child.send(code)

    def enter(self) -> str:
        """Press Enter, wait for the next prompt; what was shown meanwhile (the cell's output)."""
        start = len(self.text)
        self.child.send("\r")
        m = self.wait_for(rf"In \[{self.count + 1}\]:", after=start)
        self.count += 1
        self.prompt_shown = m.end()
        return self.text[start : m.start()]

    def run(self, code: str) -> str:
        """Run ``code`` as one cell; what it printed before the next prompt."""
        self.type(code)
        if code.lstrip().startswith("%%"):
            self.child.send("\r")  # a cell magic's cell ends at a blank line: Enter twice
        return self.enter()

    def close(self) -> None:
        if self.child.isalive():
            self.child.send("\x15exit\r")  # Ctrl-U first: whatever is typed goes
            with contextlib.suppress(pexpect.TIMEOUT, pexpect.EOF):
                self.child.expect(pexpect.EOF, timeout=20)
        self.child.close(force=True)


def lines(text: str) -> list[str]:
    """``text`` as the lines a terminal shows, split at newlines and carriage returns."""
    return [s for s in re.split(r"[\r\n]+", text) if s.strip()]


def assert_clean(term: Terminal) -> None:
    """No job left: igogo has let go of IPython (no host, IPython's own event loop back)."""
    out = term.run(
        "import igogo.lowlevel\n"
        "print('left:', igogo.lowlevel.live_jobs(), igogo.lowlevel.current_host(),"
        " get_ipython().active_eventloop)\n"
    )
    assert "left: [] None None" in lines(out), out


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Terminal]:
    t = Terminal(tmp_path)
    try:
        yield t
    finally:
        t.close()


HELLO = """
import igogo

@igogo.job
def hello(name, n=3, pause=0.3):
    for i in range(n):
        print("hello from", name, i)
        igogo.sleep(pause)
    print("bye from", name)
"""


def test_jobs_print_while_the_prompt_waits(term: Terminal) -> None:
    term.run(HELLO)
    term.run('a, b = hello("a"), hello("b")')  # returns at once: the next prompt is up
    start = term.prompt_shown
    # No key pressed from here on: the jobs run, and print, while the prompt waits.
    term.wait_for(r"^bye from a$", after=start)
    term.wait_for(r"^bye from b$", after=start)
    shown = lines(term.text[start:])
    for name in "ab":
        mine = [s for s in shown if s.endswith(f"from {name}") or f"from {name} " in s]
        assert mine == [*(f"hello from {name} {i}" for i in range(3)), f"bye from {name}"], shown
    out = term.run("print('states', a.state, b.state)")
    assert "states done done" in lines(out)
    assert_clean(term)


def test_typing_while_jobs_print_keeps_the_line(term: Terminal) -> None:
    term.run(
        """
import igogo
stop = False

@igogo.job
def ticker():
    i = 0
    while not stop:
        print("tick", i)
        i += 1
        igogo.sleep(0.05)
"""
    )
    term.run("t = ticker()")

    def newest_tick() -> int:
        return max((int(n) for n in re.findall(r"^tick (\d+)$", term.text, re.M)), default=-1)

    typed = "answer = 6 * 7"
    for ch in typed:
        # One key at a time, each once the ticker has printed another line above the prompt.
        newest = newest_tick()
        term.child.send(ch)
        term.wait_for(rf"^tick {newest + 1}$")
    after_typing = term.wait_for(rf"^tick {newest_tick() + 1}$")
    # Redrawn below the ticker's newest lines, the line typed so far is whole.
    # (prompt_toolkit may move the cursor over a blank instead of writing it)
    whole = re.escape(typed).replace("\\ ", " ?")
    term.wait_for(rf"In \[{term.count}\]: ?{whole}", after=after_typing.end())
    term.enter()
    out = term.run("print('answer is', answer + 1)")
    assert "answer is 43" in lines(out), out
    term.run("stop = True; t.wait()")
    assert_clean(term)


def test_a_key_ends_the_running_tick_at_the_prompt(term: Terminal) -> None:
    """With a 30 s tick budget, a spinning job would hold the prompt for 30 s per tick;
    a key ends the tick at the job's next switch point, so it is drawn at once."""
    term.run(
        """
import igogo
spinning = True

@igogo.job
def spin():
    while spinning:
        igogo.yielder()
"""
    )
    term.run("igogo.configure(tick_budget=30.0); s = spin()")
    time.sleep(0.5)  # the job holds a tick now
    start = len(term.text)
    term.child.send("spinning = False")
    term.wait_for(r"spinning = False", after=start, timeout=10)
    term.enter()
    out = term.run("s.wait(10); print('ended', s.state); igogo.configure(tick_budget=0.015)")
    assert "ended done" in lines(out), out
    assert_clean(term)


def test_igogo_cell_magic_origin_and_line_magic(term: Terminal) -> None:
    term.run("%load_ext igogo")
    term.run("import igogo\ndone = False")
    n = term.count
    term.run(
        """
%%igogo --name counter
print("origin", igogo.current_job().origin)
while not done:
    igogo.sleep(0.05)
"""
    )
    term.wait_for(rf"^origin {n}$")  # printed by the job at the prompt: In [n] started it
    out = term.run("%igogo")  # the job table: id, name, origin, state, elapsed
    assert re.search(rf"^\d+ +counter +{n} +(running|sleeping) +\d", out, re.M), out
    out = term.run("%igogo stop counter")
    assert "stopped 1 job" in lines(out), out
    out = term.run("print('state', [j.state for j in igogo.jobs() if j.name == 'counter'])")
    assert "state ['stopped']" in lines(out), out
    assert_clean(term)


def test_ctrl_c_at_the_prompt_lands_in_a_job_that_never_yields(
    term: Terminal, tmp_path: Path
) -> None:
    term.run("%load_ext igogo")
    term.run(HELLO)
    term.run("w = hello('witness', n=10**6, pause=0.1)")
    term.wait_for(r"^hello from witness 1$")
    # Ctrl-C while jobs only take their turns is the prompt's own: it clears the line.
    term.type("garbage that must go")
    term.wait_for(r"garbage that must go")
    term.child.send("\x03")
    out = term.run("print('line cleared', 1 + 1)")
    assert "line cleared 2" in lines(out), out

    term.run(
        """
%%igogo --no-preempt --name hog
import pathlib
pathlib.Path("hogging").touch()
while True:
    pass
"""
    )
    marker = tmp_path / "hogging"
    deadline = time.monotonic() + TIMEOUT
    while not marker.exists():
        assert time.monotonic() < deadline, "the hog never started"
        term.read(0.1)
    start = len(term.text)
    # Once it has held the CPU a moment, Ctrl-C is a signal for it.  A press that came
    # too early stays a key and waits; the next one lands.
    deadline = time.monotonic() + TIMEOUT
    while "igogo: job 'hog'" not in term.text[start:]:
        assert time.monotonic() < deadline, term.text[-3000:]
        term.read(0.5)
        term.child.send("\x03")
        term.read(2.0)
    report = term.wait_for(r"KeyboardInterrupt", after=start)
    # The other job carries on, and so does the prompt.
    last = max(int(x) for x in re.findall(r"^hello from witness (\d+)$", term.text, re.M))
    term.wait_for(rf"^hello from witness {last + 2}$", after=report.end())
    out = term.run("print('hog', [j.state for j in igogo.jobs() if j.name == 'hog'], w.state)")
    assert re.search(r"^hog \['failed'\] (running|sleeping)$", out, re.M), out
    term.run("w.stop(); igogo.wait_all()")
    assert_clean(term)


def test_a_jobs_figure_never_becomes_the_users_current_figure(term: Terminal) -> None:
    term.run(
        """
import igogo, igogo_mpl
import matplotlib.pyplot as plt

@igogo.job
def draw():
    fig = plt.figure()
    plt.plot([1, 2, 3])
    igogo.sleep(0.3)
    plt.plot([3, 2, 1])  # still on the job's own current figure
    print("drawn", len(fig.axes[0].lines))
    return fig
"""
    )
    # The user has a figure of their own while the job draws.
    term.run("mine = plt.figure(); plt.plot([0, 1]); j = draw()")
    start = term.prompt_shown
    term.wait_for(r"^drawn 2$", after=start)
    out = term.run(
        "print('after', plt.gcf() is mine, plt.get_fignums(), len(mine.axes[0].lines),"
        " igogo_mpl.figures(j) == [j.result()])\n"
    )
    assert "after True [1] 1 True" in lines(out), out
    # The user has no figure when a job ends: their next plt.plot is a figure of their own.
    term.run("plt.close('all'); j = draw()")
    term.wait_for(r"^drawn 2$", after=term.prompt_shown)
    out = term.run(
        "plt.plot([5])\n"
        "print('mine', plt.gcf() is not j.result(), plt.get_fignums(),"
        " len(j.result().axes[0].lines))\n"
    )
    assert "mine True [1] 2" in lines(out), out
    assert_clean(term)


def test_tqdm_bars_of_jobs_are_drawn_above_the_prompt(term: Terminal) -> None:
    term.run(
        """
import igogo
from tqdm import tqdm

def rows(n):
    total = 0
    for i in tqdm(range(n), desc="rows", ascii=True, mininterval=0):  # no yielder()
        total += i
        igogo.sleep(0.02)
    return total
"""
    )
    term.run("a = igogo.job(name='load')(rows)(40); b = igogo.job(name='train')(rows)(60)")
    start = term.prompt_shown
    term.wait_for(r"load: rows: 100%\|#+\| 40/40", after=start)
    term.wait_for(r"train: rows: 100%\|#+\| 60/60", after=start)
    shown = lines(term.text[start:])
    bars = [s for s in shown if "rows:" in s]
    # Drawn live while the prompt waited, each bar on a line of its own: never on the
    # prompt's line, which prompt_toolkit draws below them.
    assert any(re.search(r"load: rows: +[1-9]\d?%", s) for s in bars), bars
    assert not [s for s in bars if "In [" in s], bars
    out = term.run("print('totals', a.result(), b.result())")
    assert f"totals {40 * 39 // 2} {60 * 59 // 2}" in lines(out), out
    assert_clean(term)


def test_a_gui_event_loop_takes_turns_with_the_jobs(term: Terminal) -> None:
    term.run(
        """
import select
import igogo
from IPython.terminal import pt_inputhooks
turns = []

def fake_gui(context):  # waits on the descriptor only, as tk's and gtk's hooks do
    turns.append(1)
    select.select([context.fileno()], [], [])

pt_inputhooks.register("fakegui", fake_gui)

@igogo.job
def beat():
    for i in range(4):
        print("beat", i, len(turns), get_ipython().active_eventloop)
        igogo.sleep(0.3)
"""
    )
    term.run("%gui fakegui")  # before the first job, as %matplotlib tk would be
    term.run("b = beat()")
    start = term.prompt_shown
    term.wait_for(r"^beat 3 ", after=start)
    beats = re.findall(r"^beat (\d) (\d+) (\w+)$", term.text[start:], re.M)
    assert [int(i) for i, _, _ in beats] == [0, 1, 2, 3], beats
    counts = [int(n) for _, n, _ in beats]
    # The GUI's loop kept running at the prompt while the jobs did, and igogo held the slot.
    assert counts == sorted(counts) and counts[-1] > counts[0], beats
    assert {loop for _, _, loop in beats} == {"igogo"}, beats
    out = term.run("b.wait(); print('loop', get_ipython().active_eventloop, len(turns) > 0)")
    assert "loop fakegui True" in lines(out), out  # the GUI's own hook is back
    out = term.run("n = len(turns)")
    out = term.run("print('alone', len(turns) > n)")  # and runs at the prompt by itself
    assert "alone True" in lines(out), out
    term.run("%gui")
    assert_clean(term)


def test_a_gui_enabled_while_jobs_run_takes_turns_from_the_next_prompt(term: Terminal) -> None:
    term.run(
        """
import select
import igogo
from IPython.terminal import pt_inputhooks
turns = []
stop = False

def fake_gui(context):
    turns.append(1)
    select.select([context.fileno()], [], [])

pt_inputhooks.register("fakegui", fake_gui)

@igogo.job
def beat():
    i = 0
    while not stop:
        print("beat", i, len(turns), get_ipython().active_eventloop)
        i += 1
        igogo.sleep(0.2)
"""
    )
    term.run("b = beat()")
    term.wait_for(r"^beat 1 0 igogo$")  # igogo's hook, no GUI yet
    out = term.run("%gui fakegui")  # as %matplotlib tk would, while the job runs
    assert "already running" not in out, out  # IPython accepted it
    start = term.prompt_shown
    first = int(term.wait_for(r"^beat (\d+) [1-9]\d* igogo$", after=start).group(1))
    term.wait_for(rf"^beat {first + 2} ", after=start)
    counts = [int(n) for n in re.findall(r"^beat \d+ (\d+) igogo$", term.text[start:], re.M)]
    assert counts == sorted(counts) and counts[-1] > counts[0], counts
    out = term.run("stop = True; b.wait(); print('loop', get_ipython().active_eventloop)")
    assert "loop fakegui" in lines(out), out
    term.run("%gui")
    assert_clean(term)


def test_outside_ipython_the_host_entry_points_import_nothing_heavy() -> None:
    """A script's first job asks every ``igogo.hosts`` factory; none imports IPython."""
    import subprocess

    script = (
        "import sys, igogo, igogo.lowlevel\n"
        "hosts = []\n"
        "@igogo.job\n"
        "def probe():\n"
        "    hosts.append(type(igogo.lowlevel.current_host()).__name__)\n"
        "igogo.run(probe)\n"
        "heavy = ('IPython', 'prompt_toolkit', 'ipykernel', 'jupyter_client', 'tornado')\n"
        "print(hosts, [m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "['BlockingHost'] []", done.stdout + done.stderr


def test_await_in_a_cell_and_jobs_under_gui_asyncio(term: Terminal) -> None:
    term.run(HELLO)
    # A cell that awaits a job runs it on IPython's asyncio loop (the host's own).
    out = term.run("j = hello('c', n=2, pause=0.1); await j; print('awaited', j.state)")
    assert lines(out)[-3:] == ["hello from c 1", "bye from c", "awaited done"], out
    term.run("j = hello('d', n=2, pause=0.1)")  # and the next job runs at the prompt again
    term.wait_for(r"^bye from d$", after=term.prompt_shown)
    # Under %gui asyncio the prompt itself runs on that loop: no hook of igogo's is needed.
    term.run("%gui asyncio")
    term.run("j = hello('e', n=2, pause=0.1)")
    term.wait_for(r"^bye from e$", after=term.prompt_shown)
    out = term.run("print('loop', get_ipython().active_eventloop)")
    assert "loop asyncio" in lines(out), out
    term.run("%gui")
    assert_clean(term)
