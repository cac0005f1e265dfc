"""The org's SQLite database: one table per object, org settings, nested transactions.

Tables follow the storage convention of :mod:`sf_sim.schema`: one table per object
named by its API name, one column per field, ``Id`` the primary key, ``IsDeleted`` on
every table. Text columns are declared ``COLLATE NOCASE`` so that the platform's
case-insensitive comparisons (``=``, ``IN``, ``LIKE``, ``ORDER BY``) can use the indexes.
Indexes exist on reference fields (but ``CreatedById`` and ``LastModifiedById``),
external-Id and unique fields, ``Email``, ``Name``, ``CreatedDate``, ``LastModifiedDate`` and
``SystemModstamp``. Every index costs each insert a B-tree descent: the audit users and
``IsDeleted`` (a handful of distinct values, nearly every row the same) narrow no query,
so they have none (an org file made before keeps them; they change no result).

Besides the object tables the store keeps ``_sf_meta`` (org settings as JSON: org Id,
Id serial, limits, users' credentials, custom schema), ``_sf_api_calls`` (the rolling
API-usage window) and ``_sf_recycle`` (delete log for the recycle bin and Get Deleted).
An in-memory store is the default; a file store lets an org survive its process.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from sf_sim.exceptions import SfSimError
from sf_sim.schema import FieldDef, ObjectDef

__all__ = ["Store", "StoreError", "dump_object", "load_object", "quote"]

_INDEXED = {"email", "name", "createddate", "lastmodifieddate", "systemmodstamp"}
_UNINDEXED = {"createdbyid", "lastmodifiedbyid", "isdeleted"}


CACHE_KIB = 32 * 1024
"""Page cache of a file store's connection, in KiB: bounded, so memory stays flat."""

PAGE_BYTES = 16 * 1024
"""Page size of a new org file (SQLite's default is 4 KiB). An insert into a table of
100,000s of rows descends a B-tree per index; bigger pages make them shallower and each
descent cheaper (a page's size changes no query's result or order). An existing file keeps
the page size it was made with."""

BUSY_TIMEOUT_SECONDS = 60.0
"""How long a write waits for another process's transaction on the same org file (the
dashboard and a sync, or two tools): the platform never refuses a request for that."""


class StoreError(SfSimError):
    """The org's database file cannot be opened or is not an org database."""


def quote(name: str) -> str:
    """Quote a table or column name for SQLite (``Group`` is a keyword)."""
    return '"' + name.replace('"', '""') + '"'


def _column_sql(definition: FieldDef) -> str:
    collate = " COLLATE NOCASE" if definition.sql_type == "TEXT" else ""
    return f"{quote(definition.name)} {definition.sql_type}{collate}"


def dump_object(definition: ObjectDef) -> dict[str, Any]:
    """A JSON-ready form of an object definition (custom schema persists with the org)."""
    return {
        "name": definition.name,
        "label": definition.label,
        "label_plural": definition.label_plural,
        "key_prefix": definition.key_prefix,
        "custom": definition.custom,
        "custom_setting": definition.custom_setting,
        "createable": definition.createable,
        "updateable": definition.updateable,
        "deletable": definition.deletable,
        "queryable": definition.queryable,
        "name_field": definition.name_field,
        "fields": [dict(item.__dict__) for item in definition.iter_fields()],
    }


def load_object(data: dict[str, Any]) -> ObjectDef:
    """Rebuild an object definition written by :func:`dump_object`."""
    fields = data.pop("fields")
    definition = ObjectDef(**data)
    for raw in fields:
        for key in ("picklist_values", "reference_to"):
            raw[key] = tuple(raw[key])
        definition.add_field(FieldDef(**raw))
    return definition


