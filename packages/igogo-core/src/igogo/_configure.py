"""``igogo.configure``: read or change igogo's settings, all of them checked first.

A setting left out keeps its value (a sentinel, not None: None is a value of
``workers``, one process per CPU).  Nothing changes unless every given
setting is valid.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from ._hub import SCHED
from ._options import check_flag, check_number
from ._workers import settings

__all__ = ["configure"]


class _Unchanged:
    """The default of :func:`configure`'s settings: leave this one as it is."""

    def __repr__(self) -> str:
        return "<unchanged>"


_UNCHANGED: Any = _Unchanged()


def configure(
    *,
    tick_budget: float = _UNCHANGED,
    workers: int | None = _UNCHANGED,
    preempt: bool = _UNCHANGED,
    preempt_include: Sequence[str] = _UNCHANGED,
    preempt_exclude: Sequence[str] = _UNCHANGED,
) -> dict[str, Any]:
    """Read or change igogo's settings; returns the settings now in force.

    ``tick_budget``: seconds of CPU one tick gives all ready jobs together
    before the host (a kernel's event loop, or waiting regular code) gets
    control back; also the slice regular code keeps between rounds.

    ``workers``: the number of processes in the default pool of
    :func:`offload` and :func:`map` (None: one per CPU).  A pool already
    running is resized at its next use.

    ``preempt``: whether jobs started without a ``preempt=`` option are
    preemptible (default False): their loops in user code may be switched out
    at the end of an iteration once their slice is over, as if
    ``igogo.yielder()`` stood there.  Jobs already running keep theirs.

    ``preempt_include`` / ``preempt_exclude``: what counts as user code, whose
    loops a preemptible job may be switched out of, beyond the default (cells,
    and files outside the standard library and site-packages): lists of module
    names (``"mypkg.sub"``) and paths (a directory, a file, ``"<string>"``).
    The most specific rule wins; on a tie, exclusion.  Each replaces its list.

    A setting left out is left unchanged; ``configure()`` only reads them.
    """
    from . import _usercode  # the rules' checks and state

    if tick_budget is not _UNCHANGED:
        check_number("tick_budget", tick_budget, above=True, finite=True, unit="seconds")
    if workers is not _UNCHANGED:
        check_number("workers", workers, minimum=1, whole=True, none="one per CPU")
    if preempt is not _UNCHANGED:
        check_flag("preempt", preempt)
    include = None
    if preempt_include is not _UNCHANGED:
        include = _usercode.check_scope("preempt_include", preempt_include)
    exclude = None
    if preempt_exclude is not _UNCHANGED:
        exclude = _usercode.check_scope("preempt_exclude", preempt_exclude)
    if include is not None or exclude is not None:
        _usercode.set_scope(include, exclude)  # resolves module names: may refuse one
        preempt_module = sys.modules.get("igogo._preempt")
        if preempt_module is not None:  # code armed under the old rules: armed again lazily
            preempt_module.forget_armed()
    if tick_budget is not _UNCHANGED:  # set nothing unless every setting is valid
        SCHED.tick_budget = float(tick_budget)
    if workers is not _UNCHANGED:
        settings["workers"] = workers
    if preempt is not _UNCHANGED:
        SCHED.preempt_default = preempt
    return {
        "tick_budget": SCHED.tick_budget,
        "workers": settings["workers"],
        "preempt": SCHED.preempt_default,
        **_usercode.scope(),
    }
