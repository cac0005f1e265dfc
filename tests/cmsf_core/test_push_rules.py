"""Subscriber rules: the right people are added and unsubscribed, bad rules are messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cmsf_core.push_support import Push, make_push


@pytest.fixture
def push() -> Iterator[Push]:
    world = make_push()
    try:
        yield world
    finally:
        world.world.close()


def test_a_contact_that_starts_meeting_a_rule_is_added_with_its_name(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'")
    push.sync()
    contact = push.contact("wanda@web.example", FirstName="Wanda", LeadSource="Web")
    push.contact("ola@other.example", FirstName="Ola", LeadSource="Phone Inquiry")
    report = push.sync()
    found = push.subscriber(1, "wanda@web.example")
    assert found is not None and found["State"] == "Active" and found["Name"] == "Wanda Wanda"
    assert push.subscriber(1, "ola@other.example") is None
    assert push.subscriber(2, "wanda@web.example") is None
    assert report.stats.pushed["added"] == 1
    assert push.member(1, "wanda@web.example")["Contact__c"] == contact  # the sync mirrors it


def test_a_new_rule_is_applied_to_every_existing_matching_record(push: Push) -> None:
    for n in range(5):
        push.contact(f"early{n}@web.example", LeadSource="Web")
    push.sync()
    assert push.subscriber(1, "early0@web.example") is None  # no rule yet: nothing pushed
    push.rule(1, "LeadSource = 'Web'")
    report = push.sync()
    assert all(push.subscriber(1, f"early{n}@web.example") for n in range(5))
    assert report.stats.pushed["rules applied"] == 1
    imports = [w for w in push.writes() if w["path"].endswith("/import.json")]
    assert len(imports) == 1, "five people, one import"


def test_a_rule_applies_in_batches_of_the_push_limit(push: Push) -> None:
    for n in range(7):
        push.contact(f"batch{n}@web.example", LeadSource="Web")
    push.engine.change_settings({"governor_limits": {"push": 3}})
    push.rule(1, "LeadSource = 'Web'")
    push.sync()
    imports = [w for w in push.writes() if w["path"].endswith("/import.json")]
    assert len(imports) == 3  # 3 + 3 + 1 records
    assert all(push.subscriber(1, f"batch{n}@web.example") for n in range(7))


def test_a_record_that_stops_meeting_an_unsubscribing_rule_is_unsubscribed(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'", unsubscribe=True)
    contact = push.contact("leaver@web.example", LeadSource="Web")
    push.sync()
    push.org.update("Contact", contact, {"LeadSource": "Other"})
    report = push.sync()
    assert push.subscriber(1, "leaver@web.example")["State"] == "Unsubscribed"
    assert report.stats.pushed["unsubscribed"] == 1


def test_without_the_unsubscribe_flag_a_leaver_stays_subscribed(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'")
    contact = push.contact("stayer@web.example", LeadSource="Web")
    push.sync()
    push.org.update("Contact", contact, {"LeadSource": "Other"})
    push.sync()
    assert push.subscriber(1, "stayer@web.example")["State"] == "Active"


def test_someone_never_meeting_an_unsubscribing_rule_is_left_alone(push: Push) -> None:
    member = push.seeded(1)[0]
    push.rule(1, "LeadSource = 'Web'", unsubscribe=True)
    push.sync()
    push.org.update("Contact", member["Contact__c"], {"Title": "Boss", "FirstName": "Renamed"})
    push.sync()
    assert push.subscriber(1, member["Email__c"])["State"] == "Active"


def test_an_edited_rule_unsubscribes_those_it_no_longer_selects(push: Push) -> None:
    rule = push.rule(1, "LeadSource = 'Web' OR LeadSource = 'Other'", unsubscribe=True)
    push.contact("web@web.example", LeadSource="Web")
    push.contact("other@web.example", LeadSource="Other")
    push.sync()
    push.org.update("CMSF_Subscriber_Rule__c", rule, {"Criteria__c": "LeadSource = 'Web'"})
    push.sync()
    assert push.subscriber(1, "web@web.example")["State"] == "Active"
    assert push.subscriber(1, "other@web.example")["State"] == "Unsubscribed"


def test_a_deactivated_rule_unsubscribes_nobody(push: Push) -> None:
    rule = push.rule(1, "LeadSource = 'Web'", unsubscribe=True)
    push.contact("kept@web.example", LeadSource="Web")
    push.sync()
    push.org.update("CMSF_Subscriber_Rule__c", rule, {"Active__c": False})
    push.sync()
    assert push.subscriber(1, "kept@web.example")["State"] == "Active"


def test_a_rule_never_resubscribes_an_unsubscribed_address(push: Push) -> None:
    member = push.seeded(1)[0]
    push.account.change_state(push.list(1)[0], member["Email__c"], "Unsubscribed")
    push.sync()
    push.rule(1, "LeadSource = 'Web'")
    push.org.update("Contact", member["Contact__c"], {"LeadSource": "Web"})
    push.sync()
    assert push.subscriber(1, member["Email__c"])["State"] == "Unsubscribed"


def test_an_opted_out_person_is_not_added_by_a_rule(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'")
    push.contact("quiet@web.example", LeadSource="Web", HasOptedOutOfEmail=True)
    report = push.sync()
    assert push.subscriber(1, "quiet@web.example") is None
    assert report.stats.pushed["kept out (opted out)"] >= 1


def test_lead_rules_add_leads(push: Push) -> None:
    push.rule(2, "Company = 'Acme'", sobject="Lead")
    push.org.insert("Lead", [{"LastName": "Lead", "Company": "Acme", "Email": "lead@acme.example"}])
    push.sync()
    assert push.subscriber(2, "lead@acme.example")["State"] == "Active"


@pytest.mark.parametrize(
    ("criteria", "why"),
    [
        ("NoSuchField__c = 1", "Salesforce refused"),
        ("LeadSource = 'Web') OR (Id != null", "close a parenthesis"),
        ("LeadSource = 'Web'; DELETE", "';'"),
        ("LeadSource = 'Web", "not closed"),
        ("", "empty"),
        ("Email != null AND " * 400 + "Email != null", "longer than"),
    ],
    ids=["unknown-field", "breaks-out", "semicolon", "open-string", "empty", "oversized"],
)
def test_invalid_criteria_are_a_message_naming_the_rule_never_a_failed_run(
    push: Push, criteria: str, why: str
) -> None:
    push.rule(1, criteria, name="Broken rule")
    push.rule(2, "LeadSource = 'Web'", name="Good rule")
    push.contact("good@web.example", LeadSource="Web")
    report = push.sync()
    messages = [m for m in report.messages if m.code == "CMSF-RULE-INVALID"]
    assert len(messages) == 1
    text = "\n".join(messages[0].details)
    assert "Broken rule" in text and why in text and "Good rule" not in text
    assert push.subscriber(2, "good@web.example") is not None
    assert [w for w in push.writes() if push.list(1)[0] in w["path"]] == []


def test_a_rule_fixed_later_is_applied_then(push: Push) -> None:
    rule = push.rule(1, "NoSuchField__c = 1")
    push.contact("later@web.example", LeadSource="Web")
    push.sync()
    push.org.update("CMSF_Subscriber_Rule__c", rule, {"Criteria__c": "LeadSource = 'Web'"})
    report = push.sync()
    assert push.subscriber(1, "later@web.example") is not None
    assert not [m for m in report.messages if m.code == "CMSF-RULE-INVALID"]
