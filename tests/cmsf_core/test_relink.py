"""Relink: a Contact or Lead created after its subscriber was synced gets linked by the next run."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.world import World


def test_people_created_later_are_linked_to_their_memberships(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    unlinked = world.org.query(
        "SELECT Id, Email__c FROM CMSF_List_Member__c WHERE Contact__c = null AND Lead__c = null LIMIT 2"
    )
    assert len(unlinked) == 2
    contact = world.org.create(
        "Contact", {"LastName": "Later", "Email": unlinked[0]["Email__c"].upper()}
    )
    lead = world.org.create(
        "Lead", {"LastName": "Later", "Company": "Co", "Email": unlinked[1]["Email__c"]}
    )
    clock.advance(hours=1)
    report = engine.sync()
    assert world.org.get("CMSF_List_Member__c", unlinked[0]["Id"])["Contact__c"] == contact
    assert world.org.get("CMSF_List_Member__c", unlinked[1]["Id"])["Lead__c"] == lead
    assert report.stats.written["CMSF_List_Member__c"] >= 2


def test_the_sync_does_not_chase_its_own_opt_out_updates(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    clock.advance(hours=1)
    quiet = engine.sync()
    relink_calls = engine.journal.calls(quiet.run.run_id).get("relink", {}).get("salesforce", 0)
    assert relink_calls == 1  # the two 'modified since' queries in one batch, nothing to link
