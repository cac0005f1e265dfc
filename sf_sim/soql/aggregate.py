"""Aggregate queries: ``COUNT()``, ``COUNT(f)``, ``COUNT_DISTINCT``, ``SUM/AVG/MIN/MAX``,
``GROUP BY`` (parent paths too), ``HAVING`` and aliases.

Rows come back as ``{"attributes": {"type": "AggregateResult"}, ...}`` keyed by alias,
by ``expr0``, ``expr1``… for unaliased aggregates (numbered among themselves), and
by the last path element for grouped fields (``Account.Name`` → ``Name``).
``SELECT COUNT() FROM X`` is the count-only form: no records, ``totalSize`` is the
count. Text groups compare case-insensitively, as the platform groups them.
"""

from __future__ import annotations

from collections.abc import Callable

from sf_sim.schema import NUMBER_TYPES, FieldDef, ObjectDef
from sf_sim.soql import ast
from sf_sim.soql.clauses import limit_sql, order_sql, where_sql
from sf_sim.soql.errors import INVALID_FIELD, MALFORMED_QUERY, query_error
from sf_sim.soql.filters import FilterCompiler
from sf_sim.soql.operands import TEXT_COMPARE_TYPES, Operand, check_filterable
from sf_sim.soql.plan import AggregateColumn, Columns, CompiledQuery
from sf_sim.soql.resolver import Context, ResolvedField, Scope

__all__ = ["compile_aggregate"]

_NOT_GROUPABLE = frozenset({"multipicklist", "datetime", "double", "currency", "percent"})
_NOT_MIN_MAX = frozenset({"boolean", "multipicklist"})


def compile_aggregate(ctx: Context, query: ast.Query, obj: ObjectDef) -> CompiledQuery:
    """Compile a count-only or aggregate query.

    Raises:
        QueryError: MALFORMED_QUERY for fields neither grouped nor aggregated, aggregate
            functions on unsupported types, child subqueries; INVALID_FIELD for
            fields that cannot be grouped.
    """
    return _AggregateCompiler(ctx, query, obj).compile()


