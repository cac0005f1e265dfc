from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from cmsf_core.clock import VirtualClock
from sf_sim import Org, RecordError
from sf_sim.schema import format_datetime


@pytest.mark.parametrize(
    ("fields", "code", "text"),
    [
        ({"FirstName": "No"}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]"),
        ({"LastName": "x" * 81}, "STRING_TOO_LONG", "Last Name: data value too large"),
        (
            {"LastName": "Lee", "Email": "not-an-email"},
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: not-an-email",
        ),
        (
            {"LastName": "Lee", "Shoe_Size__c": 9},
            "INVALID_FIELD",
            "No such column 'Shoe_Size__c' on sobject of type Contact",
        ),
        (
            {"LastName": "Lee", "Name": "Lee"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: Name",
        ),
        (
            {"LastName": "Lee", "AccountId": "nonsense"},
            "MALFORMED_ID",
            "Account ID: id value of incorrect type: nonsense",
        ),
        (
            {"LastName": "Lee", "AccountId": "001000000000000AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        ),
        (
            {"LastName": "Lee", "AccountId": "003000000000000AAA"},
            "FIELD_INTEGRITY_EXCEPTION",
            "id value of incorrect type",
        ),
    ],
    ids=[
        "required",
        "too-long",
        "bad-email",
        "unknown-field",
        "read-only",
        "malformed-id",
        "missing-parent",
        "wrong-type-id",
    ],
)
def test_contact_create_refused_with_platform_error(
    sf_client: Salesforce, sf_org: Org, fields: dict[str, Any], code: str, text: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Contact.create(fields)
    assert exc.value.content[0]["errorCode"] == code
    assert text in exc.value.content[0]["message"]
    assert sf_org.count("Contact") == 0


@pytest.mark.parametrize(
    ("value", "token"),
    [(True, "VALUE_TRUE"), (["a"], "START_ARRAY"), ("abc", "VALUE_STRING")],
    ids=["bool", "array", "string"],
)
def test_wrong_json_type_is_a_parser_error(sf_client: Salesforce, value: Any, token: str) -> None:
    field = "AnnualRevenue" if token != "START_ARRAY" else "Name"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Account.create(
            {"Name": "Acme", field: value} if field != "Name" else {"Name": value}
        )
    assert exc.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert token in exc.value.content[0]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Birthdate", "2024-13-45"),
        ("Birthdate", 20240101),
        ("EmailBouncedDate", "yesterday"),
        ("HasOptedOutOfEmail", "maybe"),
    ],
    ids=["impossible-date", "number-for-date", "bad-datetime", "bad-boolean"],
)
def test_unparseable_values_are_parser_errors(
    sf_client: Salesforce, sf_org: Org, field: str, value: Any
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Contact.create({"LastName": "Lee", field: value})
    assert exc.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert sf_org.count("Contact") == 0


def test_restricted_picklist_refuses_unknown_value(sf_org: Org) -> None:
    with pytest.raises(RecordError) as exc:
        sf_org.create(
            "User",
            {
                "Username": "u@x.example.com",
                "LastName": "U",
                "Email": "u@x.example.com",
                "Alias": "u",
                "TimeZoneSidKey": "Mars/Olympus",
                "LocaleSidKey": "en_US",
                "EmailEncodingKey": "UTF-8",
                "LanguageLocaleKey": "en_US",
                "ProfileId": sf_org.get("User", sf_org.running_user_id)["ProfileId"],
            },
        )
    assert exc.value.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "TimeZoneSidKey" in exc.value.message or "Time Zone" in exc.value.message


def test_unrestricted_picklist_keeps_canonical_spelling(sf_org: Org) -> None:
    lead = sf_org.create("Lead", {"LastName": "L", "Company": "C", "Status": "working - contacted"})
    assert sf_org.get("Lead", lead)["Status"] == "Working - Contacted"


def test_audit_fields_and_owner_default_to_running_user(clock: VirtualClock) -> None:
    org = Org(clock=clock)
    contact = org.create("Contact", {"LastName": "Lee"})
    record = org.get("Contact", contact)
    stamp = format_datetime(clock.now())
    assert record["CreatedDate"] == record["LastModifiedDate"] == record["SystemModstamp"] == stamp
    assert record["CreatedById"] == record["OwnerId"] == org.running_user_id
    clock.advance(minutes=5)
    org.update("Contact", contact, {"FirstName": "Ann"})
    updated = org.get("Contact", contact)
    assert updated["LastModifiedDate"] == format_datetime(clock.now()) != updated["CreatedDate"]
    assert updated["Name"] == "Ann Lee"


def test_lead_status_defaults_and_company_is_required(sf_org: Org) -> None:
    lead = sf_org.create("Lead", {"LastName": "L", "Company": "C"})
    assert sf_org.get("Lead", lead)["Status"] == "Open - Not Contacted"
    with pytest.raises(RecordError) as exc:
        sf_org.create("Lead", {"LastName": "L"})
    assert exc.value.error_code == "REQUIRED_FIELD_MISSING" and exc.value.fields == ["Company"]


def test_converted_lead_rejects_updates(sf_org: Org) -> None:
    lead = sf_org.create(
        "Lead", {"LastName": "L", "Company": "Initech", "Email": "l@initech.example.com"}
    )
    converted = sf_org.convert_lead(lead)
    assert sf_org.get("Contact", converted["contactId"])["Email"] == "l@initech.example.com"
    with pytest.raises(RecordError) as exc:
        sf_org.update("Lead", lead, {"FirstName": "X"})
    assert exc.value.error_code == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_external_id_duplicates_are_refused(metadata_dir: Any) -> None:
    org = Org(metadata=[metadata_dir])
    first = org.create("Contact", {"LastName": "A", "CMSF_Subscriber_Key__c": "k-1"})
    with pytest.raises(RecordError) as exc:
        org.create("Contact", {"LastName": "B", "CMSF_Subscriber_Key__c": "K-1"})
    assert exc.value.error_code == "DUPLICATE_VALUE"
    assert first in exc.value.message


def test_batch_insert_is_partial_without_all_or_none(sf_org: Org) -> None:
    results = sf_org.insert(
        "Contact", [{"LastName": "A"}, {"FirstName": "no last"}, {"LastName": "C"}]
    )
    assert [r.success for r in results] == [True, False, True]
    assert results[1].errors[0].error_code == "REQUIRED_FIELD_MISSING"
    assert sf_org.count("Contact") == 2


def test_batch_insert_all_or_none_rolls_everything_back(sf_org: Org) -> None:
    results = sf_org.insert(
        "Contact", [{"LastName": "A"}, {"FirstName": "no last"}], all_or_none=True
    )
    assert [r.errors[0].error_code for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUIRED_FIELD_MISSING",
    ]
    assert sf_org.count("Contact") == 0


def test_ids_are_deterministic_for_the_same_calls() -> None:
    first, second = Org(seed=3), Org(seed=3)
    assert first.org_id == second.org_id
    assert first.create("Contact", {"LastName": "A"}) == second.create("Contact", {"LastName": "A"})
    assert first.admin_credentials() == second.admin_credentials()


def test_system_context_may_write_read_only_fields(sf_org: Org) -> None:
    contact = sf_org.create("Contact", {"LastName": "A", "IsEmailBounced": True}, system=True)
    assert sf_org.get("Contact", contact)["IsEmailBounced"] is True


@pytest.mark.parametrize(
    ("object_name", "verb"),
    [("Organization", "inserted"), ("AsyncApexJob", "inserted"), ("CronTrigger", "inserted")],
    ids=["organization", "async-apex-job", "cron-trigger"],
)
def test_read_only_objects_refuse_api_inserts(
    sf_client: Salesforce, sf_org: Org, object_name: str, verb: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        getattr(sf_client, object_name).create({})
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    assert f"entity type cannot be {verb}" in exc.value.content[0]["message"]
    assert sf_org.count(object_name) == (1 if object_name == "Organization" else 0)


def test_users_cannot_be_deleted(sf_client: Salesforce, sf_org: Org) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.User.delete(sf_org.running_user_id)
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Organization.update(sf_org.org_id, {"Name": "Renamed"})
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_an_inactive_user_cannot_become_an_owner(sf_org: Org) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    gone = sf_org.control.add_user("gone@acme.example", last_name="Gone")
    kept = sf_org.create("Contact", {"LastName": "Kept", "OwnerId": gone})
    sf_org.control.set_user_active(gone, False)
    with sf_org.activate() as sf:
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Contact.create({"LastName": "New", "OwnerId": gone})
        assert exc.value.content[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"
        assert exc.value.content[0]["fields"] == ["OwnerId"]
        sf.Contact.update(kept, {"Title": "Still fine"})  # an existing owner stays valid
    assert sf_org.get("Contact", kept)["Title"] == "Still fine"
    sf_org.control.set_user_active(gone, True)
    assert sf_org.create("Contact", {"LastName": "Back", "OwnerId": gone})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2025, 3, 4, 5, 6, 7, 891_999, tzinfo=UTC), "2025-03-04T05:06:07.891+0000"),
        (
            datetime(2025, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),
            "2024-12-31T23:30:00.000+0000",
        ),
        (datetime(1700, 1, 1, tzinfo=UTC), "1700-01-01T00:00:00.000+0000"),
    ],
)
def test_datetimes_are_rendered_in_utc_with_milliseconds(value: datetime, text: str) -> None:
    assert format_datetime(value) == text
