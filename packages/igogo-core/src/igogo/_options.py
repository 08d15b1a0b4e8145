"""Validation of the options a job is started with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["KINDS", "JobOptions"]

KINDS: Final = ("text", "markdown", "html")
_ALLOWED: Final = ("name", "kind", "displays", "warn_rewrite", "auto_display_figures", "timeout")


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
        d = self.displays
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ValueError(f"displays={self.displays!r}: displays must be an integer >= 1")
        for flag in ("warn_rewrite", "auto_display_figures"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag}={getattr(self, flag)!r}: must be True or False")
        t = self.timeout
        if t is not None and (
            isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t <= 0
        ):
            raise ValueError(f"timeout={t!r}: must be a positive number of seconds, or None")

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
