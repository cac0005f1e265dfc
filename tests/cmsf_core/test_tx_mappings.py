"""Smart email mappings: checked against the smart email and the org, mistakes name the mapping."""

from __future__ import annotations

import json

import pytest

from cmsf_core.transactional.mappings import (
    ValueProblem,
    field_type,
    load_mappings,
    parse_variable_map,
    resolve,
    validate,
)
from tests.cmsf_core.tx_support import Tx


@pytest.fixture
def tx(tx_shared: Tx) -> Tx:
    """These tests only add mappings of their own: one world serves the module."""
    return tx_shared


def _problems(tx: Tx, **fields: object) -> list[str]:
    mapping_id = tx.mapping("Under test", **fields)
    mapping = load_mappings(tx.engine.gateway(), [mapping_id])[mapping_id]
    return validate(tx.engine.gateway(), mapping)


def test_a_good_mapping_has_no_problems_and_knows_the_smart_emails_variables(tx: Tx) -> None:
    mapping = load_mappings(tx.engine.gateway(), [tx.ids["mapping"]])[tx.ids["mapping"]]
    assert mapping.known_variables == {"firstname", "company", "plan"}
    assert mapping.fields() == ["Email", "FirstName", "Account.Name"]
    assert validate(tx.engine.gateway(), mapping) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"Variable_Map__c": {"nickname": "FirstName"}},
      "variable 'nickname' is not a variable of smart email 'Order shipped' (its variables: company, firstname, plan)"),
     ({"Variable_Map__c": {"company": "Account.Nme"}}, "variable 'company': 'Account.Nme': Account has no field Nme"),
     ({"Variable_Map__c": {"company": "Acount.Name"}}, "'Acount.Name': Contact has no parent relationship Acount"),
     ({"Variable_Map__c": {"company": "Account.Owner.Manager.Email"}}, "User has no parent relationship Manager"),
     ({"Variable_Map__c": {"cmsf_queue_item": "Id"}}, "variable 'cmsf_queue_item' is reserved"),
     ({"Variable_Map__c": "{firstname: FirstName}"}, "Variable_Map__c is not JSON"),
     ({"Variable_Map__c": "[1, 2]"}, "Variable_Map__c must be a JSON object"),
     ({"Variable_Map__c": {"firstname": 5}}, "variable 'firstname' must name a field"),
     ({"Variable_Map__c": {"first name": "FirstName"}}, "'first name' is not a smart email variable name"),
     ({"Recipient_Field__c": "FirstName"}, ""),
     ({"Recipient_Field__c": "HasOptedOutOfEmail"}, "recipient field 'HasOptedOutOfEmail' is a boolean field, not an email"),
     ({"Recipient_Field__c": None}, "it names no recipient field"),
     ({"Root_Object__c": "Widget__c"}, "root object 'Widget__c' is not an object of this org"),
     ({"Root_Object__c": "Contact; DELETE"}, "it names no root object"),
     ({"Consent_Field__c": "Birthdate"}, "consent field 'Birthdate' is a date field"),
     ({"Smart_Email__c": None}, "it names no smart email"),
     ({"Variable_Map__c": {"company": "Account." + ".".join(["Owner"] * 6) + ".Email"}}, "is not a field path")],
    ids=["unknown-variable", "unknown-parent-field", "unknown-relationship", "deep-unknown",
         "reserved", "not-json", "not-object", "path-not-text", "bad-variable-name",
         "text-recipient-allowed", "boolean-recipient", "no-recipient", "unknown-object",
         "injection-object", "date-consent", "no-smart-email", "too-deep"],
)  # fmt: skip
def test_mistakes_are_named(tx: Tx, fields: dict[str, object], expected: str) -> None:
    problems = _problems(tx, **fields)
    if expected:
        assert any(expected in p for p in problems), problems
    else:
        assert problems == []


