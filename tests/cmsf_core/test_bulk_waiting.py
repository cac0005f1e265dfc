"""Bulk API jobs that wait behind the org's other work: never blocked forever, never written twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cmsf_core.bulk_ledger import BulkLedger
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.exit_codes import ExitCode, for_run_status
from cmsf_core.shadow import Shadow
from cmsf_core.state import Journal
from scenarios.compare import compare
from scenarios.world import World, WorldSpec, build_world, engine_for

SPEC = WorldSpec(
    seed=21, clients=1, lists_per_client=1, subscribers_per_list=400, campaigns_per_client=0
)
MEMBER = "CMSF_List_Member__c"


@pytest.fixture
def world() -> Iterator[World]:
    built = build_world(SPEC, clock=VirtualClock())
    yield built
    built.close()


def _engine(world: World, journal: Journal | None = None, **limits: int) -> Engine:
    engine = engine_for(world, journal)
    engine.connect()
    engine.change_settings({"governor_limits": {"bulk_threshold": 200, **limits}})
    return engine


def _ingest_jobs(world: World) -> list[Any]:
    """Bulk API ingest jobs of the sync on the memberships object."""
    return [j for j in world.org.bulk.jobs.values() if j.object == MEMBER and not j.foreign]


def _unbroken_member_writes() -> int:
    """Write requests on memberships of an unbroken first sync of the same world."""
    world = build_world(SPEC, clock=VirtualClock())
    try:
        report = _engine(world).sync()
        assert report.status == "completed", report.reason
        return report.write_calls[MEMBER]
    finally:
        world.close()


def test_a_job_held_past_the_bound_ends_the_run_waiting(world: World) -> None:
    engine = _engine(world, bulk_wait_minutes=10)
    world.org.bulk.add_foreign_job(timedelta(hours=2))
    report = engine.sync()
    assert report.status == "waiting", report.reason
    assert "Salesforce is still processing Bulk API job 750" in (report.reason or "")
    assert "(UploadComplete) after 10 minute(s)" in (report.reason or "")
    assert [m.code for m in report.messages if m.code == "CMSF-SF-BULK-WAIT"]
    assert for_run_status(report.status) is ExitCode.WAITING
    ledger = BulkLedger(engine.journal, Shadow(engine.journal))
    assert [j.sobject for j in ledger.open_jobs()] == [MEMBER]
    assert world.org.count(MEMBER) == 0
    assert engine.journal.unfinished_run() is not None  # the next invocation resumes it


def test_the_next_run_collects_the_job_and_writes_nothing_twice(world: World) -> None:
    engine = _engine(world, bulk_wait_minutes=10)
    world.org.bulk.add_foreign_job(timedelta(hours=2))
    first = engine.sync()
    assert first.status == "waiting"
    world.clock.advance(hours=2)
    second = engine.sync()
    assert second.status == "completed", second.reason
    assert second.run.run_id == first.run.run_id and second.run.resumed
    assert len(_ingest_jobs(world)) == 1
    # the same membership writes as an unbroken run, less the job it did not send again
    assert second.write_calls.get(MEMBER, 0) == _unbroken_member_writes() - 1
    assert world.org.count(MEMBER) == 400
    assert second.stats.written.get(MEMBER, 0) == 400  # counted when the results were claimed
    assert compare(world, engine.settings()) == []
    ledger = BulkLedger(engine.journal, Shadow(engine.journal))
    assert ledger.count() == 0
    world.clock.advance(hours=1)
    quiet = engine.sync()
    assert quiet.status == "completed" and quiet.write_calls.get(MEMBER, 0) == 0


def test_a_run_still_waiting_waits_again_and_runs_no_job(world: World) -> None:
    engine = _engine(world, bulk_wait_minutes=10)
    world.org.bulk.add_foreign_job(timedelta(hours=5))
    assert engine.sync().status == "waiting"
    world.clock.advance(hours=1)
    again = engine.sync()
    assert again.status == "waiting"
    assert sum(again.stats.read.values()) == 0  # no job ran: it waited for the open job first
    assert len(_ingest_jobs(world)) == 1


def test_a_quiet_org_never_waits(world: World) -> None:
    report = _engine(world, bulk_wait_minutes=1).sync()
    assert report.status == "completed", report.reason
    assert len(_ingest_jobs(world)) == 1
    assert BulkLedger(Journal(), Shadow(Journal())).count() == 0


class Crash(BaseException):
    """The process dies (nothing the engine can catch)."""


def _kill_when(world: World, engine: Engine, predicate: Any) -> None:
    def watch(method: str, path: str) -> None:
        if predicate(method, path):
            raise Crash(f"killed at {method} {path}")

    engine.on_gateway = lambda gateway: setattr(gateway, "on_request", watch)


def test_a_crash_after_the_job_was_closed_is_collected_not_written_again(
    world: World, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.db"
    engine = _engine(world, Journal(journal_path))
    _kill_when(
        world,
        engine,
        lambda method, path: (
            method == "GET" and "/jobs/ingest/750" in path and path.count("/") == 7
        ),
    )
    with pytest.raises(Crash):
        engine.sync()
    (job,) = _ingest_jobs(world)
    assert job.state == "JobComplete" and job.processed > 200
    assert world.org.count(MEMBER) == job.processed  # written; the engine never heard back
    survivor = _engine(world, Journal(journal_path))
    report = survivor.sync()
    assert report.status == "completed", report.reason
    assert len(_ingest_jobs(world)) == 1
    assert report.write_calls.get(MEMBER, 0) == _unbroken_member_writes() - 1
    assert compare(world, survivor.settings()) == []


def test_a_crash_before_the_job_was_closed_aborts_it_and_writes_once(
    world: World, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.db"
    engine = _engine(world, Journal(journal_path))
    _kill_when(world, engine, lambda method, path: method == "PUT" and "/jobs/ingest/750" in path)
    with pytest.raises(Crash):
        engine.sync()
    survivor = _engine(world, Journal(journal_path))
    report = survivor.sync()
    assert report.status == "completed", report.reason
    states = sorted(j.state for j in _ingest_jobs(world))
    assert states == ["Aborted", "JobComplete"]
    assert world.org.count(MEMBER) == 400
    assert compare(world, survivor.settings()) == []


def test_a_record_changed_while_its_job_waited_is_written_again(world: World) -> None:
    list_id = world.summary["lists"][0]
    world.account.add_subscriber_at(list_id, "ann@held.example", "Ann")
    engine = _engine(world, bulk_wait_minutes=10)
    world.org.bulk.add_foreign_job(timedelta(hours=2))
    assert engine.sync().status == "waiting"
    world.account.change_state(list_id, "ann@held.example", "Unsubscribed")
    world.clock.advance(hours=2)
    report = engine.sync()
    assert report.status == "completed", report.reason
    rows = world.org.query(f"SELECT State__c FROM {MEMBER} WHERE Email__c = 'ann@held.example'")
    assert [r["State__c"] for r in rows] == ["Unsubscribed"]
    assert compare(world, engine.settings()) == []


def test_the_journal_keeps_no_address_of_a_collected_job(world: World, tmp_path: Path) -> None:
    from cmsf_core.salesforce_bulk import collect_open_jobs

    journal_path = tmp_path / "journal.db"
    engine = _engine(world, Journal(journal_path), bulk_wait_minutes=10)
    world.org.bulk.add_foreign_job(timedelta(hours=2))
    assert engine.sync().status == "waiting"
    world.clock.advance(hours=2)
    gateway = engine.gateway()
    gateway.bulk_ledger = BulkLedger(
        engine.journal, Shadow(engine.journal, engine.settings().connection_key)
    )
    assert collect_open_jobs(gateway) == 1
    kept = engine.journal.db.execute("SELECT count(*) FROM bulk_results").fetchone()[0]
    assert kept == _ingest_jobs(world)[0].processed > 200
    engine.journal.close()
    data = b"".join(f.read_bytes() for f in tmp_path.glob("journal.db*"))
    assert re.findall(rb"[\w.+-]+@[\w-]+\.[a-z]{2,}", data) == []


def test_a_waiting_run_is_due_at_once_for_cron(world: World) -> None:
    engine = _engine(world, bulk_wait_minutes=10)
    world.org.bulk.add_foreign_job(timedelta(hours=2))
    assert engine.sync().status == "waiting"
    due, why = engine.due()
    assert due and why == "a run waits for a Bulk API job: this run collects its results"


def _bulk_rows(journal: Journal) -> tuple[int, int]:
    rows = journal.ledgers
    return (
        int(rows.execute("SELECT count(*) FROM bulk_jobs").fetchone()[0]),
        int(rows.execute("SELECT count(*) FROM bulk_results").fetchone()[0]),
    )


def test_bulk_jobs_of_another_org_are_forgotten_when_the_journal_is_bound_to_this_one(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from cmsf_core.bulk_ledger import OpenJob, Replay

    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    journal = Journal(tmp_path / "journal.db")
    journal.bind("00D000000000001AAA", "gen-1", now)
    ledger = BulkLedger(journal, Shadow(journal, "ab" * 32))
    ledger.opened("750A", MEMBER, "upsert", ["Key__c"], now)
    ledger.opened("750B", MEMBER, "upsert", ["Key__c"], now)
    job = OpenJob("750B", MEMBER, "upsert", ("Key__c",), now.isoformat(), "open")
    ledger.store(job, [("k1", {"Key__c": "k1"}, Replay("a0X1", True, None, "", ()))])
    # a new connection to the same org: its jobs are still collected there
    assert journal.bind("00D000000000001AAA", "gen-2", now) is not None
    assert _bulk_rows(journal) == (2, 1)
    # another org: they can never be collected in it
    assert journal.bind("00D000000000002AAA", "gen-2", now) is not None
    assert _bulk_rows(journal) == (0, 0)
    assert ledger.open_jobs() == [] and ledger.count() == 0
    journal.close()
