"""One commit per Bulk API batch: :meth:`sf_sim.store.Store.grouped`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sf_sim import Org
from sf_sim.bulk import BATCH_RECORDS, CHUNK_RECORDS
from sf_sim.store import Store


def _names(path: Path) -> list[str]:
    with sqlite3.connect(path) as other:
        return [name for (name,) in other.execute("SELECT name FROM t ORDER BY name")]


def test_grouped_keeps_what_inner_transactions_committed_and_commits_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "g.sqlite"
    store = Store(path)
    store.conn.execute("CREATE TABLE t (name TEXT)")
    with pytest.raises(RuntimeError, match="boom"), store.grouped():
        with store.transaction():
            store.conn.execute("INSERT INTO t VALUES ('kept')")
        with pytest.raises(ValueError), store.transaction():
            store.conn.execute("INSERT INTO t VALUES ('rolled back')")
            raise ValueError("one chunk fails")
        with store.transaction():
            store.conn.execute("INSERT INTO t VALUES ('also kept')")
        assert _names(path) == []  # another process sees the group when it ends
        raise RuntimeError("boom")
    assert _names(path) == ["also kept", "kept"]
    assert not store.conn.in_transaction
    with store.transaction():  # the store is usable again, at the outer level
        store.conn.execute("INSERT INTO t VALUES ('after')")
    assert _names(path) == ["after", "also kept", "kept"]
    store.close()


def test_grouped_inside_a_transaction_adds_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.sqlite")
    store.conn.execute("CREATE TABLE t (name TEXT)")
    with pytest.raises(ValueError), store.transaction():
        with store.grouped():
            store.conn.execute("INSERT INTO t VALUES ('x')")
        raise ValueError("the outer transaction rolls back the group too")
    assert store.scalar("SELECT COUNT(*) FROM t") == 0
    store.close()


def test_a_bulk_job_commits_once_per_batch_and_a_bad_chunk_fails_alone(tmp_path: Path) -> None:
    org = Org(tmp_path / "org.sqlite")
    commits: list[str] = []
    org.store.conn.set_trace_callback(
        lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    total = BATCH_RECORDS + 2 * CHUNK_RECORDS
    records = [{"LastName": f"B{i}", "Email": f"b{i}@example.com"} for i in range(total)]
    bad = BATCH_RECORDS + CHUNK_RECORDS + 7  # in the second batch's second chunk
    records[bad]["Email"] = "not an address"
    results = org.client().bulk2.Contact.insert(records=records, wait=0)
    org.store.conn.set_trace_callback(None)
    assert sum(r["numberRecordsProcessed"] for r in results) == total
    assert sum(r["numberRecordsFailed"] for r in results) == 1
    assert org.count("Contact") == total - 1
    # One commit per internal batch: two, where the 52 chunk transactions made 52.
    assert len(commits) <= 2
    with sqlite3.connect(tmp_path / "org.sqlite") as other:
        assert other.execute("SELECT COUNT(*) FROM Contact").fetchone()[0] == total - 1
    org.close()


def test_campaign_rollups_are_recounted_once_per_batch_and_end_right(tmp_path: Path) -> None:
    org = Org(tmp_path / "org.sqlite")
    campaign = org.create("Campaign", {"Name": "Spring"})
    contacts = [
        result.id
        for result in org.dml.insert(
            "Contact", [{"LastName": f"C{i}"} for i in range(3 * CHUNK_RECORDS)]
        )
    ]
    leads = [
        result.id
        for result in org.dml.insert(
            "Lead", [{"LastName": f"L{i}", "Company": "Acme"} for i in range(CHUNK_RECORDS)]
        )
    ]
    recounts: list[str] = []
    org.store.conn.set_trace_callback(
        lambda sql: recounts.append(sql) if "SUM(m.ContactId IS NOT NULL)" in sql else None
    )
    members = [{"CampaignId": campaign, "ContactId": person} for person in contacts]
    members += [
        {"CampaignId": campaign, "LeadId": person, "Status": "Responded"} for person in leads
    ]
    results = org.client().bulk2.CampaignMember.insert(records=members, wait=0)
    org.store.conn.set_trace_callback(None)
    assert sum(r["numberRecordsFailed"] for r in results) == 0
    row = org.get("Campaign", campaign)
    assert row["NumberOfContacts"] == 3 * CHUNK_RECORDS
    assert row["NumberOfLeads"] == CHUNK_RECORDS
    assert row["NumberOfResponses"] == CHUNK_RECORDS
    assert len(recounts) == 1  # four chunks, one batch: one recount (was one per chunk)
    # Outside a batch the recount follows each write at once.
    extra = org.create("Contact", {"LastName": "Late"})
    org.create("CampaignMember", {"CampaignId": campaign, "ContactId": extra})
    assert org.get("Campaign", campaign)["NumberOfContacts"] == 3 * CHUNK_RECORDS + 1
    org.close()
