"""Campaign Monitor's ways of writing time, on top of integer UTC epoch seconds.

The store keeps every instant as whole UTC epoch seconds. On the wire Campaign Monitor
speaks the client's local time without an offset (``YYYY-MM-DD HH:MM:SS``), at minute
resolution for subscriber and activity dates and with real seconds on the suppression
list; transactional endpoints use ISO 8601 with the offset. A client's time zone is a
string such as ``(GMT+10:00) Canberra, Melbourne, Sydney``; :mod:`cm_sim.zones` maps it
to the IANA zone with the same rules (daylight saving included). The simulator does not
borrow the engine's table: it judges the engine's time handling, so it has its own.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, tzinfo
from functools import cache, lru_cache
from importlib import resources

from cm_sim.zones import zone_for

__all__ = [
    "DEFAULT_TIMEZONE",
    "ceil_minute",
    "countries",
    "day_start",
    "iso_local",
    "parse_day",
    "parse_filter_date",
    "parse_local",
    "timezones",
    "to_epoch",
    "tz_offset",
    "wire_minute",
    "wire_seconds",
]

DEFAULT_TIMEZONE = "(GMT+10:00) Brisbane"
"""Time zone of clients created without one: ten hours from UTC all year, so zone bugs
show without daylight saving shifting expectations (clients in Sydney do shift)."""

_TZ_RE = re.compile(r"^\(GMT(?:([+-])(\d{2}):(\d{2}))?\)")
_FILTER_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@cache
def timezones() -> tuple[str, ...]:
    """The time zone names Campaign Monitor accepts (``/timezones.json``)."""
    text = resources.files("cm_sim").joinpath("data/timezones.json").read_text("utf-8")
    return tuple(json.loads(text))


@cache
def countries() -> tuple[str, ...]:
    """The country names Campaign Monitor accepts (``/countries.json``)."""
    text = resources.files("cm_sim").joinpath("data/countries.json").read_text("utf-8")
    return tuple(json.loads(text))


def tz_offset(name: str) -> tzinfo:
    """The time zone of a Campaign Monitor time zone name.

    Args:
        name: A name like ``(GMT+10:00) Canberra, Melbourne, Sydney`` or ``(GMT) Casablanca``.

    Returns:
        The IANA zone of a known name (daylight saving included), else the fixed offset
        of its ``(GMT...)`` prefix.

    Raises:
        ValueError: If the name does not start with a ``(GMT...)`` prefix.
    """
    if _TZ_RE.match(name or "") is None:
        raise ValueError(f"not a Campaign Monitor time zone: {name!r}")
    return zone_for(name)


def to_epoch(moment: datetime) -> int:
    """Whole UTC epoch seconds of an aware datetime."""
    return int(moment.timestamp())


def _local(ts: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz)


def wire_minute(ts: int, tz: tzinfo) -> str:
    """Client-local ``YYYY-MM-DD HH:MM:00`` (subscriber and activity dates)."""
    return _wire_minute(ts - ts % 60, tz)


@lru_cache(maxsize=65_536)
def _wire_minute(minute: int, tz: tzinfo) -> str:
    # A page of 1,000 rows has many rows in the same minute (a campaign's opens, a list's
    # imports): each distinct minute is converted once. Bounded: 65,536 entries, ~8 MiB.
    return _local(minute, tz).strftime("%Y-%m-%d %H:%M:00")


def wire_seconds(ts: int, tz: tzinfo) -> str:
    """Client-local ``YYYY-MM-DD HH:MM:SS`` (suppression list, system date)."""
    return _local(ts, tz).strftime("%Y-%m-%d %H:%M:%S")


def iso_local(ts: int, tz: tzinfo) -> str:
    """ISO 8601 with the client's offset, as transactional endpoints write it."""
    return _local(ts, tz).isoformat(timespec="seconds")


def ceil_minute(ts: int) -> int:
    """The first whole minute at or after ``ts``."""
    return -(-ts // 60) * 60


def parse_local(value: str, tz: tzinfo, formats: tuple[str, ...] = _FILTER_FORMATS) -> int:
    """Read a client-local date/time string into UTC epoch seconds.

    Args:
        value: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM`` or ``YYYY-MM-DD HH:MM:SS``.
        tz: The client's offset.
        formats: Accepted ``strptime`` formats.

    Returns:
        Epoch seconds of that local instant.

    Raises:
        ValueError: If the string matches none of the formats.
    """
    text = value.strip()
    for fmt in formats:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return to_epoch(naive.replace(tzinfo=tz))
    raise ValueError(f"not a date: {value!r}")


def parse_filter_date(value: str | None, tz: tzinfo) -> int | None:
    """The ``date`` query filter as the smallest epoch second a row may have.

    The filter means "on or after" and compares with what the wire shows, that is the
    row's minute: a row shown as ``10:28:00`` matches ``date=2010-10-25 10:28``. So the
    bound is rounded up to a whole minute.

    Args:
        value: The raw query value; empty or missing means no filter.
        tz: The client's offset.

    Returns:
        The lower bound in epoch seconds, or ``None`` for no filter.

    Raises:
        ValueError: If the value is not one of the accepted date formats.
    """
    if value is None or not value.strip():
        return None
    return ceil_minute(parse_local(value, tz))


def parse_day(value: str) -> date:
    """A strict ``YYYY-MM-DD`` date (transactional statistics, custom field dates)."""
    return datetime.strptime(value.strip(), "%Y-%m-%d").date()


def day_start(day: date, tz: tzinfo) -> int:
    """Epoch seconds of local midnight starting ``day``."""
    return to_epoch(datetime(day.year, day.month, day.day, tzinfo=tz))
