"""Field paths (``Email``, ``Account.Owner.Name``): their field, and their value in a record.

Reports and list views name their columns by path; these two helpers resolve a path
against the schema (relationship names any case) and read it from a record in the REST
shape (an empty parent reads as None).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sf_sim.schema import FieldDef, ObjectDef, Schema

__all__ = ["field_at", "value_at"]


def field_at(schema: Schema, obj: ObjectDef, path: str) -> FieldDef | None:
    """The field a path ends at, following parent relationships (None when it does not)."""
    current = obj
    parts = path.split(".")
    for part in parts[:-1]:
        relation = next(
            (f for f in current.iter_fields()
             if (f.relationship_name or "").lower() == part.lower()),
            None,
        )  # fmt: skip
        parent = (
            schema.object(relation.reference_to[0])
            if relation is not None and relation.reference_to
            else None
        )
        if parent is None:
            return None
        current = parent
    return current.field(parts[-1])


def value_at(record: Mapping[str, Any], path: str) -> Any:
    """A record's value at a path (keys any case; None through an empty parent)."""
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = next((v for k, v in current.items() if k.lower() == part.lower()), None)
    return current
