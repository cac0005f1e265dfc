"""Every internal governor limit changes what the engine does (one test per limit).

Each test runs the same world twice, once with the default limits and once with one limit
moved, and shows the effect in what the admin would see: write requests per object,
API calls, bulk jobs, or how much of a backlog a run works through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.runtime import RunReport
from cmsf_core.settings import DEFAULT_LIMITS
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for
from sf_sim import TriggerContext

Measure = Callable[[World, Engine, VirtualClock], int]


def _engine(world: World, limits: dict[str, int]) -> Engine:
    engine = engine_for(world)
    engine.connect()
    engine.change_settings({**EVERY_OPTION, "governor_limits": limits})
    return engine


def _run(spec: WorldSpec, limits: dict[str, int], measure: Measure) -> int:
    clock = VirtualClock()
    world = build_world(spec, clock=clock)
    try:
        return measure(world, _engine(world, limits), clock)
    finally:
        world.close()


def _writes(sobject: str) -> Measure:
    """Write requests on ``sobject`` made by a first sync."""

    def measure(world: World, engine: Engine, clock: VirtualClock) -> int:
        report = engine.sync()
        assert report.status == "completed", report.reason
        return report.write_calls.get(sobject, 0)

    return measure


def _second_sync(prepare: Callable[[World, Engine, VirtualClock], None], sobject: str) -> Measure:
    """Write (or delete) requests on ``sobject`` in a sync after ``prepare`` changed things."""

    def measure(world: World, engine: Engine, clock: VirtualClock) -> int:
        assert engine.sync().status == "completed"
        prepare(world, engine, clock)
        clock.advance(hours=1)
        report = engine.sync()
        assert report.status == "completed", report.reason
        return report.write_calls.get(sobject, 0)

    return measure


def _with_suppressions(world: World, engine: Engine, clock: VirtualClock) -> int:
    client = world.summary["clients"][0]
    for i in range(6):
        world.account.suppress_at(client, f"blocked{i}@example.com")
    clock.advance(minutes=1)
    return _writes("CMSF_Suppression__c")(world, engine, clock)


def _more_smart_emails(sobject: str) -> Measure:
    def measure(world: World, engine: Engine, clock: VirtualClock) -> int:
        client = world.summary["clients"][0]
        for i in range(3):
            world.account.create_smart_email(client, f"Receipt {i}", variables=["name", "total"])
        return _writes(sobject)(world, engine, clock)

    return measure


def _unsubscribe_linked_contacts(world: World, engine: Engine, clock: VirtualClock) -> None:
    rows = world.org.query(
        "SELECT Email__c, List__r.CM_Id__c FROM CMSF_List_Member__c "
        "WHERE Contact__c != null AND State__c = 'Active' LIMIT 6"
    )
    for row in rows:
        for list_id in world.summary["lists"]:
            try:
                world.account.change_state(list_id, row["Email__c"], "Unsubscribed")
            except Exception:
                continue  # not on this list


def _rename_contacts(world: World, engine: Engine, clock: VirtualClock) -> None:
    rows = world.org.query("SELECT Id FROM Contact ORDER BY Id LIMIT 3")
    for index, row in enumerate(rows):
        world.org.update("Contact", row["Id"], {"FirstName": f"Renamed{index}"})


def _shorter_retention(world: World, engine: Engine, clock: VirtualClock) -> None:
    engine.change_settings({"tracking_activity_types": "Sent,Open"})


def _old_queue_items(world: World, engine: Engine, clock: VirtualClock) -> None:
    results = world.org.insert("CMSF_Queue_Item__c", [{"Type__c": "Smart Email"} for _ in range(7)])
    assert all(r.success for r in results)
    clock.advance(days=3)


def _smart_email_tasks(world: World, engine: Engine, clock: VirtualClock) -> int:
    """Tasks of sent smart emails filled in by one run."""
    smart_id = world.summary["smart_emails"][0]
    sent = world.account.send_smart_email(
        smart_id, {"To": [f"tx{i}@example.com" for i in range(5)], "ConsentToTrack": "Yes"}
    )
    world.org.insert(
        "Task",
        [{"Subject": "Smart email", "CMSF_Message_Id__c": row["MessageID"]} for row in sent],
    )
    assert engine.sync().status == "completed"
    return len(world.org.query("SELECT Id FROM Task WHERE CMSF_Message_Status__c != null"))


def _full_sync_deletes(world: World, engine: Engine, clock: VirtualClock) -> int:
    assert engine.sync().status == "completed"
    clock.advance(hours=1)
    report = engine.sync(full=True)
    assert report.status == "completed", report.reason
    return report.write_calls.get("CMSF_List_Member__c", 0)


def _bulk_jobs(world: World, engine: Engine, clock: VirtualClock) -> int:
    assert engine.sync().status == "completed"
    return sum(1 for r in world.org.control.request_log if r.path.endswith("/jobs/ingest"))


def _cm_calls(world: World, engine: Engine, clock: VirtualClock) -> int:
    report: RunReport = engine.sync()
    assert report.status == "completed"
    return report.calls["campaign_monitor"]


def _summary_reads_days_later(world: World, engine: Engine, clock: VirtualClock) -> int:
    """Campaign Monitor calls of the campaign statistics job, 45 days after the sends."""
    assert engine.sync().status == "completed"
    clock.advance(days=45)
    report = engine.sync()
    assert report.status == "completed"
    calls = engine.journal.calls(report.run.run_id).get("campaign_stats", {})
    return calls.get("campaign_monitor", 0)


def _reconciliation_reads(world: World, engine: Engine, clock: VirtualClock) -> int:
    assert engine.sync().status == "completed"
    clock.advance(hours=3)
    report = engine.sync()
    return report.stats.read.get("CM subscribers (reconciliation)", 0)


def _import(world: World, engine: Engine, clock: VirtualClock, *, replace: bool) -> None:
    """After a first sync, an hourly import into the first list (of every Contact with an
    address, or, to replace, of one)."""
    assert engine.sync().status == "completed"
    list_sf = world.org.query(
        f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{world.summary['lists'][0]}'"
    )[0]["Id"]
    soql = "SELECT Email FROM Contact WHERE Email != null" + (" LIMIT 1" if replace else "")
    world.org.create(
        "CMSF_Import__c",
        {"Name": "Limits", "List__c": list_sf, "Source_Type__c": "SOQL", "Source__c": soql,
         "Schedule__c": "Hourly", "Replace_Subscribers__c": replace},
    )  # fmt: skip
    clock.advance(hours=1)
    assert engine.sync().status == "completed"


def _import_requests(world: World, engine: Engine, clock: VirtualClock) -> int:
    _import(world, engine, clock, replace=False)
    return world.account.api_call_count("/import.json", "POST")


def _removed_in_one_run(world: World, engine: Engine, clock: VirtualClock) -> int:
    _import(world, engine, clock, replace=True)
    return world.account.api_call_count("/subscribers/", "DELETE")


def _smart_email_requests(world: World, engine: Engine, clock: VirtualClock, count: int) -> None:
    """After a first sync, a Flow requests the seeded smart email for ``count`` Contacts."""
    import json

    assert engine.sync().status == "completed"
    org = world.org
    smart = org.query("SELECT Id FROM CMSF_Smart_Email__c ORDER BY Name LIMIT 1")[0]["Id"]
    mapping = org.insert(
        "CMSF_Smart_Email_Mapping__c",
        [{"Name": "Welcome", "Smart_Email__c": smart, "Root_Object__c": "Contact",
          "Recipient_Field__c": "Email", "Variable_Map__c": json.dumps({"firstname": "FirstName"})}],
    )[0].id  # fmt: skip
    people = org.query(f"SELECT Id FROM Contact WHERE Email != null ORDER BY Id LIMIT {count}")
    org.insert(
        "CMSF_Queue_Item__c",
        [{"Type__c": "Smart Email", "Record_Id__c": p["Id"], "Smart_Email_Mapping__c": mapping}
         for p in people],
    )  # fmt: skip
    clock.advance(hours=1)


def _smart_email_sends(world: World, engine: Engine, clock: VirtualClock) -> int:
    """Queue item write requests of a run sending six smart emails (batches of ``smart_email_sends``)."""
    _smart_email_requests(world, engine, clock, 6)
    report = engine.sync()
    assert report.status == "completed" and report.stats.pushed["smart emails sent"] == 6
    return report.write_calls.get("CMSF_Queue_Item__c", 0)


def _smart_email_attempts(world: World, engine: Engine, clock: VirtualClock) -> int:
    """Sends failed for good by a run that meets a long transactional rate limit."""
    _smart_email_requests(world, engine, clock, 3)
    world.account.rate_limit_storm("/send", until=clock.now() + timedelta(hours=2))
    report = engine.sync()
    assert report.status == "completed"
    return report.stats.pushed["smart emails failed"]


def _completed_behind_a_busy_bulk_queue(world: World, engine: Engine, clock: VirtualClock) -> int:
    """1 if a first sync completes while the org's bulk queue is held for 45 minutes."""
    engine.change_settings(
        {"governor_limits": {**engine.settings().governor_limits, "bulk_threshold": 200}}
    )
    world.org.bulk.add_foreign_job(timedelta(minutes=45))
    report = engine.sync()
    assert report.status in ("completed", "waiting"), report.reason
    return int(report.status == "completed")


