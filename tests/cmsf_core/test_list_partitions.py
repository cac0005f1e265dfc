"""List partitions of the subscribers and tracking history jobs, in process (the celery
lane runs them on workers).

:class:`PartitionedSubscribers` plays what the celery coordinator does with the job, on
the local runtime: every scope split with ``partition()``, the parts run last first (the
order workers may finish them in), ``merge_partitions()`` once all are done. The end state
must be the unsplit job's, exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.jobs import JOBS
from cmsf_core.jobs.base import Job, Scope
from cmsf_core.jobs.subscribers import STATE_COUNTERS, SubscribersJob, _may_exceed
from cmsf_core.jobs.tracking_history import TrackingHistoryJob
from scenarios.compare import compare, org_state
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for

SPEC = WorldSpec(seed=5, clients=1, lists_per_client=1, subscribers_per_list=300, days=10)


class SplitAsCoordinator(Job):
    """Plays the celery coordinator with a job (mixed in before it): every scope split with
    ``partition()``, the parts run last first (the order workers may finish them in),
    ``merge_partitions()`` once all are written."""

    size: ClassVar[int] = 40
    plans: ClassVar[list[tuple[Scope, list[Scope]]]] = []

    def start(self) -> Iterable[Scope]:
        self.ctx.pool.flush(self.ctx)  # each earlier job's task wrote what it pooled...
        self.ctx.directory.refresh()  # ...and the coordinator reads the directory again
        out: list[Scope] = []
        for scope in super().start():
            parts = self.partition(scope, self.size)
            if parts:
                self.plans.append((scope, parts))
                out.extend(reversed(parts))  # the last part first: no part needs another
            else:
                out.append(scope)
        return out

    def finish(self) -> list[str]:
        self.ctx.pool.flush(self.ctx)
        for scope, parts in self.plans:
            self.merge_partitions(scope, parts)
        return super().finish()


class PartitionedSubscribers(SplitAsCoordinator, SubscribersJob):
    """The subscribers job with its scopes split as the celery coordinator splits them."""

    after_part: ClassVar[Callable[[Scope], None] | None] = None

    def execute(self, scope: Scope) -> None:
        super().execute(scope)
        if scope.get("part_of") and PartitionedSubscribers.after_part is not None:
            PartitionedSubscribers.after_part(scope)


@pytest.fixture
def partitioned(monkeypatch: pytest.MonkeyPatch) -> type[PartitionedSubscribers]:
    monkeypatch.setitem(JOBS, "subscribers", PartitionedSubscribers)
    monkeypatch.setattr(PartitionedSubscribers, "plans", [])
    monkeypatch.setattr(PartitionedSubscribers, "after_part", None)
    return PartitionedSubscribers


def _synced(world: World) -> Engine:
    engine = engine_for(world)
    engine.connect()
    engine.change_settings(EVERY_OPTION)
    report = engine.sync()
    assert report.status == "completed", report.reason
    return engine


def test_parts_run_in_any_order_end_in_the_unsplit_jobs_state(
    partitioned: type[PartitionedSubscribers],
) -> None:
    reference_world = build_world(SPEC, clock=VirtualClock())
    with pytest.MonkeyPatch.context() as plain:
        plain.setitem(JOBS, "subscribers", SubscribersJob)
        reference = _synced(reference_world)
    world = build_world(SPEC, clock=VirtualClock())
    engine = _synced(world)
    try:
        parts = [p for _, ps in partitioned.plans for p in ps]
        assert len(parts) >= 4  # the Active read (~180 rows) in parts of ~40
        assert org_state(world) == org_state(reference_world)
        assert compare(world, engine.settings()) == []
        marks = engine.journal.bookmarks("subscribers")
        assert marks == reference.journal.bookmarks("subscribers")  # no part mark is left
        world.clock.advance(hours=1)
        again = engine.sync()
        assert again.status == "completed"
        assert again.stats.written.get("CMSF_List_Member__c", 0) == 0
    finally:
        world.close()
        reference_world.close()


def test_a_list_changing_between_part_reads_loses_nothing(
    partitioned: type[PartitionedSubscribers],
) -> None:
    world = build_world(SPEC, clock=VirtualClock())
    list_id = world.summary["lists"][0]
    http = world.account.client()
    oldest = http.get(f"/lists/{list_id}/active.json",
                      params={"orderfield": "date", "pagesize": 10}).json()["Results"]  # fmt: skip
    leaving = [str(r["EmailAddress"]) for r in oldest[:3]]
    changed: list[str] = []

    def change_once(part: Scope) -> None:
        if changed:
            return
        changed.append(str(part["key"]))  # after the first (the newest) part was read
        for email in leaving:  # the oldest rows leave the Active read, later ones move up
            world.account.change_state(list_id, email, "Unsubscribed")
        world.account.add_subscriber_at(list_id, "joined.mid.run@example.com", "Joined Midrun")

    partitioned.after_part = change_once
    try:
        engine = _synced(world)
        assert changed
        world.clock.advance(minutes=30)
        assert engine.sync().status == "completed"  # the next run picks the rest up
        assert compare(world, engine.settings()) == []
        members = {r[0]: r[1] for r in org_state(world)["CMSF_List_Member__c"]}
        assert members[f"{list_id}:joined.mid.run@example.com"] == "Active"
        assert all(members[f"{list_id}:{e.lower()}"] == "Unsubscribed" for e in leaving)
    finally:
        world.close()


def test_a_read_within_the_size_or_one_minute_is_not_split(
    partitioned: type[PartitionedSubscribers],
) -> None:
    world = build_world(
        WorldSpec(seed=5, clients=1, lists_per_client=1, subscribers_per_list=10, days=10),
        clock=VirtualClock(),
    )
    list_id = world.summary["lists"][0]
    moment = world.clock.now()
    for i in range(120):  # an import: 120 subscribers changed in the same minute
        world.account.add_subscriber_at(list_id, f"imported.{i}@example.com", at=moment)
    world.clock.advance(minutes=5)
    try:
        engine = _synced(world)
        # the Active read (126 rows, 120 of them in one minute) is cut at that minute only,
        # never inside it; the other states have fewer rows than a part
        ((scope, parts),) = partitioned.plans
        assert str(scope["key"]) == f"{list_id}:Active"
        minute = moment.replace(second=0, microsecond=0).isoformat()
        assert [(p.get("from"), p.get("to")) for p in parts] == [(None, minute), (minute, None)]
        assert compare(world, engine.settings()) == []
    finally:
        world.close()


class PartitionedTracking(SplitAsCoordinator, TrackingHistoryJob):
    """Tracking history with its campaigns split as the celery coordinator splits them."""

    size: ClassVar[int] = 15


def test_a_campaigns_activity_in_parts_ends_in_the_whole_reads_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference_world = build_world(SPEC, clock=VirtualClock())
    reference = _synced(reference_world)
    monkeypatch.setitem(JOBS, "tracking_history", PartitionedTracking)
    monkeypatch.setattr(PartitionedTracking, "plans", [])
    world = build_world(SPEC, clock=VirtualClock())
    engine = _synced(world)
    try:
        parts = [p for _, ps in PartitionedTracking.plans for p in ps]
        kinds = {str(p["kind"]) for p in parts if p.get("kind")}
        assert "Open" in kinds and len(parts) >= 4, parts
        assert org_state(world) == org_state(reference_world)
        assert engine.journal.bookmarks("tracking_history") == reference.journal.bookmarks(
            "tracking_history"
        )  # each type's date and counter, as a whole read leaves them; no part mark left
        world.clock.advance(hours=1)
        again = engine.sync()
        assert again.status == "completed"
        assert again.stats.written.get("CMSF_Email_Activity__c", 0) == 0
    finally:
        world.close()
        reference_world.close()


class CountedPlans(Job):
    """Counts the Campaign Monitor calls each plan made (mixed in before a split job)."""

    planning_calls: ClassVar[dict[str, int]] = {}

    def partition(self, scope: Scope, size: int) -> list[Scope]:
        before = self.ctx.cm.calls
        parts = super().partition(scope, size)
        self.planning_calls[str(scope["key"])] = self.ctx.cm.calls - before
        return parts


class CountedSubscribers(CountedPlans, PartitionedSubscribers):
    """The split subscribers job, counting the Campaign Monitor calls each plan made."""


class CountedTracking(CountedPlans, PartitionedTracking):
    """The split tracking history job, counting the Campaign Monitor calls each plan made."""


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(JOBS, "subscribers", CountedSubscribers)
    monkeypatch.setitem(JOBS, "tracking_history", CountedTracking)
    for job in (CountedSubscribers, CountedTracking):
        monkeypatch.setattr(job, "plans", [])
        monkeypatch.setattr(job, "planning_calls", {})


def test_planning_small_reads_costs_one_call_per_list_and_none_per_campaign(
    counted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CountedSubscribers, "size", 1_000)  # lists of 300
    monkeypatch.setattr(CountedTracking, "size", 1_000)
    world = build_world(SPEC, clock=VirtualClock())
    try:
        engine = _synced(world)
        calls = CountedSubscribers.planning_calls
        assert len(calls) == 5 and sum(calls.values()) == 1, calls  # the list's statistics
        assert CountedTracking.planning_calls  # campaigns were planned from the counters
        assert set(CountedTracking.planning_calls.values()) == {0}, CountedTracking.planning_calls
        assert not CountedSubscribers.plans and not CountedTracking.plans
        assert compare(world, engine.settings()) == []
    finally:
        world.close()


def test_planning_probes_only_what_the_counters_show_may_be_split(
    counted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CountedSubscribers, "size", 40)
    monkeypatch.setattr(CountedTracking, "size", 15)
    world = build_world(SPEC, clock=VirtualClock())
    try:
        engine = _synced(world)
        list_id = world.summary["lists"][0]
        stats = world.account.client().get(f"/lists/{list_id}/stats.json").json()
        calls = dict(CountedSubscribers.planning_calls)
        calls[f"{list_id}:Active"] -= 1  # the first state planned also asked the statistics
        for state, counter in STATE_COUNTERS.items():
            probed = calls[f"{list_id}:{state}"] > 0
            assert probed == (stats[counter] > 40), (state, stats, calls)
        assert calls[f"{list_id}:Unconfirmed"] == 1  # not counted; the list is big: probed
        assert CountedSubscribers.plans  # the Active read was split
        opened = [k for k, n in CountedTracking.planning_calls.items() if n > 0]
        assert opened and CountedTracking.plans
        assert compare(world, engine.settings()) == []
    finally:
        world.close()


@pytest.mark.parametrize(
    ("counters", "state", "probed"),
    [
        ({"TotalActiveSubscribers": 41}, "Active", True),
        ({"TotalActiveSubscribers": 40}, "Active", False),  # a part holds exactly 40
        ({"TotalActiveSubscribers": 40, "TotalBounces": 1}, "Bounced", False),
        ({"TotalActiveSubscribers": 40, "TotalBounces": 1}, "Unconfirmed", True),
        ({"TotalActiveSubscribers": 20, "TotalDeleted": 20}, "Unconfirmed", False),
        ({"TotalActiveSubscribers": 20}, "Deleted", False),  # a counter not given: 0
        ({"TotalActiveSubscribers": "many"}, "Active", True),  # not a number: probed
        ({"TotalActiveSubscribers": None, "TotalDeleted": {"n": 1}}, "Unconfirmed", True),
    ],
)
def test_a_state_is_probed_when_its_counter_may_exceed_a_part(
    counters: dict[str, object], state: str, probed: bool
) -> None:
    assert _may_exceed(counters, state, 40) is probed
