"""Writes pooled across a job's scopes: fewer, larger writes, and nothing lost to a crash."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cmsf_core import salesforce_bulk
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.state import Journal
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for

MEMBER = "CMSF_List_Member__c"
ACTIVITY = "CMSF_Email_Activity__c"


def _bulk_engine(world: World, journal: Journal | None = None) -> Engine:
    """A connected engine with every option on whose writes above 200 records go in bulk."""
    engine = engine_for(world, journal)
    engine.connect()
    engine.change_settings({**EVERY_OPTION, "governor_limits": {"bulk_threshold": 200}})
    return engine


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
        engine = _bulk_engine(world)
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
        engine = _bulk_engine(world)
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
        engine = _bulk_engine(world)
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

    def dying_flush(self: pool.WritePool, ctx: Any, *, wait: bool = True) -> None:
        if self and any(t.job == "subscribers" for t in self._targets.values()):
            raise Crash("killed with memberships pooled")
        real_flush(self, ctx, wait=wait)

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


def _pipelined_world(clock: VirtualClock) -> World:
    """Four lists of 150 subscribers: a full pool (300) is written through Bulk API (> 200)."""
    return build_world(
        WorldSpec(seed=5, clients=1, lists_per_client=4, subscribers_per_list=150,
                  campaigns_per_client=0),
        clock=clock,
    )  # fmt: skip


def _pipelining(monkeypatch: pytest.MonkeyPatch, *, first: int = 300) -> None:
    """Pools submit a write every 300 memberships (the first at ``first``)."""
    from cmsf_core.jobs import pool

    monkeypatch.setattr(pool, "PIPELINE_RECORDS", 300)  # below the job's limit (100,000)
    monkeypatch.setattr(pool, "FIRST_PIPELINE_RECORDS", first)


def _member_jobs(world: World) -> list[tuple[str, int]]:
    """``(id, records processed)`` of every Bulk API ingest job that wrote memberships."""
    return [
        (job.id, job.processed)
        for job in world.org.bulk.jobs.values()
        if job.kind == "ingest" and job.object == MEMBER
    ]


def _limits(engine: Engine) -> None:
    engine.change_settings(
        {**EVERY_OPTION, "governor_limits": {"subscribers": 300, "bulk_threshold": 200}}
    )


def test_a_full_pools_bulk_job_runs_while_the_job_reads_on(
    clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmsf_core.jobs import pool

    _pipelining(monkeypatch)
    world = _pipelined_world(clock)
    account = world.account
    submitted: list[int] = []  # Campaign Monitor calls made when a membership job was submitted
    collected: list[tuple[int, int]] = []  # (memberships in the org, CM calls) at its collection
    fetched: set[int] = set()
    real_flush, real_fetch = pool.WritePool.flush, pool._InFlight.fetch

    def watching_flush(self: pool.WritePool, ctx: Any, *, wait: bool = True) -> None:
        real_flush(self, ctx, wait=wait)
        if self._inflight is not None and MEMBER in self._inflight.keys:
            submitted.append(account.api_call_count())

    def watching_fetch(self: pool._InFlight) -> None:
        if MEMBER in self.keys and id(self) not in fetched:
            fetched.add(id(self))
            collected.append((world.org.count(MEMBER), account.api_call_count()))
        real_fetch(self)

    monkeypatch.setattr(pool.WritePool, "flush", watching_flush)
    monkeypatch.setattr(pool._InFlight, "fetch", watching_fetch)
    try:
        engine = _bulk_engine(world)
        report = engine.sync()
    finally:
        world.close()
    assert report.status == "completed", report.reason
    # 600 memberships in Bulk API jobs of 300 or more, each submitted when the pool was
    # full and collected later (before the next write, or at the job's end).
    sizes = [n for _, n in _member_jobs(world)]
    assert len(sizes) >= 2 and sum(sizes) == 600 and min(sizes[:-1]) >= 300, sizes
    assert [count for count, _ in collected] == [sum(sizes[: i + 1]) for i in range(len(sizes))]
    # The first job was left running while the next lists were read from Campaign Monitor.
    assert len(submitted) == len(sizes) and collected[0][1] > submitted[0], (submitted, collected)
    assert report.stats.written[MEMBER] == 600


def test_a_run_killed_with_a_bulk_job_submitted_not_collected_writes_nothing_twice(
    clock: VirtualClock, tmp_path: Path
) -> None:
    from cmsf_core.jobs import pool

    world = _pipelined_world(clock)
    journal = Journal(tmp_path / "journal.db")
    real_fetch = pool._InFlight.fetch

    def dying_fetch(self: pool._InFlight) -> None:
        if MEMBER in self.keys:
            raise Crash("killed with a Bulk API job submitted, not collected")
        real_fetch(self)

    try:
        engine = engine_for(world, journal)
        engine.connect()
        _limits(engine)
        pool._InFlight.fetch = dying_fetch  # type: ignore[method-assign]
        try:
            with pytest.raises(Crash):
                engine.sync()
        finally:
            pool._InFlight.fetch = real_fetch  # type: ignore[method-assign]
        # Salesforce wrote the job's memberships; the run recorded nothing about them.
        (first,) = [n for _, n in _member_jobs(world)]
        assert first >= 300 and world.org.count(MEMBER) == first
        run = journal.unfinished_run()
        assert run is not None
        assert journal.bookmarks("subscribers") == {}
        assert not journal.db.execute(
            "SELECT 1 FROM scopes WHERE run_id = ? AND job = 'subscribers'", [run.run_id]
        ).fetchall()
        report = engine.sync()
        assert report.status == "completed" and report.run.resumed, report.reason
        # The resumed run collected the open job and took its results: its memberships were
        # not sent again, only the others were written.
        sizes = [n for _, n in _member_jobs(world)]
        assert sizes[0] == first and sum(sizes) == 600, sizes
        assert world.org.count(MEMBER) == 600
        assert engine.sync().write_calls.get(MEMBER, 0) == 0  # every Id reached the shadow
    finally:
        world.close()
        journal.close()


# ------------------------------------------------------------ the next write goes before the last is recorded


class _FakeWrite:
    """A pooled write that logs when it is fetched and recorded."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log, self.running = name, log, True

    def fetch(self) -> None:
        if self.running:
            self.running = False
            self.log.append(f"fetch {self.name}")

    def finish(self) -> None:
        self.fetch()
        self.log.append(f"record {self.name}")


