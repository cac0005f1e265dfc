"""Timeline events change the simulators the way the platform or a person would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scenarios.errors import ScenarioStepError
from scenarios.loader import load_scenario
from scenarios.play import Play
from scenarios.runner import play_scenario
from sf_sim import RecordError
from tests.scenarios.conftest import tiny


@contextmanager
def played(path: Path) -> Iterator[Play]:
    play = play_scenario(load_scenario(path))
    try:
        yield play
    finally:
        play.close()


def test_subscribers_added_by_count_form_a_named_group(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1m, event: subscribers_added, as: fans,"
            " with: {list: list1, count: 3, domain: fan.example, salesforce: lead}}\n"
        )
    )
    with played(path) as play:
        assert play.groups["fans"] == [
            "fans0@fan.example",
            "fans1@fan.example",
            "fans2@fan.example",
        ]
        list_id = play.ref("list1", "list")
        assert set(play.groups["fans"]) <= set(play.account.email_addresses(list_id))
        leads = play.org.query("SELECT Email FROM Lead WHERE Email LIKE '%@fan.example'")
        assert len(leads) == 3


def test_other_apps_push_the_org_usage_to_a_share(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny("timeline:\n  - {at: +1m, event: sf_api_used_by_other_apps, with: {share: 0.5}}\n")
    )
    with played(path) as play:
        assert play.org.limits.used() == play.org.limits.daily_limit // 2


def test_validation_rule_refuses_matching_records(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - at: +1m
                event: sf_validation_rule_added
                with: {object: Lead, message: No test leads, when: {field: Company, equals: Test}}
            """
        )
    )
    with played(path) as play:
        refused = play.org.insert("Lead", [{"LastName": "A", "Company": "Test"}])[0]
        accepted = play.org.insert("Lead", [{"LastName": "B", "Company": "Acme"}])[0]
    assert refused.errors[0].error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert accepted.success


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("add_error", "FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        ("throw", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"),
    ],
    ids=["add-error", "throw"],
)
def test_trigger_declared_as_data_fails_matching_records(
    scenario_file: Callable[..., Path], action: str, code: str
) -> None:
    path = scenario_file(
        tiny(
            f"""
            timeline:
              - at: +1m
                event: sf_trigger_added
                with: {{object: Contact, events: [before insert], action: {action},
                        message: blocked, when: {{field: LastName, equals: Blocked}}}}
            """
        )
    )
    with played(path) as play:
        results = play.org.insert("Contact", [{"LastName": "Blocked"}, {"LastName": "Fine"}])
    assert results[0].errors[0].error_code == code
    assert results[1].success is (action == "add_error")


def test_field_restriction_hides_a_field_from_the_sync_user(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1m, event: sf_field_restricted,"
            " with: {object: Lead, field: Website, access: hidden}}\n"
        )
    )
    with played(path) as play:
        assert not play.org.control.field_visible("Lead", "Website")


def test_outage_answers_503_until_it_ends(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny("timeline:\n  - {at: +1m, event: cm_outage, with: {duration: 15m, status: 503}}\n")
    )
    with played(path) as play, play.account.client() as http:
        assert http.get("/clients.json").status_code == 503
        play.clock.advance(minutes=15)
        assert http.get("/clients.json").status_code == 200


def test_create_rule_needs_the_list_in_salesforce_first(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny("timeline:\n  - {at: +1m, event: create_rule_set, with: {list: list1, rule: Lead}}\n")
    )
    with pytest.raises(ScenarioStepError, match="list1 is not in Salesforce yet: run a sync first"):
        play_scenario(load_scenario(path))


