"""How numbers, shares, instants and durations are shown to people.

One place for the CLI, the dashboard and maintenance messages, so the same value reads
the same everywhere: shares keep enough precision (``0.5%``, never a misleading ``0%``),
instants are full local timestamps, durations are short and exact enough to act on.
"""

from __future__ import annotations

from datetime import datetime

from cmsf_core.clock import ClockError, parse_instant

__all__ = ["duration", "local_time", "percent", "seconds_between"]


def percent(share: float) -> str:
    """A share (0.005) as a percentage with the precision it needs (``0.5%``).

    Zero is ``0%``; a positive share too small to show is ``<0.01%``; a share below
    one is never rounded up to ``100%``.
    """
    value = share * 100
    if value == 0:
        return "0%"
    if 0 < value < 0.01:
        return "<0.01%"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    if text == "100" and value < 100:
        text = "99.99"
    return f"{text}%"


def local_time(value: datetime | str | None, *, empty: str = "-") -> str:
    """An instant as a full local timestamp, ``2026-01-05 14:03:12 CET``.

    Args:
        value: An aware datetime or an ISO 8601 string (``Z``, ``+00:00`` or ``+0000``).
        empty: What to show for a missing or unreadable value.
    """
    if value is None or value == "":
        return empty
    try:
        instant = parse_instant(value)
    except ClockError:
        return str(value)
    local = instant.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def seconds_between(start: datetime | str | None, end: datetime | str | None) -> float | None:
    """Seconds from ``start`` to ``end``, or None when either is missing or unreadable."""
    if not start or not end:
        return None
    try:
        return (parse_instant(end) - parse_instant(start)).total_seconds()
    except ClockError:
        return None


def duration(seconds: float | None, *, empty: str = "-") -> str:
    """A duration in seconds as ``0.4s``, ``12s``, ``2m 5s`` or ``1h 3m``."""
    if seconds is None:
        return empty
    if seconds < 10:
        return f"{max(0.0, seconds):.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if minutes else f"{hours}h"
