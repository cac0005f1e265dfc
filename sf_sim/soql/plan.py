"""Compiled queries: the SQL to run and the shape that turns rows into REST records.

:mod:`sf_sim.soql.compiler` and :mod:`sf_sim.soql.aggregate` produce a
:class:`CompiledQuery`; :mod:`sf_sim.soql.cursor` runs it. A record's shape is a tree
of slots keyed by canonical names, in select-list order: a field reads one column; a
parent relationship is a nested record (``null`` when its lookup is empty); a child
relationship is filled from a second, batched query per fetched page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sf_sim.schema import FieldDef

__all__ = [
    "AggregateColumn",
    "ChildPlan",
    "ChildSlot",
    "Columns",
    "CompiledQuery",
    "FieldSlot",
    "ParentSlot",
    "RecordShape",
    "Slot",
]


class Columns:
    """The SELECT list being built: each distinct SQL expression once, by position."""

    def __init__(self) -> None:
        self.expressions: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, sql: str) -> int:
        """Add ``sql`` (once) and return its position in the row."""
        if sql not in self._index:
            self._index[sql] = len(self.expressions)
            self.expressions.append(sql)
        return self._index[sql]

    def sql(self) -> str:
        """``expr AS c0, expr AS c1, ...``."""
        return ", ".join(f"{expr} AS c{index}" for index, expr in enumerate(self.expressions))


@dataclass
class FieldSlot:
    """A field value: ``row[column]`` converted per the field's type."""

    key: str
    column: int
    definition: FieldDef


@dataclass
class ParentSlot:
    """A parent record reached through a relationship.

    Attributes:
        key: Canonical relationship name (``Owner``).
        id_columns: ``(column, object)`` for each possible target's ``Id``; the first
            non-null one gives the record's type and url.
        entries: Nested slots by lower-cased key, in select order.
    """

    key: str
    id_columns: list[tuple[int, str]]
    entries: dict[str, Slot] = field(default_factory=dict)


@dataclass
class ChildSlot:
    """A child relationship subquery, filled per page."""

    key: str
    plan: ChildPlan


Slot = FieldSlot | ParentSlot | ChildSlot


@dataclass
class RecordShape:
    """How one row becomes a record of ``type_name``."""

    type_name: str
    id_column: int
    entries: dict[str, Slot] = field(default_factory=dict)


@dataclass
class ChildPlan:
    """A child subquery: SQL with an ``{ids}`` placeholder for the parents' Ids.

    Attributes:
        relationship: Canonical child relationship name (``Contacts``).
        sql: Statement with ``{ids}`` where the parent Id placeholders go.
        params: Parameters that follow the Ids.
        parent_column: Position of the parent reference in the child rows.
        shape: Shape of a child record.
    """

    relationship: str
    sql: str
    params: list[Any]
    parent_column: int
    shape: RecordShape


@dataclass
class AggregateColumn:
    """One key of an AggregateResult row.

    Attributes:
        key: Alias, ``exprN`` or the grouped field's name.
        column: Position in the row.
        function: Aggregate function, or None for a grouped field.
        definition: The field read (None for ``COUNT()``).
    """

    key: str
    column: int
    function: str | None
    definition: FieldDef | None


@dataclass
class CompiledQuery:
    """Everything :class:`~sf_sim.soql.cursor.QueryCursor` needs to run a query.

    Attributes:
        object_name: Canonical FROM object.
        columns: Output paths in select order, canonical.
        sql: The main statement (None for ``COUNT()``).
        params: Its parameters.
        count_sql: Statement returning the total size.
        count_params: Its parameters.
        shape: Record shape (record queries).
        aggregate: AggregateResult keys (aggregate queries).
        children: Child subqueries.
        is_count_only: ``SELECT COUNT() FROM ...``.
    """

    object_name: str
    columns: list[str]
    sql: str | None
    params: list[Any]
    count_sql: str
    count_params: list[Any]
    shape: RecordShape | None = None
    aggregate: list[AggregateColumn] | None = None
    children: list[ChildPlan] = field(default_factory=list)
    is_count_only: bool = False
