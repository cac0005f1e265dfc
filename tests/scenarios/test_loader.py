"""Well-formed scenario files load into the values the runner plays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scenarios.loader import load_scenario
from scenarios.spec import Check
from tests.scenarios.conftest import tiny


def test_timeline_is_played_in_time_order_keeping_file_order_for_ties(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +2h, run: primary_sync}
              - {at: +10m, event: time_passes, note: first}
              - {at: +10m, event: sf_sessions_expired}
              - {at: +1h30m, check: [org_matches_account]}
            """
        )
    )
    steps = load_scenario(path).timeline
    assert [(s.at, s.name) for s in steps] == [
        ("+10m", "time_passes"),
        ("+10m", "sf_sessions_expired"),
        ("+1h30m", "check"),
        ("+2h", "primary_sync"),
    ]
    assert steps[0].note == "first" and steps[0].line == 6


def test_shorthand_and_mapping_expectations_give_arguments(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline: [{at: +1h, run: primary_sync}]
            expect:
              - org_matches_account
              - run_status: stopped
              - maintenance_messages: [CMSF-SANDBOX]
              - opted_out: scanned
            """
        )
    )
    assert load_scenario(path).expect == (
        Check("org_matches_account", {}, 6),
        Check("run_status", {"status": "stopped"}, 7),
        Check("maintenance_messages", {"exactly": ["CMSF-SANDBOX"]}, 8),
        Check("opted_out", {"emails": "scanned"}, 9),
    )


def test_figures_load_from_a_mapping_or_a_list(scenario_file: Callable[..., Path]) -> None:
    mapping = scenario_file(
        tiny("timeline: []\nfigures:\n  runs: {equals: 0}\n  salesforce_calls: {max: 5}\n"),
        name="mapping",
    )
    listed = scenario_file(
        tiny(
            "timeline: []\nfigures:\n  - records_written: {object: Contact, max: 0}\n"
            "  - records_written: {object: Lead, min: 1, max: 3}\n"
        ),
        name="listed",
    )
    assert [(f.name, f.bounds()) for f in load_scenario(mapping).figures] == [
        ("runs", "= 0"),
        ("salesforce_calls", "<= 5"),
    ]
    second = load_scenario(listed).figures[1]
    assert second.args == {"object": "Lead"} and second.bounds() == "between 1 and 3"
    assert second.holds(2) and not second.holds(4) and not second.holds(0)


def test_world_connect_start_and_org_tweaks_are_read(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        """
        name: shaped-world
        purpose: A world with every kind of option.
        world:
          seed: 9
          kind: direct
          subscribers_per_list: 3
          start: 2026-03-01T08:00:00Z
          session_idle: 30m
          restricted_fields: [{object: Lead, field: Website}]
        connect: {clients: [client1], test_account: true}
        settings: {opt_out_sync: true, campaign_start_date: 2026-01-01}
        timeline: []
        """
    )
    scenario = load_scenario(path)
    assert scenario.world.kind == "direct" and scenario.world.seed == 9
    assert scenario.start == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert scenario.org == {
        "session_idle": "30m",
        "restricted_fields": [{"object": "Lead", "field": "Website"}],
    }
    assert scenario.connect.clients == ("client1",) and scenario.connect.test_account is True
    assert scenario.settings == {"opt_out_sync": True, "campaign_start_date": "2026-01-01"}


def test_steps_keep_their_alias_and_arguments(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - at: +1d2h
                event: subscribers_added
                as: newcomers
                with: {list: list1, count: 3, domain: new.example}
            """
        )
    )
    [step] = load_scenario(path).timeline
    assert step.offset == timedelta(days=1, hours=2)
    assert step.alias == "newcomers"
    assert step.args == {"list": "list1", "count": 3, "domain": "new.example"}
