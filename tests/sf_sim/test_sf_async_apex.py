from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from cmsf_core.clock import VirtualClock
from sf_sim import Org
from sf_sim.async_apex import ApexContext, AsyncException
from sf_sim.cron import CronError, CronExpression


@pytest.fixture
def org(clock: VirtualClock) -> Org:
    return Org(clock=clock)


def _noop(ctx: ApexContext, scope: list[Any]) -> None:
    del ctx, scope


def test_batch_runs_start_execute_finish_in_scopes(org: Org) -> None:
    for index in range(450):
        org.create("Contact", {"LastName": f"C{index}"}, system=True)
    seen: list[int] = []
    finished: list[str] = []

    def start(ctx: ApexContext) -> list[dict[str, Any]]:
        return ctx.org.query("SELECT Id FROM Contact")

    def execute(ctx: ApexContext, scope: list[dict[str, Any]]) -> None:
        seen.append(len(scope))
        ctx.org.update("Contact", scope[0]["Id"], {"Title": "Touched"})

    job = org.apex.execute_batch(
        "TouchContacts",
        start=start,
        execute=execute,
        finish=lambda ctx: finished.append(ctx.job_id),
    )
    assert org.apex.status(job) == "Queued"
    assert org.apex.run() == 1
    row = org.query(
        f"SELECT Status, JobType, TotalJobItems, JobItemsProcessed, NumberOfErrors, ApexClass.Name FROM AsyncApexJob WHERE Id = '{job}'"
    )[0]
    assert (
        row["Status"],
        row["JobType"],
        row["TotalJobItems"],
        row["JobItemsProcessed"],
        row["NumberOfErrors"],
    ) == ("Completed", "BatchApex", 3, 3, 0)
    assert row["ApexClass"]["Name"] == "TouchContacts"
    assert seen == [200, 200, 50] and finished == [job]
    assert len(org.query("SELECT Id FROM Contact WHERE Title = 'Touched'")) == 3


def test_failing_scope_does_not_fail_the_job(org: Org) -> None:
    def execute(ctx: ApexContext, scope: list[int]) -> None:
        if 3 in scope:
            raise ValueError("bad scope")

    job = org.apex.execute_batch(
        "Picky", start=lambda ctx: list(range(10)), execute=execute, scope_size=2
    )
    org.apex.run()
    record = org.get("AsyncApexJob", job)
    assert (record["Status"], record["NumberOfErrors"], record["ExtendedStatus"]) == (
        "Completed",
        1,
        "First error: ValueError: bad scope",
    )


def test_failing_start_fails_the_job(org: Org) -> None:
    def start(ctx: ApexContext) -> list[int]:
        raise RuntimeError("no records")

    job = org.apex.execute_batch("Broken", start=start, execute=_noop)
    org.apex.run()
    assert org.get("AsyncApexJob", job)["Status"] == "Failed"


def test_five_active_batches_then_flex_queue_fifo(org: Org) -> None:
    stuck = [org.apex.inject_stuck(f"Other{i}") for i in range(5)]
    waiting = [
        org.apex.execute_batch(f"Mine{i}", start=lambda ctx: [1], execute=_noop) for i in range(3)
    ]
    assert [org.apex.status(j) for j in waiting] == ["Holding"] * 3
    assert org.apex.flex_queue() == waiting
    assert org.apex.run() == 0
    org.apex.release(stuck[0])
    org.apex.move_to_front(waiting[2])
    assert org.apex.run() == 1
    assert [org.apex.status(j) for j in waiting] == ["Queued", "Holding", "Completed"]
    for job in stuck[1:]:
        org.apex.abort(job)
    assert org.apex.run_until_idle() == 2
    assert [org.apex.status(j) for j in waiting] == ["Completed"] * 3


