"""Reconciliation: renamed addresses and detail edits, invisible to date filters, reach the org."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def test_a_renamed_address_and_a_name_edit_arrive_with_the_daily_reconciliation(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = world.summary["lists"][0]
    world.account.add_subscriber_at(list_id, "old@rename.example", "Old Name")
    clock.advance(minutes=1)
    engine.sync()
    clock.advance(hours=2)
    world.account.add_subscriber_at(
        list_id, "later@rename.example", "Later"
    )  # moves the bookmark on
    clock.advance(minutes=1)
    engine.sync()
    http = world.account.client()
    assert (
        http.put(
            f"/subscribers/{list_id}.json",
            params={"email": "old@rename.example"},
            json={
                "EmailAddress": "new@rename.example",
                "Name": "New Name",
                "ConsentToTrack": "Unchanged",
            },
        ).status_code
        == 200
    )
    clock.advance(hours=1)
    engine.sync()  # date filters see nothing: the state did not change
    keys = {r["CM_Id__c"] for r in world.org.query("SELECT CM_Id__c FROM CMSF_List_Member__c")}
    assert f"{list_id}:old@rename.example" in keys and f"{list_id}:new@rename.example" not in keys
    clock.advance(hours=24)
    report = engine.sync()
    [member] = world.org.query(
        f"SELECT Name, State__c FROM CMSF_List_Member__c WHERE CM_Id__c LIKE '{list_id}:%w@rename.example'"
    )
    assert (member["Name"], member["State__c"]) == ("New Name", "Active")
    assert (
        world.org.query(
            f"SELECT Id FROM CMSF_List_Member__c WHERE CM_Id__c = '{list_id}:old@rename.example'"
        )
        == []
    )
    assert report.stats.deleted["CMSF_List_Member__c"] == 1
    assert compare(world, engine.settings()) == []


def test_reconciliation_of_an_unchanged_list_writes_nothing(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    clock.advance(hours=25)
    report = engine.sync()
    assert report.stats.read["CM subscribers (reconciliation)"] == 120
    assert report.stats.written["CMSF_List_Member__c"] == 0
    assert report.stats.deleted["CMSF_List_Member__c"] == 0
