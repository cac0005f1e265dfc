"""Writes pooled across a job's scopes: fewer, larger writes, and nothing lost to a crash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cmsf_core import salesforce_bulk
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.state import Journal
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for

MEMBER = "CMSF_List_Member__c"
ACTIVITY = "CMSF_Email_Activity__c"


def _paths(world: World) -> list[str]:
    return [f"{r.method} {r.path}" for r in world.org.control.request_log]


def test_memberships_of_every_scope_go_in_one_write(world: World, engine: Engine) -> None:
    report = engine.sync()
    assert report.status == "completed", report.reason
    lists, states = len(world.summary["lists"]), 5
    # One collections call for the 120 memberships of 4 lists x 5 states, not one per scope.
    assert report.write_calls[MEMBER] == 1 < lists * states
    assert report.stats.written[MEMBER] == world.org.count(MEMBER) == 120


def test_a_limit_still_caps_each_write(world: World, engine: Engine) -> None:
    engine.change_settings({"governor_limits": {"subscribers": 25}})
    report = engine.sync()
    assert report.status == "completed"
    # Every write holds 25 memberships at most (pooled scopes are cut at the limit).
    assert report.write_calls[MEMBER] >= -(-120 // 25)
    assert world.org.count(MEMBER) == 120


def test_bulk_job_downloads_failures_only_when_it_has_some(clock: VirtualClock) -> None:
    world = build_world(
        WorldSpec(seed=3, clients=1, lists_per_client=1, subscribers_per_list=300,
                  campaigns_per_client=0),
        clock=clock,
    )  # fmt: skip
    try:
        engine = engine_for(world)
        engine.connect()
        engine.change_settings({**EVERY_OPTION, "governor_limits": {"bulk_threshold": 200}})
        assert engine.sync().status == "completed"
        paths = _paths(world)
        assert any(p.endswith("/successfulResults") for p in paths)
        assert not any(p.endswith("/failedResults") for p in paths)
    finally:
        world.close()


def test_bulk_write_splits_jobs_by_bytes(
    clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(salesforce_bulk, "JOB_BYTES", 4000)
    world = build_world(
        WorldSpec(seed=3, clients=1, lists_per_client=1, subscribers_per_list=300,
                  campaigns_per_client=0),
        clock=clock,
    )  # fmt: skip
    try:
        engine = engine_for(world)
        engine.connect()
        engine.change_settings({**EVERY_OPTION, "governor_limits": {"bulk_threshold": 200}})
        report = engine.sync()
        assert report.status == "completed"
        jobs = len([p for p in _paths(world) if p.endswith("/jobs/ingest")])
        assert report.bulk_bytes[MEMBER] > 4000
        assert jobs >= report.bulk_bytes[MEMBER] // 4000 >= 2
        assert world.org.count(MEMBER) == 300
    finally:
        world.close()


def test_bulk_write_splits_jobs_by_records_inside_a_block(
    clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(salesforce_bulk, "JOB_RECORDS", 120)  # rows are rendered 1,000 at once
    world = build_world(
        WorldSpec(seed=3, clients=1, lists_per_client=1, subscribers_per_list=300,
                  campaigns_per_client=0),
        clock=clock,
    )  # fmt: skip
    try:
        engine = engine_for(world)
        engine.connect()
        engine.change_settings({**EVERY_OPTION, "governor_limits": {"bulk_threshold": 200}})
        report = engine.sync()
        assert report.status == "completed"
        assert report.write_calls[MEMBER] == 3  # 120 + 120 + 60
        assert world.org.count(MEMBER) == 300
        again = engine.sync()  # every membership got its Id into the shadow
        assert again.write_calls.get(MEMBER, 0) == 0
    finally:
        world.close()


class Crash(BaseException):
    """The process dies."""


def test_crash_before_the_pool_is_written_reads_its_scopes_again(
    world: World, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.db")
    engine = engine_for(world, journal)
    engine.connect()
    engine.change_settings(EVERY_OPTION)
    from cmsf_core.jobs import pool

    real_flush = pool.WritePool.flush

    def dying_flush(self: pool.WritePool, ctx: object) -> None:
        if self and any(t.job == "subscribers" for t in self._targets.values()):
            raise Crash("killed with memberships pooled")
        real_flush(self, ctx)  # type: ignore[arg-type]

    pool.WritePool.flush = dying_flush  # type: ignore[method-assign]
    try:
        with pytest.raises(Crash):
            engine.sync()
    finally:
        pool.WritePool.flush = real_flush  # type: ignore[method-assign]
    run = journal.unfinished_run()
    assert run is not None
    # Nothing depending on the pooled memberships was recorded: no scope, no bookmark.
    assert journal.bookmarks("subscribers") == {}
    assert not journal.db.execute(
        "SELECT 1 FROM scopes WHERE run_id = ? AND job = 'subscribers'", [run.run_id]
    ).fetchall()
    assert world.org.count(MEMBER) == 0
    report = engine.sync()
    assert report.status == "completed" and report.run.resumed
    assert world.org.count(MEMBER) == 120


def test_journal_commits_with_wal_and_normal_sync(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    assert journal.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_journal_executemany_is_one_transaction(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    journal.execute_script("CREATE TABLE t (k TEXT PRIMARY KEY)")
    with pytest.raises(sqlite3.IntegrityError):
        journal.executemany("INSERT INTO t VALUES (?)", [("a",), ("b",), ("a",)])
    assert journal.db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0  # all or nothing
    commits: list[str] = []
    journal.db.conn.set_trace_callback(commits.append)
    journal.executemany("INSERT INTO t VALUES (?)", [(str(i),) for i in range(500)])
    journal.db.conn.set_trace_callback(None)
    assert [c for c in commits if c.upper().startswith("COMMIT")] == ["COMMIT"]
