"""Awkward data from Campaign Monitor: quotes in addresses, long and non-Latin names, odd fields."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def test_quotes_unicode_and_long_values_sync_and_link(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = world.summary["lists"][0]
    odd = {
        "o'brien@quote.example": "Seán O'Brien",
        "first+tag@quote.example": "Plus Tag",
        "zoe@unicode.example": "Zoë 山田 " + "x" * 120,
    }
    for email, name in odd.items():
        world.account.add_subscriber_at(
            list_id,
            email,
            name,
            custom_fields=[{"Key": "website", "Value": "https://q.example/?a='1'"}],
        )
    contact = world.org.create("Contact", {"LastName": "O'Brien", "Email": "O'Brien@quote.example"})
    clock.advance(minutes=5)
    report = engine.sync()
    assert report.status == "completed" and report.messages == []
    rows = {
        r["Email__c"]: r
        for r in world.org.query(
            "SELECT Email__c, Name, Contact__c FROM CMSF_List_Member__c WHERE Email__c LIKE '%quote.example' "
            "OR Email__c LIKE '%unicode.example'"
        )
    }
    assert set(rows) == set(odd)
    assert rows["o'brien@quote.example"]["Contact__c"] == contact
    assert rows["zoe@unicode.example"]["Name"] == odd["zoe@unicode.example"][:80]
    assert compare(world, engine.settings()) == []


def test_json_written_to_salesforce_keeps_non_ascii_text_readable(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = world.summary["lists"][0]
    value = "Café 🎉 東京"
    world.account.add_subscriber_at(
        list_id,
        "utf8@unicode.example",
        "Ünïcode",
        custom_fields=[{"Key": "website", "Value": value}],
    )
    engine.change_settings({"status_map": {"Open": "Geöffnet"}})
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    [member] = world.org.query(
        "SELECT Custom_Fields__c FROM CMSF_List_Member__c WHERE Email__c = 'utf8@unicode.example'"
    )
    assert value in member["Custom_Fields__c"] and "\\u" not in member["Custom_Fields__c"]
    audit = world.org.query(
        "SELECT New_Value__c FROM CMSF_Audit_Log__c WHERE Setting__c = 'status_map'"
    )
    assert any("Geöffnet" in row["New_Value__c"] for row in audit)
    [settings] = world.org.query("SELECT Status_Map__c FROM CMSF_Settings__c")
    assert "Geöffnet" in settings["Status_Map__c"]


def test_a_link_scanner_on_awkward_addresses_is_flagged_without_errors(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    """Quotes and plus tags reach the membership lookup (SOQL) and the burst count intact."""
    list_id = world.summary["lists"][1]
    odd = ["o'neil@Quote.example", "first+tag@quote.example", "a.b-c_d@quote.example"]
    for email in odd:
        world.account.add_subscriber_at(list_id, email, "Odd One")
    world.account.register_link_scanner("quote.example", resubscribe_rate=0.0)
    world.account.use_activity_model(None)
    world.account.send_campaign_now([list_id], name="Odd", links=["https://q.example/?a='1'"])
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed"
    assert [m.code for m in report.messages] == ["CMSF-SCANNER"]
    flagged = world.org.query(
        "SELECT Email__c FROM CMSF_List_Member__c WHERE Suspected_Scanner__c = true"
    )
    assert sorted(r["Email__c"].lower() for r in flagged) == sorted(e.lower() for e in odd)
