"""Campaign Monitor time: client time zones, wire date formats, and conversion to UTC.

Campaign Monitor returns timestamps as ``YYYY-MM-DD HH:MM:SS`` with no zone, in the time
zone of the client (its ``TimeZone`` is a display name such as
``(GMT+10:00) Canberra, Melbourne, Sydney``, the list of ``timezones.json``). Those names
are Windows time-zone display names; :data:`CM_TIME_ZONES` maps each to the IANA zone with
the same rules (daylight saving included), so local times convert to UTC exactly. A name
not in the table falls back to the fixed offset in its ``(GMT±hh:mm)`` prefix.

The engine and cm_sim share this module, so both sides agree on what a local time means.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "CM_TIME_ZONES",
    "DST_OVERLAP",
    "WIRE_FORMAT",
    "bookmark_instant",
    "date_filter",
    "format_local",
    "parse_local",
    "parse_local_iso",
    "time_zone",
    "to_local",
]

WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
"""How Campaign Monitor writes timestamps."""

CM_TIME_ZONES: dict[str, str] = {
    "(GMT) Casablanca": "Africa/Casablanca",
    "(GMT) Coordinated Universal Time": "Etc/UTC",
    "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London": "Europe/London",
    "(GMT) Monrovia, Reykjavik": "Atlantic/Reykjavik",
    "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": "Europe/Berlin",
    "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague": "Europe/Budapest",
    "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris": "Europe/Paris",
    "(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb": "Europe/Warsaw",
    "(GMT+01:00) West Central Africa": "Africa/Lagos",
    "(GMT+02:00) Amman": "Asia/Amman",
    "(GMT+02:00) Athens, Bucharest, Istanbul": "Europe/Bucharest",
    "(GMT+02:00) Beirut": "Asia/Beirut",
    "(GMT+02:00) Cairo": "Africa/Cairo",
    "(GMT+02:00) Damascus": "Asia/Damascus",
    "(GMT+02:00) Harare, Pretoria": "Africa/Johannesburg",
    "(GMT+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": "Europe/Helsinki",
    "(GMT+02:00) Jerusalem": "Asia/Jerusalem",
    "(GMT+02:00) Minsk": "Europe/Minsk",
    "(GMT+02:00) Windhoek": "Africa/Windhoek",
    "(GMT+03:00) Baghdad": "Asia/Baghdad",
    "(GMT+03:00) Kuwait, Riyadh": "Asia/Riyadh",
    "(GMT+03:00) Moscow, St. Petersburg, Volgograd": "Europe/Moscow",
    "(GMT+03:00) Nairobi": "Africa/Nairobi",
    "(GMT+03:30) Tehran": "Asia/Tehran",
    "(GMT+04:00) Abu Dhabi, Muscat": "Asia/Dubai",
    "(GMT+04:00) Baku": "Asia/Baku",
    "(GMT+04:00) Port Louis": "Indian/Mauritius",
    "(GMT+04:00) Tbilisi": "Asia/Tbilisi",
    "(GMT+04:00) Yerevan": "Asia/Yerevan",
    "(GMT+04:30) Kabul": "Asia/Kabul",
    "(GMT+05:00) Ekaterinburg": "Asia/Yekaterinburg",
    "(GMT+05:00) Islamabad, Karachi": "Asia/Karachi",
    "(GMT+05:00) Tashkent": "Asia/Tashkent",
    "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi": "Asia/Kolkata",
    "(GMT+05:30) Sri Jayawardenepura": "Asia/Colombo",
    "(GMT+05:45) Kathmandu": "Asia/Kathmandu",
    "(GMT+06:00) Astana": "Asia/Almaty",
    "(GMT+06:00) Dhaka": "Asia/Dhaka",
    "(GMT+06:00) Novosibirsk": "Asia/Novosibirsk",
    "(GMT+06:30) Yangon (Rangoon)": "Asia/Yangon",
    "(GMT+07:00) Bangkok, Hanoi, Jakarta": "Asia/Bangkok",
    "(GMT+07:00) Krasnoyarsk": "Asia/Krasnoyarsk",
    "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi": "Asia/Shanghai",
    "(GMT+08:00) Irkutsk": "Asia/Irkutsk",
    "(GMT+08:00) Kuala Lumpur, Singapore": "Asia/Singapore",
    "(GMT+08:00) Perth": "Australia/Perth",
    "(GMT+08:00) Taipei": "Asia/Taipei",
    "(GMT+08:00) Ulaanbaatar": "Asia/Ulaanbaatar",
    "(GMT+09:00) Osaka, Sapporo, Tokyo": "Asia/Tokyo",
    "(GMT+09:00) Seoul": "Asia/Seoul",
    "(GMT+09:00) Yakutsk": "Asia/Yakutsk",
    "(GMT+09:30) Adelaide": "Australia/Adelaide",
    "(GMT+09:30) Darwin": "Australia/Darwin",
    "(GMT+10:00) Brisbane": "Australia/Brisbane",
    "(GMT+10:00) Canberra, Melbourne, Sydney": "Australia/Sydney",
    "(GMT+10:00) Guam, Port Moresby": "Pacific/Port_Moresby",
    "(GMT+10:00) Hobart": "Australia/Hobart",
    "(GMT+10:00) Vladivostok": "Asia/Vladivostok",
    "(GMT+11:00) Magadan, Solomon Is., New Caledonia": "Pacific/Guadalcanal",
    "(GMT+12:00) Auckland, Wellington": "Pacific/Auckland",
    "(GMT+12:00) Coordinated Universal Time+12": "Etc/GMT-12",
    "(GMT+12:00) Fiji": "Pacific/Fiji",
    "(GMT+12:00) Petropavlovsk-Kamchatsky - Old": "Asia/Kamchatka",
    "(GMT+13:00) Nuku'alofa": "Pacific/Tongatapu",
    "(GMT-01:00) Azores": "Atlantic/Azores",
    "(GMT-01:00) Cape Verde Is.": "Atlantic/Cape_Verde",
    "(GMT-02:00) Coordinated Universal Time-02": "Etc/GMT+2",
    "(GMT-02:00) Mid-Atlantic": "Etc/GMT+2",
    "(GMT-03:00) Brasilia": "America/Sao_Paulo",
    "(GMT-03:00) Buenos Aires": "America/Argentina/Buenos_Aires",
    "(GMT-03:00) Cayenne, Fortaleza": "America/Cayenne",
    "(GMT-03:00) Greenland": "America/Nuuk",
    "(GMT-03:00) Montevideo": "America/Montevideo",
    "(GMT-03:30) Newfoundland": "America/St_Johns",
    "(GMT-04:00) Asuncion": "America/Asuncion",
    "(GMT-04:00) Atlantic Time (Canada)": "America/Halifax",
    "(GMT-04:00) Cuiaba": "America/Cuiaba",
    "(GMT-04:00) Georgetown, La Paz, Manaus, San Juan": "America/La_Paz",
    "(GMT-04:00) Santiago": "America/Santiago",
    "(GMT-04:30) Caracas": "America/Caracas",
    "(GMT-05:00) Bogota, Lima, Quito": "America/Bogota",
    "(GMT-05:00) Eastern Time (US & Canada)": "America/New_York",
    "(GMT-05:00) Indiana (East)": "America/Indiana/Indianapolis",
    "(GMT-06:00) Central America": "America/Guatemala",
    "(GMT-06:00) Central Time (US & Canada)": "America/Chicago",
    "(GMT-06:00) Guadalajara, Mexico City, Monterrey": "America/Mexico_City",
    "(GMT-06:00) Saskatchewan": "America/Regina",
    "(GMT-07:00) Arizona": "America/Phoenix",
    "(GMT-07:00) Chihuahua, La Paz, Mazatlan": "America/Mazatlan",
    "(GMT-07:00) Mountain Time (US & Canada)": "America/Denver",
    "(GMT-08:00) Baja California": "America/Tijuana",
    "(GMT-08:00) Pacific Time (US & Canada)": "America/Los_Angeles",
    "(GMT-09:00) Alaska": "America/Anchorage",
    "(GMT-10:00) Hawaii": "Pacific/Honolulu",
    "(GMT-11:00) Coordinated Universal Time-11": "Etc/GMT+11",
    "(GMT-11:00) Samoa": "Pacific/Pago_Pago",
    "(GMT-12:00) International Date Line West": "Etc/GMT+12",
}
"""Campaign Monitor time-zone display names (``timezones.json``) -> IANA zones."""

_OFFSET = re.compile(r"^\(GMT(?:(?P<sign>[+-])(?P<h>\d{2}):(?P<m>\d{2}))?\)")


@lru_cache(maxsize=256)
def time_zone(name: str | None) -> tzinfo:
    """The tzinfo for a Campaign Monitor time-zone name.

    Unknown names fall back to the fixed offset of their ``(GMT±hh:mm)`` prefix; names
    without one (or ``None``) mean UTC.
    """
    if not name:
        return UTC
    iana = CM_TIME_ZONES.get(name.strip())
    if iana:
        return ZoneInfo(iana)
    match = _OFFSET.match(name.strip())
    if not match or not match.group("sign"):
        return UTC
    delta = timedelta(hours=int(match.group("h")), minutes=int(match.group("m")))
    return timezone(delta if match.group("sign") == "+" else -delta)


_PADDED = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?\Z")


@lru_cache(maxsize=65536)
def parse_local(text: str, zone: tzinfo) -> datetime:
    """Parse a Campaign Monitor timestamp (``YYYY-MM-DD HH:MM[:SS]`` or a date) as UTC.

    Cached: activity of a campaign repeats its minutes (a datetime is immutable).

    Raises:
        ValueError: If the text is not a Campaign Monitor timestamp.
    """
    cleaned = text.strip().replace("T", " ")
    if _PADDED.match(cleaned):  # the wire's own form: the C parser, not strptime (per event)
        return datetime.fromisoformat(cleaned).replace(tzinfo=zone).astimezone(UTC)
    for pattern in (WIRE_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            naive = datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone).astimezone(UTC)
    raise ValueError(f"not a Campaign Monitor timestamp: {text!r}")


@lru_cache(maxsize=65536)
def parse_local_iso(text: str, zone: tzinfo) -> str:
    """:func:`parse_local` as ISO text, cached the same way (every membership and event
    stores its instant as text, and ``isoformat`` costs as much as the cached parse).

    Raises:
        ValueError: If the text is not a Campaign Monitor timestamp.
    """
    return parse_local(text, zone).isoformat()


def to_local(instant: datetime, zone: tzinfo) -> datetime:
    """The naive local wall-clock time of an aware instant in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def format_local(instant: datetime, zone: tzinfo, *, minutes: bool = False) -> str:
    """Render an aware instant as Campaign Monitor does, in ``zone``.

    Args:
        instant: An aware datetime.
        zone: The client's zone (:func:`time_zone`).
        minutes: Truncate to the minute (``:00`` seconds), as subscriber and activity
            dates are on the wire.
    """
    local = to_local(instant, zone)
    if minutes:
        local = local.replace(second=0, microsecond=0)
    return local.strftime(WIRE_FORMAT)


