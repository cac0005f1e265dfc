"""Offsets and durations: ``+10m``, ``+2h``, ``+1d2h`` in, the same out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.spec import format_offset, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("+10m", 600), ("+2h", 7200), ("+1d", 86400), ("+1h30m", 5400), ("45s", 45), ("+0m", 0)],
    ids=["minutes", "hours", "day", "hours-and-minutes", "seconds-no-plus", "zero"],
)
def test_parse_duration_reads_units(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text",
    ["", "+", "10", "+10x", "+1.5h", "-1h", "+1h 30m", "+h", "1d+", "+99999999d"],
    ids=[
        "empty",
        "plus",
        "no-unit",
        "bad-unit",
        "decimal",
        "negative",
        "space",
        "no-number",
        "trailing-plus",
        "longer-than-ten-years",
    ],
)
def test_parse_duration_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|ten years"):
        parse_duration(text)


def test_format_offset_writes_largest_units_first() -> None:
    assert format_offset(timedelta(days=1, hours=2, minutes=5, seconds=7)) == "+1d2h5m7s"
    assert format_offset(timedelta(0)) == "+0m"


@given(st.integers(min_value=0, max_value=3650 * 86400))
def test_format_then_parse_gives_the_same_duration(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_offset(delta)) == delta
