"""The primary sync end to end against sf_sim and cm_sim."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare, org_state
from scenarios.world import World


def test_first_sync_copies_the_account_exactly(world: World, engine: Engine) -> None:
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert compare(world, engine.settings()) == []
    state = org_state(world)
    assert len(state["CMSF_List_Member__c"]) == 120
    assert len(state["CMSF_Campaign__c"]) == 4
    assert report.messages == []


def test_second_sync_without_changes_writes_nothing(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed"
    assert sum(report.stats.written.values()) == 0
    # only run status: the settings' last sync and each synced client's Last_Sync__c
    assert set(report.write_calls) == {"CMSF_Settings__c", "CMSF_Client__c"}


def test_incremental_sync_moves_exactly_the_changes(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    clock.advance(hours=1)
    list_id = world.summary["lists"][0]
    active = [e for e in world.account.email_addresses(list_id)]
    state_of = {r["EmailAddress"]: r["State"] for r in _subscribers(world, list_id)}
    targets = [e for e in active if state_of.get(e) == "Active"][:3]
    for email in targets:
        world.account.change_state(list_id, email, "Unsubscribed")
    world.account.add_subscriber_at(list_id, "brand.new@example.com", "Brand New")
    clock.advance(minutes=5)
    report = engine.sync()
    assert report.status == "completed"
    assert report.stats.written["CMSF_List_Member__c"] == 4
    assert compare(world, engine.settings()) == []


def _subscribers(world: World, list_id: str) -> list[dict[str, str]]:
    http = world.account.client()
    rows: list[dict[str, str]] = []
    for endpoint in ("active", "unsubscribed", "bounced", "deleted", "unconfirmed"):
        rows += http.get(f"/lists/{list_id}/{endpoint}.json").json()["Results"]
    return rows


def test_the_schedule_follows_the_frequency_setting(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.due() == (True, "no sync has run yet")
    engine.sync()
    due, why = engine.due()
    assert not due and "Hourly" in why
    clock.advance(minutes=61)
    assert engine.due()[0]
    engine.change_settings({"frequency": "Never"})
    assert engine.due() == (False, "the sync is turned off (frequency Never)")