DST_OVERLAP = timedelta(hours=1)
"""How far a date filter reaches back near a daylight-saving change (local times repeat)."""


def date_filter(instant: datetime, zone: tzinfo) -> str:
    """The ``date`` filter that reads everything from ``instant`` on, in the zone of *now*.

    Campaign Monitor's filter is "on or after" a local wall-clock time. Bookmarks are kept
    as UTC instants and rendered here in the client's *current* zone, so a client whose
    time zone changed between runs skips nothing. Near a daylight-saving change local
    times repeat; the filter then reaches an hour earlier (what it re-reads, the shadow
    index absorbs).
    """
    offsets = {(instant + delta).astimezone(zone).utcoffset() for delta in
               (-DST_OVERLAP, timedelta(0), DST_OVERLAP)}  # fmt: skip
    if len(offsets) > 1:
        instant = instant - DST_OVERLAP
    return format_local(instant, zone)


def bookmark_instant(value: str, zone: tzinfo) -> datetime:
    """A stored bookmark as a UTC instant.

    Bookmarks are ISO 8601 instants; a journal written by an earlier version may hold
    Campaign Monitor local text, read in ``zone``.
    """
    text = value.strip()
    if "T" in text and (text.endswith("Z") or "+" in text[10:] or text[10:].count("-") > 0):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return parse_local(text, zone)
