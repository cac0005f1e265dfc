"""Full sync: clears what was loaded from Campaign Monitor and realigns the org, keeping configuration."""

from __future__ import annotations

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare, org_state
from scenarios.world import World


def test_full_sync_realigns_after_records_were_deleted_by_hand(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    aligned = org_state(world)
    doomed = world.org.query("SELECT Id FROM CMSF_List_Member__c LIMIT 7")
    world.org.delete([r["Id"] for r in doomed])
    clock.advance(hours=1)
    engine.sync()
    assert len(compare(world, engine.settings())) == 7  # an incremental sync does not notice
    clock.advance(hours=1)
    report = engine.sync(full=True)
    assert report.status == "completed" and report.run.full
    assert compare(world, engine.settings()) == []
    assert org_state(world)["CMSF_List_Member__c"] == aligned["CMSF_List_Member__c"]


def test_full_sync_keeps_user_configuration_and_standard_records(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    list_id = world.summary["lists"][0]
    [row] = world.org.query(f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{list_id}'")
    world.org.update(
        "CMSF_List__c", row["Id"], {"Create_Rule__c": "Lead", "Lead_Company__c": "Kept Ltd"}
    )
    mapping = world.org.create(
        "CMSF_Field_Mapping__c",
        {"Name": "web", "List__c": row["Id"], "Object__c": "Lead", "CM_Field__c": "[website]",
         "Salesforce_Field__c": "Website"},
    )  # fmt: skip
    contacts = world.org.count("Contact")
    campaigns = world.org.count("Campaign")
    clock.advance(hours=1)
    engine.sync(full=True)
    kept = world.org.get("CMSF_List__c", row["Id"])
    assert (kept["Create_Rule__c"], kept["Lead_Company__c"]) == ("Lead", "Kept Ltd")
    assert world.org.get("CMSF_Field_Mapping__c", mapping)["List__c"] == row["Id"]
    assert world.org.count("Contact") == contacts and world.org.count("Campaign") == campaigns


def test_an_interrupted_full_sync_resumes_as_a_full_sync(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    calls = {"n": 0}

    class Crash(BaseException):
        pass

    def die(method: str, path: str) -> None:
        calls["n"] += 1
        if calls["n"] == 30:
            raise Crash

    engine.on_gateway = lambda gateway: setattr(gateway, "on_request", die)
    with pytest.raises(Crash):
        engine.sync(full=True)
    engine.on_gateway = None
    resumed = engine.sync()  # an ordinary 'cmsf sync' continues the interrupted full sync
    assert resumed.run.resumed and resumed.run.full and resumed.status == "completed"
    assert compare(world, engine.settings()) == []


def test_a_full_sync_stopped_by_the_budget_stays_a_full_sync_until_it_completes(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    activity = world.org.count("CMSF_Email_Activity__c")
    engine.change_settings({"run_api_share": "0.4%"})  # about 60 calls a run
    clock.advance(hours=1)
    stopped = engine.sync(full=True)
    assert stopped.status == "stopped" and stopped.run.full
    assert world.org.count("CMSF_Email_Activity__c") < activity  # cleared, not yet re-imported
    assert "resumes on the next run" in (stopped.reason or "")
    runs = [stopped]
    while runs[-1].status == "stopped" and len(runs) < 30:
        clock.advance(hours=1)
        runs.append(engine.sync())  # plain hourly runs
    assert runs[-1].status == "completed", runs[-1].reason
    assert all(r.run.full and r.run.run_id == stopped.run.run_id for r in runs)
    assert world.org.count("CMSF_Email_Activity__c") == activity
    assert compare(world, engine.settings()) == []
    clock.advance(hours=1)
    assert not engine.sync().run.full  # completed: back to incremental runs
