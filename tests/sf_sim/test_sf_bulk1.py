from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError

from sf_sim import Org


def _raw(org: Org) -> tuple[requests.Session, str, dict[str, str]]:
    headers = {
        "X-SFDC-Session": org.sessions.open(org.running_user_id),
        "Content-Type": "application/json",
    }
    return org.session(), f"{org.instance_url}/services/async/59.0", headers


def test_bulk1_insert_reports_per_record_results(sf_org: Org, sf_client: Salesforce) -> None:
    results = sf_client.bulk.Contact.insert(
        [{"LastName": f"B{i}"} for i in range(12_000)] + [{"FirstName": "x"}]
    )
    assert len(results) == 12_001 and sf_org.count("Contact") == 12_000
    assert results[0] == {"success": True, "created": True, "id": results[0]["id"], "errors": []}
    assert (
        results[-1]["success"] is False
        and results[-1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    )


def test_bulk1_upsert_update_and_deletes(metadata_dir: Path) -> None:
    org = Org(metadata=[metadata_dir])
    sf = org.client()
    first = sf.bulk.Contact.upsert(
        [{"LastName": "A", "CMSF_Subscriber_Key__c": "k1"}], "CMSF_Subscriber_Key__c"
    )
    again = sf.bulk.Contact.upsert(
        [{"LastName": "A2", "CMSF_Subscriber_Key__c": "k1"}], "CMSF_Subscriber_Key__c"
    )
    assert (
        first[0]["created"] is True
        and again[0]["created"] is False
        and again[0]["id"] == first[0]["id"]
    )
    sf.bulk.Contact.update([{"Id": first[0]["id"], "FirstName": "Ann"}])
    assert org.get("Contact", first[0]["id"])["Name"] == "Ann A2"
    sf.bulk.Contact.delete([{"Id": first[0]["id"]}])
    assert org.count("Contact") == 0 and org.count("Contact", include_deleted=True) == 1


def test_bulk1_query_returns_records_with_epoch_dates(sf_org: Org, sf_client: Salesforce) -> None:
    account = sf_org.create("Account", {"Name": "Acme"})
    sf_org.create("Contact", {"LastName": "Lee", "AccountId": account, "Birthdate": "1990-01-02"})
    rows = sf_client.bulk.Contact.query(
        "SELECT LastName, Birthdate, CreatedDate, Account.Name FROM Contact"
    )
    assert rows[0]["Birthdate"] == 631238400000 and isinstance(rows[0]["CreatedDate"], int)
    assert rows[0]["Account"]["Name"] == "Acme" and rows[0]["attributes"]["type"] == "Contact"


def test_bulk1_query_pages_and_query_all(sf_org: Org, sf_client: Salesforce) -> None:
    sf_client.bulk.Contact.insert([{"LastName": f"Q{i}"} for i in range(25_000)])
    sf_org.delete(sf_org.query("SELECT Id FROM Contact LIMIT 1")[0]["Id"])
    pages = list(sf_client.bulk.Contact.query("SELECT Id FROM Contact", lazy_operation=True))
    assert [len(page) for page in pages] == [10_000, 10_000, 4_999]
    assert len(sf_client.bulk.Contact.query_all("SELECT Id FROM Contact")) == 25_000


def test_bulk1_bad_soql_fails_the_batch(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceGeneralError) as exc:
        sf_client.bulk.Contact.query("SELECT Nope FROM Contact")
    assert "INVALID_FIELD" in str(exc.value)


def test_bulk1_errors_use_the_exception_shape(sf_org: Org) -> None:
    session, base, headers = _raw(sf_org)
    bad = session.post(
        f"{base}/job",
        data=json.dumps({"operation": "insert", "object": "Nope__c", "contentType": "JSON"}),
        headers=headers,
    )
    assert bad.status_code == 400 and bad.json() == {
        "exceptionCode": "InvalidJob",
        "exceptionMessage": "Unable to find object: Nope__c",
    }
    expired = session.get(
        f"{base}/job/750000000000000AAA", headers={**headers, "X-SFDC-Session": "nonsense"}
    )
    assert expired.status_code == 400 and expired.json()["exceptionCode"] == "InvalidSessionId"


def test_bulk1_job_lifecycle_and_integer_concurrency_mode(sf_org: Org) -> None:
    session, base, headers = _raw(sf_org)
    job: dict[str, Any] = session.post(
        f"{base}/job",
        data=json.dumps(
            {
                "operation": "insert",
                "object": "Contact",
                "contentType": "JSON",
                "concurrencyMode": 1,
            }
        ),
        headers=headers,
    ).json()
    assert job["state"] == "Open" and job["concurrencyMode"] == "Serial"
    too_many = [{"LastName": "x"}] * 10_001
    queued = session.post(
        f"{base}/job/{job['id']}/batch", data=json.dumps(too_many), headers=headers
    ).json()
    assert queued["state"] == "Queued"  # as the platform's reply says; processed by the first poll
    batch = session.get(f"{base}/job/{job['id']}/batch/{queued['id']}", headers=headers).json()
    assert batch["state"] == "Failed" and "10000" in batch["stateMessage"]
    garbage = session.post(
        f"{base}/job/{job['id']}/batch", data="{not json", headers=headers
    ).json()
    garbage = session.get(f"{base}/job/{job['id']}/batch/{garbage['id']}", headers=headers).json()
    assert garbage["state"] == "Failed"
    closed = session.post(
        f"{base}/job/{job['id']}", data=json.dumps({"state": "Closed"}), headers=headers
    ).json()
    assert closed["state"] == "Closed" and closed["numberBatchesFailed"] == 2
    late = session.post(f"{base}/job/{job['id']}/batch", data="[]", headers=headers)
    assert late.status_code == 400 and late.json()["exceptionCode"] == "InvalidJobState"
    assert sf_org.count("Contact") == 0
