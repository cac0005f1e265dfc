"""Maintenance messages are stored once per run and code, and mailed to the notification address."""

from __future__ import annotations

from datetime import timedelta

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.world import World


def test_new_messages_are_mailed_through_the_org(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"notification_email": "ops@acme.example"})
    engine.sync()
    world.account.delete_list(world.summary["lists"][0])
    clock.advance(hours=1)
    engine.sync()
    [mail] = world.org.control.outbox
    assert mail["to"] == ["ops@acme.example"]
    assert "deleted in Campaign Monitor" in mail["subject"]
    assert "CMSF-LIST-GONE" in mail["body"]
    [stored] = world.org.query(
        "SELECT Notified__c, Severity__c, Job__c FROM CMSF_Maintenance_Message__c"
    )
    assert stored["Notified__c"] is True and stored["Job__c"] == "configuration"


def test_repeats_are_folded_into_one_message(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    for list_id in world.summary["lists"][:2]:
        world.account.delete_list(list_id)
    clock.advance(hours=1)
    report = engine.sync()
    [message] = report.messages
    assert message.occurrences == 2
    [stored] = world.org.query("SELECT Occurrences__c FROM CMSF_Maintenance_Message__c")
    assert stored["Occurrences__c"] == 2
    assert world.org.control.outbox == []  # no address configured


def test_suppression_list_is_mirrored_both_ways(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    client = world.summary["clients"][0]
    world.account.suppress_at(client, "blocked@suppr.example")
    engine.sync()
    keys = {r["CM_Id__c"] for r in world.org.query("SELECT CM_Id__c FROM CMSF_Suppression__c")}
    assert f"{client}:blocked@suppr.example" in keys
    world.account.unsuppress_at(client, "blocked@suppr.example")
    clock.advance(hours=1)
    engine.sync()
    keys = {r["CM_Id__c"] for r in world.org.query("SELECT CM_Id__c FROM CMSF_Suppression__c")}
    assert f"{client}:blocked@suppr.example" not in keys


def test_a_message_salesforce_refuses_is_kept_for_the_summary(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    world.org.control.make_read_only("CMSF_Maintenance_Message__c", "Detail__c")
    world.account.delete_list(world.summary["lists"][0])
    clock.advance(hours=1)
    report = engine.sync()
    assert [m.code for m in report.messages] == ["CMSF-LIST-GONE"]
    assert report.messages[0].record_id is None
    assert world.org.query("SELECT Id FROM CMSF_Maintenance_Message__c") == []


def test_one_scanner_message_per_campaign_and_domain(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    """Messages about different things (a topic) are not folded into one."""
    list_id = world.summary["lists"][1]
    for domain in ("one.example", "two.example"):
        for i in range(3):
            world.account.add_subscriber_at(list_id, f"p{i}@{domain}")
        world.account.register_link_scanner(domain)
    world.account.use_activity_model(None)
    world.account.send_campaign_now([list_id], name="Twice scanned", links=["https://a.example"])
    clock.advance(hours=1)
    report = engine.sync()
    scanner = sorted(m.summary for m in report.messages if m.code == "CMSF-SCANNER")
    assert len(scanner) == 2
    assert scanner[0].startswith("3 unsubscribes from one.example")
    assert scanner[1].startswith("3 unsubscribes from two.example")
    stored = world.org.query(
        "SELECT Occurrences__c FROM CMSF_Maintenance_Message__c WHERE Support_Code__c = 'CMSF-SCANNER'"
    )
    assert [row["Occurrences__c"] for row in stored] == [1, 1]


def test_new_errors_ring_the_sync_users_bell(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    world.account.delete_list(world.summary["lists"][0])
    clock.advance(hours=1)
    engine.sync()
    assert world.org.control.notifications == []  # CMSF-LIST-GONE is a Warning
    clock.advance(hours=1)
    world.account.start_outage(until=clock.now() + timedelta(hours=2))
    assert engine.sync().status == "failed"
    [bell] = world.org.control.notifications
    [message] = world.org.query(
        "SELECT Id FROM CMSF_Maintenance_Message__c WHERE Severity__c = 'Error'"
    )
    assert bell["recipients"] == [world.org.running_user_id]
    assert bell["target_id"] == message["Id"] and "Campaign Monitor" in bell["title"]
    [kind] = world.org.query("SELECT Id FROM CustomNotificationType")
    assert bell["type_id"] == kind["Id"]


def test_custom_notification_action_checks_its_inputs(world: World) -> None:
    import pytest
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    [kind] = world.org.query("SELECT Id FROM CustomNotificationType")
    good = {"customNotifTypeId": kind["Id"], "recipientIds": [world.org.running_user_id],
            "title": "t", "body": "b", "targetId": world.org.running_user_id}  # fmt: skip
    bad = [
        {**good, "title": "x" * 251},
        {**good, "recipientIds": ["005000000000000AAA"]},
        {**good, "customNotifTypeId": "0ML000000000000AAA"},
        {k: v for k, v in good.items() if k != "targetId"},
        {**good, "recipientIds": "not a list"},
        "not an object",
    ]
    with world.org.activate() as sf:
        answers = sf.restful(
            "actions/standard/customNotificationAction", method="POST",
            json={"inputs": [good, *bad]},
        )  # fmt: skip
        with pytest.raises(SalesforceMalformedRequest):
            sf.restful("actions/standard/customNotificationAction", method="POST", json={})
    assert [a["isSuccess"] for a in answers] == [True] + [False] * len(bad)
    codes = [a["errors"][0]["statusCode"] for a in answers[1:]]
    assert codes == ["STRING_TOO_LONG", "INVALID_ID_FIELD", "INVALID_ID_FIELD",
                     "REQUIRED_FIELD_MISSING", "INVALID_API_INPUT", "INVALID_API_INPUT"]  # fmt: skip
    assert len(world.org.control.notifications) == 1