def _logged_pool(monkeypatch: pytest.MonkeyPatch, fail: str = "") -> tuple[Any, Any, list[str]]:
    """A pool whose writes only log (``fail``: the write whose submission raises)."""
    from types import SimpleNamespace

    from cmsf_core.jobs import pool, writer

    log: list[str] = []

    def prepare(ctx: Any, job: str, sobject: str, entries: Any, **kwargs: Any) -> Any:
        name = "".join(sorted(e.key for e in entries))
        log.append(f"build {name}")

        def submit() -> _FakeWrite:
            if name == fail:
                raise Crash(f"submitting {name}")
            log.append(f"submit {name}")
            return _FakeWrite(name, log)

        return submit

    monkeypatch.setattr(writer, "prepare_pooled", prepare)
    ctx = SimpleNamespace(batch_size=lambda job: 2, shadow=SimpleNamespace(settle=None))
    return pool.WritePool(), ctx, log


def _add(pool: Any, ctx: Any, *keys: str) -> None:
    from cmsf_core.jobs.pool import PooledRecord, pack

    records = [PooledRecord(k, pack({"k": k}), "digest", "v1") for k in keys]
    pool.add(ctx, "subscribers", MEMBER, records, external_id="CM_Id__c",
             failure_code="X", retry_job=None, columns={"k"})  # fmt: skip


def test_a_full_pool_is_submitted_before_the_write_in_flight_is_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool, ctx, log = _logged_pool(monkeypatch)
    done: list[str] = []
    _add(pool, ctx, "a", "b")  # full (the job's limit is 2): submitted, left running
    pool.after_writes(lambda: done.append("ab"))
    _add(pool, ctx, "c", "d")
    # The next write's CSV was made while Salesforce processed the first; the first was
    # fetched, the next submitted, and only then the first recorded (Salesforce stays busy).
    assert log == ["build ab", "submit ab", "build cd", "fetch ab", "submit cd", "record ab"]
    assert done == ["ab"]  # its scopes are done once it is recorded
    log.clear()
    _add(pool, ctx, "d", "e")  # "d" is in the write in flight: it is recorded first
    assert log == ["fetch cd", "record cd", "build de", "submit de"]
    log.clear()
    pool.flush(ctx)  # the job's end waits
    assert log == ["fetch de", "record de"]


