"""Schedules run an import once per period of the (virtual) clock.

``Hourly`` runs once per clock hour and ``Daily`` once per UTC day, as part of ``cmsf
sync`` however often it runs; ``None`` never runs on its own; ``run --due`` runs only the
due ones; imports keep their schedules when the sync itself is turned off.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cmsf_core.imports.spec import ImportSpec, is_due, next_run, period_start
from tests.cmsf_core.import_support import Imports, make_imports


@pytest.fixture
def imports() -> Iterator[Imports]:
    made = make_imports()
    yield made
    made.close()


def _runs(imports: Imports, import_id: str, syncs: list[float]) -> list[bool]:
    """For each sync after ``hours``, whether the import ran in it."""
    out = []
    for hours in syncs:
        before = imports.record(import_id)["Last_Run__c"]
        imports.sync(hours=hours)
        out.append(imports.record(import_id)["Last_Run__c"] != before)
    return out


def test_an_hourly_import_runs_once_per_clock_hour(imports: Imports) -> None:
    imports.contacts(2, "hour")
    import_id = imports.create("ListView", imports.list_view("hour"), schedule="Hourly")
    imports.clock.set(datetime(2026, 2, 2, 9, 50, tzinfo=UTC))
    # 10:00 due, 10:20 and 10:40 not, 11:00 due, 11:05 not, 13:05 due
    assert _runs(imports, import_id, [1 / 6, 1 / 3, 1 / 3, 1 / 3, 1 / 12, 2]) == [
        True, False, False, True, False, True
    ]  # fmt: skip
    assert imports.import_requests() == 3


def test_a_daily_import_runs_once_per_utc_day(imports: Imports) -> None:
    imports.contacts(2, "day")
    import_id = imports.create("SOQL", "SELECT Email FROM Contact WHERE Email LIKE 'day%'",
                               schedule="Daily")  # fmt: skip
    imports.clock.set(datetime(2026, 2, 2, 22, 0, tzinfo=UTC))
    # 23:00 due, 00:00 (a new day) due, 01:00 and 21:00 not, 00:00 the day after due
    assert _runs(imports, import_id, [1, 1, 1, 20, 3]) == [True, True, False, False, True]


def test_an_import_without_schedule_runs_only_when_asked(imports: Imports) -> None:
    imports.contacts(2, "ask")
    import_id = imports.create("ListView", imports.list_view("ask"))
    assert _runs(imports, import_id, [1, 24]) == [False, False]
    assert imports.run(due=True).status == "nothing"
    assert imports.run(import_id).status == "completed"
    assert imports.record(import_id)["Imported__c"] == 2


def test_run_due_runs_only_the_due_imports(imports: Imports) -> None:
    imports.contacts(2, "due")
    view = imports.list_view("due")
    hourly = imports.create("ListView", view, schedule="Hourly", name="Hourly")
    manual = imports.create("ListView", view, name="Manual")
    report = imports.run(due=True)
    assert set(report.outcomes) == {hourly}
    assert imports.record(manual)["Last_Run__c"] is None
    assert imports.run(due=True).status == "nothing"  # this hour's run happened


def test_imports_keep_their_schedules_when_the_sync_is_off(imports: Imports) -> None:
    imports.engine.change_settings({"frequency": "Never"})
    imports.create("ListView", imports.list_view("off"), schedule="Hourly", name="Still on")
    due, _ = imports.engine.due()
    assert not due
    assert imports.engine.imports_due() == ["Still on"]


def _spec(schedule: str, last_run: str | None) -> ImportSpec:
    return ImportSpec.from_record(
        {"Id": "a06000000000001AAA", "Name": "x", "Source_Type__c": "SOQL",
         "Source__c": "SELECT Email FROM Contact", "Schedule__c": schedule,
         "Last_Run__c": last_run}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("schedule", "last_run", "now", "due"),
    [
        ("Hourly", None, "2026-02-02T10:00:00+00:00", True),
        ("Hourly", "2026-02-02T09:59:59.000+0000", "2026-02-02T10:00:00+00:00", True),
        ("Hourly", "2026-02-02T10:00:00.000+0000", "2026-02-02T10:59:59+00:00", False),
        ("Daily", "2026-02-01T23:59:00.000+0000", "2026-02-02T00:00:01+00:00", True),
        ("Daily", "2026-02-02T00:00:00.000+0000", "2026-02-02T23:59:00+00:00", False),
        ("None", None, "2026-02-02T10:00:00+00:00", False),
    ],
    ids=["hourly-never-run", "hourly-last-hour", "hourly-this-hour", "daily-yesterday",
         "daily-today", "none"],
)  # fmt: skip
def test_due_is_decided_by_the_period_of_the_last_run(
    schedule: str, last_run: str | None, now: str, due: bool
) -> None:
    spec = _spec(schedule, last_run)
    instant = datetime.fromisoformat(now)
    assert is_due(spec, instant) is due
    upcoming = next_run(spec, instant)
    if schedule == "None":
        assert upcoming is None and period_start(schedule, instant) is None
    elif due:
        assert upcoming == instant
    else:
        assert upcoming is not None and upcoming > instant
