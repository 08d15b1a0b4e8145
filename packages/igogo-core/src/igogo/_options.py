"""Validation of the options a job is started with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["KINDS", "JobOptions", "check_flag", "check_number"]

KINDS: Final = ("text", "markdown", "html")
_ALLOWED: Final = ("name", "kind", "displays", "warn_rewrite", "auto_display_figures", "timeout")
_REAL: Final = (int, float)  # a tuple: `int | float` would build a union on every call


def check_number(
    name: str,
    value: object,
    *,
    minimum: float = 0,
    above: bool = False,
    whole: bool = False,
    finite: bool = False,
    unit: str = "",
    none: str | None = None,
    form: str | None = None,
) -> None:
    """Refuse ``value`` unless it is a number ``>= minimum`` (``> minimum`` if ``above``).

    The one place igogo validates the numbers its callers pass (timeouts, sizes,
    counts).  ``bool`` and NaN are never numbers here; ``whole`` asks for an
    ``int``; ``finite`` refuses infinities; ``none`` (a note such as ``"auto"``,
    or ``""``) lets None through.  The :class:`ValueError` names the bad value
    and the allowed form, ``timeout=-1: must be a number of seconds >= 0, or
    None``; ``form`` replaces the generated ``must be ...`` text.
    """
    if value is None and none is not None:
        return
    kinds = int if whole else _REAL
    if (
        not isinstance(value, bool)
        and isinstance(value, kinds)
        and (value > minimum if above else value >= minimum)  # False for NaN
        and not (finite and math.isinf(value))
    ):
        return
    if form is None:
        kind = ("whole number" if whole else "number") + (f" of {unit}" if unit else "")
        infinite = finite and isinstance(value, float) and math.isinf(value)
        if above and minimum == 0:
            form = f"must be a positive{', finite' if infinite else ''} {kind}"
        else:
            bound = int(minimum) if float(minimum).is_integer() else minimum
            op = ">" if above else ">="
            form = f"must be a {'finite ' if infinite else ''}{kind} {op} {bound}"
        if none is not None:
            form += f", or None ({none})" if none else ", or None"
    raise ValueError(f"{name}={value!r}: {form}")


def check_flag(name: str, value: object) -> None:
    """Refuse ``value`` unless it is True or False (1, "yes" and None are not)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r}: must be True or False")


@dataclass(frozen=True, slots=True)
class JobOptions:
    """The options of one job, validated.

    Only ``name`` and ``timeout`` mean something to the core; the others are
    read by display hosts and integrations (``job.options.kind`` and so on).
    """

    name: str | None = None
    kind: str = "text"
    displays: int = 1
    warn_rewrite: bool = True
    auto_display_figures: bool = True
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.name is not None and (not isinstance(self.name, str) or not self.name.strip()):
            raise ValueError(f"name={self.name!r}: a job name must be a non-empty string or None")
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}: allowed kinds are {', '.join(map(repr, KINDS))}")
        # Worded as before: `%%igogo --displays 0` shows this text as its usage error.
        check_number(
            "displays",
            self.displays,
            minimum=1,
            whole=True,
            form="displays must be an integer >= 1 (display slots updated in place)",
        )
        check_flag("warn_rewrite", self.warn_rewrite)
        check_flag("auto_display_figures", self.auto_display_figures)
        check_number("timeout", self.timeout, above=True, finite=True, unit="seconds", none="")

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> JobOptions:
        """Build options from keyword arguments, naming any that is unknown."""
        unknown = sorted(set(options) - set(_ALLOWED))
        if unknown:
            raise TypeError(
                f"unknown job option(s) {', '.join(map(repr, unknown))}; "
                f"allowed options are {', '.join(_ALLOWED)}"
            )
        return cls(**options)
