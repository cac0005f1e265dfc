"""Campaign Monitor's client time zones, worked out here independently of the engine.

Campaign Monitor names a client's zone with a Windows display name such as
``(GMT+10:00) Canberra, Melbourne, Sydney`` (the list ``/timezones.json`` serves). Each
display name belongs to one Windows time zone (``AUS Eastern Standard Time``), and the
Unicode CLDR table ``windowsZones.xml`` gives the IANA zone with the same rules for
each Windows zone (territory ``001``). This module keeps that chain as data, so the
simulator's local times follow real daylight-saving rules; where a place changed its
rules after the display name was written, the zone of the place named wins (``Minsk``,
``Samoa``). A name outside the table means the fixed offset of its ``(GMT±hh:mm)``
prefix.

The engine has a table of its own (``cmsf_core.cm_time``). They are kept apart on
purpose: the simulator is the judge of the engine's time-zone handling, so it must not
share its code; ``tests/cm_sim/test_cm_zones.py`` checks this table against the
reference list of names and their offsets.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

__all__ = ["WINDOWS_ZONES", "fixed_offset", "standard_offset", "zone_for"]

WINDOWS_ZONES: dict[str, tuple[str, str]] = {
    # display name: (Windows zone id, IANA zone of CLDR windowsZones.xml, territory 001)
    "(GMT) Casablanca": ("Morocco Standard Time", "Africa/Casablanca"),
    "(GMT) Coordinated Universal Time": ("UTC", "Etc/UTC"),
    "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London": (
        "GMT Standard Time",
        "Europe/London",
    ),
    "(GMT) Monrovia, Reykjavik": ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": (
        "W. Europe Standard Time",
        "Europe/Berlin",
    ),
    "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague": (
        "Central Europe Standard Time",
        "Europe/Budapest",
    ),
    "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris": ("Romance Standard Time", "Europe/Paris"),
    "(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb": (
        "Central European Standard Time",
        "Europe/Warsaw",
    ),
    "(GMT+01:00) West Central Africa": ("W. Central Africa Standard Time", "Africa/Lagos"),
    "(GMT+02:00) Amman": ("Jordan Standard Time", "Asia/Amman"),
    "(GMT+02:00) Athens, Bucharest, Istanbul": ("GTB Standard Time", "Europe/Bucharest"),
    "(GMT+02:00) Beirut": ("Middle East Standard Time", "Asia/Beirut"),
    "(GMT+02:00) Cairo": ("Egypt Standard Time", "Africa/Cairo"),
    "(GMT+02:00) Damascus": ("Syria Standard Time", "Asia/Damascus"),
    "(GMT+02:00) Harare, Pretoria": ("South Africa Standard Time", "Africa/Johannesburg"),
    "(GMT+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": (
        "FLE Standard Time",
        "Europe/Kyiv",
    ),
    "(GMT+02:00) Jerusalem": ("Israel Standard Time", "Asia/Jerusalem"),
    "(GMT+02:00) Minsk": ("E. Europe Standard Time", "Europe/Minsk"),
    "(GMT+02:00) Windhoek": ("Namibia Standard Time", "Africa/Windhoek"),
    "(GMT+03:00) Baghdad": ("Arabic Standard Time", "Asia/Baghdad"),
    "(GMT+03:00) Kuwait, Riyadh": ("Arab Standard Time", "Asia/Riyadh"),
    "(GMT+03:00) Moscow, St. Petersburg, Volgograd": ("Russian Standard Time", "Europe/Moscow"),
    "(GMT+03:00) Nairobi": ("E. Africa Standard Time", "Africa/Nairobi"),
    "(GMT+03:30) Tehran": ("Iran Standard Time", "Asia/Tehran"),
    "(GMT+04:00) Abu Dhabi, Muscat": ("Arabian Standard Time", "Asia/Dubai"),
    "(GMT+04:00) Baku": ("Azerbaijan Standard Time", "Asia/Baku"),
    "(GMT+04:00) Port Louis": ("Mauritius Standard Time", "Indian/Mauritius"),
    "(GMT+04:00) Tbilisi": ("Georgian Standard Time", "Asia/Tbilisi"),
    "(GMT+04:00) Yerevan": ("Caucasus Standard Time", "Asia/Yerevan"),
    "(GMT+04:30) Kabul": ("Afghanistan Standard Time", "Asia/Kabul"),
    "(GMT+05:00) Ekaterinburg": ("Ekaterinburg Standard Time", "Asia/Yekaterinburg"),
    "(GMT+05:00) Islamabad, Karachi": ("Pakistan Standard Time", "Asia/Karachi"),
    "(GMT+05:00) Tashkent": ("West Asia Standard Time", "Asia/Tashkent"),
    "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi": ("India Standard Time", "Asia/Kolkata"),
    "(GMT+05:30) Sri Jayawardenepura": ("Sri Lanka Standard Time", "Asia/Colombo"),
    "(GMT+05:45) Kathmandu": ("Nepal Standard Time", "Asia/Kathmandu"),
    "(GMT+06:00) Astana": ("Central Asia Standard Time", "Asia/Almaty"),
    "(GMT+06:00) Dhaka": ("Bangladesh Standard Time", "Asia/Dhaka"),
    "(GMT+06:00) Novosibirsk": ("N. Central Asia Standard Time", "Asia/Novosibirsk"),
    "(GMT+06:30) Yangon (Rangoon)": ("Myanmar Standard Time", "Asia/Yangon"),
    "(GMT+07:00) Bangkok, Hanoi, Jakarta": ("SE Asia Standard Time", "Asia/Bangkok"),
    "(GMT+07:00) Krasnoyarsk": ("North Asia Standard Time", "Asia/Krasnoyarsk"),
    "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi": ("China Standard Time", "Asia/Shanghai"),
    "(GMT+08:00) Irkutsk": ("North Asia East Standard Time", "Asia/Irkutsk"),
    "(GMT+08:00) Kuala Lumpur, Singapore": ("Singapore Standard Time", "Asia/Singapore"),
    "(GMT+08:00) Perth": ("W. Australia Standard Time", "Australia/Perth"),
    "(GMT+08:00) Taipei": ("Taipei Standard Time", "Asia/Taipei"),
    "(GMT+08:00) Ulaanbaatar": ("Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"),
    "(GMT+09:00) Osaka, Sapporo, Tokyo": ("Tokyo Standard Time", "Asia/Tokyo"),
    "(GMT+09:00) Seoul": ("Korea Standard Time", "Asia/Seoul"),
    "(GMT+09:00) Yakutsk": ("Yakutsk Standard Time", "Asia/Yakutsk"),
    "(GMT+09:30) Adelaide": ("Cen. Australia Standard Time", "Australia/Adelaide"),
    "(GMT+09:30) Darwin": ("AUS Central Standard Time", "Australia/Darwin"),
    "(GMT+10:00) Brisbane": ("E. Australia Standard Time", "Australia/Brisbane"),
    "(GMT+10:00) Canberra, Melbourne, Sydney": ("AUS Eastern Standard Time", "Australia/Sydney"),
    "(GMT+10:00) Guam, Port Moresby": ("West Pacific Standard Time", "Pacific/Port_Moresby"),
    "(GMT+10:00) Hobart": ("Tasmania Standard Time", "Australia/Hobart"),
    "(GMT+10:00) Vladivostok": ("Vladivostok Standard Time", "Asia/Vladivostok"),
    "(GMT+11:00) Magadan, Solomon Is., New Caledonia": (
        "Central Pacific Standard Time",
        "Pacific/Guadalcanal",
    ),
    "(GMT+12:00) Auckland, Wellington": ("New Zealand Standard Time", "Pacific/Auckland"),
    "(GMT+12:00) Coordinated Universal Time+12": ("UTC+12", "Etc/GMT-12"),
    "(GMT+12:00) Fiji": ("Fiji Standard Time", "Pacific/Fiji"),
    "(GMT+12:00) Petropavlovsk-Kamchatsky - Old": ("Kamchatka Standard Time", "Asia/Kamchatka"),
    "(GMT+13:00) Nuku'alofa": ("Tonga Standard Time", "Pacific/Tongatapu"),
    "(GMT-01:00) Azores": ("Azores Standard Time", "Atlantic/Azores"),
    "(GMT-01:00) Cape Verde Is.": ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    "(GMT-02:00) Coordinated Universal Time-02": ("UTC-02", "Etc/GMT+2"),
    "(GMT-02:00) Mid-Atlantic": ("Mid-Atlantic Standard Time", "Etc/GMT+2"),
    "(GMT-03:00) Brasilia": ("E. South America Standard Time", "America/Sao_Paulo"),
    "(GMT-03:00) Buenos Aires": ("Argentina Standard Time", "America/Argentina/Buenos_Aires"),
    "(GMT-03:00) Cayenne, Fortaleza": ("SA Eastern Standard Time", "America/Cayenne"),
    "(GMT-03:00) Greenland": ("Greenland Standard Time", "America/Nuuk"),
    "(GMT-03:00) Montevideo": ("Montevideo Standard Time", "America/Montevideo"),
    "(GMT-03:30) Newfoundland": ("Newfoundland Standard Time", "America/St_Johns"),
    "(GMT-04:00) Asuncion": ("Paraguay Standard Time", "America/Asuncion"),
    "(GMT-04:00) Atlantic Time (Canada)": ("Atlantic Standard Time", "America/Halifax"),
    "(GMT-04:00) Cuiaba": ("Central Brazilian Standard Time", "America/Cuiaba"),
    "(GMT-04:00) Georgetown, La Paz, Manaus, San Juan": (
        "SA Western Standard Time",
        "America/La_Paz",
    ),
    "(GMT-04:00) Santiago": ("Pacific SA Standard Time", "America/Santiago"),
    "(GMT-04:30) Caracas": ("Venezuela Standard Time", "America/Caracas"),
    "(GMT-05:00) Bogota, Lima, Quito": ("SA Pacific Standard Time", "America/Bogota"),
    "(GMT-05:00) Eastern Time (US & Canada)": ("Eastern Standard Time", "America/New_York"),
    "(GMT-05:00) Indiana (East)": ("US Eastern Standard Time", "America/Indiana/Indianapolis"),
    "(GMT-06:00) Central America": ("Central America Standard Time", "America/Guatemala"),
    "(GMT-06:00) Central Time (US & Canada)": ("Central Standard Time", "America/Chicago"),
    "(GMT-06:00) Guadalajara, Mexico City, Monterrey": (
        "Central Standard Time (Mexico)",
        "America/Mexico_City",
    ),
    "(GMT-06:00) Saskatchewan": ("Canada Central Standard Time", "America/Regina"),
    "(GMT-07:00) Arizona": ("US Mountain Standard Time", "America/Phoenix"),
    "(GMT-07:00) Chihuahua, La Paz, Mazatlan": (
        "Mountain Standard Time (Mexico)",
        "America/Mazatlan",
    ),
    "(GMT-07:00) Mountain Time (US & Canada)": ("Mountain Standard Time", "America/Denver"),
    "(GMT-08:00) Baja California": ("Pacific Standard Time (Mexico)", "America/Tijuana"),
    "(GMT-08:00) Pacific Time (US & Canada)": ("Pacific Standard Time", "America/Los_Angeles"),
    "(GMT-09:00) Alaska": ("Alaskan Standard Time", "America/Anchorage"),
    "(GMT-10:00) Hawaii": ("Hawaiian Standard Time", "Pacific/Honolulu"),
    "(GMT-11:00) Coordinated Universal Time-11": ("UTC-11", "Etc/GMT+11"),
    "(GMT-11:00) Samoa": ("UTC-11", "Pacific/Pago_Pago"),
    "(GMT-12:00) International Date Line West": ("Dateline Standard Time", "Etc/GMT+12"),
}
"""Every name of ``/timezones.json``: its Windows zone and the IANA zone with its rules."""

_PREFIX = re.compile(r"^\(GMT(?:([+-])(\d{2}):(\d{2}))?\)")


def fixed_offset(name: str) -> tzinfo | None:
    """The fixed offset a ``(GMT±hh:mm)`` prefix states (UTC for ``(GMT)``), or None."""
    match = _PREFIX.match(name.strip())
    if match is None:
        return None
    if match.group(1) is None:
        return UTC
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return timezone(delta if match.group(1) == "+" else -delta)


@cache
def zone_for(name: str) -> tzinfo:
    """The time zone Campaign Monitor applies for a client's ``TimeZone`` name.

    Args:
        name: A display name such as ``(GMT+10:00) Canberra, Melbourne, Sydney``.

    Returns:
        The IANA zone of a known name (daylight saving included), else the fixed offset
        of its ``(GMT...)`` prefix.

    Raises:
        ValueError: If the name is unknown and has no ``(GMT...)`` prefix.
    """
    known = WINDOWS_ZONES.get(name.strip())
    if known is not None:
        return ZoneInfo(known[1])
    offset = fixed_offset(name)
    if offset is None:
        raise ValueError(f"not a Campaign Monitor time zone: {name!r}")
    return offset


def standard_offset(zone: tzinfo, year: int) -> timedelta | None:
    """The offset ``zone`` keeps outside daylight saving in ``year`` (None if always DST)."""
    for month in (1, 7):
        moment = datetime(year, month, 15, 12, tzinfo=UTC).astimezone(zone)
        dst = moment.dst()
        offset = moment.utcoffset()
        if not dst and offset is not None:
            return offset
    return None
