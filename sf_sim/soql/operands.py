"""Operands of conditions and sort keys: SQL expression plus the SOQL type it carries.

Shared by WHERE/HAVING (:mod:`sf_sim.soql.filters`), ORDER BY and GROUP BY: which
types compare as case-insensitive text, the type names the platform's messages use,
and the rule that long text areas cannot be filtered, sorted or grouped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sf_sim.schema import FieldDef
from sf_sim.soql import ast
from sf_sim.soql.errors import INVALID_FIELD, MALFORMED_QUERY, query_error
from sf_sim.soql.resolver import Context, Scope

__all__ = [
    "ID_TYPES",
    "LONG_TEXT",
    "TEXT_COMPARE_TYPES",
    "Operand",
    "check_filterable",
    "field_operand",
    "type_label",
]

TEXT_COMPARE_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "combobox", "encryptedstring"}
)
"""Types compared case-insensitively as text."""

ID_TYPES = frozenset({"id", "reference"})
LONG_TEXT = 255
"""Text areas longer than this cannot be filtered, sorted or grouped."""

_TYPE_LABELS = {
    "boolean": "boolean",
    "int": "integer",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "date",
    "datetime": "dateTime",
}


def type_label(field_type: str) -> str:
    """The type name the platform's filter messages use (``dateTime``, ``string``)."""
    return _TYPE_LABELS.get(field_type, "string")


@dataclass(frozen=True)
class Operand:
    """The left side of a comparison, resolved.

    Attributes:
        sql: SQL expression for the value.
        type: Describe type of the value.
        name: Canonical field name, for messages.
        pos: Offset in the statement, for messages.
        definition: The field, when the operand is a field.
    """

    sql: str
    type: str
    name: str
    pos: int
    definition: FieldDef | None = None


def check_filterable(ctx: Context, operand: Operand, verb: str = "filtered") -> None:
    """Refuse long text areas in WHERE (``verb``: filtered/sorted/grouped)."""
    definition = operand.definition
    if definition is not None and definition.type == "textarea" and definition.length > LONG_TEXT:
        raise query_error(
            INVALID_FIELD,
            ctx.soql,
            operand.pos,
            f"field '{operand.name}' can not be {verb} in a query call",
            len(operand.name),
        )


def field_operand(scope: Scope) -> Callable[[ast.Path | ast.Aggregate], Operand]:
    """Operand resolver for WHERE: field paths only (no aggregates)."""

    def resolve(left: ast.Path | ast.Aggregate) -> Operand:
        if isinstance(left, ast.Aggregate):
            raise query_error(
                MALFORMED_QUERY,
                scope.ctx.soql,
                left.pos,
                "Aggregate functions are not allowed in the WHERE clause; use HAVING",
                len(left.name_text),
            )
        resolved = scope.resolve(left)
        return Operand(
            resolved.sql,
            resolved.definition.type,
            resolved.definition.name,
            left.offset(len(left.parts) - 1),
            resolved.definition,
        )

    return resolve
