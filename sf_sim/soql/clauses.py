"""The clauses record and aggregate queries share: WHERE, ORDER BY, LIMIT/OFFSET.

:mod:`sf_sim.soql.compiler` (record queries) and :mod:`sf_sim.soql.aggregate` both build
their statements from these, so neither needs the other's module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sf_sim.soql import ast
from sf_sim.soql.errors import INVALID_FIELD, query_error
from sf_sim.soql.filters import FilterCompiler
from sf_sim.soql.operands import TEXT_COMPARE_TYPES, Operand, check_filterable, field_operand
from sf_sim.soql.resolver import Context, Scope

__all__ = ["limit_sql", "order_sql", "where_sql"]


def where_sql(
    ctx: Context, scope: Scope, query: ast.Query, *, allow_semi_join: bool = True
) -> tuple[list[str], list[Any]]:
    """The WHERE terms (recycle-bin filter first) and parameters of ``query``."""
    terms: list[str] = []
    params: list[Any] = []
    deleted = None if ctx.include_deleted else scope.not_deleted()
    if deleted:
        terms.append(deleted)
    shared = ctx.record_filter(scope.obj) if ctx.record_filter is not None else None
    if shared is not None:
        sql, shared_params = shared.render(scope.alias)
        terms.append(sql)
        params += shared_params
    mine = query.scope is not None and query.scope.lower() == "mine"
    if mine and ctx.running_user and scope.obj.field("OwnerId") is not None:
        terms.append(f"{scope.column('OwnerId')} = ?")
        params.append(ctx.running_user)
    if query.where is not None:
        compiler = FilterCompiler(ctx, scope, field_operand(scope), allow_semi_join=allow_semi_join)
        sql, where_params = compiler.compile(query.where)
        terms.append(sql)
        params += where_params
    return terms, params


def order_sql(
    ctx: Context,
    items: tuple[ast.OrderItem, ...],
    operand: Callable[[ast.Path | ast.Aggregate], Operand],
) -> str:
    """``ORDER BY`` terms: case-insensitive text, nulls first ascending, last descending."""
    terms = []
    for item in items:
        resolved = operand(item.key)
        if resolved.type == "multipicklist":
            raise query_error(
                INVALID_FIELD,
                ctx.soql,
                resolved.pos,
                f"field '{resolved.name}' can not be sorted in a query call",
                len(resolved.name),
            )
        check_filterable(ctx, resolved, "sorted")
        collate = " COLLATE NOCASE" if resolved.type in TEXT_COMPARE_TYPES else ""
        direction = " DESC" if item.descending else " ASC"
        nulls_last = item.descending if item.nulls_last is None else item.nulls_last
        terms.append(
            f"{resolved.sql}{collate}{direction} NULLS {'LAST' if nulls_last else 'FIRST'}"
        )
    return ", ".join(terms)


def limit_sql(query: ast.Query) -> str:
    """``LIMIT n OFFSET m`` (values are validated integers from the grammar)."""
    if query.limit is None and query.offset is None:
        return ""
    limit = -1 if query.limit is None else int(query.limit)
    return f" LIMIT {limit} OFFSET {int(query.offset or 0)}"
