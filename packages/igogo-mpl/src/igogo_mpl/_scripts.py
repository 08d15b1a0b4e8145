"""Scripts: a finished job's figures join regular code's pyplot, open, to be saved.

Without a host that shows things in cells (a script, Agg or any other
non-interactive backend) a job's figures have nowhere to appear, and closing
them would throw away what the job made.  Regular code gets them instead, as
if it had drawn them itself: ``plt.get_fignums()`` lists them and
``plt.savefig`` saves them, after the job's end.  The same hand-over happens to
every job's figures when the plugin is deactivated.

Figure numbers are per party, so a job's figure 1 and regular code's figure 1
can both exist: the job's then takes the next free number, and regular code's
current figure stays current.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ._state import OWNER, REGULAR, Registry

__all__ = ["hand_over"]


def hand_over(outer: Registry, figs: Registry, owner: int) -> None:
    """Hand the figures ``owner`` made to regular code, its current figure staying current.

    ``figs`` is the registry of the job ``owner``; ``outer`` is regular code's.
    Figures it only borrowed stay their owners'; one that regular code has made
    current already is in its registry and keeps its place and number.  A job's
    figure whose number regular code uses for another figure gets the next free
    one.  Regular code owns the figures from now on.
    """
    if not figs:
        return
    own = [
        m for m in figs.values() if getattr(m, OWNER, owner) == owner and outer.get(m.num) is not m
    ]
    for m in figs.values():
        if getattr(m, OWNER, owner) == owner:
            setattr(m, OWNER, REGULAR)
    figs.clear()
    if not own:
        return
    # The job's figures go first and regular code's after them: the last entry
    # is the current figure, and regular code's current figure must stay so.
    merged: OrderedDict[Any, Any] = OrderedDict()
    top = max((n for n in (*outer, *(m.num for m in own)) if isinstance(n, int)), default=0)
    for manager in own:
        num = manager.num
        if num in outer or num in merged:
            top += 1
            num = manager.num = top
            manager.canvas.figure._number = top  # what fig.number reads
        merged[num] = manager
    merged.update(outer)
    outer.clear()  # in place: this dict may be the one Gcf.figs holds
    outer.update(merged)