def test_flex_queue_holds_100_jobs(org: Org) -> None:
    for index in range(5):
        org.apex.inject_stuck(f"Other{index}")
    for index in range(100):
        org.apex.execute_batch(f"Job{index}", execute=_noop)
    with pytest.raises(AsyncException) as exc:
        org.apex.execute_batch("OneTooMany", execute=_noop)
    assert str(exc.value).startswith(
        "You've exceeded the limit of 100 jobs in the flex queue for org "
    )


def test_queueable_may_chain_only_one_job(org: Org) -> None:
    def chain(ctx: ApexContext) -> None:
        ctx.enqueue_job("Child", lambda inner: None)
        ctx.enqueue_job("Child", lambda inner: None)

    job = org.apex.enqueue_job("Parent", chain)
    org.apex.run()
    record = org.get("AsyncApexJob", job)
    assert record["Status"] == "Failed"
    assert (
        record["ExtendedStatus"]
        == "System.LimitException: Too many queueable jobs added to the queue: 2"
    )
    assert org.count("AsyncApexJob") == 1


def test_trigger_may_enqueue_up_to_50(org: Org) -> None:
    def fan_out(ctx: Any) -> None:
        for _ in range(51):
            ctx.org.apex.enqueue_job("Fan", lambda inner: None)

    org.control.add_trigger("Contact", "after insert", fan_out, name="FanOut")
    result = org.insert("Contact", [{"LastName": "L"}])[0]
    assert "Too many queueable jobs added to the queue: 51" in result.errors[0].message
    assert org.count("AsyncApexJob") == 0


def test_self_chaining_queueable_moves_one_tick_at_a_time(org: Org) -> None:
    def again(ctx: ApexContext) -> None:
        ctx.enqueue_job("Again", again)

    org.apex.enqueue_job("Again", again)
    assert org.apex.run() == 1 and org.apex.run() == 1
    assert org.apex.run_until_idle(max_ticks=5) == 5


def test_scheduled_job_fires_on_its_cron(org: Org, clock: VirtualClock) -> None:
    runs: list[str] = []
    trigger = org.apex.schedule(
        "Hourly sync", "0 0 * * * ?", "SyncScheduler", lambda ctx: runs.append(ctx.job_id)
    )
    row = org.get("CronTrigger", trigger)
    assert row["State"] == "WAITING" and row["NextFireTime"] == "2026-01-05T10:00:00.000+0000"
    org.apex.run()
    assert runs == []
    clock.advance(hours=1)
    org.apex.run()
    assert len(runs) == 1 and org.get("AsyncApexJob", runs[0])["JobType"] == "ScheduledApex"
    row = org.get("CronTrigger", trigger)
    assert (row["TimesTriggered"], row["NextFireTime"]) == (1, "2026-01-05T11:00:00.000+0000")
    with pytest.raises(AsyncException, match='named "Hourly sync" is already scheduled'):
        org.apex.schedule("Hourly sync", "0 0 * * * ?", "SyncScheduler", lambda ctx: None)
    org.apex.abort(trigger)
    clock.advance(hours=3)
    org.apex.run()
    assert len(runs) == 1


def test_async_executions_show_in_limits(org: Org) -> None:
    org.apex.enqueue_job("One", lambda ctx: None)
    org.apex.run()
    assert org.limits.to_api()["DailyAsyncApexExecutions"]["Remaining"] == 249_999


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 30 2 ? * MON-FRI", "2026-01-09T03:00:00+00:00", "2026-01-12T02:30:00+00:00"),
        ("0 0/15 * * * ?", "2026-01-05T09:07:00+00:00", "2026-01-05T09:15:00+00:00"),
        ("0 0 12 1 JAN,JUL ?", "2026-01-05T09:00:00+00:00", "2026-07-01T12:00:00+00:00"),
        ("0 0 0 29 2 ? 2028", "2026-01-01T00:00:00+00:00", "2028-02-29T00:00:00+00:00"),
    ],
    ids=["weekdays", "every-quarter-hour", "month-names", "leap-day"],
)
def test_cron_next_fire_time(expression: str, after: str, expected: str) -> None:
    fire = CronExpression.parse(expression).next_after(datetime.fromisoformat(after))
    assert fire is not None and fire.isoformat() == expected


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "0 0 * * *",
        "0 0 * * * *",
        "0 0 25 * * ?",
        "0 0 * L * ?",
        "0 61 * * * ?",
        "0 0 5-1 * * ?",
        "0 0/0 * * * ?",
    ],
    ids=[
        "empty",
        "five-fields",
        "no-question-mark",
        "hour-25",
        "last-day",
        "minute-61",
        "backwards",
        "zero-step",
    ],
)
def test_bad_cron_expressions(expression: str) -> None:
    with pytest.raises(CronError):
        CronExpression.parse(expression)


