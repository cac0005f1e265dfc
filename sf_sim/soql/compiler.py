"""SOQL syntax tree → SQL over the org's tables (one table per object).

Record queries become one ``SELECT`` with a ``LEFT JOIN`` per parent relationship,
the WHERE condition from :mod:`sf_sim.soql.filters` (semi-joins as SQL sub-selects),
``ORDER BY`` with SOQL's null placement and case-insensitive text order, and
``LIMIT``/``OFFSET``; a second statement counts the matches for ``totalSize`` without
reading them. Child relationship subqueries compile to a statement per relationship
that the cursor runs once per fetched page for all the page's parents, with
``ROW_NUMBER()`` applying a per-parent LIMIT. Aggregate queries are handed to
:mod:`sf_sim.soql.aggregate`.
"""

from __future__ import annotations

from sf_sim.schema import ObjectDef
from sf_sim.soql import ast
from sf_sim.soql.aggregate import compile_aggregate
from sf_sim.soql.clauses import limit_sql, order_sql, where_sql
from sf_sim.soql.errors import (
    INVALID_TYPE,
    MALFORMED_QUERY,
    NUMBER_OUTSIDE_VALID_RANGE,
    query_error,
)
from sf_sim.soql.operands import field_operand
from sf_sim.soql.plan import (
    ChildPlan,
    ChildSlot,
    Columns,
    CompiledQuery,
    FieldSlot,
    ParentSlot,
    RecordShape,
)
from sf_sim.soql.resolver import Context, ResolvedField, Scope, object_or_error

__all__ = ["MAX_OFFSET", "compile_query", "order_sql", "where_sql"]

MAX_OFFSET = 2000
"""Largest OFFSET the platform accepts."""


def compile_query(ctx: Context, query: ast.Query) -> CompiledQuery:
    """Compile a parsed top-level query.

    Raises:
        QueryError: For unknown objects or fields, wrong types and the platform's
            other refusals.
    """
    obj = object_or_error(ctx, query.object_name, query.object_pos)
    ctx.security_enforced = query.security_enforced
    check_limits(ctx, query)
    if query.is_count_only or query.is_aggregate:
        return compile_aggregate(ctx, query, obj)
    return _RecordCompiler(ctx, obj).compile(query)


MAX_LIMIT = 2**31 - 1
"""Largest LIMIT accepted (the platform parses it as a 32-bit integer)."""


def check_limits(ctx: Context, query: ast.Query) -> None:
    """Refuse an OFFSET above :data:`MAX_OFFSET` and a LIMIT beyond a 32-bit integer."""
    if query.limit is not None and query.limit > MAX_LIMIT:
        raise query_error(
            NUMBER_OUTSIDE_VALID_RANGE, ctx.soql, None, f"Maximum SOQL LIMIT allowed is {MAX_LIMIT}"
        )
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise query_error(
            NUMBER_OUTSIDE_VALID_RANGE,
            ctx.soql,
            query.offset_pos,
            f"Maximum SOQL offset allowed is {MAX_OFFSET}",
            len(str(query.offset)),
        )


