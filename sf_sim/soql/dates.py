"""SOQL date literals (``TODAY``, ``LAST_N_DAYS:7``, ...) as half-open ranges.

A date literal stands for a range of days in the running user's time zone, evaluated
at the org clock's ``now``: ``CreatedDate = LAST_N_DAYS:7`` matches the whole range,
``<`` compares with its start and ``>`` with its end (the platform's rule). Weeks start
on Sunday (the ``en_US`` locale); fiscal periods follow the default fiscal year, which
starts in January, so they equal the calendar periods.

Ranges are ``(start, end)`` with ``end`` exclusive, as aware datetimes at local
midnight. :func:`date_range` is pure: it reads no clock of its own.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DATE_LITERALS", "N_DATE_LITERALS", "date_range", "local_zone"]

_UNITS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")

DATE_LITERALS = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
    }
    | {f"{when}_{unit}" for when in ("LAST", "THIS", "NEXT") for unit in _UNITS[1:]}
    | {f"{when}_FISCAL_{unit}" for when in ("LAST", "THIS", "NEXT") for unit in ("QUARTER", "YEAR")}
)
"""Date literals without a number."""

N_DATE_LITERALS = frozenset(
    {f"{when}_N_{unit}S" for when in ("LAST", "NEXT") for unit in _UNITS}
    | {f"N_{unit}S_AGO" for unit in _UNITS}
    | {f"{when}_N_FISCAL_{unit}S" for when in ("LAST", "NEXT") for unit in ("QUARTER", "YEAR")}
    | {f"N_FISCAL_{unit}S_AGO" for unit in ("QUARTER", "YEAR")}
)
"""Date literals that take ``:n``."""


def local_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or UTC when the name is unknown or malformed."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def _shift_months(day: date, months: int) -> date:
    """First day of the month ``months`` after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _period_start(today: date, unit: str) -> date:
    if unit == "DAY":
        return today
    if unit == "WEEK":
        return today - timedelta(days=(today.weekday() + 1) % 7)
    if unit == "MONTH":
        return today.replace(day=1)
    if unit == "QUARTER":
        return date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return date(today.year, 1, 1)


def _advance(start: date, unit: str, count: int) -> date:
    if unit == "DAY":
        return start + timedelta(days=count)
    if unit == "WEEK":
        return start + timedelta(days=7 * count)
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
    return _shift_months(start, months * count)


def _unit_of(name: str) -> str:
    for unit in _UNITS:
        if unit in name:
            return unit
    raise ValueError(f"not a date literal: {name}")


def day_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The days a date literal covers, as ``(first, after_last)``.

    Args:
        name: Upper-case literal name (``LAST_N_DAYS``).
        n: The ``:n`` argument, or None.
        today: The current day in the user's time zone.

    Raises:
        ValueError: If ``name`` is not a known literal or ``n`` is missing or extra.
    """
    if (n is None) != (name in DATE_LITERALS):
        raise ValueError(f"bad date literal {name}:{n}")
    if name == "TODAY":
        return today, today + timedelta(days=1)
    if name == "YESTERDAY":
        return today - timedelta(days=1), today
    if name == "TOMORROW":
        return today + timedelta(days=1), today + timedelta(days=2)
    if name == "LAST_90_DAYS":
        return day_range("LAST_N_DAYS", 90, today)
    if name == "NEXT_90_DAYS":
        return day_range("NEXT_N_DAYS", 90, today)
    unit = _unit_of(name.replace("FISCAL_", ""))
    current = _period_start(today, unit)
    count = 1 if n is None else n
    if name == "LAST_N_DAYS":
        # today is included: from midnight n days back to the end of today
        return today - timedelta(days=count), today + timedelta(days=1)
    if name == "NEXT_N_DAYS":
        return today + timedelta(days=1), today + timedelta(days=1 + count)
    if name.startswith("THIS_"):
        return current, _advance(current, unit, 1)
    if name.startswith("LAST_"):
        return _advance(current, unit, -count), current
    if name.startswith("NEXT_"):
        following = _advance(current, unit, 1)
        return following, _advance(following, unit, count)
    if name.endswith("_AGO"):
        start = _advance(current, unit, -count)
        return start, _advance(start, unit, 1)
    raise ValueError(f"not a date literal: {name}")  # pragma: no cover - names are closed


def date_range(name: str, n: int | None, now: datetime, zone: str) -> tuple[datetime, datetime]:
    """The instants a date literal covers, in the user's time zone.

    Args:
        name: Upper-case literal name.
        n: The ``:n`` argument, or None.
        now: The org clock's current instant (aware).
        zone: IANA name of the user's time zone.

    Returns:
        ``(start, end)``: aware datetimes at local midnight, ``end`` exclusive.
    """
    tz = local_zone(zone)
    today = now.astimezone(tz).date()
    first, after = day_range(name, n, today)
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(after, time.min, tzinfo=tz),
    )
