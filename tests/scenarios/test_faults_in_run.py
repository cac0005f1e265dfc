"""Faults armed on the timeline fire at the k-th call of the next run, on either platform."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios.errors import ScenarioStepError
from scenarios.loader import load_scenario
from scenarios.runner import play_scenario, run_scenario
from scenarios.runs import write_api
from tests.scenarios.conftest import tiny


def _run(scenario_file: Callable[..., Path], steps: str, expect: str = "") -> object:
    return run_scenario(
        scenario_file(
            tiny(
                "timeline:\n  - {at: +5m, run: primary_sync}\n"
                + steps
                + "  - {at: +1h, run: primary_sync}\n"
                + expect
            )
        )
    )


def test_a_campaign_monitor_5xx_meets_exactly_the_kth_call(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +5m, event: fault_in_run,
                 with: {platform: campaign_monitor, at_call: 3, fault: server_error, status: 502}}
              - {at: +10m, run: primary_sync}
            expect: [org_matches_account]
            """
        )
    )
    play = play_scenario(load_scenario(path))
    try:
        statuses = [e["status"] for e in play.account.request_log()]
        [run] = play.runs
    finally:
        play.close()
    assert statuses.count(502) == 1  # the third call of the run failed; its retry passed
    assert run.status == "completed"
    assert run.faults == [
        "Campaign Monitor server_error at call 3 fired (call 3: GET clients.json)"
    ]


def test_a_session_expiring_at_the_kth_salesforce_call_costs_one_login(
    scenario_file: Callable[..., Path],
) -> None:
    result = _run(
        scenario_file,
        "  - {at: +30m, event: fault_in_run,"
        " with: {platform: salesforce, at_call: 6, fault: session_expired}}\n",
        "figures:\n  - salesforce_logins: {run: 2, equals: 2}\n  - runs: {status: completed, equals: 2}\n",
    )
    assert result.passed, result.diff_text()  # type: ignore[attr-defined]


def test_a_timeout_after_a_salesforce_write_is_retried_without_harm(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +1m, event: subscribers_added, with: {list: list1, emails: [t@o.example]}}
                  - at: +2m
                    event: fault_in_run
                    with: {platform: salesforce, fault: timeout, at_call: 1,
                           after: 'PATCH .*/composite/sobjects/CMSF_List_Member__c/'}
                  - {at: +5m, run: primary_sync}
                expect:
                  - run_status: completed
                  - member_state: {list: list1, email: t@o.example, state: Active}
                  - org_matches_account
                  - no_duplicate_members
                """
            )
        )
    )
    assert result.passed, result.diff_text()
    [run] = result.timeline[-1:]
    assert "Salesforce timeout at call 1 after" in run.outcome and "fired (call" in run.outcome


def test_a_salesforce_outage_that_outlasts_the_retries_fails_the_run_and_the_next_catches_up(
    scenario_file: Callable[..., Path],
) -> None:
    result = _run(
        scenario_file,
        "  - {at: +50m, event: subscribers_added, with: {list: list1, emails: [o@o.example]}}\n"
        "  - {at: +55m, event: fault_in_run,"
        " with: {platform: salesforce, at_call: 4, fault: server_error, count: 20}}\n"
        "  - {at: +2h, run: primary_sync}\n",
        "expect:\n  - run_status: {sequence: [completed, failed, completed]}\n"
        "  - member_state: {list: list1, email: o@o.example, state: Active}\n"
        "  - org_matches_account\n",
    )
    assert result.passed, result.diff_text()  # type: ignore[attr-defined]


def test_a_row_lock_at_a_write_fails_those_records_until_a_later_run(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +1m, event: subscribers_added, as: held, with: {list: list1, count: 3, domain: l.example}}
                  - {at: +5m, run: primary_sync}
                  - {at: +10m, event: subscribers_unsubscribed, with: {list: list1, emails: held}}
                  - {at: +20m, event: fault_in_run,
                     with: {platform: salesforce, fault: row_lock, object: CMSF_List_Member__c,
                            count: 100, at_call: 2}}
                  - {at: +1h, run: primary_sync}
                  - {at: +2h, run: primary_sync}
                expect:
                  - run_messages: {run: 2, includes: [CMSF-REC-WRITE, CMSF-REC-PENDING]}
                  - run_messages: {run: 3, none: true}
                  - member_state: {list: list1, emails: held, state: Unsubscribed}
                  - org_matches_account
                """
            )
        )
    )
    assert result.passed, result.diff_text()