def test_a_draft_smart_email_cannot_send(tx: Tx) -> None:
    draft = tx.org.query(
        f"SELECT Id FROM CMSF_Smart_Email__c WHERE CM_Id__c = '{tx.ids['draft']}'"
    )[0]["Id"]
    problems = _problems(tx, Smart_Email__c=draft, Variable_Map__c={})
    assert problems == [
        "its smart email 'Draft note' is Draft in Campaign Monitor; only active smart emails send"
    ]


def test_polymorphic_parents_are_refused_by_name(tx: Tx) -> None:
    kind, problem = field_type(tx.engine.gateway(), "Task", "Who.Email")
    assert (
        kind == "" and problem == "'Who.Email': Task.Who may point at several objects; name a field"
    )
    assert field_type(tx.engine.gateway(), "Contact", "account.owner.email") == ("email", None)


@pytest.mark.parametrize(
    "text",
    ["", "   ", None, json.dumps({f"v{n}": "FirstName" for n in range(500)}), '{"a": "B"}'],
    ids=["empty", "blank", "none", "many", "one"],
)
def test_variable_maps_that_parse(text: str | None) -> None:
    parsed, problem = parse_variable_map(text)
    assert problem is None and all(isinstance(v, str) for v in parsed.values())


def test_hostile_variable_maps_are_refused_not_raised() -> None:
    for text in ["\x00", "{" * 5000, "[" * 100_000, '{"a": ["B"]}', '{"a": null}', "1e999",
                 '"text"', "x" * 40000]:  # fmt: skip
        parsed, problem = parse_variable_map(text)
        assert parsed == {} and problem and problem.startswith("Variable_Map__c")


def test_values_come_from_the_record_and_its_parents(tx: Tx) -> None:
    gateway = tx.engine.gateway()
    mapping = load_mappings(gateway, [tx.ids["mapping"]])[tx.ids["mapping"]]
    record = {"Email": " ada@tx.example ", "FirstName": None, "Account": {"Name": "Acme"}}
    resolved = resolve(mapping, record)
    assert (resolved.recipient, resolved.data, resolved.consent) == (
        "ada@tx.example", {"firstname": "", "company": "Acme"}, "Unchanged",
    )  # fmt: skip
    assert resolve(mapping, {"Email": "a@b.example", "Account": None}).data["company"] == ""


@pytest.mark.parametrize(
    ("record", "problem"),
    [({"Email": None}, "the record has no address in Email"),
     ({"Email": "not an address"}, "Email is not an email address"),
     ({"Email": "<script>@x"}, "Email is not an email address"),
     ({"Email": "a@b.example", "FirstName": "x" * 110_000}, "Campaign Monitor takes at most 102,400")],
    ids=["no-address", "not-address", "hostile-address", "oversized"],
)  # fmt: skip
def test_records_that_cannot_make_a_send(tx: Tx, record: dict[str, object], problem: str) -> None:
    mapping = load_mappings(tx.engine.gateway(), [tx.ids["mapping"]])[tx.ids["mapping"]]
    with pytest.raises(ValueProblem, match=problem):
        resolve(mapping, record)


def test_consent_comes_from_the_consent_field_else_the_mapping(tx: Tx) -> None:
    gateway = tx.engine.gateway()
    # Any checkbox of the root object will do; an org would add its own consent field.
    mapping_id = tx.mapping(
        "Consent", Consent_Field__c="HasOptedOutOfEmail", Consent_To_Track__c="Yes"
    )
    mapping = load_mappings(gateway, [mapping_id])[mapping_id]
    assert validate(gateway, mapping) == []
    assert resolve(mapping, {"Email": "a@b.example", "HasOptedOutOfEmail": False}).consent == "No"
    assert resolve(mapping, {"Email": "a@b.example", "HasOptedOutOfEmail": True}).consent == "Yes"
    text = tx.mapping("Consent text", Consent_Field__c="Description", Consent_To_Track__c="No")
    texty = load_mappings(gateway, [text])[text]
    assert resolve(texty, {"Email": "a@b.example", "Description": None}).consent == "No"
    with pytest.raises(ValueProblem, match="is not a consent value"):
        resolve(texty, {"Email": "a@b.example", "Description": "perhaps"})
