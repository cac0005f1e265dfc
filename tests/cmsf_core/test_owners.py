"""Records need active owners: a deactivated sync user or security owner is one message, not failures."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def test_a_deactivated_security_owner_is_reported_and_records_still_sync(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    owner = world.org.control.add_user("owner@acme.example", last_name="Owner")
    client_id = world.summary["clients"][0]
    [client] = world.org.query(f"SELECT Id FROM CMSF_Client__c WHERE CM_Id__c = '{client_id}'")
    world.org.update("CMSF_Client__c", client["Id"], {"Security_Owner__c": owner})
    clock.advance(hours=1)
    assert engine.sync().messages == []
    world.org.control.set_user_active(owner, False)
    list_id = world.summary["lists"][0]
    world.account.add_subscriber_at(list_id, "after@owner.example", "After")
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert [m.code for m in report.messages] == ["CMSF-OWNER-INACTIVE"]
    assert "security owner of client" in report.messages[0].details[0]
    [row] = world.org.query(
        "SELECT OwnerId FROM CMSF_List_Member__c WHERE Email__c = 'after@owner.example'"
    )
    assert row["OwnerId"] != owner
    assert compare(world, engine.settings()) == []


def test_a_deactivated_sync_user_is_reported(world: World, engine: Engine) -> None:
    sync_user = world.org.control.add_user("sync@acme.example", last_name="Sync")
    [settings] = world.org.query("SELECT Id FROM CMSF_Settings__c")
    world.org.update("CMSF_Settings__c", settings["Id"], {"Sync_User__c": sync_user})
    world.org.control.set_user_active(sync_user, False)
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert [m.code for m in report.messages] == ["CMSF-OWNER-INACTIVE"]
    assert "the sync user" in report.messages[0].details[0]
    assert compare(world, engine.settings()) == []