class _RecordCompiler:
    """Compiles a non-aggregate query (and its child subqueries)."""

    def __init__(self, ctx: Context, obj: ObjectDef) -> None:
        self.ctx = ctx
        self.obj = obj
        self.scope = Scope(ctx, obj)
        self.cols = Columns()
        self.shape = RecordShape(obj.name, self.cols.add(self.scope.column("Id")))
        self.paths: list[str] = []
        self.children: list[ChildPlan] = []

    def compile(self, query: ast.Query) -> CompiledQuery:
        for item in query.select:
            if isinstance(item, ast.FieldItem):
                self._field(item)
            elif isinstance(item, ast.SubqueryItem):
                self._child(item)
            else:  # pragma: no cover - aggregate queries are routed elsewhere
                raise AssertionError(item)
        terms, params = where_sql(self.ctx, self.scope, query)
        order = order_sql(self.ctx, query.order_by, field_operand(self.scope))
        where = f" WHERE {' AND '.join(terms)}" if terms else ""
        base = f" FROM {self.scope.from_sql()}{where}"
        sql = f"SELECT {self.cols.sql()}{base}"
        if order:
            sql += f" ORDER BY {order}"
        sql += limit_sql(query)
        count_sql = f"SELECT COUNT(*) FROM (SELECT 1{base}{limit_sql(query)})"
        return CompiledQuery(
            object_name=self.obj.name,
            columns=self.paths,
            sql=sql,
            params=params,
            count_sql=count_sql,
            count_params=list(params),
            shape=self.shape,
            children=self.children,
        )

    def _field(self, item: ast.FieldItem) -> None:
        if item.alias is not None:
            raise query_error(
                MALFORMED_QUERY,
                self.ctx.soql,
                item.alias_pos,
                f"unexpected token: '{item.alias}'",
                len(item.alias),
            )
        resolved = self.scope.resolve(item.path)
        add_to_shape(self.shape, self.cols, resolved, self.ctx.soql, item.path, self.paths)

    def _child(self, item: ast.SubqueryItem) -> None:
        sub = item.query
        soql = self.ctx.soql
        relation = self.obj.child_relationship(sub.object_name)
        child_obj = self.ctx.schema.object(relation.child_object) if relation else None
        if relation is None or child_obj is None or not self.ctx.can_read(child_obj):
            raise query_error(
                INVALID_TYPE,
                soql,
                sub.object_pos,
                f"Didn't understand relationship '{sub.object_name}' in FROM part of query "
                "call. If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name. Please reference your WSDL or "
                "the describe call for the appropriate names.",
                len(sub.object_name),
            )
        if relation.name.lower() in {p.lower() for p in self.paths}:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                sub.object_pos,
                f"duplicate field selected: {relation.name}",
                len(sub.object_name),
            )
        if sub.is_aggregate or sub.is_count_only or sub.group_by or sub.having:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                sub.pos,
                "Aggregate functions and GROUP BY are not supported in relationship subqueries",
                6,
            )
        if sub.offset is not None:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                sub.offset_pos,
                "OFFSET is not supported in a relationship subquery here",
            )
        scope = Scope(self.ctx, child_obj)
        cols = Columns()
        shape = RecordShape(child_obj.name, cols.add(scope.column("Id")))
        parent_column = cols.add(scope.column(relation.field))
        paths: list[str] = []
        for entry in sub.select:
            if isinstance(entry, ast.SubqueryItem):
                raise query_error(
                    MALFORMED_QUERY,
                    soql,
                    entry.pos,
                    "Nesting of relationship subqueries is not supported",
                )
            if not isinstance(entry, ast.FieldItem) or entry.alias is not None:
                raise query_error(MALFORMED_QUERY, soql, sub.pos, "unexpected token: '('")
            resolved = scope.resolve(entry.path)
            add_to_shape(shape, cols, resolved, soql, entry.path, paths)
        terms, params = where_sql(self.ctx, scope, sub)
        order = order_sql(self.ctx, sub.order_by, field_operand(scope))
        terms.insert(0, f"{scope.column(relation.field)} IN ({{ids}})")
        where = " AND ".join(terms)
        body = f"SELECT {cols.sql()} FROM {scope.from_sql()} WHERE {where}"
        if sub.limit is None:
            sql = body + (f" ORDER BY {order}" if order else "")
        else:
            window = order or f"{scope.alias}.rowid"
            partition = scope.column(relation.field)
            ranked = body.replace(
                f"SELECT {cols.sql()} ",
                f"SELECT {cols.sql()}, ROW_NUMBER() OVER (PARTITION BY {partition} "
                f"ORDER BY {window}) AS rn ",
                1,
            )
            sql = f"SELECT * FROM ({ranked}) WHERE rn <= {int(sub.limit)} ORDER BY rn"
        plan = ChildPlan(relation.name, sql, params, parent_column, shape)
        self.children.append(plan)
        self.shape.entries[relation.name.lower()] = ChildSlot(relation.name, plan)
        self.paths.append(relation.name)


def add_to_shape(
    shape: RecordShape,
    cols: Columns,
    resolved: ResolvedField,
    soql: str,
    path: ast.Path,
    paths: list[str],
) -> None:
    """Place a resolved field in the record shape (parents nested), once.

    Raises:
        QueryError: MALFORMED_QUERY ``duplicate field selected`` for a repeated path.
    """
    dotted = resolved.dotted
    if dotted.lower() in {p.lower() for p in paths}:
        raise query_error(
            MALFORMED_QUERY, soql, path.pos, f"duplicate field selected: {dotted}", len(path.text)
        )
    paths.append(dotted)
    entries = shape.entries
    for node in resolved.nodes:
        key = (node.relationship or "").lower()
        slot = entries.get(key)
        if not isinstance(slot, ParentSlot):
            slot = ParentSlot(
                node.relationship or "",
                [(cols.add(sql), name) for sql, name in node.id_columns()],
            )
            entries[key] = slot
        entries = slot.entries
    entries[resolved.definition.name.lower()] = FieldSlot(
        resolved.definition.name, cols.add(resolved.sql), resolved.definition
    )
