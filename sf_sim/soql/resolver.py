"""Names and types: SOQL paths resolved against the org's schema, with joins and FLS.

A :class:`Scope` stands for one FROM object and the parents reached from it. Each
parent relationship in a path (``Account.Owner.Name``) becomes a :class:`Node` with a
``LEFT JOIN`` on the parent's ``Id``; a polymorphic relationship (``Owner`` on a Lead:
User or Group) joins every target and reads a field from whichever matched, as the
platform's ``Name`` entity does. Paths resolve case-insensitively and come back with
canonical names for output.

Field-level security is the ``field_visible(object, field)`` callback: a field the
user cannot see behaves as if it did not exist (INVALID_FIELD), except under ``WITH
SECURITY_ENFORCED``, where it is INSUFFICIENT_ACCESS.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sf_sim.schema import FieldDef, ObjectDef, Schema
from sf_sim.soql import ast
from sf_sim.soql.errors import (
    INSUFFICIENT_ACCESS,
    MALFORMED_QUERY,
    no_such_column,
    no_such_relationship,
    query_error,
    unsupported_object,
)

__all__ = [
    "MAX_RELATIONSHIP_DEPTH",
    "Context",
    "Node",
    "ResolvedField",
    "Scope",
    "object_or_error",
    "quote",
]

MAX_RELATIONSHIP_DEPTH = 5
"""Parent relationships a path may traverse from the FROM object."""

FieldVisible = Callable[[str, str], bool]
ObjectVisible = Callable[[str], bool]
RecordFilter = Callable[[ObjectDef], "RowCondition | None"]


class RowCondition(Protocol):
    """A SQL condition over one table (see :class:`sf_sim.sharing.RowFilter`)."""

    def render(self, alias: str) -> tuple[str, list[Any]]:
        """The condition for the table aliased ``alias``, and its parameters."""


def quote(name: str) -> str:
    """Quote an SQL identifier (names come from the schema, never from the query)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Context:
    """Everything a compilation needs besides the syntax tree.

    Attributes:
        schema: The org's schema.
        soql: The statement, for error messages.
        now: The org clock's now (aware) for date literals.
        user_timezone: IANA zone of the running user.
        include_deleted: Recycle-bin rows are included (``queryAll``).
        field_visible: FLS check, or None when every field is visible.
        api_version: Version used in ``attributes.url``.
        security_enforced: ``WITH SECURITY_ENFORCED`` applies.
        object_visible: Object read permission, or None when every object is readable.
        record_filter: Record visibility (sharing): a condition per object, or None.
        running_user: The running user's Id (``USING SCOPE mine``).
    """

    schema: Schema
    soql: str
    now: datetime
    user_timezone: str = "UTC"
    include_deleted: bool = False
    field_visible: FieldVisible | None = None
    api_version: str = "59.0"
    security_enforced: bool = False
    object_visible: ObjectVisible | None = None
    record_filter: RecordFilter | None = None
    running_user: str | None = None
    _aliases: Iterator[int] = field(default_factory=itertools.count)

    def alias(self) -> str:
        """A table alias unique within the whole SQL statement."""
        return f"t{next(self._aliases)}"

    def can_read(self, obj: ObjectDef) -> bool:
        """True if the running user may read ``obj`` (object permission)."""
        return self.object_visible is None or self.object_visible(obj.name)

    def check_visible(self, obj: ObjectDef, definition: FieldDef, pos: int, name: str) -> None:
        """Raise the platform's error when the user may not see ``definition``."""
        if self.field_visible is None or self.field_visible(obj.name, definition.name):
            return
        if self.security_enforced:
            raise query_error(
                INSUFFICIENT_ACCESS,
                self.soql,
                None,
                "Insufficient permissions: secure query included inaccessible field",
            )
        raise no_such_column(self.soql, pos, name, obj.name)


@dataclass
class Node:
    """The FROM object or a parent joined through a relationship.

    Attributes:
        targets: The objects this node may be (several for a polymorphic lookup).
        aliases: SQL alias of each target's table.
        relationship: Canonical relationship name (None for the root).
        depth: Relationships between the root and this node.
        children: Parent nodes reached from here, by lower-cased relationship name.
    """

    targets: list[ObjectDef]
    aliases: list[str]
    relationship: str | None = None
    depth: int = 0
    children: dict[str, Node] = field(default_factory=dict)

    @property
    def polymorphic(self) -> bool:
        """True when the node may be one of several objects."""
        return len(self.targets) > 1

    @property
    def entity(self) -> str:
        """The name errors use: the object, or ``Name`` for a polymorphic node."""
        return "Name" if self.polymorphic else self.targets[0].name

    def column(self, name: str) -> str:
        """SQL expression for field ``name`` (canonical), whichever target matched."""
        having = [
            (target, alias)
            for target, alias in zip(self.targets, self.aliases, strict=True)
            if target.field(name) is not None
        ]
        if len(self.targets) == 1:
            return f"{self.aliases[0]}.{quote(name)}"
        branches = " ".join(
            f"WHEN {alias}.{quote('Id')} IS NOT NULL THEN {alias}.{quote(target.field(name).name)}"  # type: ignore[union-attr]
            for target, alias in having
        )
        return f"(CASE {branches} END)" if branches else "NULL"

    def id_columns(self) -> list[tuple[str, str]]:
        """``(sql, object name)`` of each target's ``Id``, to tell which one matched."""
        return [
            (f"{alias}.{quote('Id')}", target.name)
            for target, alias in zip(self.targets, self.aliases, strict=True)
        ]


