"""Record changes reach Campaign Monitor once: mapped fields, email changes, opt-outs, SMS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.cmsf_core.push_support import Push, make_push


@pytest.fixture
def push() -> Iterator[Push]:
    world = make_push({"sms_enabled": True, "sms_country": "US", "opt_out_sync": True})
    try:
        yield world
    finally:
        world.world.close()


def _linked_on_both(push: Push) -> dict[str, str]:
    """A Contact subscribed (Active) to both lists: its email and Id."""
    second = {m["Email__c"]: m for m in push.seeded(2)}
    for member in push.seeded(1):
        if member["Email__c"] in second:
            return {"email": member["Email__c"], "id": member["Contact__c"]}
    email = push.seeded(1)[0]["Email__c"]
    push.account.add_subscriber_at(push.list(2)[0], email, "Both Lists")
    push.sync()
    return {"email": email, "id": push.seeded(1)[0]["Contact__c"]}


def test_a_mapped_field_change_updates_every_list_the_person_is_on(push: Push) -> None:
    person = _linked_on_both(push)
    push.mapping(1, "Title", "website")
    push.mapping(2, "Title", "website")
    push.sync()
    before = len(push.writes())
    push.org.update("Contact", person["id"], {"Title": "https://example.org/ceo"})
    report = push.sync()
    assert push.fields(1, person["email"])["website"] == ["https://example.org/ceo"]
    assert push.fields(2, person["email"])["website"] == ["https://example.org/ceo"]
    assert len(push.writes()) - before == 2, "one import per list"
    assert report.calls["campaign_monitor_writes"] == 2
    push.sync()
    assert len(push.writes()) - before == 2, "nothing is sent twice"


@pytest.mark.parametrize(
    ("sf_field", "value", "cm_field", "expected"),
    [
        ("Birthdate", "1984-02-29", "subscription date", ["1984-02-29"]),
        ("Description", "news;events", "interests", ["news", "events"]),
        ("Department", "42.0", "age", ["42"]),
    ],
    ids=["date", "multi-select", "number"],
)
def test_values_are_converted_to_the_list_field_type(
    push: Push, sf_field: str, value: str, cm_field: str, expected: list[str]
) -> None:
    person = _linked_on_both(push)
    push.mapping(1, sf_field, cm_field)
    push.sync()
    push.org.update("Contact", person["id"], {sf_field: value})
    push.sync()
    assert sorted(push.fields(1, person["email"])[cm_field]) == sorted(expected)


def test_a_value_that_does_not_fit_is_a_message_for_that_record_only(push: Push) -> None:
    members = push.seeded(1)
    push.mapping(1, "Department", "age")
    push.mapping(1, "Title", "website")
    push.sync()
    push.org.update("Contact", members[0]["Contact__c"], {"Department": "many", "Title": "t1"})
    push.org.update("Contact", members[1]["Contact__c"], {"Department": "7", "Title": "t2"})
    report = push.sync()
    assert push.fields(1, members[0]["Email__c"])["website"] == ["t1"]  # the rest still went
    assert push.fields(1, members[1]["Email__c"])["age"] == ["7"]
    message = next(m for m in report.messages if m.code == "CMSF-PUSH-VALUE")
    assert members[0]["Contact__c"] in message.detail and "not a number" in message.detail
    assert members[1]["Contact__c"] not in message.detail
    failed = push.org.query(
        "SELECT Record_Id__c, Error__c FROM CMSF_Queue_Item__c WHERE Status__c = 'Failed'"
    )
    assert [r["Record_Id__c"] for r in failed] == [members[0]["Contact__c"]]


def test_an_email_change_renames_the_subscriber_in_place(push: Push) -> None:
    person = _linked_on_both(push)
    joined = push.subscriber(1, person["email"])["ListJoinedDate"]
    push.org.update("Contact", person["id"], {"Email": "moved@new.example"})
    report = push.sync()
    assert push.subscriber(1, person["email"]) is None
    moved = push.subscriber(1, "moved@new.example")
    assert moved["State"] == "Active" and moved["ListJoinedDate"] == joined  # history kept
    assert push.subscriber(2, "moved@new.example") is not None
    renames = [w for w in push.writes() if w["method"] == "PUT"]
    assert len(renames) == 2 and report.stats.pushed["renamed"] == 2
    member = push.member(1, "moved@new.example")
    assert member["Contact__c"] == person["id"]
    assert member["CM_Id__c"] == f"{push.list(1)[0]}:moved@new.example"
    assert push.member(1, person["email"]) is None
    push.clock.advance(days=2)  # past the reconciliation period: nothing reappears
    push.sync()
    assert push.member(1, "moved@new.example")["Contact__c"] == person["id"]
    assert push.member(1, person["email"]) is None
    assert len([w for w in push.writes() if w["method"] == "PUT"]) == 2


def test_an_email_change_to_an_address_the_list_has_is_a_message(push: Push) -> None:
    first, second = push.seeded(1)[:2]
    push.org.update("Contact", first["Contact__c"], {"Email": second["Email__c"]})
    report = push.sync()
    assert push.subscriber(1, first["Email__c"])["State"] == "Active"  # left as it was
    assert any(m.code == "CMSF-PUSH-RENAME" for m in report.messages)


def test_an_opt_out_unsubscribes_from_every_list_and_deletes_nothing(push: Push) -> None:
    person = _linked_on_both(push)
    push.org.update("Contact", person["id"], {"HasOptedOutOfEmail": True})
    push.sync()
    assert push.subscriber(1, person["email"])["State"] == "Unsubscribed"
    assert push.subscriber(2, person["email"])["State"] == "Unsubscribed"
    assert not [w for w in push.writes() if w["method"] == "DELETE"]


def test_with_the_opt_out_option_off_an_opt_out_changes_nothing() -> None:
    push = make_push({"opt_out_sync": False})
    try:
        member = push.seeded(1)[0]
        push.org.update("Contact", member["Contact__c"], {"HasOptedOutOfEmail": True})
        push.sync()
        assert push.subscriber(1, member["Email__c"])["State"] == "Active"
        assert push.writes() == []
    finally:
        push.world.close()


def test_the_primary_sync_own_opt_outs_never_come_back_as_pushes(push: Push) -> None:
    person = _linked_on_both(push)
    for index in (1, 2):
        push.account.change_state(push.list(index)[0], person["email"], "Unsubscribed")
    push.sync()  # the primary sync opts the Contact out in Salesforce
    contact = push.org.get("Contact", person["id"])
    assert contact["HasOptedOutOfEmail"] is True
    before = len(push.writes())
    report = push.sync()  # its own write is in this run's capture window
    assert len(push.writes()) == before
    assert report.stats.pushed.get("changes queued", 0) == 0
    assert push.org.count("CMSF_Queue_Item__c") == 0


def test_contacts_made_by_the_create_rule_are_not_pushed_back() -> None:
    push = make_push({"opt_out_sync": True})
    try:
        cm_id, sf_id = push.list(1)
        push.org.update("CMSF_List__c", sf_id, {"Create_Rule__c": "Contact"})
        push.mapping(1, "Title", "website")
        push.rule(1, "Email != null")  # they meet a rule of the very list they came from
        push.sync()
        writes = len(push.writes())
        for n in range(3):
            push.account.add_subscriber_at(
                cm_id, f"fresh{n}@new.example", f"Fresh {n}",
                custom_fields=[{"Key": "website", "Value": f"w{n}"}],
            )  # fmt: skip
        push.sync()
        assert len(push.org.query("SELECT Id FROM Contact WHERE Email LIKE 'fresh%'")) == 3
        push.sync()
        push.sync()
        assert len(push.writes()) == writes
    finally:
        push.world.close()


def test_mobile_numbers_arrive_in_e164_and_bad_ones_are_a_message(push: Push) -> None:
    members = push.seeded(1)
    push.mapping(1, "MobilePhone", "MobileNumber")
    push.mapping(1, "DoNotCall", "ConsentToSendSms")
    push.sync()
    push.org.update("Contact", members[0]["Contact__c"], {"MobilePhone": "(555) 555-1234"})
    push.org.update(
        "Contact", members[1]["Contact__c"], {"MobilePhone": "12", "Title": "x", "DoNotCall": True}
    )
    report = push.sync()
    assert push.subscriber(1, members[0]["Email__c"])["MobileNumber"] == "+15555551234"
    second = push.subscriber(1, members[1]["Email__c"])
    assert second["MobileNumber"] in ("", None) and second["ConsentToSendSms"] == "Yes"
    message = next(m for m in report.messages if m.code == "CMSF-SMS-INVALID")
    assert members[1]["Contact__c"] in message.detail and "12" not in message.summary


def test_sms_mappings_are_ignored_while_sms_is_off() -> None:
    push = make_push({"sms_enabled": False})
    try:
        member = push.seeded(1)[0]
        push.mapping(1, "MobilePhone", "MobileNumber")
        report = push.sync()
        assert any(m.code == "CMSF-SMS-OFF" for m in report.messages)
        push.org.update("Contact", member["Contact__c"], {"MobilePhone": "(555) 555-1234"})
        push.sync()
        assert push.subscriber(1, member["Email__c"]).get("MobileNumber") in ("", None)
    finally:
        push.world.close()


def test_a_deleted_contact_leaves_campaign_monitor_alone_and_unlinks(push: Push) -> None:
    member = push.seeded(1)[0]
    push.mapping(1, "Title", "website")
    push.sync()
    before = len(push.writes())
    push.org.delete([member["Contact__c"]])
    push.sync()
    assert len(push.writes()) == before
    assert push.subscriber(1, member["Email__c"])["State"] == "Active"
    assert push.member(1, member["Email__c"])["Contact__c"] is None


def test_a_queue_item_inserted_by_a_flow_is_processed(push: Push) -> None:
    member = push.seeded(1)[0]
    push.mapping(1, "Title", "website")
    push.sync()
    push.org.update("Contact", member["Contact__c"], {"Title": "from a flow"})
    push.engine.set_bulk_actions("ALL_ACTIONS", True)  # our capture is off...
    push.sync()
    push.engine.set_bulk_actions("ALL_ACTIONS", False)
    push.org.insert(
        "CMSF_Queue_Item__c",
        [
            {"Type__c": "Record Change", "Record_Id__c": member["Contact__c"]},
            {"Type__c": "Record Change", "Record_Id__c": "not-an-id"},
        ],
    )  # ...and a Flow asks for the push
    push.sync()
    assert push.fields(1, member["Email__c"])["website"] == ["from a flow"]
    states = {
        r["Record_Id__c"]: (r["Status__c"], r["Error__c"])
        for r in push.org.query("SELECT Record_Id__c, Status__c, Error__c FROM CMSF_Queue_Item__c")
    }
    assert states[member["Contact__c"]] == ("Done", None)
    assert states["not-an-id"][0] == "Failed" and "not the Id" in states["not-an-id"][1]


def test_a_quiet_run_reads_once_and_writes_nothing(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'")
    push.mapping(1, "Title", "website")
    push.contact("quiet@web.example", LeadSource="Web")
    push.sync()
    push.sync()
    before = len(push.writes())
    report = push.sync()
    calls = push.engine.journal.calls(report.run.run_id)
    push_calls = sum(
        calls.get(job, {}).get("salesforce", 0)
        for job in ("change_capture", "subscriber_rules", "push")
    )
    assert push_calls <= 2, calls  # the batch of reads (and the directory of clients)
    assert report.calls["campaign_monitor_writes"] == 0 and len(push.writes()) == before


@pytest.mark.parametrize(
    "payload",
    ["not json", '{"changed": 5, "previous_email": 7}', "[1, 2]", "{" * 5000],
    ids=["text", "wrong-types", "array", "deep"],
)
def test_a_queue_item_with_a_hostile_payload_is_processed_in_full(push: Push, payload: str) -> None:
    member = push.seeded(1)[0]
    push.mapping(1, "Title", "website")
    push.sync()
    push.engine.set_bulk_actions("ALL_ACTIONS", True)
    push.org.update("Contact", member["Contact__c"], {"Title": "from a flow"})
    push.sync()
    push.engine.set_bulk_actions("ALL_ACTIONS", False)
    push.org.insert(
        "CMSF_Queue_Item__c",
        [{"Type__c": "Record Change", "Record_Id__c": member["Contact__c"], "Payload__c": payload}],
    )
    push.sync()
    assert push.fields(1, member["Email__c"])["website"] == ["from a flow"]


def test_a_campaign_monitor_outage_fails_the_push_and_the_next_run_sends_once(push: Push) -> None:
    member = push.seeded(1)[0]
    push.mapping(1, "Title", "website")
    push.sync()
    push.org.update("Contact", member["Contact__c"], {"Title": "after the outage"})
    push.account.start_outage(
        "import", status=503, until=push.clock.now() + timedelta(hours=1, minutes=30)
    )
    failed = push.sync(status="failed")
    assert any(m.code == "CMSF-CM-DOWN" for m in failed.messages)
    assert push.fields(1, member["Email__c"])["website"] != ["after the outage"]
    push.clock.advance(hours=1)
    push.sync()
    assert push.fields(1, member["Email__c"])["website"] == ["after the outage"]
    imports = [w for w in push.writes() if w["path"].endswith("/import.json") and w["status"] < 300]
    assert len(imports) == 1


def test_campaign_monitor_validation_codes_become_messages_and_failed_items(push: Push) -> None:
    members = push.seeded(1)
    push.account.create_custom_field(push.list(1)[0], "country", "Country")
    push.sync()  # the list's new field reaches Salesforce
    push.mapping(1, "MailingCountry", "country")
    push.mapping(1, "DoNotCall", "ConsentToTrack")
    push.sync()
    push.org.update("Contact", members[0]["Contact__c"], {"MailingCountry": "Atlantis"})
    push.org.update(
        "Contact", members[1]["Contact__c"], {"MailingCountry": "Australia", "DoNotCall": True}
    )
    report = push.sync()
    message = next(m for m in report.messages if m.code == "CMSF-PUSH-REFUSED")
    assert members[0]["Contact__c"] in message.detail and "Code 216" in message.detail
    assert members[1]["Contact__c"] not in message.detail
    second = push.subscriber(1, members[1]["Email__c"])
    assert push.fields(1, members[1]["Email__c"])["country"] == ["Australia"]
    assert second["ConsentToTrack"] == "Yes"
    failed = push.org.query(
        "SELECT Record_Id__c, Error__c FROM CMSF_Queue_Item__c WHERE Status__c = 'Failed'"
    )
    assert [r["Record_Id__c"] for r in failed] == [members[0]["Contact__c"]]
    assert "216" in failed[0]["Error__c"]
