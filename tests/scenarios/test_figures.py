"""Figures measure runs and requests; bounds decide whether a scenario passes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios.runner import run_scenario
from scenarios.spec import FigureBound
from tests.scenarios.conftest import tiny


@pytest.mark.parametrize(
    ("bound", "value", "holds"),
    [
        (FigureBound("runs", equals=2), 2, True),
        (FigureBound("runs", equals=2), 3, False),
        (FigureBound("runs", maximum=5), 5, True),
        (FigureBound("runs", maximum=5), 5.5, False),
        (FigureBound("runs", minimum=1, maximum=3), 0, False),
        (FigureBound("runs", minimum=1), 1, True),
    ],
    ids=["equals", "not-equal", "at-max", "over-max", "under-min", "at-min"],
)
def test_bounds_are_inclusive(bound: FigureBound, value: float, holds: bool) -> None:
    assert bound.holds(value) is holds


def test_figures_are_measured_per_run_and_over_all_runs(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                timeline:
                  - {at: +5m, run: primary_sync}
                  - {at: +55m, event: cm_outage, with: {duration: 30m}}
                  - {at: +1h, run: primary_sync}
                figures:
                  - runs: {equals: 2}
                  - runs: {status: failed, equals: 1}
                  - messages: {severity: Error, equals: 1}
                  - salesforce_logins: {run: each, equals: 2}
                  - records_written: {run: 2, equals: 0}
                  - run_minutes: {run: 2, min: 1}
                  - cm_write_requests: {equals: 0}
                  - org_api_usage: {max: 0.05}
                """
            )
        )
    )
    assert result.passed, result.diff_text()
    first, second = result.runs
    total = result.figures
    assert total["runs"] == 2 and total["runs(status='failed')"] == 1
    assert second.calls["campaign_monitor"] == 6, "one request and five retries"
    assert total["run_minutes(run=2)"] == pytest.approx(62 / 60, abs=0.01)  # back-off + job gaps
    assert first.status == "completed" and second.status == "failed"


def test_a_figure_out_of_bounds_fails_with_its_value(scenario_file: Callable[..., Path]) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                "timeline:\n  - {at: +5m, run: primary_sync}\n"
                "figures:\n  salesforce_calls: {max: 3}\n"
            )
        )
    )
    [failure] = result.failures
    assert (failure.kind, failure.check, failure.expected) == ("figure", "salesforce_calls", "<= 3")
    assert failure.found == result.runs[0].calls["salesforce"] > 3


def test_the_write_path_counts_bulk_jobs_and_collection_calls_per_object(
    scenario_file: Callable[..., Path],
) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                """
                settings: {governor_limits: '{"bulk_threshold": 200}'}
                timeline:
                  - {at: +5m, run: primary_sync}
                  - {at: +10m, event: subscribers_added, with: {list: list1, count: 201, domain: w.example}}
                  - {at: +1h, run: primary_sync}
                figures:
                  - bulk_api_jobs: {run: 1, equals: 0}
                  - collections_calls: {run: 1, object: cmsf_list_member__c, min: 1}
                  - bulk_api_jobs: {run: 2, object: CMSF_List_Member__c, equals: 1}
                  - bulk_api_jobs: {run: 2, object: Contact, equals: 0}
                  - collections_calls: {run: 2, object: CMSF_List_Member__c, equals: 0}
                """
            )
        )
    )
    assert result.passed, result.diff_text()
    assert result.figures["collections_calls(object='cmsf_list_member__c', run=1)"] >= 1
