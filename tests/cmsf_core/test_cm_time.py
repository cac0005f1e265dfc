from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cmsf_core.cm_time import CM_TIME_ZONES, format_local, parse_local, time_zone

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_every_campaign_monitor_time_zone_maps_to_a_real_zone() -> None:
    names = json.loads((FIXTURES / "timezones.json").read_text())
    assert sorted(names) == sorted(CM_TIME_ZONES)
    for name in names:
        assert isinstance(time_zone(name), ZoneInfo), name


def _stated_offset(name: str) -> timedelta:
    match = re.match(r"^\(GMT(?:([+-])(\d{2}):(\d{2}))?\)", name)
    assert match, name
    if not match.group(1):
        return timedelta(0)
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return delta if match.group(1) == "+" else -delta


def test_mapped_zones_agree_with_the_offset_in_their_name() -> None:
    # The names are Windows display names from about 2010; check each zone had the stated
    # offset then (standard or daylight time), which catches a wrong city mapping.
    for name in CM_TIME_ZONES:
        zone = time_zone(name)
        offsets = {
            datetime(year, month, 15, tzinfo=UTC).astimezone(zone).utcoffset()
            for year in (2010, 2026)
            for month in (1, 4, 7, 10)
        }
        stated = _stated_offset(name)
        near = {stated, stated + timedelta(hours=1), stated - timedelta(hours=1)}
        assert offsets & near, f"{name}: {offsets}"


def test_local_time_converts_with_daylight_saving() -> None:
    sydney = time_zone("(GMT+10:00) Canberra, Melbourne, Sydney")
    assert parse_local("2026-01-15 10:00:00", sydney) == datetime(2026, 1, 14, 23, 0, tzinfo=UTC)
    assert parse_local("2026-07-15 10:00:00", sydney) == datetime(2026, 7, 15, 0, 0, tzinfo=UTC)


def test_format_local_truncates_to_minutes_on_request() -> None:
    zone = time_zone("(GMT-05:00) Eastern Time (US & Canada)")
    instant = datetime(2026, 3, 1, 15, 4, 59, tzinfo=UTC)
    assert format_local(instant, zone) == "2026-03-01 10:04:59"
    assert format_local(instant, zone, minutes=True) == "2026-03-01 10:04:00"


def test_unknown_names_fall_back_to_their_offset() -> None:
    assert time_zone("(GMT+05:30) Somewhere New") == timezone(timedelta(hours=5, minutes=30))
    assert time_zone("(GMT-03:30) Elsewhere") == timezone(-timedelta(hours=3, minutes=30))
    assert time_zone("nonsense") is UTC
    assert time_zone(None) is UTC


@pytest.mark.parametrize(
    "text",
    ["", "2026/01/01", "yesterday", "2026-13-01 00:00:00"],
    ids=["empty", "slashes", "word", "month-13"],
)
def test_malformed_timestamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_local(text, UTC)


def test_date_only_and_minute_forms_parse() -> None:
    assert parse_local("2026-02-03", UTC) == datetime(2026, 2, 3, tzinfo=UTC)
    assert parse_local("2026-02-03 04:05", UTC) == datetime(2026, 2, 3, 4, 5, tzinfo=UTC)
