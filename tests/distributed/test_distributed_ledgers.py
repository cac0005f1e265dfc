"""The jobs' ledger tables in PostgreSQL: what one coordinator writes, another machine's
coordinator (a different, empty journal file) and the workers read, as in SQLite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cmsf_core.bulk_ledger import BulkLedger, Replay
from cmsf_core.distributed.pgjournal import PgJournal
from cmsf_core.imports.ledger import ImportLedger
from cmsf_core.matching import MERGED_TABLE, Person, PersonMatcher
from cmsf_core.pseudonyms import Pseudonyms
from cmsf_core.push.ledger import PushLedger
from cmsf_core.shadow import Shadow
from cmsf_core.state import Journal

pytestmark = pytest.mark.distributed

KEY = "ab" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _write(journal: Journal) -> None:
    """What a run's push, import wizard, change capture and Bulk API jobs keep."""
    push = PushLedger(journal, Pseudonyms(KEY))
    push.set_window_start("Contact", "2026-03-01T11:00:00Z")
    push.set_known_fields("Contact", ["Email", "FirstName"])
    push.save_baselines("Contact", {"003A": {"Email": "t1"}, "003B": {"Email": "t2"}})
    push.note_engine_tokens("Contact", {"003A": {"FirstName": "t3"}})
    push.set_met({"003A": {"r1", "r2"}})
    push.set_met({"003A": {"r1"}})  # r2 no longer met
    push.mark_met("r1", ["003B"], "pass-1")
    push.set_rule_state("r1", applied="d1", pending=None, cursor="003B")
    push.remember({("003A", "L1", "a1"): {"custom": "x"}})
    push.mark_sending({"k1": {"kind": "add", "list": "L1", "address": "a@example.com"}})
    push.mark_processed(["item-1", "item-1", "item-2"])
    imports = ImportLedger(journal, Pseudonyms(KEY))
    state = imports.begin("imp-1", "2026-03-01T11:30:00Z")
    imports.see("imp-1", {"tok-a": ("dig-a", 1, "sent"), "tok-b": ("dig-b", 1, "sending")})
    imports.take_off("imp-1", [{"token": "tok-b", "address": "b@example.com", "expect": {}}])
    imports.add_removals("imp-1", {"tok-c": "c@example.com"})
    imports.add_removals("imp-1", {"tok-c": "other@example.com"})  # known: kept as it was
    state.phase = "replacing"
    imports.save("imp-1", state)
    matcher = PersonMatcher(None, journal, key=KEY)  # type: ignore[arg-type]  # no lookups here
    matcher.remember_merges(
        [
            ("Contact", "003OLD", "Lee@Example.com", "003MID"),
            ("Contact", "003MID", "mid@example.com", "003TOP"),
            ("Contact", "003OLD", "lee@example.com", "003MID"),  # seen again: latest wins
        ]
    )
    bulk = BulkLedger(journal, Shadow(journal, KEY))
    bulk.opened("750A", "Contact", "upsert", ["Email"], NOW)
    bulk.opened("750B", "Contact", "upsert", ["Email"], NOW)
    job = bulk.open_jobs()[1]
    cells = {"Email": "lee@example.com", "LastName": "Lee"}
    bulk.store(job, [("lee@example.com", cells, Replay("003A", True, None, "", ("Email",)))])


def _read(journal: Journal) -> dict[str, Any]:
    """Everything the ledgers answer, as a later run (anywhere) would ask it."""
    push = PushLedger(journal, Pseudonyms(KEY))
    imports = ImportLedger(journal, Pseudonyms(KEY))
    matcher = PersonMatcher(None, journal, key=KEY)  # type: ignore[arg-type]
    bulk = BulkLedger(journal, Shadow(journal, KEY))
    state = imports.state("imp-1")
    record = {"Email": "lee@example.com", "LastName": "Lee"}
    return {
        "window": push.window_start("Contact"),
        "fields": push.known_fields("Contact"),
        "baselines": push.baselines(["003A", "003B", "003C"]),
        "met": push.met(["003A", "003B"]),
        "unmarked": push.unmarked("r1", "pass-1", 10),
        "rules": push.known_rules(),
        "rule": push.rule_state("r1"),
        "memory": push.memory([("003A", "L1", "a1")]),
        "sending": [(a.key, dict(a.locator)) for a in push.sending()],
        "items": push.processed(["item-1", "item-2", "item-3"]),
        "import": (state.phase, state.key) if state else None,
        "unfinished": imports.unfinished(),
        "rows": imports.rows("imp-1", ["tok-a", "tok-b", "tok-z"]),
        "flight": imports.flight("imp-1"),
        "removals": list(imports.pending_removals("imp-1", 10)),
        "size": imports.source_size("imp-1"),
        "merged": matcher._merged(["lee@example.com"]),
        "open": [(j.job_id, j.state) for j in bulk.open_jobs()],
        "bulk_count": bulk.count(),
        "has_results": bulk.has_results("Contact", "upsert"),
        "claim": bulk.claim("Contact", "upsert", "lee@example.com", record),
        "claim_again": bulk.claim("Contact", "upsert", "lee@example.com", record),
    }


