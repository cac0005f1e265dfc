"""``POST composite/tree/{Type}``: create a tree of parents and children in one call.

Each record carries ``attributes`` with ``type`` and a unique ``referenceId``; children
sit under their parent in a child relationship (``"Contacts": {"records": [...]}``).
At most 200 records and 5 levels. The whole tree is one transaction: 201 with
``{hasErrors: false, results: [{referenceId, id}]}`` (level by level, as created), or 400 with ``hasErrors: true`` and
the errors of the records that failed (nothing is created).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sf_sim.dml import Rollback, WriteContext
from sf_sim.exceptions import SalesforceApiError
from sf_sim.http import Reply, RequestContext

__all__ = ["MAX_DEPTH", "MAX_RECORDS", "composite_tree"]

MAX_RECORDS = 200
MAX_DEPTH = 5


@dataclass
class _Node:
    reference: str
    type: str
    fields: dict[str, Any]
    parent: _Node | None = None
    parent_field: str | None = None
    children: list[_Node] = field(default_factory=list)
    id: str | None = None


def _bad(message: str) -> SalesforceApiError:
    return SalesforceApiError("INVALID_INPUT", message, 400)


def _parse(
    ctx: RequestContext,
    records: Any,
    expected: str,
    parent: _Node | None,
    depth: int,
    seen: set[str],
) -> list[_Node]:
    if not isinstance(records, list):
        raise _bad("records must be an array")
    if depth > MAX_DEPTH:
        raise _bad(f"A tree can be at most {MAX_DEPTH} levels deep")
    nodes: list[_Node] = []
    for record in records:
        attributes = record.get("attributes") if isinstance(record, dict) else None
        if not isinstance(attributes, dict):
            raise _bad("Each record needs attributes with type and referenceId")
        reference, kind = attributes.get("referenceId"), attributes.get("type")
        if not isinstance(reference, str) or not reference or reference in seen:
            raise _bad(f"Invalid or duplicate referenceId: {reference}")
        if not isinstance(kind, str) or kind.lower() != expected.lower():
            raise _bad(f"Record {reference} must be of type {expected}")
        seen.add(reference)
        definition = ctx.org.object(kind)
        node = _Node(reference, definition.name, {})
        for key, value in record.items():
            if key == "attributes":
                continue
            relationship = definition.child_relationship(key)
            if relationship is not None and isinstance(value, dict):
                children = _parse(
                    ctx, value.get("records"), relationship.child_object, node, depth + 1, seen
                )
                for child in children:
                    child.parent_field = relationship.field
                node.children.extend(children)
            else:
                node.fields[key] = value
        node.parent = parent
        nodes.append(node)
    return nodes


def composite_tree(ctx: RequestContext) -> Reply:
    """``POST composite/tree/{Type}``."""
    body = ctx.json_object()
    definition = ctx.org.object(ctx.params["type"])
    seen: set[str] = set()
    roots = _parse(ctx, body.get("records"), definition.name, None, 1, seen)
    if len(seen) > MAX_RECORDS:
        raise _bad(f"A tree can hold at most {MAX_RECORDS} records")
    level, errors = roots, []
    ordered: list[dict[str, Any]] = []
    try:
        with ctx.org.store.transaction():
            while level:
                by_type: dict[str, list[_Node]] = {}
                for node in level:
                    if node.parent is not None and node.parent_field:
                        node.fields[node.parent_field] = node.parent.id
                    by_type.setdefault(node.type, []).append(node)
                for kind, nodes in by_type.items():
                    results = ctx.org.dml.insert(
                        kind, [n.fields for n in nodes], WriteContext(all_or_none=True)
                    )
                    for node, result in zip(nodes, results, strict=True):
                        node.id = result.id
                        ordered.append({"referenceId": node.reference, "id": node.id})
                        real = [
                            e
                            for e in result.errors
                            if e.error_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK"
                        ]
                        if real:
                            errors.append(
                                {
                                    "referenceId": node.reference,
                                    "errors": [e.to_record_error() for e in real],
                                }
                            )
                if errors:
                    raise Rollback
                level = [child for node in level for child in node.children]
    except Rollback:
        return Reply(400, {"hasErrors": True, "results": errors})
    return Reply(201, {"hasErrors": False, "results": ordered})