def test_cron_uses_the_owner_time_zone() -> None:
    fire = CronExpression.parse("0 0 9 * * ?").next_after(
        datetime.fromisoformat("2026-01-05T12:00:00+00:00"), "America/Los_Angeles"
    )
    assert fire is not None and fire.isoformat() == "2026-01-05T17:00:00+00:00"


def test_a_clocked_org_runs_jobs_for_their_duration(org: Org, clock: VirtualClock) -> None:
    org.apex.clocked = True
    jobs = [org.apex.execute_batch(f"Slow{i}", execute=_noop, duration=3600) for i in range(7)]
    org.tick()
    assert [org.apex.status(j) for j in jobs] == ["Processing"] * 5 + ["Holding"] * 2
    clock.advance(minutes=59)
    org.tick()
    assert org.apex.status(jobs[0]) == "Processing"
    clock.advance(minutes=1)
    org.tick()
    assert [org.apex.status(j) for j in jobs] == ["Completed"] * 5 + ["Processing"] * 2
    first = org.get("AsyncApexJob", jobs[0])
    assert first["CompletedDate"] == "2026-01-05T10:00:00.000+0000"
    clock.advance(hours=3)
    org.tick()
    late = org.get("AsyncApexJob", jobs[6])
    assert late["Status"] == "Completed"
    assert late["CompletedDate"] == "2026-01-05T11:00:00.000+0000"


def test_a_clocked_org_promotes_holding_jobs_when_stuck_ones_are_aborted(
    org: Org, clock: VirtualClock
) -> None:
    org.apex.clocked = True
    stuck = [org.apex.inject_stuck(f"Stuck{i}") for i in range(5)]
    waiting = org.apex.execute_batch("Waiting", execute=_noop)
    clock.advance(days=2)
    org.tick()
    assert org.apex.status(waiting) == "Holding"
    for job in stuck:
        org.apex.abort(job)
    org.tick()
    assert org.apex.status(waiting) == "Completed"
    assert [org.apex.status(j) for j in stuck] == ["Aborted"] * 5


def test_an_org_that_is_not_clocked_waits_for_run(org: Org, clock: VirtualClock) -> None:
    job = org.apex.enqueue_job("Manual", lambda ctx: None, duration=0)
    clock.advance(hours=1)
    org.tick()
    assert org.apex.status(job) == "Queued"
    assert org.apex.run() == 1 and org.apex.status(job) == "Completed"


def test_a_trigger_starting_a_batch_job_into_a_full_flex_queue_fails_with_async_exception(
    org: Org,
) -> None:
    for index in range(5):
        org.apex.inject_stuck(f"Other{index}")
    for index in range(100):
        org.apex.execute_batch(f"Job{index}", execute=_noop)

    def rollup(ctx: Any) -> None:
        ctx.org.apex.execute_batch("Rollup", execute=_noop)

    org.control.add_trigger("Contact", "after insert", rollup, name="RollupTrigger")
    result = org.insert("Contact", [{"LastName": "L"}])[0]
    assert result.errors[0].error_code == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert result.errors[0].message.startswith(
        "RollupTrigger: execution of AfterInsert caused by: System.AsyncException: "
        "You've exceeded the limit of 100 jobs in the flex queue for org "
    )
    assert org.count("Contact") == 0
