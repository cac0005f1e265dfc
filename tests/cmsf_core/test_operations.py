"""Maintenance operations: import one subscriber now, create a list, security owner, audit log."""

from __future__ import annotations

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.errors import ConfigError
from scenarios.world import World


def test_import_subscriber_refreshes_one_membership_without_a_sync(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    list_id = world.summary["lists"][0]
    contact = world.org.create("Contact", {"LastName": "Now", "Email": "now@import.example"})
    world.account.add_subscriber_at(list_id, "now@import.example", "Right Now")
    record_id = engine.import_subscriber(list_id, "now@import.example")
    row = world.org.get("CMSF_List_Member__c", record_id)
    assert (row["State__c"], row["Contact__c"], row["Email__c"]) == (
        "Active",
        contact,
        "now@import.example",
    )
    with pytest.raises(ConfigError, match="not a subscriber"):
        engine.import_subscriber(list_id, "stranger@import.example")
    with pytest.raises(ConfigError, match="not synced"):
        engine.import_subscriber("0" * 32, "now@import.example")


def test_create_list_creates_it_in_both_places(world: World, engine: Engine) -> None:
    engine.sync()
    client = world.summary["clients"][0]
    list_id = engine.create_list(client, "Webinar attendees")
    titles = [
        row["Name"] for row in world.account.client().get(f"/clients/{client}/lists.json").json()
    ]
    assert "Webinar attendees" in titles
    [row] = world.org.query(f"SELECT Name FROM CMSF_List__c WHERE CM_Id__c = '{list_id}'")
    assert row["Name"] == "Webinar attendees"
    with pytest.raises(ConfigError, match="1 to 80 characters"):
        engine.create_list(client, "   ")
    with pytest.raises(ConfigError, match="not a selected"):
        engine.create_list("f" * 32, "Nope")


def test_records_are_owned_by_the_clients_security_owner(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    owner = world.org.control.add_user("owner@acme.example", last_name="Owner")
    engine.sync()
    client = world.summary["clients"][0]
    [row] = world.org.query(f"SELECT Id FROM CMSF_Client__c WHERE CM_Id__c = '{client}'")
    world.org.update("CMSF_Client__c", row["Id"], {"Security_Owner__c": owner})
    list_id = world.summary["lists"][0]
    world.account.add_subscriber_at(list_id, "owned@acme.example", "Owned")
    clock.advance(hours=1)
    engine.sync()
    [member] = world.org.query(
        f"SELECT OwnerId FROM CMSF_List_Member__c WHERE CM_Id__c = '{list_id}:owned@acme.example'"
    )
    assert member["OwnerId"] == owner


def test_setting_changes_are_audited(world: World, engine: Engine) -> None:
    engine.change_settings({"tracking_retention_days": 30}, changed_by="ops@acme.example")
    entries = world.org.query(
        "SELECT Setting__c, Old_Value__c, New_Value__c, Changed_By__c FROM CMSF_Audit_Log__c "
        "WHERE Setting__c = 'tracking_retention_days'"
    )
    assert [(e["Old_Value__c"], e["New_Value__c"], e["Changed_By__c"]) for e in entries] == [
        ("180", "30", "ops@acme.example")
    ]
