"""Email tracking history follows its settings: retention days, 0 to disable, activity types."""

from __future__ import annotations

from collections import Counter

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def kinds(world: World) -> Counter[str]:
    return Counter(
        r["Activity_Type__c"]
        for r in world.org.query("SELECT Activity_Type__c FROM CMSF_Email_Activity__c")
    )


def test_retention_zero_stores_nothing_and_clears_what_was_stored(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    assert sum(kinds(world).values()) > 0
    engine.change_settings({"tracking_retention_days": 0})
    clock.advance(hours=1)
    report = engine.sync()
    assert {row["job"]: row["status"] for row in report.jobs}["tracking_history"] == "skipped"
    assert kinds(world) == Counter()
    assert compare(world, engine.settings()) == []


def test_shorter_retention_drops_older_history_and_longer_fetches_it_again(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    everything = sum(kinds(world).values())
    engine.change_settings({"tracking_retention_days": 4})
    clock.advance(hours=1)
    engine.sync()
    recent = sum(kinds(world).values())
    assert 0 < recent < everything
    assert compare(world, engine.settings()) == []
    engine.change_settings({"tracking_retention_days": 180})
    clock.advance(hours=1)
    engine.sync()
    assert sum(kinds(world).values()) == everything
    assert compare(world, engine.settings()) == []


def test_activity_type_filter_keeps_only_chosen_types(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"tracking_activity_types": "Open,Click"})
    engine.sync()
    assert set(kinds(world)) == {"Open", "Click"}
    assert compare(world, engine.settings()) == []
    engine.change_settings({"tracking_activity_types": "Click"})
    clock.advance(hours=1)
    engine.sync()
    assert set(kinds(world)) == {"Click"}
    engine.change_settings({"tracking_activity_types": "Sent,Open,Click,Bounce,Unsubscribe,Spam"})
    clock.advance(hours=1)
    engine.sync()
    assert {"Sent", "Open", "Click"} <= set(kinds(world))
    assert compare(world, engine.settings()) == []


def test_activity_is_linked_to_the_matching_contact(world: World, engine: Engine) -> None:
    engine.sync()
    rows = world.org.query(
        "SELECT Email__c, Contact__r.Email FROM CMSF_Email_Activity__c WHERE Contact__c != null"
    )
    assert rows and all(r["Email__c"].lower() == r["Contact__r"]["Email"].lower() for r in rows)
