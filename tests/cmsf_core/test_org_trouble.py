"""The org's own trouble met by the engine: Apex limits, the flex queue, licenses, hidden fields, storage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from cmsf_core.apex_trouble import diagnose, records_per_call
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.exit_codes import ExitCode, for_run_status
from cmsf_core.runtime import RunReport
from scenarios.compare import compare
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for
from sf_sim import TriggerContext

MEMBER = "CMSF_List_Member__c"
ONE_LIST = WorldSpec(
    seed=31, clients=1, lists_per_client=1, subscribers_per_list=160, campaigns_per_client=0
)


@pytest.fixture
def one_list() -> Iterator[World]:
    built = build_world(ONE_LIST, clock=VirtualClock())
    yield built
    built.close()


def _engine(world: World, **settings: Any) -> Engine:
    engine = engine_for(world)
    engine.connect()
    engine.change_settings(settings)
    return engine


def _messages(report: RunReport, code: str) -> list[Any]:
    return [m for m in report.messages if m.code == code]


def _notify_per_record(ctx: TriggerContext) -> None:
    for _ in ctx.new:
        ctx.org.apex.enqueue_job("MemberNotify", lambda job: None)


# ---------------------------------------------------------------------- diagnosis


@pytest.mark.parametrize(
    ("message", "kind", "trigger", "count"),
    [
        (
            "MemberNotify: execution of AfterInsert caused by: System.LimitException: "
            "Too many queueable jobs added to the queue: 51",
            "queueable",
            "MemberNotify",
            51,
        ),
        (
            "wbsendit.T: execution of BeforeUpdate caused by: System.LimitException: "
            "Too many SOQL queries: 101",
            "soql",
            "wbsendit.T",
            101,
        ),
        (
            "X: execution of AfterInsert caused by: System.LimitException: Apex CPU time limit exceeded",
            "cpu",
            "X",
            None,
        ),
        (
            "X: execution of AfterInsert caused by: System.LimitException: Apex heap size too large: 6291457",
            "heap",
            "X",
            6291457,
        ),
        (
            "R: execution of AfterInsert caused by: System.AsyncException: You've exceeded the "
            "limit of 100 jobs in the flex queue for org 00D5g0000000001. Wait for some",
            "flex_queue",
            "R",
            100,
        ),
    ],
    ids=["queueable", "soql", "cpu", "heap", "flex-queue"],
)
def test_apex_refusals_are_diagnosed(
    message: str, kind: str, trigger: str, count: int | None
) -> None:
    trouble = diagnose(message)
    assert trouble is not None
    assert (trouble.kind, trouble.trigger, trouble.count) == (kind, trigger, count)


@pytest.mark.parametrize(
    "message",
    ["Email: invalid email address: x", "required field missing", "System.NullPointerException: x"],
    ids=["email", "required", "other-apex"],
)
def test_other_refusals_are_not_apex_limits(message: str) -> None:
    assert diagnose(message) is None


def test_suggested_batch_sizes() -> None:
    queueables = diagnose(
        "T: execution of AfterInsert caused by: System.LimitException: Too many queueable jobs added to the queue: 51"
    )
    cpu = diagnose(
        "T: execution of AfterInsert caused by: System.LimitException: Apex CPU time limit exceeded"
    )
    assert queueables is not None and cpu is not None
    assert records_per_call(queueables, 200) == 50  # one job a record: the limit itself
    assert records_per_call(queueables, 40) == 20  # failed below the limit: two or more a record
    assert records_per_call(cpu, 200) == 100
    assert records_per_call(cpu, 1) is None


# ---------------------------------------------------------------------- triggers and limits


def test_a_trigger_enqueueing_per_record_is_explained_and_lowering_the_limit_fixes_it(
    one_list: World,
) -> None:
    one_list.org.control.add_trigger(
        MEMBER, "after insert", _notify_per_record, name="MemberNotify"
    )
    engine = _engine(one_list)
    first = engine.sync()
    assert first.status == "completed", first.reason
    (message,) = _messages(first, "CMSF-APEX-LIMIT")
    assert message.summary.startswith(
        "MemberNotify on CMSF_List_Member__c: Too many queueable jobs added to the queue: 51"
    )
    assert "if(!System.isFuture() && !System.isBatch())" in message.detail
    assert "lower the 'subscribers' governor limit to 50 or fewer records a call" in message.detail
    assert _messages(first, "CMSF-REC-PENDING")
    assert one_list.org.count(MEMBER) == 0  # all 160 went in one refused call (the pool)
    engine.change_settings({"governor_limits": {"subscribers": 50}})
    one_list.clock.advance(hours=1)
    second = engine.sync()
    assert second.status == "completed"
    assert not _messages(second, "CMSF-APEX-LIMIT") and not _messages(second, "CMSF-REC-PENDING")
    assert one_list.org.count(MEMBER) == 160
    assert compare(one_list, engine.settings()) == []


def test_limit_split_floor_writes_the_refused_records_in_smaller_calls(one_list: World) -> None:
    one_list.org.control.add_trigger(
        MEMBER, "after insert", _notify_per_record, name="MemberNotify"
    )
    engine = _engine(one_list, governor_limits={"limit_split_floor": 25})
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert one_list.org.count(MEMBER) == 160
    (note,) = _messages(report, "CMSF-APEX-SPLIT")
    assert note.severity == "Warning"
    assert re.search(
        r"; (\d+) of \1 record\(s\) written again in calls of 40 or fewer", note.summary
    )
    assert "lower the 'subscribers' governor limit" in note.detail
    assert not _messages(report, "CMSF-REC-PENDING")


def test_limit_split_floor_stops_at_the_floor(one_list: World) -> None:
    def three_per_record(ctx: TriggerContext) -> None:
        for _ in range(3 * len(ctx.new)):
            ctx.org.apex.enqueue_job("Heavy", lambda job: None)

    one_list.org.control.add_trigger(MEMBER, "after insert", three_per_record, name="Heavy")
    engine = _engine(one_list, governor_limits={"limit_split_floor": 40})
    report = engine.sync()
    assert one_list.org.count(MEMBER) == 0  # 40 records a call still enqueue 120 jobs
    assert _messages(report, "CMSF-REC-PENDING")
    assert any(
        re.search(r"; 0 of 160 record\(s\) written again in calls of 40", m.summary)
        for m in _messages(report, "CMSF-APEX-SPLIT")
    )


def test_a_cpu_heavy_trigger_fails_big_calls_and_smaller_batches_fix_it(one_list: World) -> None:
    one_list.org.control.add_trigger(
        MEMBER, "before insert", lambda ctx: None, name="Scoring", cpu_ms_per_record=80
    )
    engine = _engine(one_list)
    first = engine.sync()
    (message,) = _messages(first, "CMSF-APEX-LIMIT")
    assert "Apex CPU time limit exceeded" in message.summary
    assert "lower the 'subscribers' governor limit to 80 or fewer" in message.detail  # 160 / 2
    engine.change_settings({"governor_limits": {"subscribers": 100}})
    one_list.clock.advance(hours=1)
    second = engine.sync()
    assert not _messages(second, "CMSF-APEX-LIMIT")
    assert one_list.org.count(MEMBER) == 160


def test_a_full_flex_queue_refuses_a_batch_starting_trigger_until_it_drains(
    one_list: World,
) -> None:
    org = one_list.org
    org.apex.clocked = True
    for index in range(5):
        org.apex.execute_batch(f"Nightly{index}", execute=lambda ctx, scope: None, duration=7200)
    for index in range(100):
        org.apex.execute_batch(f"Queued{index}", execute=lambda ctx, scope: None)

    def rollup(ctx: TriggerContext) -> None:
        ctx.org.apex.execute_batch("MemberRollup", execute=lambda job, scope: None)

    org.control.add_trigger(MEMBER, "after insert", rollup, name="MemberRollup")
    engine = _engine(one_list)
    first = engine.sync()
    (message,) = _messages(first, "CMSF-APEX-QUEUE")
    assert "You've exceeded the limit of 100 jobs in the flex queue" in message.summary
    assert "Setup > Apex Flex Queue" in message.detail
    assert org.count(MEMBER) == 0
    one_list.clock.advance(hours=3)  # the nightly jobs end and the queue drains
    second = engine.sync()
    assert not _messages(second, "CMSF-APEX-QUEUE")
    assert org.count(MEMBER) == 160


# ---------------------------------------------------------------------- licenses and access


@pytest.fixture
def mixed() -> Iterator[World]:
    built = build_world(
        WorldSpec(seed=33, clients=1, lists_per_client=2, subscribers_per_list=30),
        clock=VirtualClock(),
    )
    yield built
    built.close()


def test_a_platform_license_skips_leads_and_campaigns_with_one_message(mixed: World) -> None:
    mixed.org.control.apply_license("Salesforce Platform")
    engine = _engine(mixed, **EVERY_OPTION)
    report = engine.sync()
    assert report.status == "completed", report.reason
    (message,) = _messages(report, "CMSF-LICENSE")
    assert message.summary == (
        "The sync user cannot use Campaign, Lead; the sync skipped what needs them"
    )
    assert "linking memberships to Leads" in message.detail
    assert "linking synced campaigns to Salesforce Campaigns" in message.detail
    assert "full Salesforce license" in message.detail
    assert not _messages(report, "CMSF-JOB-FAILED") and not _messages(report, "CMSF-REC-WRITE")
    linked = mixed.org.query(f"SELECT COUNT() FROM {MEMBER} WHERE Lead__c != null")
    assert mixed.org.count(MEMBER) > 0 and linked == []
    mixed.org.control.apply_license("Salesforce")
    mixed.clock.advance(hours=1)
    again = engine.sync()
    assert again.status == "completed" and not _messages(again, "CMSF-LICENSE")
    assert mixed.org.query(f"SELECT Id FROM {MEMBER} WHERE Lead__c != null")


def test_a_field_hidden_from_the_sync_user_is_named(mixed: World) -> None:
    engine = _engine(mixed)
    mixed.org.control.hide_field("Contact", "Email")
    report = engine.sync()
    assert report.status == "completed_with_errors"
    message = _messages(report, "CMSF-SF-ACCESS")[0]
    assert (
        "Insufficient permissions: secure query included inaccessible field Contact.Email"
        in message.summary
    )
    mixed.org.control.hidden_fields.discard(("contact", "email"))
    mixed.clock.advance(hours=1)
    again = engine.sync()
    assert again.status == "completed" and not _messages(again, "CMSF-SF-ACCESS")
    assert compare(mixed, engine.settings()) == []


# ---------------------------------------------------------------------- storage


def test_storage_near_its_limit_warns_and_cleans_up_first(one_list: World) -> None:
    engine = _engine(one_list)
    one_list.org.control.storage_limit_mb = 10
    one_list.org.control.other_storage_mb = 9
    report = engine.sync()
    assert report.status == "completed", report.reason
    (message,) = _messages(report, "CMSF-STORAGE")
    assert message.summary == "The org's data storage is 90% full (9 of 10 MB)"
    assert "tracking_retention_days" in message.detail
    order = [row["job"] for row in report.jobs]
    assert order.index("tracking_cleanup") < order.index("subscribers")


def test_a_full_org_stops_the_run_cleanly_and_lower_retention_frees_space() -> None:
    world = build_world(
        WorldSpec(
            seed=35, clients=1, lists_per_client=1, subscribers_per_list=40, campaigns_per_client=2
        ),
        clock=VirtualClock(),
    )
    try:
        engine = _engine(world)
        assert engine.sync().status == "completed"
        used = world.org.control.storage_used_bytes() / 1024 / 1024
        world.org.control.storage_limit_mb = 10
        world.org.control.other_storage_mb = 10 - used - 0.01  # room for five records
        for i in range(30):
            world.account.add_subscriber_at(world.summary["lists"][0], f"late{i}@full.example")
        world.clock.advance(hours=1)
        stopped = engine.sync()
        assert stopped.status == "stopped"
        assert for_run_status(stopped.status) is ExitCode.STOPPED
        (message,) = _messages(stopped, "CMSF-STORAGE-FULL")
        assert "the org's data storage is full (STORAGE_LIMIT_EXCEEDED)" in message.summary
        assert "tracking_activity_types" in message.detail
        assert "tracking_cleanup" in [row["job"] for row in stopped.jobs]
        engine.change_settings({"tracking_retention_days": 0})
        world.clock.advance(hours=1)
        freed = engine.sync()
        assert freed.status == "completed", freed.reason
        assert (
            len(world.org.query(f"SELECT Id FROM {MEMBER} WHERE Email__c LIKE '%@full.example'"))
            == 30
        )
    finally:
        world.close()
