"""Link-scanner detection in the primary sync: flags, memberships, opt-out protection, messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cmsf_core.clock import VirtualClock, parse_instant
from cmsf_core.engine import Engine
from cmsf_core.jobs.context import CampaignInfo, ClientInfo
from cmsf_core.jobs.scanner_watch import ScannerWatch
from cmsf_core.runtime import RunReport
from scenarios.world import World

LINKS = ["https://offer.example/1", "https://offer.example/2", "https://offer.example/3"]


def lists_by_setting(world: World) -> dict[str, str]:
    """The first client's lists: ``AllClientLists`` and ``OnlyThisList`` list ids."""
    first, second = world.summary["lists"][:2]
    return {str(world.account.list_row(lid)["unsubscribe_setting"]): lid for lid in (first, second)}


def subscribe(world: World, list_ids: list[str], emails: list[str]) -> dict[str, str]:
    """Subscribe new Contacts; returns Contact Ids by email."""
    ids = {}
    for email in emails:
        for list_id in list_ids:
            world.account.add_subscriber_at(list_id, email, "Staff Member")
        ids[email] = world.org.create("Contact", {"LastName": "Member", "Email": email})
    return ids


def scan(world: World, list_id: str, domain: str, **knobs: Any) -> str:
    """Send a campaign to ``list_id`` while a link scanner guards ``domain`` (no human activity)."""
    account = world.account
    previous = account.activity_model
    account.use_activity_model(None)
    account.register_link_scanner(domain, **knobs)
    try:
        return account.send_campaign_now([list_id], name="Scanned", links=LINKS)
    finally:
        account.clear_link_scanners()
        account.use_activity_model(previous)


def opted_out(world: World, contact_id: str) -> bool:
    return bool(world.org.get("Contact", contact_id)["HasOptedOutOfEmail"])


def rows(world: World, soql: str) -> list[dict[str, Any]]:
    with world.org.activate() as sf:
        return list(sf.query_all(soql)["records"])


def codes(report: RunReport) -> list[str]:
    return [m.code for m in report.messages]


