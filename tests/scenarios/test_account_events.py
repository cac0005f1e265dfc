"""Events that edit the Campaign Monitor account, and connecting the org (also to a second account)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from scenarios.errors import ScenarioStepError
from scenarios.loader import load_scenario
from scenarios.play import Play
from scenarios.runner import play_scenario, run_scenario
from tests.scenarios.conftest import tiny


@contextmanager
def played(path: Path) -> Iterator[Play]:
    play = play_scenario(load_scenario(path))
    try:
        yield play
    finally:
        play.close()


def _subscriber(play: Play, email: str) -> dict[str, Any]:
    list_id = play.ref("list1", "list")
    with play.account.client() as http:
        body = http.get(f"/subscribers/{list_id}.json", params={"email": email}).json()
    return dict(body)


def test_subscriber_edited_changes_name_and_fields_through_the_api(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, with: {list: list1, emails: [zoe@e.example]}}
              - at: +2m
                event: subscriber_edited
                with: {list: list1, email: zoe@e.example, name: Zoë Ünal,
                       fields: {website: "Café 東京", interests: [news, events]}}
            """
        )
    )
    with played(path) as play:
        assert play.account.request_log()[-1]["method"] == "PUT"
        row = _subscriber(play, "zoe@e.example")
    assert row["Name"] == "Zoë Ünal"
    fields = sorted((f["Key"], f["Value"]) for f in row["CustomFields"])
    assert fields == [
        ("interests", "events"),
        ("interests", "news"),
        ("website", "Café 東京"),
    ]


@pytest.mark.parametrize(
    ("with_", "message"),
    [
        ("{list: list1, email: zoe@e.example}", "give the new 'name' or 'fields'"),
        ("{list: list1, email: nobody@e.example, name: X}", "Campaign Monitor refused PUT"),
    ],
    ids=["nothing-to-change", "not-a-subscriber"],
)
def test_subscriber_edited_that_cannot_be_made_fails_the_step(
    scenario_file: Callable[..., Path], with_: str, message: str
) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n"
            "  - {at: +1m, event: subscribers_added, with: {list: list1, emails: [zoe@e.example]}}\n"
            f"  - {{at: +2m, event: subscriber_edited, with: {with_}}}\n"
        )
    )
    with pytest.raises(ScenarioStepError, match=message):
        play_scenario(load_scenario(path)).close()


def test_list_changed_renames_and_sets_options(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - at: +1m
                event: list_changed
                with: {list: list1, name: Weekly news, unsubscribe_setting: OnlyThisList,
                       confirmed_opt_in: true, two_click: true}
            """
        )
    )
    with played(path) as play, play.account.client() as http:
        list_id = play.ref("list1", "list")
        details = http.get(f"/lists/{list_id}.json").json()
        two_click = play.account.list_row(list_id)["two_click"]
    assert (details["Title"], details["UnsubscribeSetting"], details["ConfirmedOptIn"]) == (
        "Weekly news",
        "OnlyThisList",
        True,
    )
    assert two_click


def test_list_renamed_to_a_name_the_client_uses_fails_with_the_api_code(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: list_created, with: {client: client1, name: Taken}}
              - {at: +2m, event: list_changed, with: {list: list1, name: Taken}}
            """
        )
    )
    with pytest.raises(ScenarioStepError, match="Code 250"):
        play_scenario(load_scenario(path)).close()


def test_client_time_zone_changed_moves_local_times(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, with: {list: list1, emails: [tz@e.example]}}
              - {at: +2m, event: client_time_zone_changed,
                 with: {client: client1, time_zone: "(GMT-05:00) Bogota, Lima, Quito"}}
            """
        )
    )
    with played(path) as play, play.account.client() as http:
        client_id = play.ref("client1", "client")
        zone = http.get(f"/clients/{client_id}.json").json()["BasicDetails"]["TimeZone"]
        joined = _subscriber(play, "tz@e.example")["Date"]
    assert zone == "(GMT-05:00) Bogota, Lima, Quito"
    assert joined == "2026-01-05 04:01:00"  # 09:01 UTC, five hours behind


def test_an_unknown_time_zone_fails_the_step_with_an_example(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1m, event: client_time_zone_changed,"
            ' with: {client: client1, time_zone: "(GMT+01:00) Atlantis"}}\n'
        )
    )
    with pytest.raises(ScenarioStepError, match="not a Campaign Monitor time zone"):
        play_scenario(load_scenario(path)).close()


SECOND = (
    "world: {seed: 5, clients: 1, lists_per_client: 1, subscribers_per_list: 4, "
    "campaigns_per_client: 1, other_contacts: 1, second_account: {test_account: true}}\n"
)


def test_connect_to_the_second_account_moves_the_sync_there(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        "name: two-accounts\npurpose: The org moves to a second account.\n"
        + SECOND
        + """timeline:
  - {at: +5m, run: primary_sync}
  - {at: +1h, event: connect, with: {account: second, clients: [second_client1]}}
  - {at: +1h5m, run: primary_sync}
expect:
  - org_matches_account
  - records: {object: CMSF_List__c, where: "CM_Id__c = '{second_list1}'", count: 1}
  - records: {object: CMSF_List__c, where: "CM_Id__c = '{list1}'", count: 0}
"""
    )
    result = run_scenario(path)
    assert result.passed, result.diff_text()
    assert "a second (test) Campaign Monitor account" in result.timeline[0].outcome


def test_connect_to_a_second_account_the_world_lacks_fails_the_step(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny("timeline:\n  - {at: +1m, event: connect, with: {account: second}}\n")
    )
    with pytest.raises(ScenarioStepError, match="the world has no second account"):
        play_scenario(load_scenario(path)).close()


def test_a_refused_connect_passes_only_when_refusal_is_expected(
    scenario_file: Callable[..., Path],
) -> None:
    live = (
        "world: {seed: 5, clients: 1, lists_per_client: 1, subscribers_per_list: 2, "
        "campaigns_per_client: 0, test_account: false}\n"
    )
    refused = scenario_file(
        "name: refused\npurpose: A false claim is refused.\n"
        + live
        + "timeline:\n  - {at: +1m, event: connect, with: {test_account: true, outcome: refused}}\n",
        name="refused",
    )
    with played(refused) as play:
        assert not play.settings().cm_test_account
    raised = scenario_file(
        "name: raised\npurpose: A false claim is refused.\n"
        + live
        + "timeline:\n  - {at: +1m, event: connect, with: {test_account: true}}\n",
        name="raised",
    )
    with pytest.raises(ScenarioStepError, match="says it is not a test account"):
        play_scenario(load_scenario(raised)).close()
    accepted = scenario_file(
        "name: accepted\npurpose: A true statement is accepted.\n"
        + live
        + "timeline:\n  - {at: +1m, event: connect, with: {outcome: refused}}\n",
        name="accepted",
    )
    with pytest.raises(ScenarioStepError, match="expected to be refused, but it connected"):
        play_scenario(load_scenario(accepted)).close()
