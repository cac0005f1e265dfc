from __future__ import annotations

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sf_sim import Org

V = "/services/data/v59.0"


def test_composite_references_earlier_results(sf_client: Salesforce, sf_org: Org) -> None:
    body = {
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "person",
                "body": {"LastName": "Lee", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "url": f"{V}/sobjects/Contact/@{{person.id}}?fields=AccountId",
                "referenceId": "read",
            },
        ]
    }
    result = sf_client.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in result] == [201, 201, 200]
    assert result[2]["body"]["AccountId"] == result[0]["body"]["id"]
    assert result[0]["httpHeaders"]["Location"].endswith(result[0]["body"]["id"])


def test_composite_all_or_none_halts_and_rolls_back(sf_client: Salesforce, sf_org: Org) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "b",
                "body": {"FirstName": "no last name"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "c",
                "body": {"Name": "Later"},
            },
        ],
    }
    result = sf_client.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in result] == [400, 400, 400]
    assert result[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert result[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert result[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf_org.count("Account") == 0


def test_composite_unresolved_reference(sf_client: Salesforce) -> None:
    body = {
        "compositeRequest": [
            {"method": "GET", "url": f"{V}/sobjects/Contact/@{{missing.id}}", "referenceId": "x"}
        ]
    }
    result = sf_client.restful("composite", method="POST", json=body)["compositeResponse"]
    assert (
        result[0]["httpStatusCode"] == 400
        and result[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    )


def test_composite_query_subrequest(sf_client: Salesforce, sf_org: Org) -> None:
    sf_org.create("Contact", {"LastName": "Lee"})
    body = {
        "compositeRequest": [
            {
                "method": "GET",
                "url": f"{V}/query?q=SELECT+LastName+FROM+Contact",
                "referenceId": "q",
            }
        ]
    }
    result = sf_client.restful("composite", method="POST", json=body)["compositeResponse"]
    assert result[0]["body"]["records"][0]["LastName"] == "Lee"


@pytest.mark.parametrize(
    ("requests_", "code"),
    [
        (
            [{"method": "GET", "url": f"{V}/limits", "referenceId": f"r{i}"} for i in range(26)],
            "INVALID_API_INPUT",
        ),
        ([{"method": "GET", "url": f"{V}/limits", "referenceId": "same"}] * 2, "INVALID_API_INPUT"),
        ([], "INVALID_API_INPUT"),
    ],
    ids=["26-subrequests", "duplicate-reference", "empty"],
)
def test_composite_malformed_requests(
    sf_client: Salesforce, requests_: list[dict[str, str]], code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("composite", method="POST", json={"compositeRequest": requests_})
    assert exc.value.content[0]["errorCode"] == code


def test_composite_inside_composite_is_refused(sf_client: Salesforce) -> None:
    body = {
        "compositeRequest": [
            {"method": "POST", "url": f"{V}/composite", "referenceId": "x", "body": {}}
        ]
    }
    result = sf_client.restful("composite", method="POST", json=body)["compositeResponse"]
    assert result[0]["httpStatusCode"] == 400


def test_batch_runs_independently_and_halts_on_error(sf_client: Salesforce, sf_org: Org) -> None:
    body = {
        "haltOnError": True,
        "batchRequests": [
            {"method": "POST", "url": "v59.0/sobjects/Contact", "richInput": {"LastName": "A"}},
            {"method": "POST", "url": "v59.0/sobjects/Contact", "richInput": {"Email": "x"}},
            {"method": "GET", "url": "v59.0/limits"},
        ],
    }
    result = sf_client.restful("composite/batch", method="POST", json=body)
    assert result["hasErrors"] is True
    assert [r["statusCode"] for r in result["results"]] == [201, 400, 412]
    assert result["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    assert sf_org.count("Contact") == 1


def _tree(contact_email: str) -> dict[str, object]:
    return {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "acct"},
                "Name": "Acme",
                "Contacts": {
                    "records": [
                        {
                            "attributes": {"type": "Contact", "referenceId": "c1"},
                            "LastName": "Lee",
                            "Email": contact_email,
                        },
                        {"attributes": {"type": "Contact", "referenceId": "c2"}, "LastName": "Kim"},
                    ]
                },
            }
        ]
    }


def test_tree_creates_parents_and_children(sf_client: Salesforce, sf_org: Org) -> None:
    result = sf_client.restful(
        "composite/tree/Account", method="POST", json=_tree("lee@example.com")
    )
    assert result["hasErrors"] is False and [r["referenceId"] for r in result["results"]] == [
        "acct",
        "c1",
        "c2",
    ]
    account = result["results"][0]["id"]
    assert {c["AccountId"] for c in sf_org.query("SELECT AccountId FROM Contact")} == {account}


def test_tree_failure_creates_nothing(sf_client: Salesforce, sf_org: Org) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("composite/tree/Account", method="POST", json=_tree("not-an-email"))
    assert exc.value.content["hasErrors"] is True
    assert exc.value.content["results"][0]["referenceId"] == "c1"
    assert exc.value.content["results"][0]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf_org.count("Account") == 0 and sf_org.count("Contact") == 0


@pytest.mark.parametrize(
    "records",
    [
        [{"attributes": {"type": "Contact", "referenceId": "x"}, "LastName": "Wrong type"}],
        [
            {"attributes": {"type": "Account", "referenceId": "x"}, "Name": "A"},
            {"attributes": {"type": "Account", "referenceId": "x"}, "Name": "B"},
        ],
        [
            {"attributes": {"type": "Account", "referenceId": f"r{i}"}, "Name": "A"}
            for i in range(201)
        ],
        [{"Name": "no attributes"}],
    ],
    ids=["wrong-type", "duplicate-reference", "201-records", "no-attributes"],
)
def test_tree_malformed_requests(
    sf_client: Salesforce, sf_org: Org, records: list[dict[str, object]]
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("composite/tree/Account", method="POST", json={"records": records})
    assert exc.value.content[0]["errorCode"] == "INVALID_INPUT"
    assert sf_org.count("Account") == 0
