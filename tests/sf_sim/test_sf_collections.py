from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sf_sim import Org


def _contact(name: str, **extra: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Contact"}, "LastName": name, **extra}


def test_create_returns_results_in_input_order(sf_client: Salesforce, sf_org: Org) -> None:
    results = sf_client.restful(
        "composite/sobjects", method="POST", json={"records": [_contact("A"), _contact("B")]}
    )
    assert [r["success"] for r in results] == [True, True] and all(
        len(r["id"]) == 18 for r in results
    )
    assert results[0] == {"id": results[0]["id"], "success": True, "errors": []}
    assert sf_org.count("Contact") == 2


def test_partial_failure_is_http_200_with_status_code_errors(
    sf_client: Salesforce, sf_org: Org
) -> None:
    records = [
        _contact("A"),
        _contact("B", Email="bad"),
        {"attributes": {"type": "Account"}, "Name": "Acme"},
    ]
    results = sf_client.restful("composite/sobjects", method="POST", json={"records": records})
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "INVALID_EMAIL_ADDRESS",
                "message": "Email: invalid email address: bad",
                "fields": ["Email"],
            }
        ],
    }
    assert sf_org.count("Contact") == 1 and sf_org.count("Account") == 1


def test_all_or_none_rolls_back_with_rolled_back_errors(sf_client: Salesforce, sf_org: Org) -> None:
    records = [
        _contact("A"),
        _contact("x" * 81),
        {"attributes": {"type": "Account"}, "Name": "Acme"},
    ]
    results = sf_client.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    codes = [r["errors"][0]["statusCode"] for r in results]
    assert codes == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "STRING_TOO_LONG",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    ]
    assert results[0]["errors"][0]["message"] == (
        "Record rolled back because not all records were valid and the request was using AllOrNone header"
    )
    assert sf_org.count("Contact") == 0 and sf_org.count("Account") == 0


def test_201_records_is_refused_and_nothing_changes(sf_client: Salesforce, sf_org: Org) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful(
            "composite/sobjects",
            method="POST",
            json={"records": [_contact(f"C{i}") for i in range(201)]},
        )
    assert exc.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert sf_org.count("Contact") == 0


def test_update_with_bad_and_unknown_ids(sf_client: Salesforce, sf_org: Org) -> None:
    good = sf_org.create("Contact", {"LastName": "Good"})
    account = sf_org.create("Account", {"Name": "Acme"})
    records = [
        {"attributes": {"type": "Contact"}, "id": good, "LastName": "Better"},
        {"attributes": {"type": "Contact"}, "id": account, "LastName": "Wrong"},
        {"attributes": {"type": "Contact"}, "id": "003000000000000AAA", "LastName": "Ghost"},
    ]
    results = sf_client.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert results[0]["success"] is True and results[0]["id"] == good
    assert results[1]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert (
        results[1]["errors"][0]["message"] == f"Contact ID: id value of incorrect type: {account}"
    )
    assert results[2]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert sf_org.get("Contact", good)["LastName"] == "Better"


def test_upsert_collection_reports_created(metadata_dir: Any) -> None:
    org = Org(metadata=[metadata_dir])
    org.create("Contact", {"LastName": "Old", "CMSF_Subscriber_Key__c": "k1"})
    sf = org.client()
    records = [
        _contact("Changed", CMSF_Subscriber_Key__c="k1"),
        _contact("New", CMSF_Subscriber_Key__c="k2"),
    ]
    results = sf.restful(
        "composite/sobjects/Contact/CMSF_Subscriber_Key__c",
        method="PATCH",
        json={"records": records},
    )
    assert [(r["success"], r["created"]) for r in results] == [(True, False), (True, True)]
    assert org.count("Contact") == 2


def test_delete_collection_and_all_or_none(sf_client: Salesforce, sf_org: Org) -> None:
    ids = [sf_org.create("Contact", {"LastName": f"C{i}"}) for i in range(2)]
    results = sf_client.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{ids[0]},nonsense", "allOrNone": "true"},
    )
    assert [r["success"] for r in results] == [False, False]
    assert results[1]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert sf_org.count("Contact") == 2
    results = sf_client.restful(
        "composite/sobjects", method="DELETE", params={"ids": ",".join(ids)}
    )
    assert [r["success"] for r in results] == [True, True] and sf_org.count("Contact") == 0


def test_retrieve_collection(sf_client: Salesforce, sf_org: Org) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee", "Email": "lee@example.com"})
    records = sf_client.restful(
        "composite/sobjects/Contact",
        params={"ids": f"{contact},003000000000000AAA", "fields": "Email,LastName"},
    )
    assert records[0]["Email"] == "lee@example.com" and records[1] is None


def test_missing_type_fails_the_record(sf_client: Salesforce) -> None:
    results = sf_client.restful(
        "composite/sobjects", method="POST", json={"records": [{"LastName": "No type"}]}
    )
    assert results[0]["success"] is False


def test_records_must_be_a_list(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("composite/sobjects", method="POST", json={"records": "nope"})
    assert exc.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
