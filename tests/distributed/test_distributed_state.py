"""Shared state of the celery runtime on a real PostgreSQL: message folds, the push's notes
of worker writes (processes stand in as separate journals)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cmsf_core.distributed.messages import SharedMaintenanceLog, run_messages
from cmsf_core.distributed.pgjournal import PgJournal
from cmsf_core.settings import Settings
from scenarios.world import WorldSpec, build_world, engine_for

pytestmark = pytest.mark.distributed


def test_messages_raised_by_many_processes_fold_into_one_record_per_job_and_code(
    database: str,
) -> None:
    world = build_world(WorldSpec(seed=3, clients=1, lists_per_client=1, subscribers_per_list=2))
    try:
        engine = engine_for(world)
        run_id = "run-fold"
        journals = [PgJournal(database) for _ in range(4)]
        logs = [
            SharedMaintenanceLog(engine.gateway(), Settings(), world.clock, run_id, journal)
            for journal in journals
        ]

        def raise_twice(log: SharedMaintenanceLog) -> None:
            for n in range(2):
                log.raise_message("Error", "subscribers", "CMSF-JOB-FAILED", "failed", f"#{n}")

        threads = [threading.Thread(target=raise_twice, args=(log,)) for log in logs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        logs[0].raise_message("Warning", "campaigns", "CMSF-REC-WRITE", "refused", "x")
        folded = run_messages(journals[0], run_id)
        records = world.org.client().query_all(
            "SELECT Job__c, Support_Code__c, Occurrences__c FROM CMSF_Maintenance_Message__c "
            f"WHERE Run_Id__c = '{run_id}'"
        )["records"]
        for journal in journals:
            journal.close()
    finally:
        world.close()
    assert [(m.job, m.code, m.occurrences) for m in folded] == [
        ("subscribers", "CMSF-JOB-FAILED", 8),
        ("campaigns", "CMSF-REC-WRITE", 1),
    ]
    assert sorted((r["Job__c"], r["Support_Code__c"], r["Occurrences__c"]) for r in records) == [
        ("campaigns", "CMSF-REC-WRITE", 1),
        ("subscribers", "CMSF-JOB-FAILED", 8),
    ]  # one record each, however many processes raised it


def test_worker_writes_reach_the_coordinators_push_ledger_as_tokens_once(
    database: str, tmp_path: Path
) -> None:
    coordinator = PgJournal(database, side=tmp_path / "journal.db")
    worker = PgJournal(database)
    try:
        tokens = {"003X": {"Email": "tok-email", "HasOptedOutOfEmail": "tok-true"}}
        assert worker.forward_engine_write("Contact", tokens, True) is True
        assert coordinator.forward_engine_write("Contact", tokens, True) is False  # its own
        raw = worker._q("SELECT tokens FROM dist_engine_writes")[0][0]
        assert "@" not in raw  # value tokens only, never an address
        with coordinator.transaction():
            taken = coordinator.take_engine_writes()
        assert taken == [("Contact", tokens, True)]
        assert coordinator.take_engine_writes() == []  # recorded once
    finally:
        coordinator.close()
        worker.close()


def test_a_rotated_oauth_grant_is_shared_by_every_process(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that meets an expired Campaign Monitor token takes the grant another rotated."""
    from cmsf_core import cm_oauth
    from tests.cmsf_core.test_cm_oauth import TokenEndpoint, keeper

    endpoint = TokenEndpoint()
    monkeypatch.setattr(cm_oauth.httpx, "post", endpoint.post)
    coordinator, worker = PgJournal(database), PgJournal(database)
    try:
        assert keeper(coordinator).refresh() == "a1"
        assert worker.oauth_grant("unknown") is None
        late = keeper(worker)
        assert late.access_token == "a1"  # a worker started after the rotation
        assert late.refresh() == "a2"
        assert keeper(coordinator).access_token == "a2"
        assert [r["refresh_token"] for r in endpoint.requests] == ["r0", "r1"]
    finally:
        coordinator.close()
        worker.close()


def test_the_storage_check_counts_the_shadow_index_in_postgresql(
    database: str, tmp_path: Path
) -> None:
    """The coordinator's journal file holds no shadow rows: the sync's share of the org's
    storage is read from PostgreSQL, where every process recorded what it wrote."""
    from cmsf_core.org_health import storage
    from cmsf_core.shadow import Shadow, ShadowRow

    coordinator = PgJournal(database, side=tmp_path / "journal.db")
    worker = PgJournal(database)
    try:
        shadow = Shadow(worker, "ab" * 32)
        members = [ShadowRow(f"L1:m{n}@example.com", f"a0X{n}", "d") for n in range(3)]
        shadow.record("CMSF_List_Member__c", members)
        shadow.record("CMSF_List_Member__c#seen", [ShadowRow("L1:x", "a0Y1", "d")])
        shadow.record("Contact", [ShadowRow("c@example.com", "003A", "d")])
        assert (
            not (tmp_path / "journal.db").exists() or "shadow" not in coordinator.db.table_names()
        )
        limits = {"DataStorageMB": {"Max": 200, "Remaining": 150}}
        assert storage(limits, coordinator, 80).synced_records == 3
        assert storage(limits, worker, 80).synced_records == 3
    finally:
        coordinator.close()
        worker.close()
