"""Multi-select picklists in SQL: ``=``, ``INCLUDES`` and ``EXCLUDES`` over ``a;b`` text.

A multi-select value is stored as its selected values joined by ``;``. Membership of
one value is a case-insensitive search for ``;value;`` in ``;stored;``; equality is
set equality (order does not matter: ``'Chess;Golf'`` equals ``'Golf;Chess'``);
``INCLUDES ('a;b', 'c')`` means (a AND b) OR c.
"""

from __future__ import annotations

from typing import Any

__all__ = ["includes_sql", "multi_equal_sql", "split_values"]

Sql = tuple[str, list[Any]]


def split_values(text: str | None) -> list[str]:
    """The distinct values of ``a;b`` text, lower-cased and trimmed, in order."""
    seen: list[str] = []
    for part in (text or "").split(";"):
        value = part.strip().lower()
        if value and value not in seen:
            seen.append(value)
    return seen


def _has(col: str, value: str) -> Sql:
    return f"instr(';' || lower({col}) || ';', ?) > 0", [f";{value};"]


def multi_equal_sql(col: str, text: str | None, equal: bool) -> Sql:
    """SQL true when the stored set equals (or, ``equal=False``, differs from) ``text``."""
    if text is None:
        return (f"{col} IS NULL" if equal else f"{col} IS NOT NULL"), []
    values = split_values(text)
    tests = [_has(col, value) for value in values]
    count = f"(length({col}) - length(replace({col}, ';', ''))) = ?"
    sql = " AND ".join([f"{col} IS NOT NULL", *(t for t, _ in tests), count])
    params = [p for _, ps in tests for p in ps] + [max(len(values) - 1, 0)]
    return (f"({sql})", params) if equal else (f"({col} IS NULL OR NOT ({sql}))", params)


def includes_sql(col: str, texts: list[str | None], include: bool) -> Sql:
    """SQL for ``INCLUDES`` (``include=True``) or its complement, of the given groups."""
    groups: list[Sql] = []
    for text in texts:
        values = split_values(text)
        if values:
            tests = [_has(col, value) for value in values]
            groups.append(
                ("(" + " AND ".join(t for t, _ in tests) + ")", [p for _, ps in tests for p in ps])
            )
    matched = "(" + (" OR ".join(g for g, _ in groups) or "0") + ")"
    params = [p for _, ps in groups for p in ps]
    if include:
        return f"({col} IS NOT NULL AND {matched})", params
    return f"({col} IS NULL OR NOT {matched})", params
