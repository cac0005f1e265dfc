"""Events of the org's people and admins: users, the sync user, conversions, merges, automation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scenarios.errors import ScenarioStepError
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


def test_users_are_added_named_deactivated_and_made_sync_user(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: sf_user_added, as: sam, with: {username: sam@acme.example, last_name: Sam}}
              - {at: +2m, event: sf_user_added, as: kim, with: {username: kim@acme.example}}
              - {at: +3m, event: sync_user_changed, with: {user: sam}}
              - {at: +4m, event: sf_user_deactivated, with: {user: kim@acme.example}}
            """
        )
    )
    with played(path) as play:
        sam, kim = play.ref("sam", "user"), play.ref("kim", "user")
        assert play.settings().sync_user_id == sam
        users = {r["Id"]: r for r in play.org.query("SELECT Id, IsActive, LastName FROM User")}
        audit = play.org.query("SELECT Changed_By__c FROM CMSF_Audit_Log__c")
    assert users[sam]["IsActive"] and users[sam]["LastName"] == "Sam"
    assert not users[kim]["IsActive"]
    assert {"scenario"} <= {r["Changed_By__c"] for r in audit}


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{at: +1m, event: sf_user_deactivated, with: {user: ghost}}", "no user is called 'ghost'"),
        (
            "{at: +1m, event: sync_user_changed, with: {user: nobody@acme.example}}",
            "no user is called 'nobody@acme.example'",
        ),
        ("{at: +1m, event: lead_converted, with: {email: nobody@e.example}}", "no Lead record"),
        (
            "{at: +1m, event: sf_duplicates_merged, with: {object: Contact, "
            "emails: [a@e.example, b@e.example]}}",
            "no Contact has the address a@e.example",
        ),
        ("{at: +1m, event: sf_trigger_removed, with: {name: Nope}}", "no trigger is called"),
        (
            "{at: +1m, event: sf_validation_rule_removed, with: {object: Lead, name: Nope}}",
            "Lead has no validation rule 'Nope'",
        ),
        (
            "{at: +1m, event: sf_user_added, as: rep, with: {username: rep@acme.example}}\n"
            "  - {at: +2m, event: security_owner_set, with: {client: client1, user: rep}}",
            "client1: client .* is not synced yet",
        ),
    ],
    ids=[
        "unknown-user",
        "unknown-username",
        "no-lead",
        "no-contact",
        "no-trigger",
        "no-rule",
        "client-not-synced",
    ],
)
def test_events_on_things_that_do_not_exist_fail_the_step(
    scenario_file: Callable[..., Path], step: str, message: str
) -> None:
    path = scenario_file(tiny(f"timeline:\n  - {step}\n"))
    with pytest.raises(ScenarioStepError, match=message):
        play_scenario(load_scenario(path)).close()


def test_a_deactivated_sync_user_cannot_become_the_sync_user(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: sf_user_added, as: gone, with: {username: gone@acme.example}}
              - {at: +2m, event: sf_user_deactivated, with: {user: gone}}
              - {at: +3m, event: sync_user_changed, with: {user: gone}}
            """
        )
    )
    with pytest.raises(ScenarioStepError, match="no active Salesforce user"):
        play_scenario(load_scenario(path)).close()


def test_security_owner_is_set_on_the_synced_client(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +5m, run: primary_sync}
              - {at: +6m, event: sf_user_added, as: rep, with: {username: rep@acme.example}}
              - {at: +7m, event: security_owner_set, with: {client: client1, user: rep}}
            """
        )
    )
    with played(path) as play:
        [row] = play.org.query("SELECT Security_Owner__c FROM CMSF_Client__c")
        assert row["Security_Owner__c"] == play.ref("rep", "user")


def test_lead_conversion_and_merge_change_the_org(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, with: {list: list1, emails: [lee@c.example], salesforce: lead}}
              - {at: +1m, event: subscribers_added,
                 with: {list: list1, emails: [m@c.example, d1@c.example, d2@c.example], salesforce: contact}}
              - {at: +2m, event: lead_converted, with: {email: lee@c.example}}
              - {at: +3m, event: sf_duplicates_merged,
                 with: {object: Contact, emails: [m@c.example, d1@c.example, d2@c.example]}}
            """
        )
    )
    with played(path) as play:
        [lead] = play.org.query(
            "SELECT IsConverted, ConvertedContactId FROM Lead WHERE Email = 'lee@c.example'"
        )
        left = play.org.query(
            "SELECT Email FROM Contact WHERE Email LIKE '%@c.example' ORDER BY Email"
        )
    assert lead["IsConverted"] and lead["ConvertedContactId"]
    assert [r["Email"] for r in left] == ["lee@c.example", "m@c.example"]


def test_a_lead_converted_twice_fails_the_step(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: subscribers_added, with: {list: list1, emails: [lee@c.example], salesforce: lead}}
              - {at: +2m, event: lead_converted, with: {email: lee@c.example}}
              - {at: +3m, event: lead_converted, with: {email: lee@c.example}}
            """
        )
    )
    with pytest.raises(ScenarioStepError, match="no Lead record"):
        play_scenario(load_scenario(path)).close()


def test_triggers_and_rules_are_removed_by_name(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: sf_trigger_added,
                 with: {object: Contact, name: Blocker, events: [before insert], action: add_error}}
              - {at: +1m, event: sf_validation_rule_added, with: {object: Lead, name: No_Leads, message: No leads today}}
              - {at: +2m, event: sf_trigger_removed, with: {name: Blocker, object: Contact}}
              - {at: +2m, event: sf_validation_rule_removed, with: {object: Lead, name: No_Leads}}
            """
        )
    )
    with played(path) as play:
        assert play.org.insert("Contact", [{"LastName": "Free"}])[0].success
        assert play.org.insert("Lead", [{"LastName": "Free", "Company": "Acme"}])[0].success


def test_a_trigger_enqueueing_a_queueable_per_record_meets_the_queueable_limit(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: sf_trigger_added,
                 with: {object: Contact, name: Notify, events: [after insert], action: enqueue_queueable}}
            """
        )
    )
    with played(path) as play:
        few = play.org.insert("Contact", [{"LastName": f"F{i}"} for i in range(50)])
        many = play.org.insert("Contact", [{"LastName": f"M{i}"} for i in range(51)])
        jobs = play.org.query("SELECT Id, Status FROM AsyncApexJob WHERE JobType = 'Queueable'")
    assert all(r.success for r in few) and len(jobs) == 50
    assert not any(r.success for r in many)
    assert "Too many queueable jobs added to the queue: 51" in many[0].errors[0].message


def test_a_trigger_starting_batch_jobs_fills_the_flex_queue(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny(
            """
            timeline:
              - {at: +1m, event: sf_trigger_added,
                 with: {object: Contact, name: Rollup, events: [after insert], action: enqueue_batch}}
            """
        )
    )
    with played(path) as play:
        for i in range(7):
            assert play.org.insert("Contact", [{"LastName": f"B{i}"}])[0].success
        statuses = sorted(
            r["Status"]
            for r in play.org.query("SELECT Status FROM AsyncApexJob WHERE JobType = 'BatchApex'")
        )
    assert statuses == ["Holding", "Holding", *["Queued"] * 5]