def test_a_fault_the_run_never_reaches_is_dropped_and_said(
    scenario_file: Callable[..., Path],
) -> None:
    result = _run(
        scenario_file,
        "  - {at: +30m, event: fault_in_run,"
        " with: {platform: campaign_monitor, at_call: 5000, fault: timeout}}\n",
    )
    last = result.timeline[-1].outcome  # type: ignore[attr-defined]
    assert "Campaign Monitor timeout at call 5000 not met (the run made" in last
    assert result.runs[-1].status == "completed"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("with_", "message"),
    [
        (
            "{platform: campaign_monitor, at_call: 1, fault: session_expired}",
            "campaign_monitor faults are",
        ),
        ("{platform: salesforce, at_call: 1, fault: rate_limit}", "salesforce faults are"),
        ("{platform: salesforce, at_call: 1, fault: row_lock}", "a row_lock needs the object"),
        ("{platform: salesforce, at_call: 1, fault: server_error, status: 502}", "500 or 503"),
    ],
    ids=["cm-session", "sf-rate-limit", "lock-without-object", "sf-502"],
)
def test_faults_the_platform_cannot_have_fail_the_step(
    scenario_file: Callable[..., Path], with_: str, message: str
) -> None:
    path = scenario_file(tiny(f"timeline:\n  - {{at: +1m, event: fault_in_run, with: {with_}}}\n"))
    with pytest.raises(ScenarioStepError, match=message):
        play_scenario(load_scenario(path)).close()


def test_a_spam_filter_scan_can_come_after_a_run(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, with: {list: list1, emails: [cy@scan.example], salesforce: contact}}
              - at: +2m
                event: spam_filter_scan
                with: {list: list1, domain: scan.example, delay_seconds: 3600, resubscribe_after_seconds: 900}
              - {at: +30m, run: primary_sync, note: before the scan}
              - at: +31m
                check: [{member_state: {list: list1, email: cy@scan.example, state: Active}}]
              - {at: +1h10m, run: primary_sync, note: between the unsubscribe and the resubscribe}
              - at: +1h11m
                check: [{member_state: {list: list1, email: cy@scan.example, state: Unsubscribed}}]
              - {at: +2h, run: primary_sync}
            expect:
              - member_state: {list: list1, email: cy@scan.example, state: Active}
              - not_opted_out: [cy@scan.example]
              - org_matches_account
            """
        )
    )
    result = run_scenario(path)
    assert result.passed, result.diff_text()


@pytest.mark.parametrize(
    ("method", "path", "api"),
    [
        ("POST", "/services/data/v59.0/jobs/ingest", "bulk"),
        ("PUT", "/services/data/v59.0/jobs/ingest/750x/batches", None),
        ("PATCH", "/services/data/v59.0/composite/sobjects/Contact/Email", "collections"),
        ("DELETE", "/services/data/v59.0/composite/sobjects", "collections"),
        ("PATCH", "/services/data/v59.0/sobjects/Contact/003x", "rest"),
        ("GET", "/services/data/v59.0/query/", None),
    ],
    ids=["bulk-job", "bulk-upload", "collections-upsert", "collections-delete", "one-row", "read"],
)
def test_each_salesforce_request_is_classed_by_write_api(
    method: str, path: str, api: str | None
) -> None:
    assert write_api(method, path) == api