class Store:
    """SQLite storage of one org, shared by the DML layer and the SOQL engine.

    Args:
        path: Database file; None keeps the org in memory.
        page_size: Page size of a new database (a new file's default is :data:`PAGE_BYTES`,
            an in-memory one's SQLite's own): a copy made with SQLite's backup needs its
            source's when the copy is in memory or in WAL mode.
    """

    def __init__(self, path: str | Path | None = None, *, page_size: int | None = None) -> None:
        self.path = Path(path) if path is not None else None
        try:
            self.conn = sqlite3.connect(
                str(path) if path is not None else ":memory:",
                check_same_thread=False,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_SECONDS,
            )
            if path is not None or page_size is not None:
                # Only a new (empty) database takes it; it must come before WAL mode is set.
                self.conn.execute(f"PRAGMA page_size={int(page_size or PAGE_BYTES)}")
            if path is not None:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                # Index pages of a large org stay in memory (SQLite's default is 2 MiB):
                # upserts into tables of 100,000s of rows keep their cost per batch.
                self.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the org database {path}: {exc}") from exc
        self.db = sqlite_utils.Database(self.conn)
        self.lock = threading.RLock()
        self._depth = 0
        self._meta_changes = 0  # rows written by set_meta (see data_changes)
        self._deferred: dict[str, tuple[set[str], Callable[[set[str]], None]]] | None = None
        self.conn.execute("CREATE TABLE IF NOT EXISTS _sf_meta (key TEXT PRIMARY KEY, value TEXT)")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _sf_api_calls (at TEXT NOT NULL, cost INTEGER NOT NULL)"
        )
        self.conn.execute("CREATE INDEX IF NOT EXISTS _sf_api_calls_at ON _sf_api_calls (at)")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _sf_recycle (Id TEXT PRIMARY KEY, object TEXT NOT NULL,"
            " deleted_date TEXT NOT NULL, root_id TEXT NOT NULL, purged INTEGER NOT NULL DEFAULT 0)"
        )
        self.conn.execute(
            "CREATE INDEX IF NOT EXISTS _sf_recycle_date ON _sf_recycle (object, deleted_date)"
        )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _sf_cleared (parent_id TEXT NOT NULL, object TEXT NOT NULL,"
            " child_id TEXT NOT NULL, field TEXT NOT NULL)"
        )
        self.conn.execute(
            "CREATE INDEX IF NOT EXISTS _sf_cleared_parent ON _sf_cleared (parent_id)"
        )

    @property
    def page_size(self) -> int:
        """The database's page size in bytes."""
        return int(self.conn.execute("PRAGMA page_size").fetchone()[0])

    # ------------------------------------------------------------------ settings

    @property
    def is_new(self) -> bool:
        """True until the org identity has been written."""
        return self.meta("org_id") is None

    def meta(self, key: str, default: Any = None) -> Any:
        """Read one org setting (JSON value) or ``default``."""
        row = self.conn.execute("SELECT value FROM _sf_meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Write one org setting."""
        before = self.conn.total_changes
        self.conn.execute(
            "INSERT INTO _sf_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, sort_keys=True)),
        )
        self._meta_changes += self.conn.total_changes - before

    def data_changes(self) -> int:
        """Rows this connection has inserted, updated or deleted, but org settings.

        Two equal readings inside one write transaction (no other process can write then)
        prove that no record changed in between: what a query read before still holds. A
        write of an org setting (an Id serial, an auto-number counter) changes no record.
        """
        return self.conn.total_changes - self._meta_changes

    # ------------------------------------------------------------------ tables

    def ensure_table(self, definition: ObjectDef) -> None:
        """Create the object's table and indexes, or add columns that are missing."""
        table = definition.name
        fields = list(definition.iter_fields())
        if not self.db[table].exists():
            columns = [
                _column_sql(item) + (" PRIMARY KEY" if item.name == "Id" else "") for item in fields
            ]
            if definition.field("IsDeleted") is None:
                columns.append('"IsDeleted" INTEGER NOT NULL DEFAULT 0')
            self.conn.execute(f"CREATE TABLE {quote(table)} ({', '.join(columns)})")
        else:
            present = {name.lower() for name in self.db[table].columns_dict}
            for item in fields:
                if item.name.lower() not in present:
                    self.conn.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {_column_sql(item)}")
        existing = {index.name for index in self.db.table(table).indexes}
        wanted = [item.name for item in fields if self._indexed(item)]
        for column in wanted:
            name = f"idx_{table}_{column}"
            if name not in existing:
                self.conn.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")

    @staticmethod
    def _indexed(definition: FieldDef) -> bool:
        if definition.name.lower() in _UNINDEXED:
            return False
        return (
            definition.is_reference
            or definition.external_id
            or definition.unique
            or definition.name.lower() in _INDEXED
        )

    # ------------------------------------------------------------------ transactions

    def reader(self) -> tuple[sqlite3.Connection, bool]:
        """A connection for a query cursor, and whether it is the cursor's own.

        A file store gives each cursor a read-only connection of its own: a query locator
        read page by page must not keep a read snapshot open on the connection that writes
        (another process's commit would then make the next write fail at once with
        "database is locked"); the cursor reads one consistent snapshot, as a query locator
        does. An in-memory store has only its one connection.
        """
        if self.path is None:
            return self.conn, False
        try:
            conn = sqlite3.connect(
                str(self.path), check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS
            )
            conn.execute("PRAGMA query_only = ON")
        except sqlite3.Error:
            return self.conn, False
        return conn, True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A nestable transaction (SAVEPOINT): everything inside commits or rolls back together.

        The outermost level takes the write lock up front (``BEGIN IMMEDIATE``): a
        transaction that reads first and writes later could otherwise not wait for another
        process's write (SQLite answers "database is locked" at once to such an upgrade),
        and a simulator file shared by two processes (a dashboard and a sync) must queue
        requests, never fail them.
        """
        with self.lock:
            outer = self._depth == 0 and not self.conn.in_transaction
            name = f"sf_sp_{self._depth}"
            self._depth += 1
            self.conn.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                if outer:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute("COMMIT" if outer else f"RELEASE {name}")
            finally:
                self._depth -= 1

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """One commit for the transactions inside: each still rolls back on its own.

        Every :meth:`transaction` opened inside becomes a SAVEPOINT of one SQLite
        transaction, committed when the block ends, on an exception too: what the inner
        transactions committed is kept, as if each had committed on its own (the
        exception then goes on). A Bulk API batch runs its chunks (each its own Apex
        transaction) this way: one commit per 10,000 records instead of one per 200.
        Another process reading the file sees the batch when it ends (WAL readers keep
        their snapshot); one that writes waits for it (``BUSY_TIMEOUT_SECONDS``). Inside
        an open transaction it adds nothing.
        """
        with self.lock:
            if self._depth > 0 or self.conn.in_transaction:
                yield
                return
            self._depth += 1
            self._deferred = {}
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                try:
                    while self._deferred:
                        _key, (items, flush) = self._deferred.popitem()
                        flush(items)
                finally:
                    self._deferred = None
                    self._depth -= 1
                    self.conn.execute("COMMIT")

    def defer(self, key: str, items: Iterable[str], flush: Callable[[set[str]], None]) -> bool:
        """Inside :meth:`grouped`, collect ``items`` under ``key`` for one ``flush`` at its end.

        For derived values that depend only on what is stored (a recount), so that running
        them once for the whole group equals running them after each inner transaction:
        the group's end runs ``flush`` with every item collected, before its commit.

        Returns:
            False outside a group: the caller does the work now.
        """
        if self._deferred is None:
            return False
        held = self._deferred.setdefault(key, (set(), flush))
        held[0].update(items)
        return True

    # ------------------------------------------------------------------ rows

    def insert_many(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows (storage values) with one ``executemany`` per column set."""
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for row in rows:
            # A dict's values come in the order of its keys: the row's values by column.
            groups.setdefault(tuple(row), []).append(tuple(row.values()))
        for columns, values in groups.items():
            names = ", ".join(quote(column) for column in columns)
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", values)

    def update(self, table: str, record_id: str, changes: dict[str, Any]) -> None:
        """Write ``changes`` (storage values) to one row."""
        if not changes:
            return
        assignments = ", ".join(f"{quote(column)} = ?" for column in changes)
        self.conn.execute(
            f"UPDATE {quote(table)} SET {assignments} WHERE Id = ?", (*changes.values(), record_id)
        )

    def delete_rows(self, table: str, ids: Iterable[str]) -> None:
        """Remove rows for good (hard delete, recycle-bin purge)."""
        self.conn.executemany(f"DELETE FROM {quote(table)} WHERE Id = ?", [(item,) for item in ids])

    def get(self, table: str, record_id: str) -> dict[str, Any] | None:
        """One row as a column → storage-value dict, deleted or not."""
        rows = self.get_many(table, [record_id])
        return rows.get(record_id)

    def get_many(
        self, table: str, ids: Sequence[str], columns: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Rows by Id (18 characters), deleted or not: every column, or ``Id`` and ``columns``."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        wanted = "*" if columns is None else ", ".join(quote(c) for c in ("Id", *columns))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT {wanted} FROM {quote(table)} WHERE Id IN ({marks})"
            for row in self.select(sql, chunk):
                found[row["Id"]] = row
        return found

    def deleted_flags(self, table: str, ids: Sequence[str]) -> dict[str, int]:
        """``IsDeleted`` (0 or 1) by Id of the rows that exist: what a reference check needs,
        without reading whole rows."""
        found: dict[str, int] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row_id, deleted in self.conn.execute(
                f"SELECT Id, IsDeleted FROM {quote(table)} WHERE Id IN ({marks})", chunk
            ):
                found[row_id] = int(deleted or 0)
        return found

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a query and return rows as dicts."""
        cursor = self.conn.execute(sql, tuple(params))
        names = [item[0] for item in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.conn.execute(sql, tuple(params)).fetchone()
        return None if row is None else row[0]

    def optimize(self) -> None:
        """Refresh the query planner's statistics where they are stale (``PRAGMA optimize``).

        Without statistics SQLite takes any equality on an indexed column as selective and
        may pick an index that narrows nothing (``OwnerId`` of a one-user org, the
        ``IsDeleted`` index of an org file made before it was dropped) over an external
        Id's; with them it picks the index that narrows the rows. ``analysis_limit`` keeps each
        analysis to a sample, so the cost does not grow with the table. Called after
        large writes (Bulk API jobs) and when the store closes.
        """
        with self.lock:
            self.conn.execute("PRAGMA analysis_limit=1000")
            self.conn.execute("PRAGMA optimize")

    def close(self) -> None:
        """Close the database connection (refreshing the planner's statistics first)."""
        with contextlib.suppress(sqlite3.Error):  # read-only or busy: statistics are optional
            self.optimize()
        self.conn.close()
