"""Mapped values converted to Campaign Monitor's field types; rule conditions checked."""

from __future__ import annotations

import pytest

from cmsf_core.push.mappings import (
    ConversionError,
    FieldMapping,
    ListFields,
    consent_value,
    custom_values,
    e164,
    mappings_from_rows,
)
from cmsf_core.push.rules import MAX_CRITERIA, check_criteria


def _mapping(data_type: str, options: tuple[str, ...] = ()) -> FieldMapping:
    return FieldMapping("a0X", "m", "a01", "Contact", "Field__c", "Tier", data_type, options)


@pytest.mark.parametrize(
    ("data_type", "options", "value", "expected"),
    [
        ("Text", (), "  hello ", ["hello"]),
        ("Text", (), True, ["true"]),
        ("Number", (), "42.0", ["42"]),
        ("Number", (), 3.5, ["3.5"]),
        ("Date", (), "2024-02-29", ["2024-02-29"]),
        ("Date", (), "2024-02-29T23:30:00.000+0000", ["2024-02-29"]),
        ("MultiSelectOne", ("Gold", "Silver"), "gold", ["Gold"]),
        ("MultiSelectMany", ("news", "offers", "events"), "news;EVENTS", ["news", "events"]),
        ("Country", (), "Australia", ["Australia"]),
    ],
    ids=["text", "boolean", "integral", "decimal", "date", "datetime", "one", "many", "country"],
)
def test_values_take_the_field_type(
    data_type: str, options: tuple[str, ...], value: object, expected: list[str]
) -> None:
    items = custom_values(_mapping(data_type, options), value)
    assert [i["Value"] for i in items] == expected and all(i["Key"] == "Tier" for i in items)


@pytest.mark.parametrize("value", [None, "", "   "], ids=["null", "empty", "blank"])
def test_an_empty_value_clears_the_field(value: object) -> None:
    assert custom_values(_mapping("Text"), value) == [{"Key": "Tier", "Value": "", "Clear": True}]


@pytest.mark.parametrize(
    ("data_type", "options", "value"),
    [
        ("Text", (), "x" * 251),
        ("Number", (), "many"),
        ("Number", (), "nan"),
        ("Number", (), True),
        ("Date", (), "1899-12-31"),
        ("Date", (), "2077-01-01"),
        ("Date", (), "not a date"),
        ("MultiSelectOne", ("Gold",), "Bronze"),
        ("MultiSelectMany", ("news",), "news;spam"),
    ],
    ids=[
        "oversized",
        "word",
        "nan",
        "boolean",
        "too-old",
        "too-late",
        "garbage",
        "option",
        "options",
    ],
)
def test_values_that_do_not_fit_are_refused_not_cut(
    data_type: str, options: tuple[str, ...], value: object
) -> None:
    with pytest.raises(ConversionError):
        custom_values(_mapping(data_type, options), value)


def test_consent_and_mobile_numbers() -> None:
    assert [consent_value(v) for v in (True, False, "yes", "NO", None, "Unchanged")] == [
        "Yes", "No", "Yes", "No", "Unchanged", "Unchanged",
    ]  # fmt: skip
    with pytest.raises(ConversionError):
        consent_value("maybe")
    assert e164("(555) 555-1234", "US") == "+15555551234"
    assert e164("07911 123456", "GB") == "+447911123456"
    assert e164("", "US") == ""
    for bad in ("12", "555-1234", "call me", "+1" + "9" * 30):
        with pytest.raises(ConversionError):
            e164(bad, "US")


def test_mappings_that_cannot_be_used_are_named_with_the_reason() -> None:
    fields = {
        "a01": ListFields.from_json(
            '[{"FieldName": "website", "Key": "[website]", "DataType": "Text"}]'
        )
    }
    rows = [
        {"Id": "1", "Name": "ok", "List__c": "a01", "Object__c": "Contact", "Salesforce_Field__c": "Title",
         "CM_Field__c": "[website]", "Direction__c": "Both"},
        {"Id": "2", "Name": "unknown field", "List__c": "a01", "Object__c": "Contact",
         "Salesforce_Field__c": "Title", "CM_Field__c": "nope", "Direction__c": "Salesforce To Campaign Monitor"},
        {"Id": "3", "Name": "injection", "List__c": "a01", "Object__c": "Contact",
         "Salesforce_Field__c": "Title FROM User", "CM_Field__c": "website", "Direction__c": "Both"},
        {"Id": "4", "Name": "email", "List__c": "a01", "Object__c": "Contact",
         "Salesforce_Field__c": "Email", "CM_Field__c": "EmailAddress", "Direction__c": "Both"},
        {"Id": "5", "Name": "other list", "List__c": "a09", "Object__c": "Lead",
         "Salesforce_Field__c": "Title", "CM_Field__c": "website", "Direction__c": "Both"},
        {"Id": "6", "Name": "inbound", "List__c": "a01", "Object__c": "Contact",
         "Salesforce_Field__c": "Title", "CM_Field__c": "website", "Direction__c": "Campaign Monitor To Salesforce"},
    ]  # fmt: skip
    usable, problems = mappings_from_rows(rows, fields)
    assert [m.name for m in usable] == ["ok"] and usable[0].target == "website"
    text = "\n".join(problems)
    for name in ("unknown field", "injection", "email", "other list"):
        assert f"'{name}'" in text
    assert "inbound" not in text


@pytest.mark.parametrize(
    ("criteria", "ok"),
    [
        ("LeadSource = 'Web'", True),
        ("Name = 'O\\'Brien (Ltd)' AND (Email != null)", True),
        ("Id IN (SELECT ContactId FROM CampaignMember)", True),
        ("Email != null) OR (Id != null", False),
        ("(Email != null", False),
        ("Name = 'open", False),
        ("Email != null; DELETE", False),
        ("   ", False),
        ("a" * (MAX_CRITERIA + 1), False),
    ],
    ids=[
        "plain",
        "quoted",
        "semi-join",
        "breakout",
        "open",
        "string",
        "semicolon",
        "blank",
        "long",
    ],
)
def test_rule_conditions_can_only_narrow_the_engine_query(criteria: str, ok: bool) -> None:
    assert (check_criteria(criteria) is None) is ok
