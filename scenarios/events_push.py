"""Timeline events for the Salesforce -> Campaign Monitor direction.

What people do in the org that the push must carry to Campaign Monitor: create and edit
Contacts and Leads (each event is one save, so several records make a bulk change),
merge duplicates, write subscriber rules and field mappings; and, on the Campaign Monitor
side, create a "joins a list" journey. Kept apart from :mod:`scenarios.events_sf` (the
platform's own behaviour and faults) so each module stays one subject.
"""

from __future__ import annotations

from typing import Any

from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.invariants import soql_list
from scenarios.play import Play
from scenarios.registry import ALIAS_ARG, BOOL_ARG, EMAIL_ARG, TEXT_ARG, arg_schema

__all__ = ["EMAIL_LIST", "PATH_FIELD", "PEOPLE_ARG", "list_record", "record_ids"]

PEOPLE_ARG: dict[str, Any] = {"enum": ["Contact", "Lead"]}
VALUES_ARG: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 50,
    "propertyNames": {"pattern": r"^[A-Za-z][A-Za-z0-9_]{0,79}$"},
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    "x-message": "must map field API names to values",
}
EMAIL_LIST: dict[str, Any] = {"type": "array", "items": EMAIL_ARG, "minItems": 1, "maxItems": 200}
PATH_FIELD: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79})?$",
    "x-message": "must be a field API name such as Title or Account.Industry",
}


def record_ids(play: Play, sobject: str, emails: list[str]) -> list[str]:
    """Ids of the Contacts or Leads with these addresses, in the order given.

    Raises:
        ScenarioStepError: When an address has no record.
    """
    rows = play.org.query(
        f"SELECT Id, Email FROM {sobject} WHERE Email IN ({soql_list(emails)}) ORDER BY Email"
    )
    by_email = {str(r["Email"]).lower(): str(r["Id"]) for r in rows}
    missing = [e for e in emails if e not in by_email]
    if missing:
        raise ScenarioStepError(f"no {sobject} has the address {missing[0]}")
    return [by_email[e] for e in emails]


