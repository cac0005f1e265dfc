"""Invariants about single records: a field's value, a record's owner.

``field_value`` reads any field (long text included: ``Custom_Fields__c``, message
details) of the records matching a SOQL condition and checks each one ``equals`` a value
or ``contains`` a text (case-sensitive, so ``Café`` does not match ``Caf\\u00e9``).
``record_owner`` checks who owns them: a user named with ``as:``, a username, or the
``running user`` (the user the engine's sessions belong to). Reads go through the
simulator's backend, so they cost no API call.
"""

from __future__ import annotations

from typing import Any

from scenarios.invariants import INVARIANTS, Mismatch
from scenarios.play import Play
from scenarios.registry import ALIAS_ARG, EMAIL_ARG, OBJECT_ARG, arg_schema

__all__ = ["RUNNING_USER"]

RUNNING_USER = "running user"
FIELD_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79})?$",
    "x-message": "must be a field API name such as Custom_Fields__c (or Owner.Username)",
}
WHERE_ARG: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 2000}
SHOWN = 15


def _records(play: Play, args: dict[str, Any], fields: str) -> list[dict[str, Any]]:
    where = f" WHERE {play.expand(args['where'])}" if "where" in args else ""
    return play.org.query(f"SELECT Id, {fields} FROM {args['object']}{where} ORDER BY Id")


def _value(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@INVARIANTS.register(
    "field_value",
    "Every record matching a condition has a field equal to a value, or containing a text.",
    arg_schema(
        ("object", "field"),
        object=OBJECT_ARG,
        where=WHERE_ARG,
        field=FIELD_ARG,
        equals={"type": ["string", "number", "boolean", "null"]},
        contains={"type": "string", "minLength": 1, "maxLength": 10_000},
        not_contains={"type": "string", "minLength": 1, "maxLength": 10_000},
    ),
)
def field_value(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read the field of each matching record and compare."""
    checks = [k for k in ("equals", "contains", "not_contains") if k in args]
    if not checks:
        return [Mismatch("equals, contains or not_contains", "none given", args["field"])]
    rows = _records(play, args, args["field"])
    subject = f"{args['object']}.{args['field']}"
    if not rows:
        return [
            Mismatch("at least one record", "none", f"{args['object']} {args.get('where', '')}")
        ]
    out = []
    for row in rows:
        value = _value(row, args["field"])
        text = "" if value is None else str(value)
        if "equals" in args and value != args["equals"]:
            out.append(Mismatch(args["equals"], value, f"{subject} of {row['Id']}"))
        elif "contains" in args and args["contains"] not in text:
            out.append(
                Mismatch(f"contains {args['contains']!r}", text[:300], f"{subject} of {row['Id']}")
            )
        elif "not_contains" in args and args["not_contains"] in text:
            out.append(
                Mismatch(
                    f"without {args['not_contains']!r}", text[:300], f"{subject} of {row['Id']}"
                )
            )
    return out[:SHOWN]


def _owner_id(play: Play, owner: str) -> tuple[str | None, str]:
    """The Id of ``owner`` and how to call it."""
    if owner == RUNNING_USER:
        return str(play.org.store.meta("admin_user_id")), RUNNING_USER
    found = play.refs.get(owner)
    if found is not None and found[0] == "user":
        return found[1], owner
    escaped = owner.replace("\\", "\\\\").replace("'", "\\'")
    rows = play.org.query(f"SELECT Id FROM User WHERE Username = '{escaped}'")
    return (str(rows[0]["Id"]) if rows else None), owner


@INVARIANTS.register(
    "record_owner",
    "Every record matching a condition is owned by a user (named with 'as', or 'running user').",
    arg_schema(
        ("object", "owner"),
        object=OBJECT_ARG,
        where=WHERE_ARG,
        owner={
            "oneOf": [{"const": RUNNING_USER}, ALIAS_ARG, EMAIL_ARG],
            "x-message": "must be 'running user', a user named with 'as', or a username",
        },
    ),
)
def record_owner(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Compare each matching record's ``OwnerId`` with the user's Id."""
    wanted, label = _owner_id(play, args["owner"])
    if wanted is None:
        return [Mismatch(f"a user {args['owner']}", "no such user")]
    rows = _records(play, args, "OwnerId, Owner.Username")
    if not rows:
        return [
            Mismatch("at least one record", "none", f"{args['object']} {args.get('where', '')}")
        ]
    return [
        Mismatch(label, _value(row, "Owner.Username") or row["OwnerId"], f"owner of {row['Id']}")
        for row in rows
        if str(row["OwnerId"])[:15] != wanted[:15]
    ][:SHOWN]
