"""The JSON Schema of scenario files, and turning schema errors into sentences with lines.

The schema checks the document's shape (keys, types, times, names); the loader then
checks what a schema cannot (event, invariant and figure names against their
registries, each one's arguments against its own schema, settings against the engine's
validation). :func:`problems` runs a schema over a value and reports every error with
the line of the offending node, in words rather than in jsonschema's notation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from scenarios.errors import FormatProblem
from scenarios.events_sf import RESTRICT_ARGS, TRIGGER_ARGS, VALIDATION_ARGS
from scenarios.registry import ALIAS_ARG, BOOL_ARG, DURATION_ARG, TEXT_ARG, arg_schema
from scenarios.yamlmarks import LineMap, describe_path

__all__ = ["SCENARIO_SCHEMA", "problems"]

NAME = {
    "type": "string",
    "pattern": r"^[a-z0-9][a-z0-9-]{1,79}$",
    "x-message": "must be 2-80 lower-case letters, digits and hyphens (it is the test id)",
}
IDENTIFIER = {
    "type": "string",
    "pattern": r"^[a-z][a-z0-9_]{0,63}$",
    "x-message": "must be a lower-case name such as subscribers_added",
}
AT = {
    "type": "string",
    "pattern": r"^\+([0-9]+[smhd])+$",
    "x-message": "is not a time: write +<number><unit> with units s, m, h, d "
    "(for example +10m, +2h, +1d, +1h30m)",
}
EXPECTATION = {
    "oneOf": [
        IDENTIFIER,
        {"type": "object", "minProperties": 1, "maxProperties": 1},
    ],
    "x-message": "each expectation is an invariant name or {name: arguments}",
}
INT = {"type": "integer"}
SHARE = {"type": "number", "minimum": 0, "maximum": 1}

WORLD = arg_schema(
    seed={**INT, "minimum": 0, "maximum": 2**31},
    kind={"enum": ["agency", "direct"]},
    clients={**INT, "minimum": 1, "maximum": 20},
    lists_per_client={**INT, "minimum": 0, "maximum": 20},
    subscribers_per_list={**INT, "minimum": 0, "maximum": 5000},
    campaigns_per_client={**INT, "minimum": 0, "maximum": 20},
    days={**INT, "minimum": 1, "maximum": 3650},
    contacts_share=SHARE,
    leads_share=SHARE,
    other_contacts={**INT, "minimum": 0, "maximum": 10_000},
    api_limit={**INT, "minimum": 0, "maximum": 100_000_000},
    test_account=BOOL_ARG,
    start={
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$",
        "x-message": "must be an instant with a time zone, such as 2026-01-05T09:00:00Z",
    },
    session_idle=DURATION_ARG,
    storage_limit_mb={**INT, "minimum": 1, "maximum": 10_000_000},
    triggers={"type": "array", "items": TRIGGER_ARGS, "maxItems": 50},
    validation_rules={"type": "array", "items": VALIDATION_ARGS, "maxItems": 50},
    restricted_fields={"type": "array", "items": RESTRICT_ARGS, "maxItems": 200},
    second_account=arg_schema(test_account=BOOL_ARG),
)

STEP = arg_schema(
    ("at",),
    at=AT,
    event=IDENTIFIER,
    run={"enum": ["primary_sync", "full_sync"]},
    check={"type": "array", "items": EXPECTATION, "minItems": 1, "maxItems": 100},
    call={
        "type": "string",
        "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        "x-message": "must name a function of the scenario's hook module",
    },
    **{"with": {"type": "object"}, "as": ALIAS_ARG},
    note=TEXT_ARG,
)

SCENARIO_SCHEMA: dict[str, Any] = arg_schema(
    ("name", "purpose", "timeline"),
    name=NAME,
    purpose={
        "type": "string",
        "minLength": 10,
        "maxLength": 300,
        "pattern": r"^[^\n]*[.!?]$",
        "x-message": "must be one sentence (10-300 characters, ending with a full stop)",
    },
    live=BOOL_ARG,
    known_issue={"type": "string", "minLength": 1, "maxLength": 1000},
    hook={
        "type": "string",
        "pattern": r"^([A-Za-z_][A-Za-z0-9_.]*:)?[A-Za-z_][A-Za-z0-9_]*$",
        "x-message": "must be a function of the sibling .py file, or module:function",
    },
    world=WORLD,
    settings={"type": "object", "maxProperties": 100},
    connect=arg_schema(
        clients={
            "oneOf": [{"const": "*"}, {"type": "array", "items": ALIAS_ARG, "minItems": 1}],
            "x-message": "must be '*' or a list of clients such as [client1, client2]",
        },
        test_account=BOOL_ARG,
    ),
    timeline={"type": "array", "items": STEP, "maxItems": 500},
    expect={"type": "array", "items": EXPECTATION, "maxItems": 200},
    figures={
        "oneOf": [
            {"type": "object", "additionalProperties": {"type": "object"}},
            {
                "type": "array",
                "items": {"type": "object", "minProperties": 1, "maxProperties": 1},
            },
        ],
        "x-message": "must map figure names to bounds, e.g. {salesforce_calls: {max: 200}}",
    },
)
"""The schema of a whole scenario file."""

_TYPES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "empty",
}


def _type_name(value: Any) -> str:
    for name, kind in (
        ("true or false", bool),
        ("a whole number", int),
        ("a number", float),
        ("text", str),
        ("a list", list),
        ("a mapping", dict),
    ):
        if isinstance(value, kind):
            return name
    return "empty" if value is None else type(value).__name__


def _message(error: ValidationError) -> tuple[tuple[str | int, ...], str]:
    """Where an error points (its path) and what to say about it."""
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance
    if error.validator == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(str(k) for k in value if k not in allowed)
        first = extra[0] if extra else "?"
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return (*path, first), f"unknown key {first!r}{hint}"
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return path, f"missing required key {missing!r}"
    if "x-message" in schema:
        return path, f"{value!r} {schema['x-message']}"
    if error.validator == "type":
        wanted = schema.get("type")
        names = [wanted] if isinstance(wanted, str) else list(wanted or [])
        expected = " or ".join(_TYPES.get(n, n) for n in names)
        return path, f"must be {expected}, not {_type_name(value)} ({value!r})"
    if error.validator in ("enum", "const"):
        options = schema.get("enum", [schema.get("const")])
        return path, f"{value!r} is not allowed; use one of: {', '.join(map(str, options))}"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return path, f"{value!r} is out of range ({error.validator} {error.validator_value})"
    if error.validator in ("maxItems", "maxProperties", "maxLength"):
        return path, f"too long ({error.validator} {error.validator_value})"
    if error.validator in ("minItems", "minProperties", "minLength"):
        return path, f"too short or empty ({error.validator} {error.validator_value})"
    return path, str(error.message)


def problems(
    schema: dict[str, Any],
    value: Any,
    *,
    file: str,
    lines: LineMap,
    prefix: tuple[str | int, ...] = (),
) -> list[FormatProblem]:
    """Every schema error of ``value`` as a problem with the line of its node.

    Args:
        schema: The schema.
        value: The value (a part of the document when ``prefix`` is given).
        file: The file name.
        lines: Lines of the whole document.
        prefix: Where ``value`` sits in the document.
    """
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    found: list[FormatProblem] = []
    errors: Iterable[ValidationError] = sorted(
        validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]
    )
    for error in errors:
        path, message = _message(error)
        full = (*prefix, *path)
        found.append(FormatProblem(file, lines.line(full), describe_path(full), message))
    return found
