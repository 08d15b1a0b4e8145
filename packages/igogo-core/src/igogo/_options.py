"""The options a job is started with: igogo's own, and those integrations register.

igogo itself understands three options, ``name``, ``timeout`` and ``preempt``
(whether the job's own loops may be switched out without a ``yielder()``: see
:mod:`igogo._preempt`; None, the default, means ``igogo.configure(preempt=...)``, or True
for a job a preemptive job starts).  How a job's
printed text is rendered, how many display slots it has, whether its figures
show up: those mean something only to an integration, so the integration
registers them (:func:`register_option`, public as ``igogo.lowlevel``) with a
default and a check, and reads them back from ``job.options``.  The core keeps
no list of them; a core installed alone refuses them as unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "JobOptions",
    "OptionSpec",
    "check_flag",
    "check_number",
    "option_names",
    "register_option",
]

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
class OptionSpec:
    """An option registered by an integration: its default and its check."""

    name: str
    default: Any
    check: Callable[[Any], object]
    owner: str


_CORE: Final = ("name", "timeout", "preempt")
_registered: Final[dict[str, OptionSpec]] = {}
_integrations_loaded = False


def register_option(name: str, default: Any, check: Callable[[Any], object], *, owner: str) -> None:
    """Let jobs take option ``name`` (for :func:`igogo.lowlevel` integrations).

    ``check(value)`` raises ``ValueError`` or ``TypeError`` with a message that
    names the bad value and the allowed form; ``default`` is what a job that was
    not given the option reads.  Registering the same name again replaces it
    (a module reloaded); a core option cannot be replaced.
    """
    if not isinstance(name, str) or not name.isidentifier() or name in _CORE:
        raise ValueError(
            f"option name {name!r}: must be an identifier, and not one of igogo's own "
            f"({', '.join(_CORE)})"
        )
    check(default)
    _registered[name] = OptionSpec(name, default, check, owner)


def _load_integrations() -> None:
    """Import the installed integrations once: importing one registers its options.

    An option given before any job started (``@igogo.job(kind="markdown")`` in
    the first cell) must be known although the integrations load lazily; their
    entry points name light modules (they import no Jupyter or plotting library).
    """
    global _integrations_loaded
    if _integrations_loaded:
        return
    _integrations_loaded = True
    from importlib.metadata import entry_points

    from ._foreign import call

    for group in ("igogo.hosts", "igogo.plugins"):
        for ep in entry_points(group=group):
            call(ep.name, f"loading entry point {ep.value}", ep.load)


def option_names() -> tuple[str, ...]:
    """Every option a job takes now: igogo's own, then the integrations'."""
    return (*_CORE, *sorted(_registered))


@dataclass(frozen=True, slots=True)
class JobOptions:
    """The options of one job, validated.

    ``name``, ``timeout`` and ``preempt`` are igogo's own (``preempt=None``: the
    default set by ``igogo.configure(preempt=...)``, read when the job starts, or
    True if a preemptive job starts it).
    The others belong to the integration that registered them (igogo-jupyter's
    ``kind``, ``displays`` and ``warn_rewrite``; igogo-mpl's
    ``auto_display_figures``) and are read as
    attributes too: ``job.options.kind`` is the value given, or the default the
    integration registered.
    """

    name: str | None = None
    timeout: float | None = None
    preempt: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name is not None and (not isinstance(self.name, str) or not self.name.strip()):
            raise ValueError(f"name={self.name!r}: a job name must be a non-empty string or None")
        check_number("timeout", self.timeout, above=True, finite=True, unit="seconds", none="")
        if self.preempt is not None and not isinstance(self.preempt, bool):
            raise ValueError(
                f"preempt={self.preempt!r}: must be True or False "
                "(or None: the default set by igogo.configure(preempt=...))"
            )
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __getattr__(self, name: str) -> Any:
        extra = object.__getattribute__(self, "extra")
        if name in extra:
            return extra[name]
        spec = _registered.get(name)
        if spec is not None:
            return spec.default
        raise AttributeError(
            f"job option {name!r} is not known; options now: {', '.join(option_names())}"
        )

    def get(self, name: str, default: Any = None) -> Any:
        """The option's value (or its registered default), else ``default``."""
        try:
            return getattr(self, name)
        except AttributeError:
            return default

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> JobOptions:
        """Build options from keyword arguments, naming any that is unknown."""
        extra = {k: v for k, v in options.items() if k not in _CORE}
        if any(k not in _registered for k in extra):
            _load_integrations()
        unknown = sorted(k for k in extra if k not in _registered)
        if unknown:
            raise TypeError(
                f"unknown job option(s) {', '.join(map(repr, unknown))}; "
                f"allowed options are {', '.join(option_names())}"
            )
        for k, v in extra.items():
            _registered[k].check(v)
        return cls(
            name=options.get("name"),
            timeout=options.get("timeout"),
            preempt=options.get("preempt"),
            extra=extra,
        )
