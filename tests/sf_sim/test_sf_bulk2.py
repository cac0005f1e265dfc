from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

from sf_sim import Org
from sf_sim.dml import WriteContext


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk2_insert_50000_rows(sf_org: Org, sf_client: Salesforce) -> None:
    records = [{"LastName": f"Bulk{i}", "Email": f"b{i}@example.com"} for i in range(50_000)]
    results = sf_client.bulk2.Contact.insert(records=records, wait=0)
    assert sum(r["numberRecordsProcessed"] for r in results) == 50_000
    assert sum(r["numberRecordsFailed"] for r in results) == 0
    assert sf_org.count("Contact") == 50_000


def test_bulk2_upsert_creates_and_updates(metadata_dir: Path) -> None:
    org = Org(metadata=[metadata_dir])
    org.dml.insert(
        "Contact",
        [{"LastName": f"Old{i}", "CMSF_Subscriber_Key__c": f"k{i}"} for i in range(25_000)],
        WriteContext(),
    )
    sf = org.client()
    records = [{"LastName": f"New{i}", "CMSF_Subscriber_Key__c": f"k{i}"} for i in range(50_000)]
    results = sf.bulk2.Contact.upsert(
        records=records, external_id_field="CMSF_Subscriber_Key__c", wait=0
    )
    assert sum(r["numberRecordsProcessed"] for r in results) == 50_000
    assert org.count("Contact") == 50_000
    job = results[0]["job_id"]
    created = [row["sf__Created"] for row in _rows(sf.bulk2.Contact.get_successful_records(job))]
    assert created.count("false") == 25_000 and created.count("true") == 25_000
    assert (
        org.query("SELECT LastName FROM Contact WHERE CMSF_Subscriber_Key__c = 'k7'")[0]["LastName"]
        == "New7"
    )


