"""sf_sim stays fast and flat as an org grows: query plans and bulk job storage."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce

from cmsf_core.clock import VirtualClock
from cmsf_core.data_model import OBJECTS_DIR
from sf_sim import Org, bulk

MEMBER = "CMSF_List_Member__c"


def _plans(org: Org, run: object) -> list[str]:
    """The query plans of the SELECTs that ``run()`` makes on the org's store."""
    seen: list[str] = []
    org.store.conn.set_trace_callback(seen.append)
    try:
        run()  # type: ignore[operator]
    finally:
        org.store.conn.set_trace_callback(None)
    plans = []
    for sql in seen:
        if sql.lstrip().upper().startswith("SELECT") and MEMBER in sql:
            rows = org.store.conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            plans.extend(str(row[-1]) for row in rows)
    return plans


@pytest.fixture
def member_org() -> Org:
    org = Org(clock=VirtualClock(), metadata=[OBJECTS_DIR])
    lists = org.insert("CMSF_List__c", [{"Name": "L", "CM_Id__c": "list1"}])
    org.insert(
        MEMBER,
        [
            {"Name": f"m{i}", "CM_Id__c": f"list1:m{i}@x.example", "List__c": lists[0].id}
            for i in range(3000)
        ],
    )
    return org


def test_upsert_matches_on_the_external_id_index_not_is_deleted(member_org: Org) -> None:
    records = [{"CM_Id__c": f"list1:m{i}@x.example", "Name": f"n{i}"} for i in range(0, 3000, 7)]
    plans = _plans(member_org, lambda: member_org.dml.upsert(MEMBER, "CM_Id__c", records))
    matching = [p for p in plans if "CM_Id__c" in p]
    assert matching, plans
    assert all("IsDeleted" not in p for p in plans), plans
    assert all("SCAN" not in p for p in matching), matching


def test_finished_bulk_job_keeps_its_results_in_the_store(member_org: Org) -> None:
    with member_org.activate() as sf:
        sf_client: Salesforce = sf
        rows = [{"CM_Id__c": f"list1:new{i}@x.example", "Name": f"new{i}"} for i in range(50)]
        rows.append({"CM_Id__c": "list1:bad@x.example", "Name": "x" * 200})  # too long
        results = sf_client.bulk2.CMSF_List_Member__c.upsert(
            records=rows, external_id_field="CM_Id__c", wait=0
        )
    job_id = results[0]["job_id"]
    job = member_org.bulk.jobs[job_id]
    assert not job.uploads  # the uploaded data is not kept once processed
    assert not hasattr(job, "successes")
    stored = member_org.store.scalar(
        "SELECT SUM(rows) FROM _sf_bulk_results WHERE job = ?", (job_id,)
    )
    assert stored == 51
    ok = member_org.bulk.results_csv(job_id, "successfulResults")
    failed = member_org.bulk.results_csv(job_id, "failedResults")
    assert len(ok.splitlines()) == 51 and len(failed.splitlines()) == 2


def test_bulk_results_expire_with_their_job_after_seven_days(member_org: Org) -> None:
    with member_org.activate() as sf:
        results = sf.bulk2.CMSF_List_Member__c.upsert(
            records=[{"CM_Id__c": "list1:late@x.example", "Name": "late"}],
            external_id_field="CM_Id__c",
            wait=0,
        )
    job_id = results[0]["job_id"]
    assert isinstance(member_org.clock, VirtualClock)
    member_org.clock.advance(days=8)
    member_org.tick()
    assert job_id not in member_org.bulk.jobs
    assert member_org.store.scalar("SELECT COUNT(*) FROM _sf_bulk_results") == 0


def test_housekeeping_on_each_request_does_not_scan_stored_bulk_results(member_org: Org) -> None:
    with member_org.activate() as sf:
        sf.bulk2.CMSF_List_Member__c.upsert(
            records=[{"CM_Id__c": f"list1:r{i}@x.example", "Name": "r"} for i in range(20)],
            external_id_field="CM_Id__c",
            wait=0,
        )
    seen: list[str] = []
    member_org.store.conn.set_trace_callback(seen.append)
    try:
        member_org.tick()  # what every request runs first
    finally:
        member_org.store.conn.set_trace_callback(None)
    touching = [sql for sql in seen if "_sf_bulk_results" in sql]
    assert touching and not any(sql.lstrip().upper().startswith("DELETE") for sql in touching)
    for sql in touching:
        plan = member_org.store.conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        assert all("SCAN" not in str(row[-1]) for row in plan), (sql, plan)
    assert member_org.store.scalar("SELECT SUM(rows) FROM _sf_bulk_results") == 20


def test_stored_results_keep_the_jobs_delimiter_line_ending_and_row_order(
    member_org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH_RECORDS", 2)  # three internal batches, stored apart
    job = member_org.bulk.create_ingest(
        {
            "object": MEMBER,
            "operation": "upsert",
            "externalIdFieldName": "CM_Id__c",
            "columnDelimiter": "PIPE",
            "lineEnding": "CRLF",
        },
        "59.0",
    )
    lines = ["CM_Id__c|Name"] + [f"list1:o{i}@x.example|o{i}" for i in range(4)]
    lines.append("list1:long@x.example|" + "x" * 200)  # too long: a failure
    member_org.bulk.upload(job.id, ("\n".join(lines) + "\n").encode())
    member_org.bulk.set_state(job.id, "ingest", "UploadComplete")
    ok = member_org.bulk.results_csv(job.id, "successfulResults")
    rows = ok.split("\r\n")
    assert rows[0] == '"sf__Id"|"sf__Created"|"CM_Id__c"|"Name"' and rows[-1] == ""
    assert [row.split("|")[2:] for row in rows[1:-1]] == [
        [f'"list1:o{i}@x.example"', f'"o{i}"'] for i in range(4)
    ]
    failed = member_org.bulk.results_csv(job.id, "failedResults").split("\r\n")
    assert failed[0].startswith('"sf__Id"|"sf__Error"') and len(failed) == 3
    assert '"list1:long@x.example"' in failed[1]
