"""The runner's journal belongs to one org and one connection, and holds no personal data."""

from __future__ import annotations

from pathlib import Path

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.state import Journal
from scenarios.compare import compare
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for


def _connected(world: World, journal: Journal) -> Engine:
    engine = engine_for(world, journal=journal)
    engine.connect()
    engine.change_settings(EVERY_OPTION)
    return engine


def test_a_journal_reused_for_another_org_starts_clean_state(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path = tmp_path / "journal.db"
    first = build_world(WorldSpec(seed=3, subscribers_per_list=20), clock=clock)
    second = build_world(WorldSpec(seed=4, subscribers_per_list=20), clock=clock)
    try:
        assert _connected(first, Journal(path)).sync().status == "completed"
        clock.advance(hours=1)
        engine = _connected(second, Journal(path))
        report = engine.sync()
        assert report.status == "completed", report.reason
        assert [m.code for m in report.messages] == ["CMSF-JOURNAL-NEW"]
        assert compare(second, engine.settings()) == []  # nothing skipped as 'already written'
        clock.advance(hours=1)
        again = engine.sync()
        assert again.messages == [] and sum(again.stats.written.values()) <= 1
    finally:
        first.close()
        second.close()


def test_reset_settings_and_connect_start_a_new_connection(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    engine.reset_settings()
    world.org.delete([r["Id"] for r in world.org.query("SELECT Id FROM CMSF_List_Member__c")])
    engine.connect()
    engine.change_settings(EVERY_OPTION)
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert "CMSF-JOURNAL-NEW" in [m.code for m in report.messages]
    assert compare(world, engine.settings()) == []


def test_connecting_again_to_the_same_account_keeps_the_state(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    engine.reconnect(tuple(world.summary["clients"]))
    clock.advance(hours=1)
    report = engine.sync()
    assert report.messages == [] and report.stats.written.get("CMSF_List_Member__c", 0) == 0


def test_the_journal_file_holds_no_subscriber_address(tmp_path: Path, clock: VirtualClock) -> None:
    world = build_world(WorldSpec(seed=3, subscribers_per_list=20), clock=clock)
    try:
        path = tmp_path / "journal.db"
        journal = Journal(path)
        engine = _connected(world, journal)
        assert engine.sync().status == "completed"
        journal.close()
        addresses = world.account.email_addresses()
        assert len(addresses) > 50
        blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        found = [a for a in addresses if a.encode() in blob or a.split("@")[0].encode() in blob]
        assert found == []
    finally:
        world.close()
