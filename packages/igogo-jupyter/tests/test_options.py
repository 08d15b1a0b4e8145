"""The job options igogo-jupyter registers: kind, displays, warn_rewrite (in-process, no kernel)."""

from __future__ import annotations

from typing import Any

import pytest

import igogo
import igogo_jupyter

KINDS = "allowed kinds are 'text', 'markdown', 'html'"


def test_the_options_are_registered_with_their_defaults() -> None:
    assert igogo_jupyter.KINDS == ("text", "markdown", "html")
    options = igogo.JobOptions.from_kwargs({})
    assert (options.kind, options.displays, options.warn_rewrite) == ("text", 1, True)
    given = igogo.JobOptions.from_kwargs({"kind": "markdown", "displays": 3, "warn_rewrite": False})
    assert (given.kind, given.displays, given.warn_rewrite) == ("markdown", 3, False)


@pytest.mark.parametrize(
    ("options", "shown", "allowed"),
    [
        ({"kind": "pdf"}, "kind='pdf'", KINDS),
        ({"kind": None}, "kind=None", KINDS),
        ({"displays": 0}, "displays=0", "integer >= 1"),
        ({"displays": -1}, "displays=-1", "integer >= 1"),
        ({"displays": 1.5}, "displays=1.5", "integer >= 1"),
        ({"displays": True}, "displays=True", "integer >= 1"),
        ({"displays": "2"}, "displays='2'", "integer >= 1"),
        ({"warn_rewrite": "yes"}, "warn_rewrite='yes'", "must be True or False"),
        ({"warn_rewrite": 1}, "warn_rewrite=1", "must be True or False"),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_a_bad_value_is_refused_with_the_value_and_what_is_allowed(
    options: dict[str, Any], shown: str, allowed: str
) -> None:
    with pytest.raises(ValueError) as info:
        igogo.job(**options)
    assert shown in str(info.value) and allowed in str(info.value)


def test_an_unknown_option_lists_the_installed_ones() -> None:
    with pytest.raises(TypeError) as info:
        igogo.job(colour="red")
    message = str(info.value)
    assert "'colour'" in message and "allowed options are name, timeout" in message
    assert all(name in message for name in ("kind", "displays", "warn_rewrite"))
