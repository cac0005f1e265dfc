"""WHERE and HAVING conditions → SQL, with SOQL's types and two-valued logic.

SOQL has no UNKNOWN: ``Email != 'a@b.c'`` matches records whose Email is null, and
``NOT (Amount > 5)`` matches a null Amount. The compiler therefore pushes every ``NOT``
down to the comparisons (De Morgan) and gives each comparison a positive and a negated
SQL form that are exact complements for null values too. Literals are type-checked
against the field (a quoted value for a datetime field is the platform's
INVALID_FIELD), bound as parameters, never spliced into the SQL; strings compare with
``COLLATE NOCASE`` and Ids exactly, after 15-character Ids are widened to 18.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sf_sim.ids import is_valid_id, to_18
from sf_sim.schema import NUMBER_TYPES, format_datetime
from sf_sim.soql import ast
from sf_sim.soql.dates import date_range
from sf_sim.soql.errors import (
    INVALID_FIELD,
    INVALID_QUERY_FILTER_OPERATOR,
    MALFORMED_QUERY,
    query_error,
)
from sf_sim.soql.multiselect import includes_sql, multi_equal_sql
from sf_sim.soql.operands import (
    ID_TYPES,
    TEXT_COMPARE_TYPES,
    Operand,
    check_filterable,
    field_operand,
    type_label,
)
from sf_sim.soql.resolver import Context, Scope, object_or_error

__all__ = ["FilterCompiler"]

_COMPARE = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NEGATE = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


Sql = tuple[str, list[Any]]


class FilterCompiler:
    """Compiles one condition tree.

    Args:
        ctx: Compilation context.
        scope: The FROM object the condition is about.
        operand: Resolves a path (or, in HAVING, an aggregate) to an :class:`Operand`.
        allow_semi_join: Semi-joins may appear (top-level WHERE only).
    """

    def __init__(
        self,
        ctx: Context,
        scope: Scope,
        operand: Callable[[ast.Path | ast.Aggregate], Operand],
        *,
        allow_semi_join: bool = True,
    ) -> None:
        self.ctx = ctx
        self.scope = scope
        self.operand = operand
        self.allow_semi_join = allow_semi_join

    def compile(self, condition: ast.Condition) -> Sql:
        """SQL (true exactly when the condition holds) and its parameters."""
        return self._node(condition, True, False)

    def _node(self, node: ast.Condition, positive: bool, in_or: bool) -> Sql:
        if isinstance(node, ast.Not):
            return self._node(node.item, not positive, in_or)
        if isinstance(node, ast.And | ast.Or):
            conjunction = isinstance(node, ast.And) == positive
            joiner = " AND " if conjunction else " OR "
            parts = [self._node(item, positive, in_or or not conjunction) for item in node.items]
            return "(" + joiner.join(sql for sql, _ in parts) + ")", [
                param for _, params in parts for param in params
            ]
        if isinstance(node, ast.SemiJoin):
            return self._semi_join(node, positive, in_or)
        operand = self.operand(node.left)
        check_filterable(self.ctx, operand)
        if isinstance(node, ast.Includes):
            return self._includes(node, operand, positive)
        if isinstance(node, ast.InList):
            return self._in_list(node, operand, positive != node.negated)
        if node.op == "LIKE":
            return self._like(node, operand, positive)
        op = node.op if positive else _NEGATE[node.op]
        return self._compare(operand, op, node.value, node, negated=not positive)

    # ------------------------------------------------------------------ comparisons

    def _operator_error(self, operand: Operand, op_pos: int, op: str) -> Exception:
        kind = "multipicklist" if operand.type == "multipicklist" else operand.type
        return query_error(
            INVALID_QUERY_FILTER_OPERATOR,
            self.ctx.soql,
            op_pos,
            f"invalid operator on {kind} field: {op}"
            if op
            else f"invalid operator on {kind} field",
            len(op) or 1,
        )

    def _compare(
        self, operand: Operand, op: str, value: ast.Literal, node: ast.Comparison, *, negated: bool
    ) -> Sql:
        col = operand.sql
        if operand.type == "boolean" and op not in ("=", "!="):
            raise self._operator_error(operand, node.op_pos, node.op)
        if operand.type == "multipicklist":
            if op not in ("=", "!="):
                raise self._operator_error(operand, node.op_pos, node.op)
            self._check(operand, value)
            return self._multi_equal(col, value, op == "=")
        if value.kind == "date_literal":
            self._check(operand, value)
            return self._range(operand, op, value, negated=negated)
        param = self._check(operand, value)
        if param is None:  # null, or '' for an Id
            if op == "=":
                return f"{col} IS NULL", []
            if op == "!=":
                return f"{col} IS NOT NULL", []
            return ("1" if negated else "0"), []
        collate = " COLLATE NOCASE" if operand.type in TEXT_COMPARE_TYPES else ""
        sql_op = _COMPARE[op]
        if op == "!=":
            return f"({col} IS NULL OR {col} <> ?{collate})", [param]
        if op in ("=", "<", "<=", ">", ">="):
            base = f"{col} {sql_op} ?{collate}"
            if negated and op != "=":  # a negated range test also matches null
                return f"({col} IS NULL OR {base})", [param]
            return base, [param]
        raise AssertionError(op)  # pragma: no cover - operators are closed

    def _range(
        self, operand: Operand, op: str, value: ast.Literal, *, negated: bool = False
    ) -> Sql:
        name, n = value.value
        try:
            start, end = date_range(name, n, self.ctx.now, self.ctx.user_timezone)
        except (OverflowError, ValueError):
            raise query_error(
                MALFORMED_QUERY,
                self.ctx.soql,
                value.pos,
                f"Date literal {value.text} reaches outside the calendar",
                len(value.text),
            ) from None
        if operand.type == "date":
            low, high = start.date().isoformat(), end.date().isoformat()
        else:
            low, high = format_datetime(start), format_datetime(end)
        col = operand.sql
        if op == "=":
            return f"({col} >= ? AND {col} < ?)", [low, high]
        if op == "!=":
            return f"({col} IS NULL OR {col} < ? OR {col} >= ?)", [low, high]
        bound = {"<": ("<", low), "<=": ("<", high), ">": (">=", high), ">=": (">=", low)}[op]
        if negated:
            return f"({col} IS NULL OR {col} {bound[0]} ?)", [bound[1]]
        return f"{col} {bound[0]} ?", [bound[1]]

    def _check(self, operand: Operand, value: ast.Literal) -> Any:
        """Type-check ``value`` against the operand and return the SQL parameter."""
        kind, field_type = value.kind, operand.type
        if kind == "null":
            return None
        expected = type_label(field_type)
        if (
            field_type in TEXT_COMPARE_TYPES
            or field_type in ID_TYPES
            or field_type == "multipicklist"
        ):
            if kind != "string":
                raise self._value_error(operand, value, "string", quoted=True)
            if field_type in ID_TYPES:
                return self._id(value)
            return value.value
        ok = (
            (field_type == "boolean" and kind == "boolean")
            or (field_type in NUMBER_TYPES and kind == "number")
            or (field_type == "date" and kind in ("date", "date_literal"))
            or (field_type == "datetime" and kind in ("datetime", "date_literal"))
        )
        if not ok:
            raise self._value_error(operand, value, expected, quoted=False)
        if kind == "boolean":
            return 1 if value.value else 0
        if kind == "date":
            return value.value.isoformat()
        if kind == "datetime":
            return format_datetime(value.value)
        return value.value

    def _value_error(
        self, operand: Operand, value: ast.Literal, expected: str, *, quoted: bool
    ) -> Exception:
        should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return query_error(
            INVALID_FIELD,
            self.ctx.soql,
            value.pos,
            f"value of filter criterion for field '{operand.name}' must be of type "
            f"{expected} and {should}",
            len(value.text),
        )

    def _id(self, value: ast.Literal) -> str | None:
        text = str(value.value)
        if text == "":
            return None
        if not is_valid_id(text):
            raise query_error(
                INVALID_QUERY_FILTER_OPERATOR,
                self.ctx.soql,
                value.pos,
                f"invalid ID field: {text}",
                len(value.text),
            )
        return to_18(text)

    def _like(self, node: ast.Comparison, operand: Operand, positive: bool) -> Sql:
        if operand.type not in TEXT_COMPARE_TYPES:
            raise self._operator_error(operand, node.op_pos, "LIKE")
        if node.value.kind == "null":
            return (f"{operand.sql} IS NULL" if positive else f"{operand.sql} IS NOT NULL"), []
        self._check(operand, node.value)
        col = operand.sql
        if positive:
            return f"{col} LIKE ? ESCAPE '\\'", [node.value.pattern]
        return f"({col} IS NULL OR {col} NOT LIKE ? ESCAPE '\\')", [node.value.pattern]

    def _in_list(self, node: ast.InList, operand: Operand, member: bool) -> Sql:
        col = operand.sql
        if operand.type == "multipicklist":
            parts = [self._multi_equal(col, value, True) for value in node.values]
            sql = "(" + " OR ".join(p for p, _ in parts) + ")"
            params = [x for _, ps in parts for x in ps]
            return (sql, params) if member else (f"NOT {sql}", params)
        if operand.type == "boolean":
            raise self._operator_error(operand, node.op_pos, "IN")
        ranges = [v for v in node.values if v.kind == "date_literal"]
        if ranges:
            for value in node.values:
                self._check(operand, value)
            parts = [self._range(operand, "=", value) for value in node.values]
            sql = "(" + " OR ".join(p for p, _ in parts) + ")"
            params = [x for _, ps in parts for x in ps]
            return (sql, params) if member else (f"({col} IS NULL OR NOT {sql})", params)
        params = [self._check(operand, value) for value in node.values]
        has_null = any(p is None for p in params)
        params = [p for p in params if p is not None]
        collate = " COLLATE NOCASE" if operand.type in TEXT_COMPARE_TYPES else ""
        marks = ", ".join("?" for _ in params)
        if member:
            tests = [f"{col}{collate} IN ({marks})"] if params else []
            if has_null:
                tests.append(f"{col} IS NULL")
            return "(" + (" OR ".join(tests) or "0") + ")", params
        if not params:
            return f"{col} IS NOT NULL", []
        null_test = f"{col} IS NOT NULL AND" if has_null else f"{col} IS NULL OR"
        return f"({null_test} {col}{collate} NOT IN ({marks}))", params

    # ------------------------------------------------------------------ multi-select

    def _multi_equal(self, col: str, value: ast.Literal, equal: bool) -> Sql:
        return multi_equal_sql(col, None if value.kind == "null" else str(value.value), equal)

    def _includes(self, node: ast.Includes, operand: Operand, positive: bool) -> Sql:
        if operand.type != "multipicklist":
            raise query_error(
                INVALID_QUERY_FILTER_OPERATOR,
                self.ctx.soql,
                node.op_pos,
                "includes or excludes operator only valid on multipicklist field",
                8,
            )
        for value in node.values:
            self._check(operand, value)
        texts = [None if v.kind == "null" else str(v.value) for v in node.values]
        return includes_sql(operand.sql, texts, positive != node.excludes)

    # ------------------------------------------------------------------ semi-joins

    def _semi_join(self, node: ast.SemiJoin, positive: bool, in_or: bool) -> Sql:
        soql = self.ctx.soql
        if not self.allow_semi_join:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                node.query.pos,
                "Nesting of semi join sub-selects is not supported",
                6,
            )
        if in_or:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                node.op_pos,
                "Semi join sub-selects are not allowed with the 'OR' operator",
            )
        operand = self.operand(node.left)
        if operand.type not in ID_TYPES:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                node.pos,
                "Semi join sub-selects are only allowed on Id or reference fields: "
                f"'{operand.name}'",
                len(operand.name),
            )
        inner_sql, params = self.subselect(node.query)
        member = positive != node.negated
        col = operand.sql
        if member:
            return f"{col} IN ({inner_sql})", params
        return f"({col} IS NULL OR {col} NOT IN ({inner_sql}))", params

    def subselect(self, query: ast.Query) -> Sql:
        """SQL selecting the Id or reference values of a semi-join's sub-select."""
        soql = self.ctx.soql
        if query.is_aggregate or query.is_count_only or len(query.select) != 1:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                query.pos,
                "The selected field in a semi join sub-select must be a single Id or "
                "reference field",
                6,
            )
        item = query.select[0]
        if not isinstance(item, ast.FieldItem):
            raise query_error(MALFORMED_QUERY, soql, query.pos, "unexpected token: '('")
        obj = object_or_error(self.ctx, query.object_name, query.object_pos)
        scope = Scope(self.ctx, obj)
        selected = scope.resolve(item.path)
        if selected.definition.type not in ID_TYPES:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                item.path.pos,
                "The selected field in a semi join sub-select must be a single Id or "
                f"reference field: '{selected.dotted}'",
                len(item.path.text),
            )
        inner = FilterCompiler(self.ctx, scope, field_operand(scope), allow_semi_join=False)
        where = [f"{selected.sql} IS NOT NULL"]
        deleted = scope.not_deleted()
        if deleted:
            where.append(deleted)
        params: list[Any] = []
        if query.where is not None:
            sql, params = inner.compile(query.where)
            where.append(sql)
        text = f"SELECT {selected.sql} FROM {scope.from_sql()} WHERE " + " AND ".join(where)
        if query.limit is not None:
            text += f" LIMIT {int(query.limit)}"
        return text, params
