"""Sandbox safety: a sandbox copy never syncs with (or writes to) a live Campaign Monitor account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.errors import SafetyError
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for


@pytest.fixture
def live_world(clock: VirtualClock) -> Iterator[World]:
    world = build_world(WorldSpec(seed=5, subscribers_per_list=10, test_account=False), clock=clock)
    yield world
    world.close()


def sandbox_of(world: World) -> World:
    copy = world.org.refresh_sandbox("uat")
    return World(clock=world.clock, org=copy, account=world.account, spec=world.spec)


def writes_to_campaign_monitor(world: World) -> list[str]:
    return [
        f"{e['method']} {e['path']}" for e in world.account.request_log() if e["method"] != "GET"
    ]


def test_a_refreshed_sandbox_refuses_to_sync_with_the_live_account(live_world: World) -> None:
    production = engine_for(live_world)
    production.connect()
    production.change_settings(EVERY_OPTION)
    assert production.sync().status == "completed"
    sandbox = sandbox_of(live_world)
    engine = engine_for(sandbox)
    report = engine.sync()
    assert report.status == "stopped"
    assert [m.code for m in report.messages] == ["CMSF-SANDBOX"]
    assert "sandbox" in (report.reason or "")
    assert writes_to_campaign_monitor(live_world) == []
    stored = sandbox.org.query("SELECT Support_Code__c FROM CMSF_Maintenance_Message__c")
    assert [m["Support_Code__c"] for m in stored] == ["CMSF-SANDBOX"]


def test_campaign_monitor_writes_are_refused_while_unsafe(live_world: World) -> None:
    engine_for(live_world).connect()
    sandbox = sandbox_of(live_world)
    engine = engine_for(sandbox)
    engine.sync()
    cm = engine.campaign_monitor()
    from cmsf_core.safety import check_org_safety

    with pytest.raises(SafetyError):
        check_org_safety(engine.gateway(), engine.settings(), cm)
    with pytest.raises(SafetyError, match="refusing to write"):
        cm.add_subscriber(
            live_world.summary["lists"][0], {"EmailAddress": "x@y.example", "ConsentToTrack": "Yes"}
        )
    assert writes_to_campaign_monitor(live_world) == []


def test_a_sandbox_connected_to_a_test_account_syncs(clock: VirtualClock) -> None:
    world = build_world(WorldSpec(seed=5, subscribers_per_list=10, test_account=True), clock=clock)
    sandbox = sandbox_of(world)
    engine = engine_for(sandbox)
    settings = engine.connect()
    assert settings.cm_test_account
    assert engine.sync().status == "completed"


def test_reset_settings_after_a_refresh_disconnects_the_copy(live_world: World) -> None:
    engine_for(live_world).connect()
    sandbox = engine_for(sandbox_of(live_world))
    settings = sandbox.reset_settings()
    assert not settings.connected and settings.connected_org_id is None


def test_a_test_account_claim_the_account_contradicts_is_refused(live_world: World) -> None:
    from cmsf_core.errors import ConfigError

    engine = engine_for(live_world)
    with pytest.raises(ConfigError, match="says it is not a test account"):
        engine.connect(test_account=True)
    assert not engine.settings().connected


def test_test_account_state_cannot_be_set_as_a_setting(live_world: World) -> None:
    from cmsf_core.errors import ConfigError

    engine = engine_for(live_world)
    engine.connect()
    for name, value in (
        ("cm_test_account", "true"),
        ("connected_org_id", "00D000000000001"),
        ("connected", "true"),
        ("connection_key", "0" * 64),
        ("client_selection", "*"),
    ):
        with pytest.raises(ConfigError, match="cannot be set"):
            engine.change_settings({name: value})
    assert engine.settings().cm_test_account is False


def test_a_sandbox_trusts_the_account_not_the_stored_claim(live_world: World) -> None:
    """A claim written into the org by hand does not open a live account to a sandbox."""
    engine_for(live_world).connect()
    sandbox = sandbox_of(live_world)
    [row] = sandbox.org.query("SELECT Id FROM CMSF_Settings__c")
    sandbox.org.update("CMSF_Settings__c", row["Id"], {"CM_Test_Account__c": True})
    report = engine_for(sandbox).sync()
    assert report.status == "stopped" and [m.code for m in report.messages] == ["CMSF-SANDBOX"]
    assert writes_to_campaign_monitor(live_world) == []


def test_credentials_that_open_another_account_stop_the_sync(live_world: World) -> None:
    engine = engine_for(live_world)
    engine.connect()
    live_world.account.add_administrator("new.owner@agency.example", "New Owner")
    live_world.account.set_primary_contact("new.owner@agency.example")
    report = engine.sync()
    assert report.status == "stopped"
    assert [m.code for m in report.messages] == ["CMSF-CM-ACCOUNT"]
    assert writes_to_campaign_monitor(live_world) == []
    assert live_world.org.count("CMSF_List_Member__c") == 0