def test_a_write_that_cannot_be_submitted_still_records_the_one_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool, ctx, log = _logged_pool(monkeypatch, fail="cd")
    done: list[str] = []
    _add(pool, ctx, "a", "b")
    pool.after_writes(lambda: done.append("ab"))
    _add(pool, ctx, "c")
    pool.after_writes(lambda: done.append("c"))
    with pytest.raises(Crash):
        _add(pool, ctx, "d")
    # The first write reached Salesforce and is recorded, its scope done; the scope
    # waiting for the write that never went out is not (it is read again).
    assert log == ["build ab", "submit ab", "build cd", "fetch ab", "record ab"]
    assert done == ["ab"]
    pool.discard()
    assert done == ["ab"]


def test_the_next_bulk_job_runs_while_the_last_ones_results_are_recorded(
    clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmsf_core.jobs import writer

    _pipelining(monkeypatch)
    world = _pipelined_world(clock)
    seen: list[int] = []  # membership jobs in the org when a membership write was recorded
    real_finish = writer.PooledWrite.finish

    def watching_finish(self: writer.PooledWrite) -> Any:
        if self._target.sobject == MEMBER and not self._finished:
            seen.append(len(_member_jobs(world)))
        return real_finish(self)

    monkeypatch.setattr(writer.PooledWrite, "finish", watching_finish)
    try:
        engine = _bulk_engine(world)
        report = engine.sync()
        assert report.status == "completed", report.reason
        jobs = len(_member_jobs(world))
        assert jobs >= 2 and world.org.count(MEMBER) == 600
        # Each write but the last was recorded after the next job was submitted.
        assert seen == [*range(2, jobs + 1), jobs], seen
        assert engine.sync().write_calls.get(MEMBER, 0) == 0  # every Id reached the shadow
    finally:
        world.close()


def test_a_run_killed_between_submitting_a_job_and_recording_the_last_loses_nothing(
    clock: VirtualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmsf_core.jobs import writer

    _pipelining(monkeypatch)
    world = _pipelined_world(clock)
    journal = Journal(tmp_path / "journal.db")
    real_finish = writer.PooledWrite.finish

    def dying_finish(self: writer.PooledWrite) -> Any:
        if self._target.sobject == MEMBER and len(_member_jobs(world)) == 2:
            raise Crash("killed after submitting the next job, before recording the last")
        return real_finish(self)

    try:
        engine = _bulk_engine(world, journal)
        monkeypatch.setattr(writer.PooledWrite, "finish", dying_finish)
        with pytest.raises(Crash):
            engine.sync()
        monkeypatch.setattr(writer.PooledWrite, "finish", real_finish)
        assert len(_member_jobs(world)) == 2  # the next job was submitted before the crash
        report = engine.sync()
        assert report.status == "completed" and report.run.resumed, report.reason
        assert world.org.count(MEMBER) == 600  # nothing lost, nothing twice
        assert engine.sync().write_calls.get(MEMBER, 0) == 0
    finally:
        world.close()
        journal.close()


def test_a_jobs_first_pipelined_write_is_smaller_so_salesforce_starts_sooner(
    clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:

    _pipelining(monkeypatch, first=250)
    world = _pipelined_world(clock)
    try:
        engine = _bulk_engine(world)
        report = engine.sync()
        assert report.status == "completed", report.reason
        # 600 memberships (pooled a page at a time): a first Bulk API job once 250 were
        # pooled, then one at 300; the rest at the job's end (sObject Collections, below the
        # threshold).
        first, second = [n for _, n in _member_jobs(world)]
        assert 250 <= first < 300 <= second, (first, second)
        assert world.org.count(MEMBER) == 600
        assert engine.sync().write_calls.get(MEMBER, 0) == 0
    finally:
        world.close()