def test_bulk2_query_50000_rows_with_locators(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.dml.insert("Contact", [{"LastName": f"Q{i:05d}"} for i in range(50_000)], WriteContext())
    pages = list(
        sf_client.bulk2.Contact.query(
            "SELECT Id, LastName FROM Contact", max_records=20_000, wait=0
        )
    )
    assert len(pages) == 3
    rows = [row for page in pages for row in _rows(page)]
    assert len(rows) == 50_000 and len({r["Id"] for r in rows}) == 50_000
    assert list(rows[0]) == ["Id", "LastName"]


def test_bulk2_query_flattens_parent_fields(sf_org: Org, sf_client: Salesforce) -> None:
    account = sf_org.create("Account", {"Name": "Acme"})
    sf_org.create("Contact", {"LastName": "Lee", "AccountId": account, "HasOptedOutOfEmail": True})
    sf_org.create("Contact", {"LastName": "Solo"})
    text = "".join(
        sf_client.bulk2.Contact.query(
            "SELECT LastName, Account.Name, HasOptedOutOfEmail FROM Contact ORDER BY LastName",
            wait=0,
        )
    )
    assert _rows(text) == [
        {"LastName": "Lee", "Account.Name": "Acme", "HasOptedOutOfEmail": "true"},
        {"LastName": "Solo", "Account.Name": "", "HasOptedOutOfEmail": "false"},
    ]


def test_bulk2_failed_results_carry_the_error(sf_org: Org, sf_client: Salesforce) -> None:
    records = [
        {"LastName": "Fine", "Email": "ok@example.com"},
        {"LastName": "Broken", "Email": "not an email"},
        {"FirstName": "NoLast"},
    ]
    results = sf_client.bulk2.Contact.insert(records=records, wait=0)
    assert results[0]["numberRecordsFailed"] == 2
    failed = _rows(sf_client.bulk2.Contact.get_failed_records(results[0]["job_id"]))
    assert (
        failed[0]["sf__Error"]
        == "INVALID_EMAIL_ADDRESS:Email: invalid email address: not an email:Email --"
    )
    assert failed[1]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    ok = _rows(sf_client.bulk2.Contact.get_successful_records(results[0]["job_id"]))
    assert ok[0]["sf__Created"] == "true" and ok[0]["LastName"] == "Fine"
    assert sf_org.count("Contact") == 1


def test_bulk2_unknown_column_fails_the_job(sf_org: Org, sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceOperationError, match="Field name not found : Shoe__c"):
        sf_client.bulk2.Contact.insert(records=[{"LastName": "A", "Shoe__c": "9"}], wait=0)
    assert sf_org.count("Contact") == 0


def test_bulk2_delete_and_hard_delete(sf_org: Org, sf_client: Salesforce) -> None:
    ids = [r.id for r in sf_org.insert("Contact", [{"LastName": f"D{i}"} for i in range(4)])]
    sf_client.bulk2.Contact.delete(records=[{"Id": i} for i in ids[:2]], wait=0)
    sf_client.bulk2.Contact.hard_delete(records=[{"Id": i} for i in ids[2:]], wait=0)
    assert sf_org.count("Contact") == 0 and sf_org.count("Contact", include_deleted=True) == 2


def test_bulk2_wrong_type_fails_only_that_row(sf_org: Org, sf_client: Salesforce) -> None:
    results = sf_client.bulk2.Contact.insert(
        records=[
            {"LastName": "A", "Birthdate": "yesterday"},
            {"LastName": "B", "Birthdate": "1990-05-01"},
        ],
        wait=0,
    )
    failed = _rows(sf_client.bulk2.Contact.get_failed_records(results[0]["job_id"]))
    assert failed[0]["sf__Error"].startswith(
        "INVALID_TYPE_ON_FIELD_IN_RECORD:Birthdate: value not of required type: yesterday"
    )
    assert sf_org.count("Contact") == 1


def test_raw_job_lifecycle(sf_org: Org) -> None:
    session = sf_org.session()
    sid = sf_org.sessions.open(sf_org.running_user_id)
    base = f"{sf_org.instance_url}/services/data/v59.0/jobs/ingest"
    headers = {"Authorization": f"Bearer {sid}"}
    job = session.post(
        base, json={"object": "Contact", "operation": "insert", "lineEnding": "LF"}, headers=headers
    ).json()
    assert (
        job["state"] == "Open"
        and job["contentUrl"] == f"services/data/v59.0/jobs/ingest/{job['id']}/batches"
    )
    upload = session.put(
        f"{base}/{job['id']}/batches",
        data="LastName\nA\n",
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert upload.status_code == 201
    aborted = session.patch(
        f"{base}/{job['id']}", json={"state": "Aborted"}, headers=headers
    ).json()
    assert aborted["state"] == "Aborted"
    unprocessed = session.get(f"{base}/{job['id']}/unprocessedrecords", headers=headers)
    assert unprocessed.text.splitlines() == ['"LastName"', '"A"']
    again = session.patch(f"{base}/{job['id']}", json={"state": "UploadComplete"}, headers=headers)
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    assert sf_org.count("Contact") == 0
    assert session.delete(f"{base}/{job['id']}", headers=headers).status_code == 204


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"object": "Nope__c", "operation": "insert"}, "INVALIDJOB"),
        ({"object": "Contact", "operation": "merge"}, "INVALIDJOB"),
        (
            {"object": "Contact", "operation": "upsert", "externalIdFieldName": "LastName"},
            "INVALIDJOB",
        ),
        ({"object": "Contact", "operation": "insert", "columnDelimiter": "SPACE"}, "INVALIDJOB"),
    ],
    ids=["unknown-object", "bad-operation", "not-external-id", "bad-delimiter"],
)
def test_bad_ingest_job_requests(sf_client: Salesforce, body: dict[str, str], code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("jobs/ingest", method="POST", json=body)
    assert exc.value.content[0]["errorCode"] == code


def test_bad_query_job_reports_the_soql_error(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful(
            "jobs/query",
            method="POST",
            json={"operation": "query", "query": "SELECT Nope FROM Contact"},
        )
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_query_job_refuses_subqueries(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful(
            "jobs/query",
            method="POST",
            json={
                "operation": "query",
                "query": "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            },
        )
    assert exc.value.content[0]["errorCode"] == "API_ERROR"


def test_bulk2_csv_with_nul_byte_fails_the_job(sf_org: Org) -> None:
    session = sf_org.session()
    headers = {"Authorization": "Bearer " + sf_org.sessions.open(sf_org.running_user_id)}
    base = f"{sf_org.instance_url}/services/data/v59.0/jobs/ingest"
    job = session.post(
        base, json={"object": "Contact", "operation": "insert"}, headers=headers
    ).json()
    session.put(
        f"{base}/{job['id']}/batches",
        data=b"LastName\nA\x00B\n",
        headers={**headers, "Content-Type": "text/csv"},
    )
    closed = session.patch(
        f"{base}/{job['id']}", json={"state": "UploadComplete"}, headers=headers
    ).json()
    info = session.get(f"{base}/{job['id']}", headers=headers).json()
    assert closed["state"] == info["state"] == "Failed" and info["errorMessage"].startswith(
        "InvalidBatch"
    )
    assert sf_org.count("Contact") == 0


def test_upload_needs_csv_content_type(sf_org: Org) -> None:
    session = sf_org.session()
    headers = {"Authorization": "Bearer " + sf_org.sessions.open(sf_org.running_user_id)}
    base = f"{sf_org.instance_url}/services/data/v59.0/jobs/ingest"
    job = session.post(
        base, json={"object": "Contact", "operation": "insert"}, headers=headers
    ).json()
    response = session.put(
        f"{base}/{job['id']}/batches",
        data="LastName\nA\n",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALIDJOB"
    missing = session.get(f"{base}/750000000000000AAA", headers=headers)
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
