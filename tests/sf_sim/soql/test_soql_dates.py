"""Date literals: ranges in the user's time zone at the org clock's now."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import OrgDb

from sf_sim.soql.dates import day_range, local_zone

FRIDAY = date(2024, 3, 15)


@pytest.mark.parametrize(
    ("name", "n", "first", "after"),
    [
        ("TODAY", None, date(2024, 3, 15), date(2024, 3, 16)),
        ("YESTERDAY", None, date(2024, 3, 14), date(2024, 3, 15)),
        ("TOMORROW", None, date(2024, 3, 16), date(2024, 3, 17)),
        ("THIS_WEEK", None, date(2024, 3, 10), date(2024, 3, 17)),
        ("LAST_WEEK", None, date(2024, 3, 3), date(2024, 3, 10)),
        ("NEXT_WEEK", None, date(2024, 3, 17), date(2024, 3, 24)),
        ("THIS_MONTH", None, date(2024, 3, 1), date(2024, 4, 1)),
        ("LAST_MONTH", None, date(2024, 2, 1), date(2024, 3, 1)),
        ("NEXT_MONTH", None, date(2024, 4, 1), date(2024, 5, 1)),
        ("THIS_QUARTER", None, date(2024, 1, 1), date(2024, 4, 1)),
        ("LAST_QUARTER", None, date(2023, 10, 1), date(2024, 1, 1)),
        ("THIS_YEAR", None, date(2024, 1, 1), date(2025, 1, 1)),
        ("LAST_YEAR", None, date(2023, 1, 1), date(2024, 1, 1)),
        ("NEXT_YEAR", None, date(2025, 1, 1), date(2026, 1, 1)),
        ("THIS_FISCAL_YEAR", None, date(2024, 1, 1), date(2025, 1, 1)),
        ("LAST_90_DAYS", None, date(2023, 12, 16), date(2024, 3, 16)),
        ("NEXT_90_DAYS", None, date(2024, 3, 16), date(2024, 6, 14)),
        ("LAST_N_DAYS", 7, date(2024, 3, 8), date(2024, 3, 16)),
        ("NEXT_N_DAYS", 2, date(2024, 3, 16), date(2024, 3, 18)),
        ("N_DAYS_AGO", 3, date(2024, 3, 12), date(2024, 3, 13)),
        ("LAST_N_WEEKS", 2, date(2024, 2, 25), date(2024, 3, 10)),
        ("NEXT_N_WEEKS", 1, date(2024, 3, 17), date(2024, 3, 24)),
        ("N_WEEKS_AGO", 1, date(2024, 3, 3), date(2024, 3, 10)),
        ("LAST_N_MONTHS", 2, date(2024, 1, 1), date(2024, 3, 1)),
        ("NEXT_N_MONTHS", 10, date(2024, 4, 1), date(2025, 2, 1)),
        ("N_MONTHS_AGO", 3, date(2023, 12, 1), date(2024, 1, 1)),
        ("LAST_N_YEARS", 2, date(2022, 1, 1), date(2024, 1, 1)),
        ("N_QUARTERS_AGO", 1, date(2023, 10, 1), date(2024, 1, 1)),
    ],
    ids=lambda value: str(value),
)
def test_day_ranges(name: str, n: int | None, first: date, after: date) -> None:
    assert day_range(name, n, FRIDAY) == (first, after)


def test_week_starts_on_sunday() -> None:
    sunday = date(2024, 3, 10)
    assert day_range("THIS_WEEK", None, sunday) == (sunday, date(2024, 3, 17))


@pytest.mark.parametrize(
    ("name", "n"),
    [("TODAY", 1), ("LAST_N_DAYS", None), ("BOGUS", None)],
    ids=["extra", "missing", "unknown"],
)
def test_day_range_refuses_bad_literals(name: str, n: int | None) -> None:
    with pytest.raises(ValueError):
        day_range(name, n, FRIDAY)


def test_unknown_zone_falls_back_to_utc() -> None:
    assert local_zone("Not/AZone").key == "UTC"
    assert local_zone("../../etc/passwd").key == "UTC"


def _stamp(db: OrgDb, when: datetime, name: str) -> None:
    db.created = when
    db.insert("Contact", LastName=name, Birthdate=when.date())


def _names(db: OrgDb, where: str, **options: object) -> list[str]:
    rows = db.records(f"SELECT LastName FROM Contact WHERE {where} ORDER BY LastName", **options)
    return [r["LastName"] for r in rows]


@pytest.fixture
def stamped(db: OrgDb) -> OrgDb:
    _stamp(db, datetime(2024, 3, 15, 0, 30, tzinfo=UTC), "EarlyToday")
    _stamp(db, datetime(2024, 3, 14, 23, 59, tzinfo=UTC), "LateYesterday")
    _stamp(db, datetime(2024, 3, 8, 0, 0, tzinfo=UTC), "EightDaysStart")
    _stamp(db, datetime(2024, 3, 7, 23, 59, 59, tzinfo=UTC), "NineDays")
    _stamp(db, datetime(2024, 3, 16, 0, 0, tzinfo=UTC), "Tomorrow")
    return db


def test_equals_matches_the_whole_range(stamped: OrgDb) -> None:
    assert _names(stamped, "CreatedDate = TODAY") == ["EarlyToday"]
    assert _names(stamped, "CreatedDate = LAST_N_DAYS:7") == [
        "EarlyToday",
        "EightDaysStart",
        "LateYesterday",
    ]


def test_less_and_greater_compare_with_range_ends(stamped: OrgDb) -> None:
    assert _names(stamped, "CreatedDate < LAST_N_DAYS:7") == ["NineDays"]
    assert _names(stamped, "CreatedDate > TODAY") == ["Tomorrow"]
    assert _names(stamped, "CreatedDate >= TODAY") == ["EarlyToday", "Tomorrow"]
    assert _names(stamped, "CreatedDate <= YESTERDAY") == [
        "EightDaysStart",
        "LateYesterday",
        "NineDays",
    ]


def test_not_equals_excludes_the_range(stamped: OrgDb) -> None:
    assert _names(stamped, "CreatedDate != LAST_N_DAYS:7") == ["NineDays", "Tomorrow"]
    assert _names(stamped, "NOT (CreatedDate < TODAY)") == ["EarlyToday", "Tomorrow"]


def test_in_list_of_date_literals(stamped: OrgDb) -> None:
    assert _names(stamped, "CreatedDate IN (TODAY, TOMORROW)") == ["EarlyToday", "Tomorrow"]


def test_user_time_zone_moves_the_day(stamped: OrgDb) -> None:
    # 2024-03-15 12:00 UTC is 05:00 in Los Angeles: "today" there runs 07:00-07:00 UTC.
    la = "America/Los_Angeles"
    assert _names(stamped, "CreatedDate = TODAY", user_timezone=la) == ["Tomorrow"]
    assert _names(stamped, "CreatedDate = YESTERDAY", user_timezone=la) == [
        "EarlyToday",
        "LateYesterday",
    ]


def test_now_moves_the_range(stamped: OrgDb) -> None:
    later = datetime(2024, 3, 16, 9, 0, tzinfo=UTC)
    assert _names(stamped, "CreatedDate = TODAY", now=later) == ["Tomorrow"]


def test_naive_now_is_taken_as_utc(stamped: OrgDb) -> None:
    assert _names(stamped, "CreatedDate = TODAY", now=datetime(2024, 3, 15, 12)) == ["EarlyToday"]


def test_date_field_compares_days(stamped: OrgDb) -> None:
    assert _names(stamped, "Birthdate = LAST_N_DAYS:7") == [
        "EarlyToday",
        "EightDaysStart",
        "LateYesterday",
    ]
    assert _names(stamped, "Birthdate > 2024-03-14") == ["EarlyToday", "Tomorrow"]