def test_scanner_unsubscribes_are_flagged_on_history_and_memberships(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = lists_by_setting(world)["OnlyThisList"]
    staff = [f"s{i}@gateway.example" for i in range(4)]
    subscribe(world, [list_id], staff)
    engine.sync()
    scan(world, list_id, "gateway.example")
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed"
    history = rows(
        world,
        "SELECT Suspected_Scanner__c, Scanner_Score__c, Scanner_Reasons__c FROM "
        "CMSF_Email_Activity__c WHERE Activity_Type__c = 'Unsubscribe' "
        "AND Email__c LIKE '%@gateway.example'",
    )
    assert len(history) == 4
    assert all(r["Suspected_Scanner__c"] and r["Scanner_Score__c"] >= 60 for r in history)
    assert all(
        "one of 4 unsubscribes from gateway.example" in r["Scanner_Reasons__c"] for r in history
    )
    members = rows(
        world,
        "SELECT State__c, Suspected_Scanner__c FROM CMSF_List_Member__c "
        "WHERE Email__c LIKE '%@gateway.example'",
    )
    assert [(m["State__c"], m["Suspected_Scanner__c"]) for m in members] == [("Active", True)] * 4
    scanner = [m for m in report.messages if m.code == "CMSF-SCANNER"]
    assert len(scanner) == 1 and "4 unsubscribes from gateway.example" in scanner[0].summary
    assert "turn on two-click unsubscribe" in scanner[0].summary


def test_a_quiet_sync_after_detection_writes_nothing(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = lists_by_setting(world)["OnlyThisList"]
    subscribe(world, [list_id], [f"q{i}@gateway.example" for i in range(3)])
    scan(world, list_id, "gateway.example")
    clock.advance(hours=1)
    engine.sync()
    clock.advance(hours=1)
    quiet = engine.sync()
    assert sum(quiet.stats.written.values()) == 0
    assert "CMSF-SCANNER" not in codes(quiet)


def test_protection_keeps_people_a_scanner_unsubscribed_from_every_list_opted_in(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    lists = lists_by_setting(world)
    staff = ["ann@gateway.example", "bob@gateway.example", "cy@gateway.example"]
    contacts = subscribe(world, [lists["AllClientLists"], lists["OnlyThisList"]], staff)
    engine.change_settings({"scanner_protection": True})
    engine.sync()
    scan(world, lists["AllClientLists"], "gateway.example", resubscribe_rate=0.0)
    clock.advance(hours=1)
    engine.sync()
    members = rows(
        world,
        "SELECT State__c, Suspected_Scanner__c FROM CMSF_List_Member__c "
        "WHERE Email__c LIKE '%@gateway.example'",
    )
    assert len(members) == 6  # both lists: the AllClientLists unsubscribe left both
    assert all(m["State__c"] == "Unsubscribed" and m["Suspected_Scanner__c"] for m in members)
    assert not any(opted_out(world, c) for c in contacts.values())
    engine.change_settings({"scanner_protection": False})
    clock.advance(hours=1)
    engine.sync()  # switching it off judges every membership again
    assert all(opted_out(world, c) for c in contacts.values())


def test_a_later_state_change_clears_the_scanner_flag_and_opts_out(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = lists_by_setting(world)["OnlyThisList"]
    staff = ["dee@gateway.example", "eli@gateway.example", "fox@gateway.example"]
    contacts = subscribe(world, [list_id], staff)
    engine.change_settings({"scanner_protection": True})
    scan(world, list_id, "gateway.example", resubscribe_rate=0.0)
    clock.advance(hours=1)
    engine.sync()
    assert not opted_out(world, contacts["dee@gateway.example"])
    # Dee asks to come back, then unsubscribes herself through the preference centre.
    world.account.change_state(list_id, "dee@gateway.example", "Active")
    clock.advance(minutes=20)
    world.account.change_state(list_id, "dee@gateway.example", "Unsubscribed", apply_rules=False)
    clock.advance(hours=1)
    engine.sync()
    flags = {
        r["Email__c"]: r["Suspected_Scanner__c"]
        for r in rows(
            world,
            "SELECT Email__c, Suspected_Scanner__c FROM CMSF_List_Member__c "
            "WHERE Email__c LIKE '%@gateway.example'",
        )
    }
    assert flags == {
        "dee@gateway.example": False,
        "eli@gateway.example": True,
        "fox@gateway.example": True,
    }
    assert opted_out(world, contacts["dee@gateway.example"])
    assert not opted_out(world, contacts["eli@gateway.example"])


def test_a_burst_split_over_pages_and_batches_is_judged_whole(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"governor_limits": {"tracking_history": 2, "cm_page_size": 10}})
    list_id = lists_by_setting(world)["OnlyThisList"]
    subscribe(world, [list_id], [f"b{i}@gateway.example" for i in range(25)])
    scan(world, list_id, "gateway.example", spread_seconds=50, resubscribe_rate=0.0)
    clock.advance(hours=1)
    engine.sync()
    reasons = [
        r["Scanner_Reasons__c"]
        for r in rows(
            world,
            "SELECT Scanner_Reasons__c FROM CMSF_Email_Activity__c "
            "WHERE Activity_Type__c = 'Unsubscribe' AND Email__c LIKE '%@gateway.example'",
        )
    ]
    assert len(reasons) == 25  # read 10 to a page, written 2 to a batch
    assert all("one of 25 unsubscribes from gateway.example" in r for r in reasons)


def test_a_burst_split_by_a_run_counts_its_earlier_part(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = lists_by_setting(world)["OnlyThisList"]
    subscribe(world, [list_id], [f"r{i}@gateway.example" for i in range(12)])
    scan(world, list_id, "gateway.example", spread_seconds=240, resubscribe_rate=0.0)
    clock.advance(seconds=150)
    engine.sync()  # in the middle of the burst
    between = clock.now()
    clock.advance(hours=1)
    engine.sync()
    history = [
        (
            parse_instant(r["Activity_Date__c"]),
            parse_instant(r["CreatedDate"]),
            r["Scanner_Reasons__c"],
        )
        for r in rows(
            world,
            "SELECT Activity_Date__c, CreatedDate, Scanner_Reasons__c FROM CMSF_Email_Activity__c "
            "WHERE Activity_Type__c = 'Unsubscribe' AND Email__c LIKE '%@gateway.example' "
            "ORDER BY Activity_Date__c",
        )
    ]
    assert len(history) == 12  # each unsubscribe written once
    later = [h for h in history if h[1] > between]
    assert later and len(later) < 12
    first_later, _, reasons = later[0]
    near = sum(1 for at, _, _ in history if abs(at - first_later) <= timedelta(minutes=2))
    assert f"one of {near} unsubscribes from gateway.example" in reasons
    assert near > sum(1 for at, _, _ in later if abs(at - first_later) <= timedelta(minutes=2))


def test_a_late_unsubscribe_by_hand_needs_no_extra_reads(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = lists_by_setting(world)["OnlyThisList"]
    contacts = subscribe(world, [list_id], ["pat@home.example"])
    engine.change_settings({"scanner_protection": True})
    account = world.account
    previous = account.activity_model
    account.use_activity_model(None)
    campaign = account.send_campaign_now([list_id], name="Read later", links=LINKS)
    account.use_activity_model(previous)
    clock.advance(hours=5)
    account.unsubscribe_through_campaign(campaign, "pat@home.example")
    clock.advance(minutes=5)
    report = engine.sync()
    assert not any(k.endswith("(scanner check)") for k in report.stats.read)
    assert opted_out(world, contacts["pat@home.example"])
    assert "CMSF-SCANNER" not in codes(report)


def test_an_outage_while_checking_clicks_loses_nothing(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = lists_by_setting(world)["OnlyThisList"]
    subscribe(world, [list_id], ["gil@gateway.example"])  # alone: the clicks decide
    engine.sync()
    scan(world, list_id, "gateway.example", resubscribe_rate=0.0, delay_seconds=200)
    clock.advance(hours=1)
    world.account.start_outage(path=r"/clicks\.json", count=50)
    failed = engine.sync()
    assert failed.status != "completed"
    world.account.clear_faults()
    clock.advance(hours=1)
    again = engine.sync()
    [message] = [m for m in again.messages if m.code == "CMSF-SCANNER"]
    assert message.summary.startswith("1 unsubscribe from gateway.example within 4 minutes")
    assert "looks like a link scanner" in message.summary
    flagged = rows(
        world,
        "SELECT Suspected_Scanner__c, Scanner_Reasons__c FROM CMSF_Email_Activity__c "
        "WHERE Activity_Type__c = 'Unsubscribe' AND Email__c = 'gil@gateway.example'",
    )
    assert len(flagged) == 1 and flagged[0]["Suspected_Scanner__c"]
    assert "clicked 3 links" in flagged[0]["Scanner_Reasons__c"]


def test_protection_without_unsubscribe_tracking_says_it_cannot_work(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings(
        {"scanner_protection": True, "tracking_activity_types": "Sent,Open,Click"}
    )
    report = engine.sync()
    assert "CMSF-SCAN-OFF" in codes(report)


def test_rows_without_a_usable_date_or_address_are_not_scored(world: World) -> None:
    client = ClientInfo("c", "sf", "Client", None, True, None)
    campaign = CampaignInfo("cmp", "sfc", "Campaign", client, None, None)
    watch = ScannerWatch(None, "tracking_history", campaign)  # type: ignore[arg-type]
    assert watch.unsubscribe("k", {"EmailAddress": "a@x.example", "Date": "yesterday"}) is None
    assert watch.unsubscribe("k", {"EmailAddress": "", "Date": "2026-03-02 09:00:00"}) is None
    assert watch.unsubscribe("k", {"Date": "2026-03-02 09:00:00"}) is None
    parsed = watch.unsubscribe(
        "k", {"EmailAddress": " A@X.example ", "ListID": "L", "Date": "2026-03-02 09:00:00"}
    )
    assert parsed is not None and parsed.email == "a@x.example" and parsed.list_id == "L"


def test_a_membership_salesforce_refuses_to_flag_is_retried_until_flagged(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    """A refused flag is not lost: with protection on, the person would be opted out without it."""
    engine.change_settings({"scanner_protection": True})
    world.org.control.add_validation_rule(
        "CMSF_List_Member__c",
        "No_Scanner_Flags",
        lambda new, old: "Scanner flags are locked" if new.get("Suspected_Scanner__c") else None,
    )
    list_id = lists_by_setting(world)["OnlyThisList"]
    people = subscribe(world, [list_id], [f"v{i}@gateway.example" for i in range(3)])
    engine.sync()
    scan(world, list_id, "gateway.example", resubscribe_rate=0.0)
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed"  # refused records are messages, not a failed run
    assert {"CMSF-REC-WRITE", "CMSF-REC-PENDING"} <= set(codes(report))
    assert report.stats.failed["CMSF_List_Member__c"] >= 3  # refused, and again when retried
    unsubscribes = (
        "SELECT Suspected_Scanner__c FROM CMSF_Email_Activity__c "
        "WHERE Activity_Type__c = 'Unsubscribe' AND Email__c LIKE '%@gateway.example'"
    )
    assert rows(world, unsubscribes) == []  # withheld with the verdict, not written without it
    assert not any(opted_out(world, c) for c in people.values())

    clock.advance(hours=1)
    still = engine.sync()  # the cause is still there: still waiting, still not opted out
    assert "CMSF-REC-PENDING" in codes(still)
    assert not any(opted_out(world, c) for c in people.values())

    world.org.control.remove_validation_rule("CMSF_List_Member__c", "No_Scanner_Flags")
    clock.advance(hours=1)
    retried = engine.sync()
    assert "CMSF-REC-PENDING" not in codes(retried) and "CMSF-SCANNER" in codes(retried)
    assert [r["Suspected_Scanner__c"] for r in rows(world, unsubscribes)] == [True] * 3
    flagged = rows(
        world,
        "SELECT Suspected_Scanner__c FROM CMSF_List_Member__c "
        "WHERE Email__c LIKE '%@gateway.example'",
    )
    assert [r["Suspected_Scanner__c"] for r in flagged] == [True] * 3
    assert not any(opted_out(world, c) for c in people.values())


def test_unsubscribes_salesforce_refused_are_scored_when_retried(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    world.org.control.add_validation_rule(
        "CMSF_Email_Activity__c",
        "No_Unsubscribes_Today",
        lambda new, old: "Not today" if new.get("Activity_Type__c") == "Unsubscribe" else None,
    )
    list_id = lists_by_setting(world)["OnlyThisList"]
    subscribe(world, [list_id], [f"w{i}@gateway.example" for i in range(3)])
    scan(world, list_id, "gateway.example", resubscribe_rate=0.0)
    clock.advance(hours=1)
    engine.sync()
    none = "SELECT Id FROM CMSF_Email_Activity__c WHERE Activity_Type__c = 'Unsubscribe'"
    assert rows(world, none) == []
    world.org.control.validation_rules.clear()
    clock.advance(hours=1)
    retried = engine.sync()
    history = rows(
        world,
        "SELECT Suspected_Scanner__c, Scanner_Reasons__c FROM CMSF_Email_Activity__c "
        "WHERE Activity_Type__c = 'Unsubscribe' AND Email__c LIKE '%@gateway.example'",
    )
    assert len(history) == 3
    assert all(r["Suspected_Scanner__c"] for r in history)
    assert all(
        "one of 3 unsubscribes from gateway.example" in r["Scanner_Reasons__c"] for r in history
    )
    assert "CMSF-SCANNER" in codes(retried)
