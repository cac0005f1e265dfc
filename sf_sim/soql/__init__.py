"""The SOQL engine of sf_sim: parse SOQL, translate it to SQL over the org's SQLite
tables, and stream the result in the REST API's JSON shape.

Public API::

    parse(soql) -> Query
    run_query(conn, schema, soql, *, now, user_timezone="UTC", include_deleted=False,
              field_visible=None, api_version="59.0") -> QueryCursor

Every refusal is a :class:`sf_sim.exceptions.QueryError` with the platform's code
and message shape; no input string raises anything else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from sf_sim.exceptions import QueryError
from sf_sim.schema import Schema
from sf_sim.soql.ast import Query
from sf_sim.soql.compiler import compile_query
from sf_sim.soql.cursor import QueryCursor
from sf_sim.soql.errors import QUERY_TOO_COMPLICATED
from sf_sim.soql.parser import parse
from sf_sim.soql.resolver import Context, RecordFilter

__all__ = ["Query", "QueryCursor", "QueryError", "parse", "run_query"]

_TOO_COMPLICATED = (
    "Query is either selecting too many fields or the filter conditions are too complicated."
)
_SQLITE_LIMITS = ("too many sql variables", "too large", "too many terms", "stack overflow")


def run_query(
    conn: sqlite3.Connection,
    schema: Schema,
    soql: str,
    *,
    now: datetime,
    user_timezone: str = "UTC",
    include_deleted: bool = False,
    field_visible: Callable[[str, str], bool] | None = None,
    api_version: str = "59.0",
    object_visible: Callable[[str], bool] | None = None,
    owns_connection: bool = False,
    record_filter: RecordFilter | None = None,
    running_user: str | None = None,
) -> QueryCursor:
    """Run a SOQL query against an org's database.

    Args:
        conn: The org's database (one table per object, per :mod:`sf_sim.schema`).
        schema: The org's schema.
        soql: The statement as the client sent it.
        now: The org clock's now (aware; naive values are taken as UTC) for date literals.
        user_timezone: IANA zone of the running user, for date literals.
        include_deleted: Include recycle-bin rows (``queryAll``).
        field_visible: ``(object, field) -> bool`` field-level security check; fields
            the user cannot see behave as if they did not exist.
        api_version: API version for ``attributes.url``.
        object_visible: ``object -> bool`` object read permission; an object the user
            cannot read behaves as if it did not exist wherever the query touches it
            (FROM, parent paths, child subqueries, semi- and anti-joins).
        owns_connection: ``conn`` is the cursor's own (closed once it is read out).
        record_filter: Record visibility of the running user (sharing): a SQL condition
            per object, or None for every record.
        running_user: The running user's Id (``USING SCOPE mine`` keeps their records).

    Returns:
        A cursor whose :meth:`QueryCursor.fetch` streams records.

    Raises:
        QueryError: MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE,
            INVALID_QUERY_FILTER_OPERATOR, NUMBER_OUTSIDE_VALID_RANGE,
            INSUFFICIENT_ACCESS or QUERY_TOO_COMPLICATED, with the platform's message.
    """
    query = parse(soql)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    ctx = Context(
        schema=schema,
        soql=soql,
        now=now,
        user_timezone=user_timezone,
        include_deleted=include_deleted,
        field_visible=field_visible,
        api_version=api_version,
        object_visible=object_visible,
        record_filter=record_filter,
        running_user=running_user,
    )
    try:
        compiled = compile_query(ctx, query)
        return QueryCursor(conn, compiled, api_version, owns_connection=owns_connection)
    except RecursionError:
        raise QueryError(QUERY_TOO_COMPLICATED, _TOO_COMPLICATED) from None
    except sqlite3.OperationalError as exc:
        if any(marker in str(exc).lower() for marker in _SQLITE_LIMITS):
            raise QueryError(QUERY_TOO_COMPLICATED, _TOO_COMPLICATED) from None
        raise
