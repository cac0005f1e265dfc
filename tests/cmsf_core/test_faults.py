"""Platform faults during a sync end in a correct state, or a clean stop that the next run finishes."""

from __future__ import annotations

from typing import Any

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def codes(engine: Engine) -> list[str]:
    return [m.code for m in engine.reports[-1].messages]


def stored_messages(world: World) -> list[dict[str, Any]]:
    return world.org.query(
        "SELECT Support_Code__c, Severity__c, Job__c FROM CMSF_Maintenance_Message__c"
    )


def test_campaign_monitor_outage_fails_the_run_then_the_next_run_completes(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    world.account.start_outage("/campaigns/", until=clock.now().replace(hour=10))
    failed = engine.sync()
    assert failed.status == "failed"
    assert codes(engine) == ["CMSF-CM-DOWN"]
    assert [m["Support_Code__c"] for m in stored_messages(world)] == ["CMSF-CM-DOWN"]
    statuses = {row["job"]: row["status"] for row in failed.jobs}
    assert statuses["subscribers"] == "completed" and statuses["campaign_stats"] == "failed"
    clock.advance(hours=1)
    recovered = engine.sync()
    assert recovered.status == "completed", recovered.reason
    assert compare(world, engine.settings()) == []


def test_a_short_429_burst_is_absorbed_by_back_off(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    world.account.rate_limit_storm("/lists/", count=4)
    start = clock.now()
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert report.messages == []
    assert clock.now() > start  # the back-off waited (on the virtual clock)
    assert compare(world, engine.settings()) == []


def test_a_429_storm_stops_the_run_cleanly_and_the_next_run_finishes(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    world.account.rate_limit_storm("/lists/", until=clock.now().replace(hour=11))
    stopped = engine.sync()
    assert stopped.status == "stopped"
    assert codes(engine) == ["CMSF-CM-RATE"]
    clock.set(clock.now().replace(hour=12))
    assert engine.sync().status == "completed"
    assert compare(world, engine.settings()) == []


def test_row_locks_are_retried_record_by_record(world: World, engine: Engine) -> None:
    world.org.control.lock(object_name="CMSF_List_Member__c", attempts=2)
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert report.messages == []
    assert compare(world, engine.settings()) == []


def test_an_expired_session_is_renewed_mid_run(world: World, engine: Engine) -> None:
    calls = {"n": 0}

    def expire_at_call_40(method: str, path: str) -> None:
        calls["n"] += 1
        if calls["n"] == 40:
            world.org.control.expire_sessions()

    engine.on_gateway = lambda gateway: setattr(gateway, "on_request", expire_at_call_40)
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert compare(world, engine.settings()) == []


def test_an_org_near_its_api_limit_stops_cleanly_and_resumes_next_day(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    limit = world.org.limits.daily_limit
    world.org.limits.charge(cost=int(limit * 0.9) - 10)  # other apps' usage
    stopped = engine.sync()
    assert stopped.status == "stopped"
    assert codes(engine) == ["CMSF-API-ORG"]
    assert world.org.limits.used() < limit
    clock.advance(hours=25)
    finished = engine.sync()
    assert finished.status == "completed", finished.reason
    assert compare(world, engine.settings()) == []


def test_a_small_run_share_spreads_the_first_sync_over_several_runs(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"run_api_share": "0.4%"})  # 60 of 15,000 calls a run
    statuses = []
    for _ in range(12):
        statuses.append(engine.sync().status)
        if statuses[-1] == "completed":
            break
        clock.advance(hours=1)
    assert statuses[0] == "stopped" and statuses[-1] == "completed"
    assert all(r.calls["salesforce"] <= 60 + 5 for r in engine.reports)
    assert compare(world, engine.settings()) == []


def test_bulk_jobs_carry_the_new_session_after_a_relogin(world: World, engine: Engine) -> None:
    """A session that ends between a Bulk 2.0 job's calls: the next call logs in again."""
    gateway = engine.gateway()
    gateway.bulk_threshold = 200
    seen: list[str] = []

    def expire_after_job_created(method: str, path: str) -> None:
        seen.append(f"{method} {path}")
        if method == "POST" and path.endswith("/jobs/ingest"):
            world.org.control.expire_sessions()

    gateway.on_request = expire_after_job_created
    records = [{"CM_Id__c": f"bulk-{i}", "Name": f"Client {i}"} for i in range(450)]
    result = gateway.upsert("CMSF_Client__c", "CM_Id__c", records)
    assert result.failures == [] and result.succeeded == 450
    assert gateway.relogins >= 1
    assert any(call.endswith("/batches") for call in seen)  # the upload went through
    assert len(world.org.query("SELECT Id FROM CMSF_Client__c WHERE CM_Id__c LIKE 'bulk-%'")) == 450
