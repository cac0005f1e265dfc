"""``query?q=...&columns=true``: the columns of a query without running it.

The Salesforce CLI (``sf data query``) asks for them before it reads the rows, and
expects ``columnMetadata``: one entry per selected item, parent paths as nested
``joinColumns``, child subqueries and aggregate functions with ``aggregate: true``.
The query is checked as a normal query would be (same errors, object and field
permissions included), but no row is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sf_sim.soql import ast, parse

if TYPE_CHECKING:
    from sf_sim.models import Org
    from sf_sim.schema import ObjectDef, Schema

__all__ = ["column_metadata"]

_APEX_TYPES = {
    "id": "Id", "reference": "Id", "string": "String", "textarea": "String", "email": "String",
    "phone": "String", "url": "String", "picklist": "String", "multipicklist": "String",
    "boolean": "Boolean", "int": "Integer", "double": "Double", "currency": "Decimal",
    "percent": "Decimal", "date": "Date", "datetime": "Datetime",
}  # fmt: skip


def _column(name: str, display: str, *, apex: str | None = None, aggregate: bool = False,
            custom: bool = False, joins: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "aggregate": aggregate, "apexType": apex, "booleanType": apex == "Boolean",
        "columnName": name, "custom": custom, "displayName": display, "foreignKeyName": None,
        "insertable": False, "joinColumns": joins or [],
        "numberType": apex in ("Integer", "Double", "Decimal"), "textType": apex == "String",
        "updatable": False,
    }  # fmt: skip


def _path(
    schema: Schema, obj: ObjectDef | None, parts: tuple[str, ...], shown: str
) -> dict[str, Any]:
    head = parts[0]
    if len(parts) == 1:
        definition = obj.field(head) if obj is not None else None
        name = definition.name if definition is not None else head
        apex = _APEX_TYPES.get(definition.type) if definition is not None else None
        custom = definition.custom if definition is not None else head.endswith("__c")
        return _column(name, shown, apex=apex, custom=custom)
    reference = obj.parent_relationship(head) if obj is not None else None
    parent = (
        schema.object(reference.reference_to[0]) if reference and reference.reference_to else None
    )
    name = reference.relationship_name if reference and reference.relationship_name else head
    return _column(name, name, joins=[_path(schema, parent, parts[1:], ".".join(parts[1:]))])


def _items(schema: Schema, obj: ObjectDef | None, query: ast.Query) -> list[dict[str, Any]]:
    columns: list[dict[str, Any]] = []
    expr = 0
    for item in query.select:
        if isinstance(item, ast.FieldItem):
            parts = item.path.parts
            if obj is not None and len(parts) > 1 and parts[0].lower() == obj.name.lower():
                parts = parts[1:]
            columns.append(_path(schema, obj, parts, ".".join(parts)))
        elif isinstance(item, ast.AggregateItem):
            call = item.call
            shown = f"{call.function}({'.'.join(call.arg.parts) if call.arg else ''})"
            name = item.alias or f"expr{expr}"
            expr += 0 if item.alias else 1
            columns.append(_column(name, shown, aggregate=True))
        elif isinstance(item, ast.SubqueryItem):
            relation = obj.child_relationship(item.query.object_name) if obj is not None else None
            child = schema.object(relation.child_object) if relation is not None else None
            name = relation.name if relation is not None else item.query.object_name
            columns.append(
                _column(name, name, aggregate=True, joins=_items(schema, child, item.query))
            )
    return columns


def column_metadata(org: Org, soql: str, *, include_deleted: bool) -> dict[str, Any]:
    """The ``columns=true`` answer for a query.

    Raises:
        SalesforceApiError: Whatever running the query would raise (it is checked, not read).
    """
    cursor = org.queries.run(soql, include_deleted=include_deleted)
    query = parse(soql)
    obj = org.schema.object(query.object_name)
    if query.is_count_only:
        columns: list[dict[str, Any]] = []
    else:
        columns = _items(org.schema, obj, query)
    return {
        "columnMetadata": columns,
        "entityName": obj.name if obj is not None else cursor.object_name,
        "groupBy": bool(query.group_by),
        "idSelected": any(
            isinstance(i, ast.FieldItem)
            and i.path.parts[-1].lower() == "id"
            and len(i.path.parts) == 1
            for i in query.select
        ),
        "keyPrefix": obj.key_prefix if obj is not None else None,
    }
