"""Timeline events, an invariant and a figure for the import wizard.

What admins do in the org for imports: make roles and users, set a sharing default, hand
records to an owner, save a list view or a report, create an import (of a list view,
report or query, with mappings, options, schedule and owner), delete a report. The
``import_outcome`` invariant reads the import record as the admin sees it; the
``imported`` figure sums what the runs' imports did.
"""

from __future__ import annotations

import json
from typing import Any

from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.events_push import EMAIL_LIST, PEOPLE_ARG, list_record, record_ids
from scenarios.figures import FIGURES, _runs
from scenarios.invariants import INVARIANTS, Mismatch
from scenarios.play import Play
from scenarios.registry import ALIAS_ARG, BOOL_ARG, RUN_ARG, TEXT_ARG, arg_schema

__all__ = ["import_outcome", "imported"]

LIKE_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9@._%-]{1,80}$",
    "x-message": "must be an email pattern such as %@web.example",
}
FIELDS_ARG: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_.]{0,120}$"},
    "minItems": 1,
    "maxItems": 20,
    "x-message": "must be a list of field names or report columns",
}
MAPPINGS_ARG: dict[str, Any] = {
    "type": "object",
    "maxProperties": 50,
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 80},
    "x-message": "must map source columns to Campaign Monitor fields",
}


@EVENTS.register(
    "role_created",
    "An admin adds a role to the role hierarchy (below another one).",
    arg_schema(("name",), name=TEXT_ARG, parent=ALIAS_ARG),
)
def role_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Create a ``UserRole``; ``as`` names it."""
    parent = play.ref(args["parent"], "role") if "parent" in args else None
    role = play.org.sharing.add_role(args["name"], parent=parent)
    if alias:
        play.name(alias, role, "role")
    return f"role {args['name']}"


@EVENTS.register(
    "user_created",
    "An admin adds a Salesforce user (Standard User profile) in a role.",
    arg_schema(("username",), username={"type": "string", "format": "email"}, role=ALIAS_ARG),
)
def user_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Create an active user; ``as`` names it."""
    user = play.org.control.add_user(args["username"])
    if "role" in args:
        play.org.sharing.assign_role(user, play.ref(args["role"], "role"))
    if alias:
        play.name(alias, user, "user")
    return f"user {args['username']}"


