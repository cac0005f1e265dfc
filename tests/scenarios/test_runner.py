"""Playing scenarios: runs, checks in time, failures with expected/found/time, broken steps."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios.errors import ScenarioStepError
from scenarios.loader import load_scenario
from scenarios.runner import play_scenario, run_scenario
from tests.scenarios.conftest import tiny


def test_passing_scenario_reports_its_runs_and_timeline(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +5m, run: primary_sync}
                expect: [run_status: completed, org_matches_account, no_duplicate_members]
                """
            )
        )
    )
    assert result.passed, result.diff_text()
    [run] = result.runs
    assert (run.number, run.started, run.status, run.org) == (1, "+5m", "completed", "production")
    assert run.calls["salesforce"] > 0 and run.calls["campaign_monitor"] > 0
    assert [(t.kind, t.name) for t in result.timeline] == [
        ("setup", "connect"),
        ("run", "primary_sync"),
    ]
    assert result.differences == [] and result.comparison_error is None


def test_failed_expectation_says_what_was_expected_found_and_when(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +1m, event: subscribers_added, with: {list: list1, emails: [ann@t.example]}}
                  - {at: +1h, run: primary_sync}
                expect:
                  - member_state: {list: list1, email: ann@t.example, state: Bounced}
                """
            )
        )
    )
    assert not result.passed
    [failure] = result.failures
    assert (failure.kind, failure.expected, failure.found) == ("invariant", "Bounced", "Active")
    assert (failure.at, failure.line, failure.subject) == ("+1h", 8, "ann@t.example in list1")
    text = result.diff_text()
    assert "FAIL member_state(" in text and "[line 8, at +1h]" in text
    assert "expected: 'Bounced'" in text and "found:    'Active'" in text
    assert "timeline (virtual time from the start):" in text


def test_check_steps_are_evaluated_at_their_own_time(scenario_file: Callable[..., Path]) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +1m, check: [{records: {object: CMSF_List__c, count: 0}}]}
                  - {at: +5m, run: primary_sync}
                  - {at: +10m, check: [{records: {object: CMSF_List__c, count: 5}}]}
                """
            )
        )
    )
    [failure] = result.failures
    assert (failure.at, failure.expected, failure.found) == ("+10m", 5, 1)
    checks = [t for t in result.timeline if t.kind == "check"]
    assert [(t.applied, t.status) for t in checks] == [("+1m", "ok"), ("+10m", "failed")]


def test_broken_step_fails_the_scenario_and_skips_the_rest(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +1m, event: list_deleted, with: {list: list9}}
                  - {at: +1h, run: primary_sync}
                """
            )
        )
    )
    [failure] = result.failures
    assert failure.kind == "step" and failure.check == "event list_deleted"
    assert "no list is called 'list9'; known: list1" in failure.found
    assert [t.kind for t in result.timeline] == ["setup", "event", "skipped"]
    assert result.runs == []


def test_strict_play_raises_for_a_broken_step(scenario_file: Callable[..., Path]) -> None:
    scenario = load_scenario(
        scenario_file(
            tiny("timeline:\n  - {at: +1m, event: campaign_hidden, with: {campaign: c9}}\n")
        )
    )
    with pytest.raises(ScenarioStepError, match=r"\+1m event campaign_hidden: no campaign"):
        play_scenario(scenario)


def test_a_run_that_outlasts_the_gap_delays_the_next_step(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +55m, event: cm_slow_responses, with: {seconds: 1800, count: 1}}
                  - {at: +1h, run: primary_sync}
                  - {at: +1h10m, event: time_passes}
                """
            )
        )
    )
    run = result.timeline[2]
    later = result.timeline[3]
    assert (run.applied, run.ended) == ("+1h", "+1h30m")
    assert (later.at, later.applied) == ("+1h10m", "+1h30m")
    assert "+1h10m->+1h30m" in result.diff_text()


def test_run_the_engine_refuses_is_recorded_as_refused(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +1h, event: sandbox_refreshed, with: {name: dev, post_copy: reset_settings}}
                  - {at: +2h, run: primary_sync}
                expect: [run_status: refused, nothing_written_to_campaign_monitor]
                """
            )
        )
    )
    assert result.passed, result.diff_text()
    [run] = result.runs
    assert run.org == "sandbox" and "not connected" in (run.reason or "")


def test_results_and_reports_never_contain_credentials(
    scenario_file: Callable[..., Path], tmp_path: Path
) -> None:
    scenario = load_scenario(scenario_file(tiny("timeline:\n  - {at: +5m, run: primary_sync}\n")))
    play = play_scenario(scenario)
    try:
        secrets = [play.account.api_key, *play.org.admin_credentials()[1:]]
    finally:
        play.close()
    result = run_scenario(scenario, report_dir=tmp_path / "report")
    texts = [
        json.dumps(result.to_dict()),
        result.diff_text(),
        (tmp_path / "report" / "index.html").read_text(encoding="utf-8"),
    ]
    assert all(secret and secret not in text for secret in secrets for text in texts)
