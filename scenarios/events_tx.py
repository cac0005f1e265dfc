"""Timeline events of transactional smart emails sent from Salesforce.

What people do around a send: a Campaign Monitor user builds a smart email, an admin maps
it in Salesforce, a Flow requests sends by inserting queue items (one save for all of
them, so several make a bulk request), an admin clicks Run Test or deletes finished
process records, and a watch drains the queue between syncs. Kept apart from
:mod:`scenarios.events_push` (the subscriber push) so each module stays one subject.
"""

from __future__ import annotations

import json
from typing import Any

from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.events_push import PATH_FIELD, PEOPLE_ARG, record_ids
from scenarios.invariants import soql_list
from scenarios.play import Play
from scenarios.registry import (
    ALIAS_ARG,
    BOOL_ARG,
    COUNT_ARG,
    EMAIL_ARG,
    EMAILS_ARG,
    TEXT_ARG,
    arg_schema,
)

__all__: list[str] = []

VARIABLES_ARG: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,49}$"},
    "maxItems": 50,
}
VARIABLE_MAP_ARG: dict[str, Any] = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,49}$"},
    "additionalProperties": PATH_FIELD,
    "x-message": "must map smart email variables to field paths such as FirstName or Owner.Name",
}


def _mapping_id(play: Play, name: str) -> str:
    rows = play.org.query(
        f"SELECT Id FROM CMSF_Smart_Email_Mapping__c WHERE Name IN ({soql_list([name])})"
    )
    if not rows:
        raise ScenarioStepError(f"no smart email mapping is named {name!r}")
    return str(rows[0]["Id"])


@EVENTS.register(
    "smart_email_created",
    "A Campaign Monitor user builds an active smart email with variables for a client.",
    arg_schema(("client", "name"), client=ALIAS_ARG, name=TEXT_ARG, variables=VARIABLES_ARG),
)
def smart_email_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Create the smart email (the control API: it is built in the app); ``as`` names it."""
    smart = play.account.create_smart_email(
        play.ref(args["client"], "client"), args["name"], variables=list(args.get("variables", []))
    )
    if alias:
        play.name(alias, smart, "smart_email")
    return f"smart email '{args['name']}' with {len(args.get('variables', []))} variable(s)"


@EVENTS.register(
    "smart_email_mapping_set",
    "An admin maps a synced smart email: root object, recipient field, variables, Task.",
    arg_schema(
        ("smart_email", "name"),
        smart_email=ALIAS_ARG,
        name=TEXT_ARG,
        object=PEOPLE_ARG,
        recipient=PATH_FIELD,
        variables=VARIABLE_MAP_ARG,
        task=BOOL_ARG,
        active=BOOL_ARG,
        consent={"enum": ["Yes", "No", "Unchanged"]},
    ),
)
def smart_email_mapping_set(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Insert a ``CMSF_Smart_Email_Mapping__c`` for the smart email's Salesforce record."""
    smart = play.ref(args["smart_email"], "smart_email")
    rows = play.org.query(f"SELECT Id FROM CMSF_Smart_Email__c WHERE CM_Id__c = '{smart}'")
    if not rows:
        raise ScenarioStepError(f"{args['smart_email']} is not in Salesforce yet: run a sync first")
    play.org.create(
        "CMSF_Smart_Email_Mapping__c",
        {
            "Name": args["name"],
            "Smart_Email__c": rows[0]["Id"],
            "Root_Object__c": args.get("object", "Contact"),
            "Recipient_Field__c": args.get("recipient", "Email"),
            "Variable_Map__c": json.dumps(args.get("variables", {})),
            "Create_Task__c": args.get("task", True),
            "Active__c": args.get("active", True),
            "Consent_To_Track__c": args.get("consent", "Unchanged"),
        },
    )
    return f"mapping '{args['name']}' of {args['smart_email']}"


@EVENTS.register(
    "smart_email_requested",
    "A Flow requests a mapping's smart email for records found by address (one save for all).",
    arg_schema(("mapping", "emails"), mapping=TEXT_ARG, emails=EMAILS_ARG, object=PEOPLE_ARG),
)
def smart_email_requested(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Insert one ``CMSF_Queue_Item__c`` of type Smart Email per record, in one DML."""
    mapping = _mapping_id(play, args["mapping"])
    records = record_ids(play, args.get("object", "Contact"), play.emails(args["emails"]))
    failed = [
        r
        for r in play.org.insert(
            "CMSF_Queue_Item__c",
            [
                {"Type__c": "Smart Email", "Record_Id__c": r, "Smart_Email_Mapping__c": mapping}
                for r in records
            ],
        )
        if not r.success
    ]
    if failed:
        raise ScenarioStepError(f"the org refused a queue item: {failed[0].errors[0]}")
    return f"{len(records)} send(s) of '{args['mapping']}' requested"


@EVENTS.register(
    "smart_email_run_test",
    "An admin clicks Run Test on a mapping with a test record's Id (found by address).",
    arg_schema(("mapping", "email"), mapping=TEXT_ARG, email=EMAIL_ARG, object=PEOPLE_ARG),
)
def smart_email_run_test(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Send the mapping for the record at once, as a test (no Task)."""
    (record,) = record_ids(play, args.get("object", "Contact"), [str(args["email"]).lower()])
    report = play.engine.send_smart_email(args["mapping"], [record], test=True)
    outcome = report.outcomes[0] if report.outcomes else None
    if outcome is None or outcome.status != "sent":
        raise ScenarioStepError(f"Run Test did not send: {outcome.reason if outcome else 'busy'}")
    return f"Run Test of '{args['mapping']}' sent with {sorted((outcome.data or {}).items())}"


@EVENTS.register(
    "smart_email_queue_watched",
    "``cmsf watch`` polls the queue once between syncs and sends what is due.",
    arg_schema(),
)
def smart_email_queue_watched(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """One watch poll."""
    outcomes = play.engine.send_session("watch").drain()
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return "watch poll: " + (
        ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing due"
    )


@EVENTS.register(
    "send_processes_deleted",
    "An admin deletes finished process records of bulk sends (``deleteProcess``).",
    arg_schema(count=COUNT_ARG),
)
def send_processes_deleted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """``cmsf delete-process --count N``."""
    deleted = play.engine.delete_processes(int(args.get("count", 1000)))
    return f"{deleted} finished process record(s) deleted"