@EVENTS.register(
    "sharing_default_set",
    "An admin sets an object's organization-wide default (Private, Read, ReadWrite).",
    arg_schema(("object", "model"), object=PEOPLE_ARG, model={"enum": ["Private", "Read",
                                                                         "ReadWrite"]}),
)  # fmt: skip
def sharing_default_set(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Set the default in the org's sharing settings."""
    play.org.sharing.set_default(args["object"], args["model"])
    return f"{args['object']} is {args['model']}"


@EVENTS.register(
    "records_owned",
    "An admin makes a user the owner of these Contacts or Leads.",
    arg_schema(("object", "emails", "owner"), object=PEOPLE_ARG, emails=EMAIL_LIST,
               owner=ALIAS_ARG),
)  # fmt: skip
def records_owned(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Update ``OwnerId`` of the records with these addresses."""
    owner = play.ref(args["owner"], "user")
    ids = record_ids(play, args["object"], [e.lower() for e in args["emails"]])
    for record_id in ids:
        play.org.update(args["object"], record_id, {"OwnerId": owner}, system=True)
    return f"{len(ids)} {args['object']}(s) owned by {args['owner']}"


@EVENTS.register(
    "list_view_created",
    "Someone saves a list view of the Contacts or Leads whose email matches a pattern.",
    arg_schema(("object", "email_like"), object=PEOPLE_ARG, email_like=LIKE_ARG,
               columns=FIELDS_ARG, label=TEXT_ARG),
)  # fmt: skip
def list_view_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Save the view; ``as`` names it."""
    view = play.org.list_views.create(
        args["object"],
        args.get("label", "Scenario view"),
        columns=args.get("columns", ["Name", "Email", "FirstName", "LastName"]),
        conditions=[{"field": "Email", "operator": "like", "values": [args["email_like"]]}],
    )
    if alias:
        play.name(alias, view, "list_view")
    return f"list view of {args['object']} ({args['email_like']})"


@EVENTS.register(
    "report_created",
    "Someone saves a tabular Contacts & Accounts report of the Contacts whose email starts so.",
    arg_schema(("email_starts_with",), email_starts_with=LIKE_ARG, columns=FIELDS_ARG),
)
def report_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Save the report; ``as`` names it."""
    report = play.org.reports.create(
        "Scenario report",
        columns=args.get("columns", ["FIRST_NAME", "LAST_NAME", "EMAIL", "CONTACT_ID"]),
        filters=[{"column": "EMAIL", "operator": "startsWith",
                  "value": args["email_starts_with"]}],
    )  # fmt: skip
    if alias:
        play.name(alias, report, "report")
    return f"report of {args['email_starts_with']}..."


@EVENTS.register(
    "report_deleted",
    "Someone deletes a report (imports of it then fail).",
    arg_schema(("report",), report=ALIAS_ARG),
)
def report_deleted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Delete the report."""
    play.org.reports.delete(play.ref(args["report"], "report"))
    return f"{args['report']} deleted"


@EVENTS.register(
    "import_created",
    "An admin creates an import wizard import of a list view, report or SOQL query.",
    arg_schema(
        ("list",),
        list=ALIAS_ARG,
        list_view=ALIAS_ARG,
        report=ALIAS_ARG,
        soql={"type": "string", "minLength": 8, "maxLength": 4000},
        mappings=MAPPINGS_ARG,
        owner=ALIAS_ARG,
        schedule={"enum": ["None", "Hourly", "Daily"]},
        replace=BOOL_ARG,
        resubscribe=BOOL_ARG,
        journeys=BOOL_ARG,
        name=TEXT_ARG,
    ),
)
def import_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Insert a ``CMSF_Import__c``; ``as`` names it."""
    sources = [k for k in ("list_view", "report", "soql") if k in args]
    if len(sources) != 1:
        raise ScenarioStepError("an import needs exactly one of list_view, report, soql")
    kind = sources[0]
    source = args["soql"] if kind == "soql" else play.ref(args[kind], kind)
    record: dict[str, Any] = {
        "Name": args.get("name", alias or "Scenario import"),
        "List__c": list_record(play, args["list"]),
        "Source_Type__c": {"list_view": "ListView", "report": "Report", "soql": "SOQL"}[kind],
        "Source__c": source,
        "Schedule__c": args.get("schedule", "Hourly"),
        "Replace_Subscribers__c": bool(args.get("replace")),
        "Resubscribe__c": bool(args.get("resubscribe")),
        "Trigger_Journeys__c": bool(args.get("journeys")),
    }
    if args.get("mappings"):
        record["Mappings__c"] = json.dumps(args["mappings"])
    if "owner" in args:
        record["OwnerId"] = play.ref(args["owner"], "user")
    result = play.org.insert("CMSF_Import__c", [record])[0]
    if not result.success:
        raise ScenarioStepError(f"the org refused the import: {result.errors[0]}")
    if alias:
        play.name(alias, str(result.id), "import")
    return f"import {record['Name']} ({record['Source_Type__c']}, {record['Schedule__c']})"


@INVARIANTS.register(
    "import_outcome",
    "An import record shows this last outcome (status, rows read, imported, updated, failed, "
    "removed).",
    arg_schema(
        ("import",),
        **{"import": ALIAS_ARG},
        status={"enum": ["Running", "Completed", "Completed With Errors", "Failed"]},
        rows_read={"type": "integer", "minimum": 0},
        imported={"type": "integer", "minimum": 0},
        updated={"type": "integer", "minimum": 0},
        failed={"type": "integer", "minimum": 0},
        removed={"type": "integer", "minimum": 0},
        error_contains=TEXT_ARG,
    ),
)
def import_outcome(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read the import record through the org."""
    import_id = play.ref(args["import"], "import")
    rows = play.org.query(
        "SELECT Last_Status__c, Rows_Read__c, Imported__c, Updated__c, Failed__c, Removed__c, "
        f"Last_Error__c FROM CMSF_Import__c WHERE Id = '{import_id}'"
    )
    if not rows:
        return [Mismatch("the import", "no record", args["import"])]
    row = rows[0]
    out = []
    fields = {"status": "Last_Status__c", "rows_read": "Rows_Read__c", "imported": "Imported__c",
              "updated": "Updated__c", "failed": "Failed__c", "removed": "Removed__c"}  # fmt: skip
    for key, field_name in fields.items():
        if key not in args:
            continue
        have = row.get(field_name)
        have = int(have) if isinstance(have, float) else have
        if have != args[key]:
            out.append(Mismatch(args[key], have, f"{field_name} of {args['import']}"))
    if "error_contains" in args and args["error_contains"] not in str(row.get("Last_Error__c")):
        out.append(Mismatch(args["error_contains"], row.get("Last_Error__c"), "Last_Error__c"))
    return out


@FIGURES.register(
    "imported",
    "What the runs' imports did (kind: rows read, imported, updated, failed, removed, "
    "duplicates, salesforce calls, campaign monitor calls).",
    arg_schema(("kind",), run=RUN_ARG, kind={"type": "string", "minLength": 1, "maxLength": 40}),
)
def imported(play: Play, args: dict[str, Any]) -> float:
    """Sum of one count over every import of the selected runs."""
    return float(
        sum(
            counts.get(args["kind"], 0)
            for run in _runs(play, args)
            if run.report is not None
            for counts in run.report.stats.imports.values()
        )
    )