class _AggregateCompiler:
    def __init__(self, ctx: Context, query: ast.Query, obj: ObjectDef) -> None:
        self.ctx = ctx
        self.query = query
        self.obj = obj
        self.scope = Scope(ctx, obj)
        self.groups: dict[str, tuple[ResolvedField, int]] = {}
        self.group_sql: list[str] = []

    def compile(self) -> CompiledQuery:
        query = self.query
        for path in query.group_by:
            self._group(path)
        cols = Columns()
        if query.is_count_only:
            if len(query.select) != 1:
                raise query_error(
                    MALFORMED_QUERY,
                    self.ctx.soql,
                    query.pos,
                    "COUNT() must be the only element in the SELECT list",
                    6,
                )
            out: list[AggregateColumn] = []
        else:
            out = self._select(cols)
        terms, params = where_sql(self.ctx, self.scope, query)
        having_params: list[object] = []
        having = ""
        if query.having is not None:
            if not query.group_by and not out:
                raise query_error(
                    MALFORMED_QUERY, self.ctx.soql, query.pos, "HAVING requires GROUP BY", 6
                )
            compiler = FilterCompiler(self.ctx, self.scope, self._operand, allow_semi_join=False)
            having, having_params = compiler.compile(query.having)
        order = order_sql(self.ctx, query.order_by, self._operand)
        body = f" FROM {self.scope.from_sql()}"
        if terms:
            body += f" WHERE {' AND '.join(terms)}"
        if self.group_sql:
            body += f" GROUP BY {', '.join(self.group_sql)}"
        if having:
            body += f" HAVING {having}"
        all_params = [*params, *having_params]
        count_sql = f"SELECT COUNT(*) FROM (SELECT 1{body}{limit_sql(query)})"
        if query.is_count_only:
            return CompiledQuery(
                object_name=self.obj.name,
                columns=[],
                sql=None,
                params=[],
                count_sql=count_sql,
                count_params=all_params,
                is_count_only=True,
            )
        sql = f"SELECT {cols.sql()}{body}"
        count_sql = f"SELECT COUNT(*) FROM ({sql}{limit_sql(query)})"
        if order:
            sql += f" ORDER BY {order}"
        sql += limit_sql(query)
        return CompiledQuery(
            object_name=self.obj.name,
            columns=[column.key for column in out],
            sql=sql,
            params=all_params,
            count_sql=count_sql,
            count_params=all_params,
            aggregate=out,
        )

    # ------------------------------------------------------------------ pieces

    def _group(self, path: ast.Path) -> None:
        resolved = self.scope.resolve(path)
        definition = resolved.definition
        long_text = definition.type == "textarea" and definition.length > 255
        if definition.type in _NOT_GROUPABLE or long_text:
            raise query_error(
                INVALID_FIELD,
                self.ctx.soql,
                path.pos,
                f"field '{definition.name}' can not be grouped in a query call",
                len(path.text),
            )
        key = resolved.dotted.lower()
        if key in self.groups:
            return
        collate = " COLLATE NOCASE" if definition.type in TEXT_COMPARE_TYPES else ""
        self.groups[key] = (resolved, len(self.group_sql))
        self.group_sql.append(f"{resolved.sql}{collate}")

    def _grouped(self, path: ast.Path) -> ResolvedField:
        resolved = self.scope.resolve(path)
        if resolved.dotted.lower() not in self.groups:
            raise query_error(
                MALFORMED_QUERY,
                self.ctx.soql,
                path.pos,
                f"Field must be grouped or aggregated: {resolved.definition.name}",
                len(path.text),
            )
        return resolved

    def _select(self, cols: Columns) -> list[AggregateColumn]:
        out: list[AggregateColumn] = []
        keys: set[str] = set()
        unnamed = 0
        for item in self.query.select:
            if isinstance(item, ast.SubqueryItem):
                raise query_error(
                    MALFORMED_QUERY,
                    self.ctx.soql,
                    item.pos,
                    "Relationship subqueries are not supported in aggregate queries",
                )
            if isinstance(item, ast.FieldItem):
                resolved = self._grouped(item.path)
                key = item.alias or resolved.definition.name
                column = AggregateColumn(key, cols.add(resolved.sql), None, resolved.definition)
            else:
                call = item.call
                if call.arg is None:
                    raise query_error(
                        MALFORMED_QUERY,
                        self.ctx.soql,
                        call.pos,
                        "COUNT() must be the only element in the SELECT list",
                        len(call.name_text),
                    )
                if item.alias is None:
                    key = f"expr{unnamed}"
                    unnamed += 1
                else:
                    key = item.alias
                sql, definition = self._aggregate_sql(call)
                column = AggregateColumn(key, cols.add(sql), call.function, definition)
            if key.lower() in keys:
                raise query_error(
                    MALFORMED_QUERY,
                    self.ctx.soql,
                    getattr(item, "alias_pos", 0) or self.query.pos,
                    f"duplicate alias: {key}",
                    len(key),
                )
            keys.add(key.lower())
            out.append(column)
        return out

    def _aggregate_sql(self, call: ast.Aggregate) -> tuple[str, FieldDef]:
        assert call.arg is not None
        resolved = self.scope.resolve(call.arg)
        definition = resolved.definition
        function = call.function
        operand = Operand(resolved.sql, definition.type, definition.name, call.arg.pos, definition)
        check_filterable(self.ctx, operand, "aggregated")
        allowed = {
            "SUM": definition.type in NUMBER_TYPES,
            "AVG": definition.type in NUMBER_TYPES,
            "MIN": definition.type not in _NOT_MIN_MAX,
            "MAX": definition.type not in _NOT_MIN_MAX,
        }.get(function, True)
        if not allowed:
            raise query_error(
                MALFORMED_QUERY,
                self.ctx.soql,
                call.pos,
                f"field {definition.name} does not support aggregate operator {function}",
                len(call.name_text),
            )
        sql = resolved.sql
        if function == "COUNT_DISTINCT":
            collate = " COLLATE NOCASE" if definition.type in TEXT_COMPARE_TYPES else ""
            return f"COUNT(DISTINCT {sql}{collate})", definition
        return f"{function}({sql})", definition

    def _operand(self, left: ast.Path | ast.Aggregate) -> Operand:
        """HAVING and ORDER BY operands: aggregates or grouped fields."""
        if isinstance(left, ast.Path):
            resolved = self._grouped(left)
            definition = resolved.definition
            return Operand(resolved.sql, definition.type, definition.name, left.pos, definition)
        if left.arg is None:
            return Operand("COUNT(*)", "int", "COUNT", left.pos)
        sql, definition = self._aggregate_sql(left)
        result_type: Callable[[], str] = {
            "COUNT": lambda: "int",
            "COUNT_DISTINCT": lambda: "int",
            "SUM": lambda: "double",
            "AVG": lambda: "double",
        }.get(left.function, lambda: definition.type)
        return Operand(sql, result_type(), definition.name, left.pos)
