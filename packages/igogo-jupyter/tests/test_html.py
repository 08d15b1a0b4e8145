"""The rich reprs of Job and JobList (plain HTML strings), and ``Job.output``."""

from __future__ import annotations

import re

import pytest

import igogo
from igogo_jupyter import _html

HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")


def colours_outside_accents(markup: str) -> list[str]:
    """Hard-coded colours in ``markup`` other than the fallbacks of the state accents."""
    markup = re.sub(r"#\d+\b(?![;)])", "", markup.replace("&#", ""))  # job ids such as "#230"
    for accent in _html.STATE_ACCENTS.values():
        markup = markup.replace(accent, "")
    return HEX.findall(markup) + re.findall(r"rgba?\(", markup)


@igogo.job(name="<worker> & co")
def worker(n: int) -> int:
    for _ in range(n):
        igogo.sleep(0.001)
    return n


@igogo.job
def broken() -> None:
    raise ValueError("bad <input>\nsecond line")


def test_job_html_shows_name_state_and_elapsed_escaped_and_themed() -> None:
    job = worker(2)
    markup = _html.job_html(job)
    assert "&lt;worker&gt; &amp; co" in markup and "<worker>" not in markup
    assert 'data-state="pending"' in markup
    assert "0:00" in markup
    assert "var(--jp-ui-font-color1" in markup
    assert colours_outside_accents(markup) == []
    assert job.result() == 2
    assert 'data-state="done"' in _html.job_html(job)


def test_a_failed_job_shows_its_error_in_one_line() -> None:
    job = broken()
    igogo.wait(job)
    markup = _html.job_html(job)
    assert 'data-state="failed"' in markup
    assert "ValueError: bad &lt;input&gt;" in markup
    assert "second line" not in markup
    assert _html.error_summary(job) == "ValueError: bad <input>"
    assert _html.error_summary(worker(0)) == ""
    igogo.wait_all()


def test_joblist_html_is_a_themed_table() -> None:
    jobs = [worker(1), broken()]
    igogo.wait_all()
    markup = _html.jobs_html(igogo.JobList(jobs))
    assert markup.startswith("<table") and markup.count("<tr>") == 3
    for column in _html.TABLE_COLUMNS:
        assert f">{column}</th>" in markup
    assert 'data-state="done"' in markup and 'data-state="failed"' in markup
    assert "ValueError: bad &lt;input&gt;" in markup
    assert colours_outside_accents(markup) == []
    assert "no igogo jobs" in _html.jobs_html(igogo.JobList())


def test_every_state_has_an_accent_from_the_theme() -> None:
    assert set(_html.STATE_ACCENTS) == set(igogo.STATES)
    for accent in _html.STATE_ACCENTS.values():
        assert accent.startswith("var(--jp-")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (7.9, "0:07"), (65, "1:05"), (3723, "1:02:03"), (-1, "0:00")],
)
def test_elapsed_reads_as_a_clock(seconds: float, text: str) -> None:
    assert _html.elapsed_text(seconds) == text


def test_output_is_empty_unless_a_host_keeps_it() -> None:
    job = worker(0)
    assert job.output == ""
    lines = ["first", "progress 10%\rprogress 90%", ""]
    job.output_source = lambda: "\n".join(lines)
    assert job.output == "first\nprogress 10%\rprogress 90%\n"
    assert _html.last_line(job) == "progress 90%"  # what a terminal shows after the \r
    igogo.wait_all()


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str-failed")


def test_an_exception_that_cannot_be_printed_is_described_as_python_does() -> None:
    @igogo.job
    def odd() -> None:
        raise Unprintable

    @igogo.job
    def fine() -> str:
        igogo.sleep(0.01)
        return "ok"

    j, k = odd(), fine()
    igogo.wait(j, k, timeout=5)
    assert _html.error_summary(j) == "Unprintable: <unprintable Unprintable object>"
    listing = igogo.jobs()
    assert "failed" in repr(listing) and "Unprintable" in _html.jobs_html(listing)
    assert "Unprintable" in _html.job_html(j) and k.result() == "ok"


def table() -> igogo.MapStatus:
    from igogo import ItemStatus, MapStatus

    return MapStatus(
        [
            ItemStatus(0, {"lr": 0.1}, "ok", 1, 0.25, ""),
            ItemStatus(1, {"lr": 1.0}, "error", 2, 0.5, "ValueError: diverged"),
            ItemStatus(2, "x" * 100, "running", 1, 3.0, ""),
            ItemStatus(3, "<b>", "pending", 0, None, ""),
        ]
    )


def test_html_escapes_items_and_marks_states() -> None:
    page = _html.map_status_html(table())
    assert "&lt;b&gt;" in page
    assert page.count('data-state="') == 4
    assert 'data-state="error"' in page and "ValueError: diverged" in page
    assert "var(--jp-ui-font-color1" in page  # follows the notebook's theme