@dataclass(frozen=True)
class ResolvedField:
    """A path resolved to a column.

    Attributes:
        node: The node the field belongs to.
        definition: The field's definition (of the first target that has it).
        sql: SQL expression reading the value.
        names: Canonical relationship names followed by the canonical field name.
        nodes: The nodes along the path (root excluded), one per relationship.
    """

    node: Node
    definition: FieldDef
    sql: str
    names: tuple[str, ...]
    nodes: tuple[Node, ...]

    @property
    def dotted(self) -> str:
        """Canonical dotted path (``Owner.Name``)."""
        return ".".join(self.names)


class Scope:
    """One FROM object with the joins its paths need.

    Args:
        ctx: The compilation context.
        obj: The FROM object.
    """

    def __init__(self, ctx: Context, obj: ObjectDef) -> None:
        self.ctx = ctx
        self.obj = obj
        self.root = Node([obj], [ctx.alias()])
        self.joins: list[str] = []

    @property
    def alias(self) -> str:
        """The root table's alias."""
        return self.root.aliases[0]

    def column(self, name: str) -> str:
        """SQL for a canonical field of the root object."""
        return self.root.column(name)

    def from_sql(self) -> str:
        """``"Object" AS t0 LEFT JOIN ...`` for every join created so far."""
        return " ".join([f"{quote(self.obj.name)} AS {self.alias}", *self.joins])

    def not_deleted(self) -> str | None:
        """The recycle-bin filter for the root, or None if the object has no bin."""
        if self.obj.field("IsDeleted") is None:
            return None
        # Unary plus keeps SQLite from choosing the (unselective) IsDeleted index over a
        # selective one such as Email.
        return f"+{self.column('IsDeleted')} = 0"

    def resolve(self, path: ast.Path) -> ResolvedField:
        """Resolve a field path, adding the joins it needs.

        Raises:
            QueryError: INVALID_FIELD for unknown fields or relationships,
                MALFORMED_QUERY for paths deeper than five relationships.
        """
        parts = list(path.parts)
        first = 0
        if (
            len(parts) > 1
            and parts[0].lower() == self.obj.name.lower()
            and self.obj.parent_relationship(parts[0]) is None
        ):
            first = 1  # "SELECT Contact.Name FROM Contact": the object name as prefix
        node = self.root
        names: list[str] = []
        nodes: list[Node] = []
        for index in range(first, len(parts) - 1):
            node = self._parent(node, parts[index], path.offset(index))
            names.append(node.relationship or "")
            nodes.append(node)
        name = parts[-1]
        pos = path.offset(len(parts) - 1)
        found = [(t, t.field(name)) for t in node.targets if t.field(name) is not None]
        if not found:
            raise no_such_column(self.ctx.soql, pos, name, node.entity)
        for target, definition in found:
            assert definition is not None
            self.ctx.check_visible(target, definition, pos, name)
        definition = found[0][1]
        assert definition is not None
        names.append(definition.name)
        return ResolvedField(
            node, definition, node.column(definition.name), tuple(names), tuple(nodes)
        )

    def _parent(self, node: Node, name: str, pos: int) -> Node:
        key = name.lower()
        if key in node.children:
            return node.children[key]
        found = [
            (target, target.parent_relationship(name))
            for target in node.targets
            if target.parent_relationship(name) is not None
        ]
        if not found:
            raise no_such_relationship(self.ctx.soql, pos, name)
        if node.depth + 1 > MAX_RELATIONSHIP_DEPTH:
            raise query_error(
                MALFORMED_QUERY,
                self.ctx.soql,
                pos,
                "SOQL statements cannot query relationships that are more than "
                f"{MAX_RELATIONSHIP_DEPTH} levels away from the root entity object.",
                len(name),
            )
        reference: FieldDef | None = None
        parents: list[ObjectDef] = []
        for target, definition in found:
            assert definition is not None
            self.ctx.check_visible(target, definition, pos, name)
            reference = reference or definition
            for parent_name in definition.reference_to:
                parent = self.ctx.schema.object(parent_name)
                if parent is not None and parent not in parents and self.ctx.can_read(parent):
                    parents.append(parent)
        assert reference is not None
        if not parents:
            raise no_such_relationship(self.ctx.soql, pos, name)
        ref_sql = node.column(reference.name)
        aliases = [self.ctx.alias() for _ in parents]
        for parent, alias in zip(parents, aliases, strict=True):
            self.joins.append(
                f"LEFT JOIN {quote(parent.name)} AS {alias} ON {alias}.{quote('Id')} = {ref_sql}"
            )
        child = Node(parents, aliases, reference.relationship_name, node.depth + 1)
        node.children[key] = child
        return child


def object_or_error(ctx: Context, name: str, pos: int) -> ObjectDef:
    """Look up the FROM object.

    Raises:
        QueryError: INVALID_TYPE when the org has no such (queryable) object.
    """
    obj = ctx.schema.object(name)
    if obj is None or not obj.queryable or not ctx.can_read(obj):
        raise unsupported_object(ctx.soql, pos, name)
    return obj