def list_record(play: Play, alias: str) -> str:
    """The Salesforce Id of the list a scenario named ``alias`` (synced already)."""
    list_id = play.ref(alias, "list")
    rows = play.org.query(f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{list_id}'")
    if not rows:
        raise ScenarioStepError(f"{alias} is not in Salesforce yet: run a sync first")
    return str(rows[0]["Id"])


@EVENTS.register(
    "sf_records_created",
    "Someone creates Contacts or Leads in Salesforce (one save for all of them).",
    arg_schema(("object", "emails"), object=PEOPLE_ARG, emails=EMAIL_LIST, fields=VALUES_ARG),
)
def sf_records_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Insert the records in one DML; ``as`` names the group of their addresses."""
    emails = [e.lower() for e in args["emails"]]
    records = []
    for email in emails:
        record = {"LastName": email.split("@")[0].replace(".", " ").title()[:80], "Email": email}
        if args["object"] == "Lead":
            record["Company"] = "Scenario"
        records.append({**record, **args.get("fields", {})})
    failed = [r for r in play.org.insert(args["object"], records) if not r.success]
    if failed:
        raise ScenarioStepError(f"the org refused a {args['object']}: {failed[0].errors[0]}")
    if alias:
        play.groups[alias] = emails
    return f"{len(emails)} {args['object']}(s) created"


@EVENTS.register(
    "sf_records_updated",
    "Someone edits Contacts or Leads, found by address (one save for all of them).",
    arg_schema(("object", "emails", "set"), object=PEOPLE_ARG, emails=EMAIL_LIST, set=VALUES_ARG),
)
def sf_records_updated(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Update the records through sObject Collections: one transaction, as a user's save."""
    emails = [e.lower() for e in args["emails"]]
    ids = record_ids(play, args["object"], emails)
    payload = {
        "allOrNone": True,
        "records": [
            {"attributes": {"type": args["object"]}, "Id": record_id, **args["set"]}
            for record_id in ids
        ],
    }
    results = play.org.client().restful("composite/sobjects", method="PATCH", json=payload)
    refused = [r for r in results or [] if not r.get("success")]
    if refused:
        raise ScenarioStepError(f"the org refused the edit: {refused[0].get('errors')}")
    return f"{len(ids)} {args['object']}(s) edited: {', '.join(sorted(args['set']))}"


@EVENTS.register(
    "sf_duplicates_merged",
    "An admin merges duplicate Contacts or Leads: the first address is the master's.",
    arg_schema(
        ("object", "emails"),
        object=PEOPLE_ARG,
        emails={"type": "array", "items": EMAIL_ARG, "minItems": 2, "maxItems": 3},
    ),
)
def sf_duplicates_merged(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Merge the records (losers to the recycle bin with ``MasterRecordId``)."""
    ids = record_ids(play, args["object"], [e.lower() for e in args["emails"]])
    play.org.merge(ids[0], ids[1:])
    return f"{len(ids) - 1} {args['object']}(s) merged into {args['emails'][0]}"


@EVENTS.register(
    "subscriber_rule_set",
    "An admin creates or edits a subscriber rule (found by name) for a list.",
    arg_schema(
        ("list", "name", "criteria"),
        list=ALIAS_ARG,
        name=TEXT_ARG,
        object=PEOPLE_ARG,
        criteria={"type": "string", "maxLength": 32768},
        unsubscribe=BOOL_ARG,
        active=BOOL_ARG,
    ),
)
def subscriber_rule_set(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Write the ``CMSF_Subscriber_Rule__c`` record."""
    values = {
        "Name": args["name"],
        "List__c": list_record(play, args["list"]),
        "Object__c": args.get("object", "Contact"),
        "Criteria__c": args["criteria"],
        "Active__c": args.get("active", True),
        "Unsubscribe_When_Not_Met__c": args.get("unsubscribe", False),
    }
    found = play.org.query(
        f"SELECT Id FROM CMSF_Subscriber_Rule__c WHERE Name = {soql_list([args['name']])}"
    )
    if found:
        play.org.update("CMSF_Subscriber_Rule__c", found[0]["Id"], values)
        return f"rule '{args['name']}' edited"
    play.org.create("CMSF_Subscriber_Rule__c", values)
    return f"rule '{args['name']}' created for {args['list']}"


@EVENTS.register(
    "field_mapping_set",
    "An admin maps a Salesforce field to a Campaign Monitor field of a list.",
    arg_schema(
        ("list", "sf_field", "cm_field"),
        list=ALIAS_ARG,
        object=PEOPLE_ARG,
        sf_field=PATH_FIELD,
        cm_field=TEXT_ARG,
        direction={"enum": ["Salesforce To Campaign Monitor", "Both"]},
    ),
)
def field_mapping_set(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Insert a ``CMSF_Field_Mapping__c`` record."""
    play.org.create(
        "CMSF_Field_Mapping__c",
        {
            "Name": f"{args['sf_field']} to {args['cm_field']}"[:80],
            "List__c": list_record(play, args["list"]),
            "Object__c": args.get("object", "Contact"),
            "Salesforce_Field__c": args["sf_field"],
            "CM_Field__c": args["cm_field"],
            "Direction__c": args.get("direction", "Salesforce To Campaign Monitor"),
        },
    )
    return f"{args['sf_field']} mapped to {args['cm_field']} of {args['list']}"


@EVENTS.register(
    "journey_created",
    "A Campaign Monitor user creates a journey that emails people who join a list.",
    arg_schema(("list",), list=ALIAS_ARG, name=TEXT_ARG),
)
def journey_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Create an active journey with one email sent on joining; ``as`` names it."""
    journey = play.account.create_journey(
        play.ref(args["list"], "list"), args.get("name", "Welcome"), [("Welcome", 0)]
    )
    if alias:
        play.name(alias, journey, "journey")
    return f"journey on {args['list']}"
