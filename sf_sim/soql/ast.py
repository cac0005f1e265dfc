"""The SOQL syntax tree: plain dataclasses produced by :mod:`sf_sim.soql.parser`.

Names keep the spelling of the query (resolution against the schema, with canonical
casing, happens later); every node keeps ``pos``, the zero-based offset of its first
character in the statement, so errors can point at it.

Tree::

    Query
    ├── select: FieldItem | AggregateItem | SubqueryItem
    ├── where / having: And | Or | Not | Comparison | InList | SemiJoin | Includes
    ├── group_by: Path
    └── order_by: OrderItem (Path or Aggregate)

Values are :class:`Literal` nodes with a ``kind``: ``string``, ``number``, ``boolean``,
``null``, ``date``, ``datetime`` or ``date_literal`` (``TODAY``, ``LAST_N_DAYS:7``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Literal as TypingLiteral

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "Aggregate",
    "AggregateItem",
    "And",
    "Comparison",
    "Condition",
    "FieldItem",
    "InList",
    "Includes",
    "Literal",
    "Not",
    "Or",
    "OrderItem",
    "Path",
    "Query",
    "SelectItem",
    "SemiJoin",
    "SubqueryItem",
]

AGGREGATE_FUNCTIONS = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})
"""Aggregate function names SOQL accepts (upper case)."""

LiteralKind = TypingLiteral[
    "string", "number", "boolean", "null", "date", "datetime", "date_literal"
]


@dataclass(frozen=True)
class Path:
    """A field or relationship path as spelled: ``Account.Owner.Name`` → three parts.

    Attributes:
        parts: The dot-separated names.
        pos: Offset of the first character.
        offsets: Offset of each part, for errors that point inside the path.
    """

    parts: tuple[str, ...]
    pos: int
    offsets: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        """The path as written."""
        return ".".join(self.parts)

    def offset(self, index: int) -> int:
        """Offset of part ``index`` (falls back to the path's start)."""
        return self.offsets[index] if index < len(self.offsets) else self.pos


@dataclass(frozen=True)
class Literal:
    """A value in a condition.

    Attributes:
        kind: What sort of literal this is.
        value: The decoded value: ``str`` for strings (escapes resolved, LIKE escapes
            kept as ``\\%``/``\\_``), ``int``/``float`` for numbers, ``bool``, ``None``,
            ``datetime.date``/``datetime.datetime``, or ``(NAME, n | None)`` for date
            literals.
        text: The literal as written.
        pos: Offset of the first character.
        pattern: For strings, the value as an SQL LIKE pattern with ``\\`` as the escape
            character (SOQL's ``\\%`` and ``\\_`` stay escaped, other ``%``/``_`` are
            wildcards).
    """

    kind: LiteralKind
    value: Any
    text: str
    pos: int
    pattern: str | None = None


@dataclass(frozen=True)
class Aggregate:
    """An aggregate call: ``COUNT()``, ``COUNT(Id)``, ``SUM(Amount)``.

    Attributes:
        function: Upper-case function name.
        arg: The field path, or None for ``COUNT()``.
        pos: Offset of the function name.
        name_text: The function name as written.
    """

    function: str
    arg: Path | None
    pos: int
    name_text: str = ""


@dataclass(frozen=True)
class FieldItem:
    """A selected field path, with an optional alias (aggregate queries only)."""

    path: Path
    alias: str | None = None
    alias_pos: int = 0


@dataclass(frozen=True)
class AggregateItem:
    """A selected aggregate call with an optional alias."""

    call: Aggregate
    alias: str | None = None
    alias_pos: int = 0


@dataclass(frozen=True)
class SubqueryItem:
    """A child relationship subquery in the select list."""

    query: Query
    pos: int


SelectItem = FieldItem | AggregateItem | SubqueryItem


@dataclass(frozen=True)
class Comparison:
    """``field op value`` with op one of ``= != < <= > >= LIKE``."""

    left: Path | Aggregate
    op: str
    value: Literal
    pos: int
    op_pos: int


@dataclass(frozen=True)
class InList:
    """``field [NOT] IN (v1, v2, ...)``."""

    left: Path | Aggregate
    values: tuple[Literal, ...]
    negated: bool
    pos: int
    op_pos: int


@dataclass(frozen=True)
class SemiJoin:
    """``field [NOT] IN (SELECT f FROM Obj WHERE ...)``: a semi-join or anti-join."""

    left: Path
    query: Query
    negated: bool
    pos: int
    op_pos: int


@dataclass(frozen=True)
class Includes:
    """``field INCLUDES|EXCLUDES ('a;b', 'c')`` on a multi-select picklist."""

    left: Path
    values: tuple[Literal, ...]
    excludes: bool
    pos: int
    op_pos: int


@dataclass(frozen=True)
class And:
    """All of ``items`` hold."""

    items: tuple[Condition, ...]
    pos: int


@dataclass(frozen=True)
class Or:
    """Any of ``items`` holds."""

    items: tuple[Condition, ...]
    pos: int


@dataclass(frozen=True)
class Not:
    """``item`` does not hold."""

    item: Condition
    pos: int


Condition = And | Or | Not | Comparison | InList | SemiJoin | Includes


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key."""

    key: Path | Aggregate
    descending: bool = False
    nulls_last: bool | None = None


@dataclass(frozen=True)
class Query:
    """A parsed SELECT statement (top level or nested).

    Attributes:
        select: Select-list items in order.
        object_name: The FROM object (or child relationship name) as written.
        object_pos: Offset of the object name.
        where: WHERE condition.
        group_by: GROUP BY paths.
        having: HAVING condition.
        order_by: ORDER BY keys.
        limit: LIMIT value.
        offset: OFFSET value.
        offset_pos: Offset of the OFFSET value, for the range error.
        security_enforced: ``WITH SECURITY_ENFORCED`` was given.
        scope: ``USING SCOPE`` value (accepted, not applied).
        for_clause: ``VIEW``, ``REFERENCE`` or ``UPDATE`` (accepted, not applied).
        pos: Offset of ``SELECT``.
    """

    select: tuple[SelectItem, ...]
    object_name: str
    object_pos: int
    where: Condition | None = None
    group_by: tuple[Path, ...] = ()
    having: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    offset_pos: int = 0
    security_enforced: bool = False
    scope: str | None = None
    for_clause: str | None = None
    pos: int = 0

    @property
    def is_count_only(self) -> bool:
        """``SELECT COUNT() FROM ...``."""
        return any(
            isinstance(item, AggregateItem)
            and item.call.function == "COUNT"
            and item.call.arg is None
            for item in self.select
        )

    @property
    def is_aggregate(self) -> bool:
        """The query returns AggregateResult rows (aggregates or GROUP BY)."""
        if self.is_count_only:
            return False
        return bool(self.group_by) or any(isinstance(item, AggregateItem) for item in self.select)
