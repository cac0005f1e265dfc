"""Benchmark of the SOQL engine alone: ``python -m sf_sim.soql.bench [--rows N]``.

Builds an in-memory org database with the standard objects (tables, collations and
indexes made by :class:`sf_sim.store.Store`), fills it with ``N`` Contacts (default 100,000) spread
over accounts and owners, and reports for each query shape: queries per second or rows
per second when paging through the whole result at the REST batch size of 2,000, and
the peak memory the paging used. The SQLite plan of the selective query is printed, so
a lost index shows up. Figures are reported, never asserted.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

from sf_sim.ids import IdGenerator
from sf_sim.schema import Schema
from sf_sim.soql import QueryCursor, run_query
from sf_sim.standard_objects import standard_schema
from sf_sim.store import Store

__all__ = ["build", "main"]

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
BATCH = 2000


def build(rows: int) -> tuple[sqlite3.Connection, Schema]:
    """An in-memory database with ``rows`` Contacts (1 in 100 without an account).

    Rows are written straight into the tables (no DML rules), so building stays fast.
    """
    schema = standard_schema()
    store = Store()
    for obj in schema:
        store.ensure_table(obj)
    conn = store.conn
    conn.execute("BEGIN")
    ids = IdGenerator()
    stamp = "2024-03-01T10:00:00.000+0000"
    users = [ids.next("005") for _ in range(20)]
    conn.executemany(
        'INSERT INTO "User" ("Id", "Name", "Email") VALUES (?, ?, ?)',
        [(u, f"User {n}", f"user{n}@example.com") for n, u in enumerate(users)],
    )
    accounts = [ids.next("001") for _ in range(max(rows // 100, 1))]
    conn.executemany(
        'INSERT INTO "Account" ("Id", "Name", "OwnerId", "IsDeleted") VALUES (?, ?, ?, 0)',
        [(a, f"Account {n:05d}", users[n % len(users)]) for n, a in enumerate(accounts)],
    )
    conn.executemany(
        'INSERT INTO "Contact" ("Id", "LastName", "Name", "Email", "AccountId", "OwnerId", '
        '"CreatedDate", "IsDeleted") VALUES (?, ?, ?, ?, ?, ?, ?, 0)',
        [
            (
                ids.next("003"),
                f"Last{(n * 7919) % rows:06d}",
                f"First Last{n:06d}",
                f"person{n}@example.com",
                None if n % 100 == 0 else accounts[n % len(accounts)],
                users[n % len(users)],
                stamp,
            )
            for n in range(rows)
        ],
    )
    conn.execute("COMMIT")
    return conn, schema


def _drain(conn: sqlite3.Connection, schema: Schema, soql: str) -> int:
    """Page through a result; counts top-level rows plus child-subquery rows."""
    cursor = run_query(conn, schema, soql, now=NOW)
    count = 0
    while not cursor.done:
        for record in cursor.fetch(BATCH):
            count += 1
            for value in record.values():
                if isinstance(value, dict) and "records" in value:
                    count += len(value["records"])
    return count


def _page_all(conn: sqlite3.Connection, schema: Schema, soql: str) -> tuple[int, float, int]:
    """Rows, seconds (untraced run) and peak traced memory (second run) of a full paging."""
    start = time.perf_counter()
    count = _drain(conn, schema, soql)
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    _drain(conn, schema, soql)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return count, elapsed, peak


def _repeat(action: Callable[[], object], seconds: float = 1.0) -> float:
    start = time.perf_counter()
    done = 0
    while time.perf_counter() - start < seconds:
        action()
        done += 1
    return done / (time.perf_counter() - start)


def _plan(conn: sqlite3.Connection, label: str, cursor: QueryCursor) -> None:
    compiled = cursor._compiled
    plan = conn.execute("EXPLAIN QUERY PLAN " + (compiled.sql or ""), compiled.params)
    print(f"{label}: " + "; ".join(str(row[-1]) for row in plan.fetchall()))


def main(argv: list[str] | None = None) -> None:
    """Build the data set and print one line per query shape."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="Contacts to create")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    conn, schema = build(args.rows)
    print(f"built {args.rows:,} contacts in {time.perf_counter() - started:.1f} s")
    target = f"person{args.rows // 2}@example.com"
    selective = f"SELECT Id, Email, Account.Name FROM Contact WHERE Email = '{target.upper()}'"
    cursor = run_query(conn, schema, selective, now=NOW)
    assert cursor.total_size == 1
    _plan(conn, "selective plan", cursor)
    rate = _repeat(lambda: run_query(conn, schema, selective, now=NOW).fetch(BATCH))
    print(f"selective (indexed Email, case-insensitive): {rate:,.0f} queries/s")
    dated = "SELECT Id FROM Contact WHERE CreatedDate = TODAY"
    _plan(conn, "date literal plan", run_query(conn, schema, dated, now=NOW))
    rate = _repeat(lambda: run_query(conn, schema, dated, now=NOW).fetch(BATCH))
    print(f"date literal range (indexed CreatedDate): {rate:,.0f} queries/s")
    count_rate = _repeat(
        lambda: run_query(
            conn, schema, "SELECT COUNT() FROM Contact WHERE AccountId = null", now=NOW
        )
    )
    print(f"COUNT() with a filter over {args.rows:,} rows: {count_rate:,.1f} queries/s")
    shapes = {
        "full scan ORDER BY LastName": "SELECT Id, LastName, Email FROM Contact ORDER BY LastName",
        "parent paths (Account.Name, Account.Owner.Name)": (
            "SELECT Id, Account.Name, Account.Owner.Name FROM Contact"
        ),
        "semi-join (Id IN sub-select)": (
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact "
            "WHERE LastName LIKE 'Last0%')"
        ),
        "child subquery (Accounts + their Contacts, rows incl. children)": (
            "SELECT Id, Name, (SELECT Id, Email FROM Contacts) FROM Account"
        ),
        "GROUP BY Account.Name with COUNT(Id)": (
            "SELECT Account.Name, COUNT(Id) FROM Contact GROUP BY Account.Name"
        ),
    }
    for label, soql in shapes.items():
        count, elapsed, peak = _page_all(conn, schema, soql)
        print(
            f"{label}: {count:,} rows in {elapsed:.2f} s = {count / elapsed:,.0f} rows/s, "
            f"peak {peak / 1_000_000:.1f} MB"
        )
    conn.close()


if __name__ == "__main__":
    main()
