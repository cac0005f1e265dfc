"""Configuration sync: lists deleted or created in Campaign Monitor, clients deselected and reselected."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def count(world: World, soql: str) -> int:
    return len(world.org.query(soql))


def test_a_list_deleted_in_campaign_monitor_is_removed_with_its_members(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    gone = world.summary["lists"][0]
    assert (
        count(world, f"SELECT Id FROM CMSF_List_Member__c WHERE List__r.CM_Id__c = '{gone}'") == 30
    )
    world.account.delete_list(gone)
    clock.advance(hours=1)
    report = engine.sync()
    assert [m.code for m in report.messages] == ["CMSF-LIST-GONE"]
    assert report.messages[0].severity == "Warning"
    assert count(world, f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{gone}'") == 0
    assert count(world, f"SELECT Id FROM CMSF_List_Member__c WHERE CM_Id__c LIKE '{gone}:%'") == 0
    assert compare(world, engine.settings()) == []


def test_a_new_list_appears_with_its_subscribers(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    client = world.summary["clients"][0]
    new_list = world.account.create_list(client, "Launch")
    for n in range(3):
        world.account.add_subscriber_at(new_list, f"launch{n}@new.example", f"Launch {n}")
    clock.advance(hours=1)
    engine.sync()
    assert (
        count(world, f"SELECT Id FROM CMSF_List_Member__c WHERE List__r.CM_Id__c = '{new_list}'")
        == 3
    )
    assert compare(world, engine.settings()) == []


def test_deselecting_a_client_removes_its_data_and_reselecting_brings_it_back(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    keep, drop = world.summary["clients"]
    engine.reconnect((keep,))
    clock.advance(hours=1)
    engine.sync()
    [dropped] = world.org.query(
        f"SELECT Id, Selected__c FROM CMSF_Client__c WHERE CM_Id__c = '{drop}'"
    )
    assert dropped["Selected__c"] is False
    for sobject in ("CMSF_List__c", "CMSF_Campaign__c", "CMSF_Smart_Email__c"):
        assert count(world, f"SELECT Id FROM {sobject} WHERE Client__c = '{dropped['Id']}'") == 0, (
            sobject
        )
    assert compare(world, engine.settings()) == []
    engine.reconnect((keep, drop))
    clock.advance(hours=1)
    engine.sync()
    assert compare(world, engine.settings()) == []


def test_campaign_monitor_users_are_linked_to_salesforce_users_by_email(
    world: World, engine: Engine
) -> None:
    user = world.org.control.add_user("admin@example.com", last_name="Admin")
    engine.sync()
    [admin] = world.org.query(
        "SELECT Full_Access__c, Administrator__c, Salesforce_User__c FROM CMSF_CM_User__c "
        "WHERE CM_Id__c = 'admin:admin@example.com'"
    )
    assert admin["Full_Access__c"] and admin["Administrator__c"]
    assert admin["Salesforce_User__c"] == user


def test_campaign_links_survive_deselecting_and_reselecting_a_client(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    clients = tuple(world.summary["clients"])
    assert engine.sync().status == "completed"
    before = world.org.query("SELECT Id, CMSF_Campaign_Monitor_Id__c FROM Campaign")
    assert before
    engine.reconnect(clients[1:])
    clock.advance(hours=1)
    assert engine.sync().status == "completed"
    engine.reconnect(clients)
    clock.advance(hours=1)
    assert engine.sync().status == "completed"
    campaigns = {
        r["CMSF_Campaign_Monitor_Id__c"]: r
        for r in world.org.query(
            "SELECT Id, CMSF_Campaign_Monitor_Id__c, CMSF_Campaign__c FROM Campaign"
        )
    }
    assert len(campaigns) == len(before)  # no duplicate Salesforce Campaigns
    for row in world.org.query("SELECT Id, CM_Id__c, Salesforce_Campaign__c FROM CMSF_Campaign__c"):
        linked = campaigns[row["CM_Id__c"]]
        assert row["Salesforce_Campaign__c"] == linked["Id"]
        assert linked["CMSF_Campaign__c"] == row["Id"]
