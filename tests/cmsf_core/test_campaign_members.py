"""Campaign members of linked Campaigns: status map, auto-created statuses, newer activity only."""

from __future__ import annotations

from datetime import timedelta

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.world import World


def members(world: World, campaign_id: str) -> list[dict[str, object]]:
    return world.org.query(
        "SELECT Id, Status, HasResponded, CMSF_Activity__c, CMSF_Activity_Date__c, ContactId, LeadId "
        f"FROM CampaignMember WHERE CampaignId = '{campaign_id}'"
    )


def linked(world: World) -> str:
    rows = world.org.query(
        "SELECT Salesforce_Campaign__c FROM CMSF_Campaign__c WHERE Salesforce_Campaign__c != null"
    )
    return str(rows[0]["Salesforce_Campaign__c"])


def test_mapped_statuses_are_created_with_their_responded_flags(
    world: World, engine: Engine
) -> None:
    engine.change_settings({"status_map": {"Open": {"status": "Registered", "responded": True}}})
    engine.sync()
    campaign = linked(world)
    statuses = {
        r["Label"]: r["HasResponded"]
        for r in world.org.query(
            f"SELECT Label, HasResponded FROM CampaignMemberStatus WHERE CampaignId = '{campaign}'"
        )
    }
    assert (
        statuses["Registered"] is True
        and statuses["Clicked"] is True
        and statuses["Bounced"] is False
    )
    rows = members(world, campaign)
    assert rows
    for row in rows:
        assert row["HasResponded"] == (row["Status"] in {"Registered", "Clicked"})
        assert row["Status"] != "Opened"


def test_each_person_shows_their_latest_activity(world: World, engine: Engine) -> None:
    engine.sync()
    campaign = linked(world)
    order = {"Sent": 0, "Open": 1, "Click": 2, "Bounce": 3, "Unsubscribe": 4, "Spam": 5}
    activities = world.org.query(
        "SELECT Contact__c, Lead__c, Activity_Type__c, Activity_Date__c FROM CMSF_Email_Activity__c "
        f"WHERE Campaign__r.Salesforce_Campaign__c = '{campaign}'"
    )
    latest: dict[str, tuple[str, int, str]] = {}
    for a in activities:
        person = a["Contact__c"] or a["Lead__c"]
        if person:
            key = (a["Activity_Date__c"], order[a["Activity_Type__c"]], a["Activity_Type__c"])
            latest[person] = max(latest.get(person, key), key)
    shown = {
        str(m["ContactId"] or m["LeadId"]): m["CMSF_Activity__c"] for m in members(world, campaign)
    }
    assert shown == {person: kind for person, (_, _, kind) in latest.items()}


def test_a_member_only_moves_for_a_newer_activity(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    campaign = linked(world)
    newer, older = members(world, campaign)[:2]
    future = (clock.now() + timedelta(days=30)).isoformat()
    world.org.update(
        "CampaignMember", str(newer["Id"]), {"Status": "Responded", "CMSF_Activity_Date__c": future}
    )
    world.org.update(
        "CampaignMember",
        str(older["Id"]),
        {"Status": "Responded", "CMSF_Activity_Date__c": "2020-01-01T00:00:00Z"},
    )
    clock.advance(hours=1)
    engine.sync(full=True)  # every activity is read again
    assert world.org.get("CampaignMember", str(newer["Id"]))["Status"] == "Responded"
    moved = world.org.get("CampaignMember", str(older["Id"]))
    assert moved["Status"] != "Responded" and moved["Status"] == _mapped(older["CMSF_Activity__c"])


def _mapped(activity: object) -> str:
    return {"Sent": "Sent", "Open": "Opened", "Click": "Clicked", "Bounce": "Bounced",
            "Unsubscribe": "Unsubscribed", "Spam": "Marked As Spam"}[str(activity)]  # fmt: skip


def test_without_auto_create_a_missing_status_is_reported(world: World, engine: Engine) -> None:
    engine.change_settings({"auto_create_statuses": False, "status_map": {"Open": "Registered"}})
    report = engine.sync()
    codes = {m.code for m in report.messages}
    assert "CMSF-REC-WRITE" in codes
    assert report.stats.failed["CampaignMember"] > 0


def test_first_sync_takes_the_activity_it_wrote_from_the_member_feed(world: World) -> None:
    from scenarios.world import EVERY_OPTION, engine_for

    rows_read: list[int] = []

    def spy(gateway: object) -> None:
        pages = gateway.query_pages  # type: ignore[attr-defined]

        def counted(soql: str, **kwargs: object) -> object:
            for page in pages(soql, **kwargs):
                if soql.startswith("SELECT Contact__c, Lead__c, Activity_Type__c"):
                    rows_read.append(len(page))
                yield page

        gateway.query_pages = counted  # type: ignore[attr-defined]
        batch = gateway.query_batch  # type: ignore[attr-defined]

        def batched(queries: list[tuple[str, bool]]) -> object:
            results = batch(queries)
            for (soql, _), result in zip(queries, results, strict=True):
                if soql.startswith("SELECT Contact__c, Lead__c, Activity_Type__c"):
                    rows_read.append(result.total)  # the campaigns' reads, read ahead
            return results

        gateway.query_batch = batched  # type: ignore[attr-defined]

    engine = engine_for(world, on_gateway=spy)
    engine.connect()
    engine.change_settings(EVERY_OPTION)
    assert engine.sync().status == "completed"
    campaign = linked(world)
    people = {
        a["Contact__c"] or a["Lead__c"]
        for a in world.org.query(
            "SELECT Contact__c, Lead__c FROM CMSF_Email_Activity__c WHERE "
            f"Campaign__r.Salesforce_Campaign__c = '{campaign}' AND "
            "(Contact__c != null OR Lead__c != null)"
        )
    }
    assert people and {m["ContactId"] or m["LeadId"] for m in members(world, campaign)} == people
    assert rows_read and sum(rows_read) == 0  # nothing read back: it came from the feed
    assert not world.org.query("SELECT Id FROM CMSF_Email_Activity__c WHERE Contact__c = null "
                               "AND Lead__c = null AND Email__c = null")  # fmt: skip


def test_activity_changed_after_a_run_reaches_members_next_run(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    campaign = linked(world)
    member = next(m for m in members(world, campaign) if m["ContactId"])
    contact = str(member["ContactId"])
    clock.advance(minutes=5)
    activity = world.org.query(
        "SELECT Id, CM_Id__c FROM CMSF_Email_Activity__c WHERE "
        f"Campaign__r.Salesforce_Campaign__c = '{campaign}' AND Contact__c = '{contact}' "
        "AND Activity_Type__c != 'Sent' LIMIT 1"
    ) or world.org.query(
        "SELECT Id, CM_Id__c FROM CMSF_Email_Activity__c WHERE "
        f"Campaign__r.Salesforce_Campaign__c = '{campaign}' AND Contact__c = '{contact}' LIMIT 1"
    )
    later = (clock.now() + timedelta(days=1)).isoformat()
    world.org.update(
        "CMSF_Email_Activity__c",
        str(activity[0]["Id"]),
        {"Activity_Type__c": "Click", "Activity_Date__c": later},
    )
    clock.advance(hours=1)
    assert engine.sync().status == "completed"
    moved = next(m for m in members(world, campaign) if m["ContactId"] == contact)
    assert moved["Status"] == "Clicked"
