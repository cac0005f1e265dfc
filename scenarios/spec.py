"""What a scenario file says, as plain frozen values (see :mod:`scenarios.loader`).

A :class:`Scenario` has a name and a one-sentence purpose, the world it starts from (a
:class:`~scenarios.world.WorldSpec` plus org tweaks), the engine's settings and how it
connects, a timeline of :class:`Step` values at offsets from the start, expectations
(:class:`Check`) and figures with bounds (:class:`FigureBound`). Offsets and durations
are written ``+10m``, ``+2h``, ``+1d``, ``+1h30m``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scenarios.world import WorldSpec

__all__ = [
    "Check",
    "ConnectSpec",
    "FigureBound",
    "Scenario",
    "Step",
    "format_offset",
    "parse_duration",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"([0-9]+)([smhd])")
_WHOLE = re.compile(r"^\+?(?:[0-9]+[smhd])+$")
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """``+1h30m`` (or ``90m``) as a timedelta.

    Raises:
        ValueError: If the text is not a sequence of ``<number><s|m|h|d>`` parts or is
            longer than ten years.
    """
    if not isinstance(text, str) or not _WHOLE.match(text.strip()):
        raise ValueError(
            f"{text!r} is not a duration: use <number><unit> with units s, m, h, d "
            "(for example +10m, +2h, +1d, +1h30m)"
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than ten years")
    return timedelta(seconds=seconds)


def format_offset(delta: timedelta) -> str:
    """A timedelta as ``+1d2h5m`` (seconds shown only when not whole minutes)."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + ("".join(parts) or "0m")


@dataclass(frozen=True)
class Check:
    """One expectation: an invariant by name with its arguments.

    Attributes:
        name: The invariant.
        args: Its arguments (validated against the invariant's schema).
        line: Line in the scenario file.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    def label(self) -> str:
        """``name(arg=value, ...)`` for reports."""
        if not self.args:
            return self.name
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.args.items()))
        return f"{self.name}({inner})"


@dataclass(frozen=True)
class FigureBound:
    """A figure and the bounds it must stay within.

    Attributes:
        name: The figure.
        args: Its arguments (``run``, ``object``, ``severity``...).
        minimum: Lowest allowed value.
        maximum: Highest allowed value.
        equals: The exact value expected.
        line: Line in the scenario file.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    equals: float | None = None
    line: int = 0

    def label(self) -> str:
        """``name(arg=value)`` for reports."""
        return Check(self.name, self.args).label()

    def bounds(self) -> str:
        """The bounds in words: ``= 0``, ``<= 200``, ``between 1 and 5``."""
        if self.equals is not None:
            return f"= {self.equals:g}"
        if self.minimum is not None and self.maximum is not None:
            return f"between {self.minimum:g} and {self.maximum:g}"
        if self.maximum is not None:
            return f"<= {self.maximum:g}"
        return f">= {self.minimum:g}"

    def holds(self, value: float) -> bool:
        """Whether ``value`` is within the bounds."""
        if self.equals is not None and value != self.equals:
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        return not (self.maximum is not None and value > self.maximum)


@dataclass(frozen=True)
class Step:
    """One timeline entry.

    Attributes:
        offset: When, after the scenario's start.
        kind: ``event``, ``run``, ``check`` or ``call`` (a function of the hook module).
        name: Event name, ``primary_sync``/``full_sync``, ``check`` or the function name.
        args: Arguments (``with:``).
        alias: Name given with ``as:`` to what the event created or picked.
        checks: The expectations of a ``check`` step.
        note: A remark shown in the report.
        line: Line in the scenario file.
        index: Position in the file (ties in time keep file order).
    """

    offset: timedelta
    kind: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    alias: str | None = None
    checks: tuple[Check, ...] = ()
    note: str | None = None
    line: int = 0
    index: int = 0

    @property
    def at(self) -> str:
        """The offset as written: ``+2h``."""
        return format_offset(self.offset)


@dataclass(frozen=True)
class ConnectSpec:
    """How the engine connects: clients (aliases or ids, ``*`` for all), test account."""

    clients: tuple[str, ...] = ("*",)
    test_account: bool | None = None


@dataclass(frozen=True)
class Scenario:
    """A whole scenario file.

    Attributes:
        name: Unique name (the pytest id).
        purpose: One sentence.
        path: The YAML file.
        world: The world's shape.
        org: Org tweaks (``session_idle``, ``triggers``, ``validation_rules``,
            ``restricted_fields``, ``storage_limit_mb``) and ``second_account``.
        start: The virtual instant the scenario starts at.
        settings: Engine settings by name.
        connect: How the engine connects.
        timeline: Steps in time order (file order within one instant).
        expect: Expectations checked at the end.
        figures: Figures and their bounds, checked at the end.
        live: May also run against a real sandbox when credentials exist.
        known_issue: Why the scenario is excluded from the default run (reported as xfail).
        hook: ``module:function`` or a function of the sibling ``<name>.py``, called after
            connecting.
        lines: Line of each top-level key.
    """

    name: str
    purpose: str
    path: Path
    world: WorldSpec
    org: dict[str, Any]
    start: datetime
    settings: dict[str, Any]
    connect: ConnectSpec
    timeline: tuple[Step, ...]
    expect: tuple[Check, ...]
    figures: tuple[FigureBound, ...]
    live: bool = False
    known_issue: str | None = None
    hook: str | None = None
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def hook_path(self) -> Path:
        """The sibling Python file that may hold hook functions."""
        return self.path.with_suffix(".py")
