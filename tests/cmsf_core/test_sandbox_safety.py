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
