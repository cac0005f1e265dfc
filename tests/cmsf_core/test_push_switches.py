"""The trigger switches stop what they say, and the journey and account options do what they say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cmsf_core.clock import VirtualClock
from tests.cmsf_core.push_support import Push, make_push


@pytest.fixture
def push() -> Iterator[Push]:
    world = make_push({"opt_out_sync": True})
    try:
        yield world
    finally:
        world.world.close()


def test_disabled_triggers_push_nothing_and_changes_meanwhile_are_never_pushed(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'")
    push.sync()
    push.engine.set_bulk_actions("ALL_ACTIONS", True)
    push.contact("during@web.example", LeadSource="Web")
    report = push.sync()
    assert report.calls["campaign_monitor_writes"] == 0
    assert push.subscriber(1, "during@web.example") is None
    jobs = {row["job"]: row["status"] for row in report.jobs}
    assert jobs["change_capture"] == "completed" and jobs["push"] == "skipped"
    push.engine.set_bulk_actions("ALL_ACTIONS", False)
    push.contact("after@web.example", LeadSource="Web")
    push.sync()
    assert push.subscriber(1, "after@web.example") is not None
    assert push.subscriber(1, "during@web.example") is None  # never pushed


def test_disabled_triggers_also_hold_new_rules_back(push: Push) -> None:
    push.contact("held@web.example", LeadSource="Web")
    push.engine.change_settings({"disable_triggers": True})
    push.rule(1, "LeadSource = 'Web'")
    push.sync()
    assert push.subscriber(1, "held@web.example") is None
    push.engine.change_settings({"disable_triggers": False})
    push.sync()
    assert push.subscriber(1, "held@web.example") is not None  # the rule is new to the engine


def test_disabled_bulk_triggers_push_only_the_first_record_of_a_bulk_change(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'")
    push.sync()
    push.engine.set_bulk_actions("BULK_ACTIONS", True)
    ids = [r.id for r in push.org.insert(
        "Contact", [{"LastName": f"Bulk{n}", "Email": f"bulk{n}@web.example", "LeadSource": "Web"} for n in range(3)]
    )]  # fmt: skip
    push.clock.advance(minutes=1)
    push.contact("single@web.example", LeadSource="Web")
    report = push.sync()
    first = sorted(ids)[0]
    added = {
        f"bulk{n}@web.example"
        for n in range(3)
        if push.subscriber(1, f"bulk{n}@web.example") is not None
    }
    email = push.org.get("Contact", first)["Email"]
    assert added == {email}
    assert push.subscriber(1, "single@web.example") is not None
    assert report.stats.pushed["skipped (bulk change)"] == 2


def test_with_bulk_triggers_on_a_bulk_change_is_pushed_whole(push: Push) -> None:
    push.rule(1, "LeadSource = 'Web'")
    push.sync()
    push.org.insert(
        "Contact", [{"LastName": f"B{n}", "Email": f"whole{n}@web.example", "LeadSource": "Web"} for n in range(3)]
    )  # fmt: skip
    push.sync()
    assert all(push.subscriber(1, f"whole{n}@web.example") for n in range(3))


@pytest.mark.parametrize("journeys", [True, False], ids=["journeys-on", "journeys-off"])
def test_trigger_journeys_decides_whether_joins_a_list_journeys_start(journeys: bool) -> None:
    push = make_push({"trigger_journeys": journeys})
    try:
        journey = push.account.create_journey(push.list(1)[0], "Welcome", [("Hello", 0)])
        push.rule(1, "LeadSource = 'Web'")
        push.contact("traveller@web.example", LeadSource="Web")
        push.sync()
        with push.account.client() as http:
            emails = http.get(f"/journeys/{journey}.json").json()["Emails"]
            recipients = http.get(f"/journeys/email/{emails[0]['EmailID']}/recipients.json").json()
        sent = [r["EmailAddress"] for r in recipients["Results"]]
        assert ("traveller@web.example" in sent) is journeys
    finally:
        push.world.close()


@pytest.mark.parametrize("on", [True, False], ids=["account-triggers-on", "account-triggers-off"])
def test_account_changes_reevaluate_their_contacts_only_with_account_triggers(on: bool) -> None:
    push = make_push({"account_triggers": on})
    try:
        account = push.org.create("Account", {"Name": "Acme", "Industry": "Retail"})
        push.contact("staff@acme.example", AccountId=account)
        push.rule(1, "Account.Industry = 'Technology'")
        push.sync()
        assert push.subscriber(1, "staff@acme.example") is None
        push.org.update("Account", account, {"Industry": "Technology"})
        push.sync()
        assert (push.subscriber(1, "staff@acme.example") is not None) is on
    finally:
        push.world.close()


def test_the_switches_are_read_from_the_org_every_run() -> None:
    push = make_push()
    try:
        clock: VirtualClock = push.clock
        push.rule(1, "LeadSource = 'Web'")
        push.sync()
        push.engine.change_settings({"disable_triggers": True})
        push.contact("a@web.example", LeadSource="Web")
        clock.advance(minutes=5)
        push.engine.change_settings({"disable_triggers": False})
        push.contact("b@web.example", LeadSource="Web")
        push.sync()
        # Both were created before the run; the setting at run time decides: pushed.
        assert push.subscriber(1, "a@web.example") and push.subscriber(1, "b@web.example")
    finally:
        push.world.close()


def test_items_left_pending_past_the_retention_are_removed_with_a_message(push: Push) -> None:
    member = push.seeded(1)[0]
    push.engine.set_bulk_actions("ALL_ACTIONS", True)
    push.org.insert(
        "CMSF_Queue_Item__c", [{"Type__c": "Record Change", "Record_Id__c": member["Contact__c"]}]
    )
    push.sync()
    assert push.org.count("CMSF_Queue_Item__c") == 1  # waits while triggers are off
    push.clock.advance(days=3)
    report = push.sync()
    assert push.org.count("CMSF_Queue_Item__c") == 0
    message = next(m for m in report.messages if m.code == "CMSF-QUEUE-EXPIRED")
    assert message.summary.startswith("1 queue item(s) older than 2 day(s)")
