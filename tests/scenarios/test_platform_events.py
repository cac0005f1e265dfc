"""The org's own trouble as scenario data: events, invariants, format errors and the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scenarios.catalogue import find_scenario
from scenarios.errors import ScenarioFormatError, ScenarioStepError
from scenarios.invariants import INVARIANTS
from scenarios.loader import load_scenario
from scenarios.play import Play
from scenarios.runner import play_scenario
from tests.scenarios.conftest import tiny


@contextmanager
def played(path: Path) -> Iterator[Play]:
    play = play_scenario(load_scenario(path))
    try:
        yield play
    finally:
        play.close()


def _check(play: Play, name: str, args: dict[str, object]) -> list[object]:
    entry = INVARIANTS.get(name)
    assert entry is not None
    return list(entry.fn(play, args))


def test_a_busy_bulk_queue_holds_jobs_of_other_apps(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1m, event: sf_bulk_queue_busy,"
            " with: {jobs: 3, duration: 20m, seconds_per_batch: 60}}\n"
        )
    )
    with played(path) as play:
        jobs = [j for j in play.org.bulk.jobs.values() if j.foreign]
        assert [j.state for j in jobs] == ["InProgress", "UploadComplete", "UploadComplete"]
        assert play.org.bulk.queue.seconds_per_batch == 60


def test_batch_jobs_of_other_apps_run_five_at_a_time_on_the_clock(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: apex_batch_jobs_submitted, with: {count: 7, duration: 30m}}
              - {at: +32m, event: time_passes}
            """
        )
    )
    with played(path) as play:
        statuses = sorted(
            r["Status"]
            for r in play.org.query("SELECT Status FROM AsyncApexJob WHERE JobType = 'BatchApex'")
        )
        assert statuses == ["Completed"] * 5 + ["Processing"] * 2


def test_more_than_the_flex_queue_holds_are_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1m, event: apex_batch_jobs_submitted,"
            " with: {count: 110, duration: 1h}}\n"
        )
    )
    with played(path) as play:
        assert len(play.org.apex.flex_queue()) == 100
        assert play.org.count("AsyncApexJob") == 105


def test_stuck_jobs_stay_until_support_clears_them(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: apex_jobs_stuck, with: {count: 2, kind: apex_token}}
              - {at: +2m, event: apex_jobs_stuck, with: {count: 1}}
              - {at: +3h, event: apex_jobs_cleared, with: {kind: apex_token}}
            """
        )
    )
    with played(path) as play:
        rows = play.org.query("SELECT JobType, Status FROM AsyncApexJob ORDER BY JobType")
        assert [(r["JobType"], r["Status"]) for r in rows] == [
            ("ApexToken", "Aborted"),
            ("ApexToken", "Aborted"),
            ("BatchApex", "Processing"),
        ]


def test_a_platform_license_then_a_full_one(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1m, event: sf_license_changed,"
            " with: {license: Salesforce Platform}}\n"
        )
    )
    with played(path) as play:
        assert not play.org.control.object_visible("Lead")
        assert not play.org.control.object_visible("Campaign")
        play.org.control.apply_license("Salesforce")
        assert play.org.control.object_visible("Lead")


def test_storage_filled_to_a_share_and_freed(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny("timeline:\n  - {at: +1m, event: sf_storage_filled, with: {share: 0.5}}\n")
    )
    with played(path) as play:
        control = play.org.control
        used = control.storage_used_bytes() / (control.storage_limit_mb * 1024 * 1024)
        assert used == pytest.approx(0.5, abs=0.001)


def test_storage_cannot_be_filled_below_what_records_use(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        "name: tiny-storage\npurpose: A tiny scenario for a test.\n"
        "world: {seed: 5, clients: 1, lists_per_client: 1, subscribers_per_list: 4,"
        " campaigns_per_client: 1, other_contacts: 1, storage_limit_mb: 1}\n"
        "timeline:\n  - {at: +1m, run: primary_sync}\n"
        "  - {at: +2m, event: sf_storage_filled, with: {share: 0.0001}}\n"
    )
    with pytest.raises(ScenarioStepError, match="records alone use"):
        play_scenario(load_scenario(path))


def test_a_field_restricted_then_restored(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: sf_field_restricted, with: {object: Contact, field: Email, access: hidden}}
              - {at: +2m, event: sf_field_access_restored, with: {object: Contact, field: Email}}
            """
        )
    )
    with played(path) as play:
        assert play.org.control.field_visible("Contact", "Email")


