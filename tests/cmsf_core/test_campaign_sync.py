"""Campaigns: hidden campaigns, start-date and tag filters, linked Salesforce Campaigns."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def synced_campaigns(world: World) -> set[str]:
    return {r["CM_Id__c"] for r in world.org.query("SELECT CM_Id__c FROM CMSF_Campaign__c")}


def test_a_campaign_hidden_after_syncing_disappears_with_its_history(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    hidden = world.summary["campaigns"][0]
    assert hidden in synced_campaigns(world)
    world.account.hide_campaign(hidden)
    clock.advance(hours=1)
    engine.sync()
    assert hidden not in synced_campaigns(world)
    activities = world.org.query(
        f"SELECT Id FROM CMSF_Email_Activity__c WHERE CM_Id__c LIKE '{hidden}:%'"
    )
    assert activities == []
    assert compare(world, engine.settings()) == []


def test_start_date_filter_keeps_only_later_campaigns(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"campaign_start_date": "2026-01-01"})
    engine.sync()
    before = synced_campaigns(world)
    assert before and all(c in world.summary["campaigns"] for c in before)
    assert len(before) < len(world.summary["campaigns"])  # the seeded world has older ones too
    new = world.account.send_campaign_now([world.summary["lists"][0]], name="New Year")
    clock.advance(hours=1)
    engine.sync()
    assert synced_campaigns(world) == before | {new}
    assert compare(world, engine.settings()) == []


def test_tag_filter_keeps_only_tagged_campaigns(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"campaign_tags": "Offers"})
    engine.sync()
    tagged = synced_campaigns(world)
    assert tagged and tagged < set(world.summary["campaigns"])
    assert compare(world, engine.settings()) == []
    engine.change_settings({"campaign_tags": ""})
    clock.advance(hours=1)
    engine.sync()
    assert synced_campaigns(world) == set(world.summary["campaigns"])


def test_auto_created_campaigns_are_linked_and_carry_statistics(
    world: World, engine: Engine
) -> None:
    engine.sync()
    rows = world.org.query(
        "SELECT Salesforce_Campaign__c, Recipients__c, Clicks__c FROM CMSF_Campaign__c"
    )
    assert rows and all(r["Salesforce_Campaign__c"] for r in rows)
    for row in rows:
        campaign = world.org.get("Campaign", row["Salesforce_Campaign__c"])
        assert campaign["CMSF_Num_Recipients__c"] == row["Recipients__c"]
        assert campaign["CMSF_Num_Clicks__c"] == row["Clicks__c"]
        assert campaign["NumberSent"] == row["Recipients__c"]


def test_a_manually_linked_campaign_is_kept(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"auto_create_campaigns": False})
    engine.sync()
    manual = world.org.create("Campaign", {"Name": "Spring launch (manual)"})
    [row] = world.org.query(
        f"SELECT Id FROM CMSF_Campaign__c WHERE CM_Id__c = '{world.summary['campaigns'][0]}'"
    )
    world.org.update("CMSF_Campaign__c", row["Id"], {"Salesforce_Campaign__c": manual})
    clock.advance(hours=1)
    engine.sync()
    assert world.org.get("CMSF_Campaign__c", row["Id"])["Salesforce_Campaign__c"] == manual
    assert world.org.get("Campaign", manual)["CMSF_Num_Recipients__c"] is not None