def _members_past_a_queueable_trigger(world: World, engine: Engine, clock: VirtualClock) -> int:
    """Memberships a first sync writes past a trigger that enqueues a job per record."""

    def per_record(ctx: TriggerContext) -> None:
        for _ in ctx.new:
            ctx.org.apex.enqueue_job("Notify", lambda job: None)

    world.org.control.add_trigger("CMSF_List_Member__c", "after insert", per_record)
    assert engine.sync().status == "completed"
    return world.org.count("CMSF_List_Member__c")


def _storage_warnings(world: World, engine: Engine, clock: VirtualClock) -> int:
    """Storage warnings of a sync in an org half full."""
    world.org.control.storage_limit_mb = 100
    world.org.control.other_storage_mb = 50
    report = engine.sync()
    return sum(1 for m in report.messages if m.code == "CMSF-STORAGE")


SMALL = WorldSpec(seed=3, subscribers_per_list=30)
ONE_BIG_LIST = WorldSpec(seed=3, clients=1, lists_per_client=1, subscribers_per_list=600,
                         campaigns_per_client=0)  # fmt: skip

CASES: list[tuple[str, int, WorldSpec, Measure, str]] = [
    ("configuration", 1, SMALL, _writes("CMSF_List__c"), "more"),
    ("suppression", 1, SMALL, _with_suppressions, "more"),
    ("subscribers", 5, SMALL, _writes("CMSF_List_Member__c"), "more"),
    ("list_stats", 1, SMALL, _writes("CMSF_List__c"), "more"),
    ("campaigns", 1, SMALL, _writes("CMSF_Campaign__c"), "more"),
    ("campaign_stats", 1, SMALL, _writes("Campaign"), "more"),
    ("tracking_history", 10, SMALL, _writes("CMSF_Email_Activity__c"), "more"),
    ("campaign_members", 5, SMALL, _writes("CampaignMember"), "more"),
    ("email_opt_out", 1, SMALL, _second_sync(_unsubscribe_linked_contacts, "Contact"), "more"),
    ("smart_emails", 1, SMALL, _more_smart_emails("CMSF_Smart_Email__c"), "more"),
    ("smart_email_variables", 1, SMALL, _more_smart_emails("CMSF_Smart_Email_Variable__c"), "more"),
    ("smart_email_tasks", 2, SMALL, _smart_email_tasks, "fewer"),
    ("tracking_cleanup", 5, SMALL, _second_sync(_shorter_retention, "CMSF_Email_Activity__c"), "more"),
    ("queue_cleanup", 2, SMALL, _second_sync(_old_queue_items, "CMSF_Queue_Item__c"), "more"),
    ("subscription_cleanup", 10, SMALL, _full_sync_deletes, "more"),
    ("bulk_threshold", 200, ONE_BIG_LIST, _bulk_jobs, "more"),
    ("cm_page_size", 10, SMALL, _cm_calls, "more"),
    ("campaign_stats_days", 30, SMALL, _summary_reads_days_later, "fewer"),
    ("reconcile_hours", 2, SMALL, _reconciliation_reads, "more"),
    ("push", 1, SMALL, _second_sync(_rename_contacts, "CMSF_Queue_Item__c"), "more"),
    ("imports", 10, SMALL, _import_requests, "more"),
    ("import_removals", 2, SMALL, _removed_in_one_run, "fewer"),
    ("smart_email_sends", 2, SMALL, _smart_email_sends, "more"),
    ("smart_email_attempts", 1, SMALL, _smart_email_attempts, "more"),
    ("bulk_wait_minutes", 60, ONE_BIG_LIST, _completed_behind_a_busy_bulk_queue, "more"),
    ("limit_split_floor", 25, ONE_BIG_LIST, _members_past_a_queueable_trigger, "more"),
    ("storage_warn_percent", 40, SMALL, _storage_warnings, "more"),
]  # fmt: skip


def test_every_limit_has_a_case() -> None:
    assert sorted(name for name, *_ in CASES) == sorted(DEFAULT_LIMITS)


@pytest.mark.parametrize(
    ("limit", "value", "spec", "measure", "direction"), CASES, ids=[c[0] for c in CASES]
)
def test_moving_a_limit_changes_what_the_engine_does(
    limit: str, value: int, spec: WorldSpec, measure: Measure, direction: str
) -> None:
    default = _run(spec, {}, measure)
    moved = _run(spec, {limit: value}, measure)
    if direction == "more":
        assert moved > default, (limit, default, moved)
    else:
        assert moved < default, (limit, default, moved)


def test_a_limit_outside_its_range_is_refused(world: World, engine: Engine) -> None:
    from cmsf_core.errors import ConfigError

    with pytest.raises(ConfigError, match="cm_page_size"):
        engine.change_settings({"governor_limits": {"cm_page_size": 5000}})
    with pytest.raises(ConfigError, match="unknown limit"):
        engine.change_settings({"governor_limits": {"no_such_limit": 5}})