def _pair(database: str, tmp_path: Path) -> tuple[PgJournal, Callable[[], PgJournal]]:
    return PgJournal(database, side=tmp_path / "a" / "journal.db"), lambda: PgJournal(
        database, side=tmp_path / "b" / "journal.db"
    )


def test_ledgers_written_by_one_coordinator_are_read_by_another_machines(
    database: str, tmp_path: Path
) -> None:
    first, other = _pair(database, tmp_path)
    try:
        _write(first)
    finally:
        first.close()
    second = other()  # another machine: a new, empty journal file
    try:
        assert not {"push_baseline", "import_rows", MERGED_TABLE, "bulk_jobs"} & set(
            second.db.table_names()
        )  # nothing of the ledgers is in the runner's file
        got = _read(second)
    finally:
        second.close()
    local = Journal(tmp_path / "local.db")  # the same calls on SQLite answer the same
    try:
        _write(local)
        expected = _read(local)
    finally:
        local.close()
    assert got == expected
    assert got["merged"] == {"lee@example.com": Person("003TOP", None)}  # followed to the top
    assert got["met"] == {"003A": {"r1"}, "003B": {"r1"}}
    assert got["removals"] == [("tok-c", "c@example.com")]
    assert got["claim"] is not None and got["claim"].sf_id == "003A"
    assert got["claim_again"] is None  # a kept result is used once
    assert got["open"] == [("750A", "open")] and got["bulk_count"] == 2


def test_a_worker_reads_the_merges_change_capture_recorded(database: str, tmp_path: Path) -> None:
    coordinator = PgJournal(database, side=tmp_path / "journal.db")
    worker = PgJournal(database)  # a worker: scratch file only
    try:
        ours = PersonMatcher(None, coordinator, key=KEY)  # type: ignore[arg-type]
        theirs = PersonMatcher(None, worker, key=KEY)  # type: ignore[arg-type]
        assert theirs._merged(["lee@example.com"]) == {}
        ours.remember_merges([("Lead", "00QOLD", "lee@example.com", "00QNEW")])
        assert theirs._merged(["lee@example.com"]) == {"lee@example.com": Person(None, "00QNEW")}
    finally:
        coordinator.close()
        worker.close()


def test_rebinding_to_another_org_clears_the_ledgers_in_postgresql(
    database: str, tmp_path: Path
) -> None:
    journal = PgJournal(database, side=tmp_path / "journal.db")
    try:
        journal.bind("00D000000000001AAA", "gen-1", NOW)
        _write(journal)
        assert journal.bind("00D000000000002AAA", "gen-1", NOW) is not None
        push = PushLedger(journal, Pseudonyms(KEY))
        assert push.window_start("Contact") is None and push.baselines(["003A"]) == {}
        assert ImportLedger(journal, Pseudonyms(KEY)).state("imp-1") is None
        matcher = PersonMatcher(None, journal, key=KEY)  # type: ignore[arg-type]
        assert matcher._merged(["lee@example.com"]) == {}
    finally:
        journal.close()


@pytest.mark.parametrize("value", ["50% off?", "it's ?; DROP TABLE push_window; --", "%s %(x)s"])
def test_hostile_values_are_kept_as_they_are(database: str, tmp_path: Path, value: str) -> None:
    journal = PgJournal(database)
    try:
        push = PushLedger(journal, Pseudonyms(KEY))
        push.set_window_start(value, value)
        assert push.window_start(value) == value
        assert "push_window" in {
            r[0] for r in journal._q("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    finally:
        journal.close()


def test_rebinding_to_another_org_forgets_its_bulk_api_jobs_in_postgresql(
    database: str, tmp_path: Path
) -> None:
    journal = PgJournal(database, side=tmp_path / "journal.db")
    try:
        journal.bind("00D000000000001AAA", "gen-1", NOW)
        _write(journal)
        bulk = BulkLedger(journal, Shadow(journal, KEY))
        assert journal.bind("00D000000000001AAA", "gen-2", NOW) is not None  # same org
        assert [job.job_id for job in bulk.open_jobs()] == ["750A"] and bulk.count() == 2
        assert journal.bind("00D000000000002AAA", "gen-2", NOW) is not None  # another org
        assert bulk.open_jobs() == [] and bulk.count() == 0
        assert journal.ledgers.execute("SELECT count(*) FROM bulk_results").fetchone()[0] == 0
    finally:
        journal.close()