def test_sandbox_refresh_points_the_engine_at_a_copy(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +5m, run: primary_sync}
              - {at: +1h, event: sandbox_refreshed, with: {name: qa}}
            """
        )
    )
    with played(path) as play:
        assert play.org is not play.production_org
        assert play.org.is_sandbox and not play.production_org.is_sandbox
        assert play.org.count("CMSF_List__c") == play.production_org.count("CMSF_List__c") == 1


def test_created_things_can_be_named_and_used_later(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: list_created, as: promo, with: {client: client1, name: Promo}}
              - {at: +2m, event: subscribers_added, with: {list: promo, emails: [ben@p.example]}}
              - {at: +3m, event: campaign_sent, as: launch, with: {list: promo, activity: false}}
              - {at: +4m, event: campaign_tagged, with: {campaign: launch, tags: [Launch]}}
            """
        )
    )
    with played(path) as play:
        promo, launch = play.ref("promo", "list"), play.ref("launch", "campaign")
        assert play.account.email_addresses(promo) == ["ben@p.example"]
        with play.account.client() as http:
            client = play.ref("client1", "client")
            sent = http.get(f"/clients/{client}/campaigns.json").json()["Results"]
        assert {c["CampaignID"]: c["Tags"] for c in sent}[launch] == ["Launch"]


def test_records_deleted_by_hand_expand_names_in_conditions(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +5m, run: primary_sync}
              - {at: +10m, event: sf_records_deleted,
                 with: {object: CMSF_List_Member__c, where: "CM_Id__c LIKE '{list1}%'", limit: 2}}
            """
        )
    )
    with played(path) as play:
        assert play.org.count("CMSF_List_Member__c") == 2
        assert play.org.count("CMSF_List_Member__c", include_deleted=True) == 4


def test_spam_filter_scan_on_two_click_list_changes_nothing(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, with: {list: list1, emails: [cy@scan.example]}}
              - {at: +2m, event: spam_filter_scan, with: {list: list1, domain: scan.example, two_click: true}}
              - {at: +10m, event: time_passes}
            """
        )
    )
    with played(path) as play, play.account.client() as http:
        list_id = play.ref("list1", "list")
        details = http.get(f"/subscribers/{list_id}.json", params={"email": "cy@scan.example"})
        assert details.json()["State"] == "Active"
        assert not play.account.link_scanners


def test_spam_filter_scan_without_resubscribe_leaves_them_unsubscribed(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, with: {list: list1, emails: [di@scan.example]}}
              - {at: +2m, event: spam_filter_scan, as: mail,
                 with: {list: list1, domain: scan.example, resubscribe: 0, delay_seconds: 90}}
              - {at: +3m, event: time_passes}
            """
        )
    )
    with played(path) as play, play.account.client() as http:
        list_id = play.ref("list1", "list")
        details = http.get(f"/subscribers/{list_id}.json", params={"email": "di@scan.example"})
        assert details.json()["State"] == "Active"  # 60 s in: the scan is still to come
        play.clock.advance(minutes=2)
        details = http.get(f"/subscribers/{list_id}.json", params={"email": "di@scan.example"})
        assert details.json()["State"] == "Unsubscribed"


def test_unsubscribing_through_a_campaign_records_the_click(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, as: pair,
                 with: {list: list1, emails: [ed@home.example, flo@home.example]}}
              - {at: +2m, event: campaign_sent, as: news, with: {list: list1, activity: false}}
              - {at: +1h, event: subscribers_unsubscribed, with: {campaign: news, emails: pair}}
              - {at: +2h, event: time_passes}
            """
        )
    )
    with played(path) as play, play.account.client() as http:
        campaign = play.ref("news", "campaign")
        rows = http.get(f"/campaigns/{campaign}/unsubscribes.json").json()["Results"]
        assert sorted(r["EmailAddress"] for r in rows) == ["ed@home.example", "flo@home.example"]


def test_unsubscribing_through_a_campaign_one_did_not_receive_fails_the_step(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +2m, event: campaign_sent, as: news, with: {list: list1, activity: false}}
              - {at: +1h, event: subscribers_unsubscribed,
                 with: {campaign: news, emails: [nobody@home.example]}}
            """
        )
    )
    with pytest.raises(ScenarioStepError, match="did not receive"):
        play_scenario(load_scenario(path)).close()


def test_row_lock_refuses_updates_for_its_attempts(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1m, event: sf_row_locks, with: {object: Contact, attempts: 1}}\n"
        )
    )
    with played(path) as play:
        contact = play.org.create("Contact", {"LastName": "Locked"})
        with pytest.raises(RecordError) as exc:
            play.org.update("Contact", contact, {"LastName": "Changed"})
        play.org.update("Contact", contact, {"LastName": "Changed"})
    assert exc.value.error_code == "UNABLE_TO_LOCK_ROW"
