from __future__ import annotations

from pathlib import Path

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from sf_sim import Org


@pytest.fixture
def custom_org(metadata_dir: Path) -> Org:
    return Org(metadata=[metadata_dir])


def test_create_returns_201_shape(sf_client: Salesforce) -> None:
    result = sf_client.Contact.create({"LastName": "Lee", "Email": "lee@example.com"})
    assert set(result) == {"id", "success", "errors"}
    assert result["success"] is True and result["errors"] == [] and len(result["id"]) == 18


def test_get_returns_record_with_attributes(sf_client: Salesforce) -> None:
    created = sf_client.Contact.create({"LastName": "Lee"})
    record = sf_client.Contact.get(created["id"])
    assert record["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{created['id']}",
    }
    assert record["LastName"] == "Lee" and record["IsDeleted"] is False


def test_get_accepts_15_character_ids_and_fields_parameter(sf_client: Salesforce) -> None:
    created = sf_client.Contact.create({"LastName": "Lee", "Email": "a@b.example.com"})
    record = sf_client.restful(
        f"sobjects/Contact/{created['id'][:15]}", params={"fields": "Email,lastname"}
    )
    assert list(record) == ["attributes", "Email", "LastName"]


def test_update_and_delete_return_204(sf_client: Salesforce, sf_org: Org) -> None:
    created = sf_client.Contact.create({"LastName": "Lee"})
    assert sf_client.Contact.update(created["id"], {"FirstName": "Ann"}) == 204
    assert sf_org.get("Contact", created["id"])["Name"] == "Ann Lee"
    assert sf_client.Contact.delete(created["id"]) == 204


@pytest.mark.parametrize(
    ("record_id", "code"),
    [("003000000000000AAA", "NOT_FOUND"), ("banana", "NOT_FOUND")],
    ids=["unknown-id", "malformed-id"],
)
def test_get_unknown_record_is_404(sf_client: Salesforce, record_id: str, code: str) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf_client.Contact.get(record_id)
    assert exc.value.content[0]["errorCode"] == code


def test_unknown_object_is_404(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf_client.Nope__c.create({"Name": "x"})
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"


def test_upsert_creates_then_updates(custom_org: Org) -> None:
    sf = custom_org.client()
    response = sf.Contact.upsert(
        "CMSF_Subscriber_Key__c/sub-1", {"LastName": "New"}, raw_response=True
    )
    assert response.status_code == 201 and response.json()["created"] is True
    again = sf.Contact.upsert(
        "CMSF_Subscriber_Key__c/sub-1", {"LastName": "Changed"}, raw_response=True
    )
    assert again.status_code == 200 and again.json() == {
        "id": response.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert custom_org.count("Contact") == 1
    fetched = sf.Contact.get_by_custom_id("CMSF_Subscriber_Key__c", "sub-1")
    assert fetched["LastName"] == "Changed"


def test_external_id_with_special_characters_round_trips(custom_org: Org) -> None:
    sf = custom_org.client()
    sf.Contact.upsert("CMSF_Subscriber_Key__c/a b%2Bc%2Fd", {"LastName": "Odd"})
    assert (
        custom_org.query("SELECT CMSF_Subscriber_Key__c FROM Contact")[0]["CMSF_Subscriber_Key__c"]
        == "a b+c/d"
    )
    assert sf.Contact.get_by_custom_id("CMSF_Subscriber_Key__c", "a b+c/d")["LastName"] == "Odd"


def test_upsert_with_several_matches_is_300(custom_org: Org) -> None:
    custom_org.create("CMSF_List__c", {"Name": "A", "ListId__c": "x1"})
    custom_org.store.conn.execute('UPDATE "Contact" SET CMSF_Subscriber_Key__c = NULL')
    first = custom_org.create("Contact", {"LastName": "A"})
    second = custom_org.create("Contact", {"LastName": "B"})
    custom_org.store.conn.execute(
        'UPDATE "Contact" SET CMSF_Subscriber_Key__c = ? WHERE Id IN (?, ?)', ("dup", first, second)
    )
    sf = custom_org.client()
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        sf.Contact.upsert("CMSF_Subscriber_Key__c/dup", {"LastName": "C"})
    assert sorted(exc.value.content) == sorted(
        f"/services/data/v59.0/sobjects/Contact/{i}" for i in (first, second)
    )


@pytest.mark.parametrize(
    ("path", "error", "code"),
    [
        ("Nope__c/1", SalesforceResourceNotFound, "NOT_FOUND"),
        ("LastName/x", SalesforceMalformedRequest, "INVALID_FIELD"),
    ],
    ids=["unknown-field", "not-external"],
)
def test_upsert_needs_an_external_id_field(
    custom_org: Org, path: str, error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as exc:
        custom_org.client().Contact.upsert(path, {"LastName": "X"})
    assert exc.value.content[0]["errorCode"] == code  # type: ignore[attr-defined]
    assert custom_org.count("Contact") == 0


def test_get_by_custom_id_not_found(custom_org: Org) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        custom_org.client().Contact.get_by_custom_id("CMSF_Subscriber_Key__c", "missing")
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"


def test_invalid_json_body_is_a_parser_error(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("sobjects/Contact/", method="POST", data="{not json")
    assert exc.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_hostile_strings_are_stored_verbatim(sf_client: Salesforce, sf_org: Org) -> None:
    hostile = "Robert'); DROP TABLE Contact;-- \u202e\U0001f600"
    created = sf_client.Contact.create({"LastName": hostile})
    assert sf_client.Contact.get(created["id"])["LastName"] == hostile
    assert sf_org.count("Contact") == 1