def test_trigger_costs_are_declared_as_data(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: sf_trigger_added,
                 with: {object: Contact, name: Heavy, events: [before insert], action: work,
                        cpu_ms_per_record: 100}}
            """
        )
    )
    with played(path) as play:
        results = play.org.insert("Contact", [{"LastName": f"L{i}"} for i in range(101)])
        assert "Apex CPU time limit exceeded" in results[0].errors[0].message
        assert play.org.insert("Contact", [{"LastName": "One"}])[0].success


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            "{at: +1m, event: sf_bulk_queue_busy, with: {jobs: 2}}",
            "missing required key 'duration'",
        ),
        ("{at: +1m, event: apex_jobs_stuck, with: {count: 1, kind: queueable}}", "kind"),
        ("{at: +1m, event: apex_batch_jobs_submitted, with: {count: 0}}", "count"),
        ("{at: +1m, event: sf_license_changed, with: {license: Gold}}", "license"),
        ("{at: +1m, event: sf_storage_filled, with: {share: 1.5}}", "share"),
        (
            "{at: +1m, event: sf_trigger_added, with: {object: Contact, events: [after insert], action: work, cpu_ms_per_record: -1}}",
            "cpu_ms_per_record",
        ),
    ],
    ids=["bulk-no-duration", "stuck-kind", "no-jobs", "license", "share", "negative-cost"],
)
def test_bad_arguments_are_reported_before_anything_runs(
    scenario_file: Callable[..., Path], body: str, fragment: str
) -> None:
    path = scenario_file(tiny(f"timeline:\n  - {body}\n"))
    with pytest.raises(ScenarioFormatError) as exc:
        load_scenario(path)
    assert any(fragment in str(p) for p in exc.value.problems), exc.value.problems


@pytest.mark.parametrize(
    ("expect", "fragment"),
    [
        ("doctor_check: {check: nothing}", "check"),
        ("status_shows: {line: weather}", "line"),
        ("bulk_jobs: {count: -1}", "count"),
        ("run_status: asleep", "waiting"),
    ],
    ids=["doctor-check", "status-line", "bulk-count", "run-status"],
)
def test_bad_invariant_arguments_are_reported(
    scenario_file: Callable[..., Path], expect: str, fragment: str
) -> None:
    path = scenario_file(
        tiny(f"timeline:\n  - {{at: +1m, run: primary_sync}}\nexpect:\n  - {expect}\n")
    )
    with pytest.raises(ScenarioFormatError) as exc:
        load_scenario(path)
    assert any(fragment in str(p) for p in exc.value.problems), exc.value.problems


def test_doctor_and_status_invariants_fail_when_they_do_not_hold(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: apex_jobs_stuck, with: {count: 1, kind: apex_token}}
              - {at: +2h, run: primary_sync}
            """
        )
    )
    with played(path) as play:
        assert _check(play, "doctor_check", {"check": "apex queue", "status": "fail"}) == []
        assert _check(play, "doctor_check", {"check": "apex queue", "status": "pass"})
        assert _check(play, "doctor_check", {"check": "apex queue", "says": "no such words"})
        assert _check(play, "status_shows", {"line": "apex", "says": "1 stale ApexToken"}) == []
        assert _check(play, "status_shows", {"line": "bulk_jobs", "empty": True}) == []
        assert _check(play, "status_shows", {"line": "bulk_jobs", "says": "CMSF"})
        assert _check(play, "bulk_jobs", {"count": 0}) == []
        assert _check(play, "bulk_jobs", {"count": 1})


FAQ_SITUATIONS = {
    "Bulk API jobs that wait behind the org's other jobs": "bulk-queue-busy",
    "Too many queueable jobs added to the queue": "trigger-queueable-limit",
    "a trigger's batch job refused by a full flex queue": "trigger-fills-flex-queue",
    "Why are my Apex jobs holding?": "apex-jobs-holding",
    "stale ApexToken jobs": "stale-apex-tokens",
    "CPU time limit and the governor limits as the lever": "trigger-cpu-limit",
    "What should I do if I see a heap size issue?": "trigger-heap-limit",
    "Do you support platform licenses?": "platform-license-sync-user",
    "secure query included inaccessible field": "inaccessible-field",
    "storage warning": "storage-nearly-full",
    "STORAGE_LIMIT_EXCEEDED": "storage-full-stops-cleanly",
}
"""Issue 14: each situation of the FAQ and its scenario."""


@pytest.mark.parametrize(
    "situation", sorted(FAQ_SITUATIONS), ids=[FAQ_SITUATIONS[s] for s in sorted(FAQ_SITUATIONS)]
)
def test_each_faq_situation_has_a_scenario_that_checks_what_the_admin_sees(situation: str) -> None:
    scenario = find_scenario(FAQ_SITUATIONS[situation])
    names = {check.name for check in scenario.expect} | {
        check.name for step in scenario.timeline if step.kind == "check" for check in step.checks
    }
    assert names & {"run_messages", "doctor_check", "status_shows"}, scenario.name
    assert names & {"org_matches_account", "records", "member_state"}, scenario.name
