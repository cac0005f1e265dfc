"""The account's SQLite store: schema, indexes and the transaction discipline.

One SQLite database holds one Campaign Monitor account, in memory by default or in a
file (reopening the file restores everything, the API key included). sqlite-utils
creates the tables and indexes; writes go through plain ``execute``/``executemany``
inside :meth:`Store.transaction`, a SAVEPOINT that the app opens around every request,
so an API error leaves the account exactly as it was.

Every instant is an integer of UTC epoch seconds (``*_ts`` columns).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

__all__ = ["SCHEMA", "Store"]

SCHEMA: dict[str, dict[str, Any]] = {
    "meta": {"columns": {"key": str, "value": str}, "pk": "key"},
    "clients": {
        "columns": {
            "id": str,
            "name": str,
            "contact_name": str,
            "email": str,
            "country": str,
            "timezone": str,
            "api_key": str,
            "credits": int,
            "primary_contact": str,
            "billing": str,
            "created_ts": int,
        },
        "pk": "id",
    },
    "admins": {"columns": {"email": str, "name": str, "status": str}, "pk": "email"},
    "people": {
        "columns": {
            "client_id": str,
            "email": str,
            "name": str,
            "access_level": int,
            "status": str,
        },
        "pk": ("client_id", "email"),
    },
    "lists": {
        "columns": {
            "id": str,
            "client_id": str,
            "title": str,
            "unsubscribe_page": str,
            "unsubscribe_setting": str,
            "confirmed_opt_in": int,
            "confirmation_page": str,
            "add_unsubs_to_supp": int,
            "scrub_active": int,
            "two_click": int,
            "deleted": int,
            "created_ts": int,
        },
        "pk": "id",
    },
    "fields": {
        "columns": {
            "id": int,
            "list_id": str,
            "key": str,
            "name": str,
            "data_type": str,
            "options": str,
            "visible": int,
            "deleted": int,
        },
        "pk": "id",
    },
    "subscribers": {
        "columns": {
            "id": int,
            "list_id": str,
            "email": str,
            "email_norm": str,
            "name": str,
            "state": str,
            "state_ts": int,
            "joined_ts": int,
            "consent_track": str,
            "mobile": str,
            "consent_sms": str,
            "reads_with": str,
            "fields": str,
        },
        "pk": "id",
    },
    "history": {
        "columns": {"id": int, "list_id": str, "email_norm": str, "state": str, "ts": int},
        "pk": "id",
    },
    "suppression": {
        "columns": {"client_id": str, "email_norm": str, "email": str, "reason": str, "ts": int},
        "pk": ("client_id", "email_norm"),
    },
    "pending": {
        "columns": {"id": int, "ts": int, "kind": str, "payload": str},
        "pk": "id",
    },
    "segments": {
        "columns": {"id": str, "list_id": str, "title": str, "rules": str, "deleted": int},
        "pk": "id",
    },
    "campaigns": {
        "columns": {
            "id": str,
            "client_id": str,
            "name": str,
            "subject": str,
            "from_name": str,
            "from_email": str,
            "reply_to": str,
            "html_url": str,
            "text_url": str,
            "status": str,
            "created_ts": int,
            "scheduled_ts": int,
            "sent_ts": int,
            "hidden": int,
            "list_ids": str,
            "segment_ids": str,
            "tags": str,
            "links": str,
            "token": str,
            "activity": int,
        },
        "pk": "id",
    },
    "recipients": {
        "columns": {
            "id": int,
            "source": str,
            "source_id": str,
            "email": str,
            "list_id": str,
            "ts": int,
        },
        "pk": "id",
    },
    "activity": {
        "columns": {
            "id": int,
            "source": str,
            "source_id": str,
            "kind": str,
            "email": str,
            "list_id": str,
            "ts": int,
            "ip": str,
            "lat": float,
            "lon": float,
            "city": str,
            "region": str,
            "country_code": str,
            "country_name": str,
            "url": str,
            "bounce_type": str,
            "reason": str,
            "mail_client": str,
        },
        "pk": "id",
    },
    "smart_emails": {
        "columns": {
            "id": str,
            "client_id": str,
            "name": str,
            "status": str,
            "created_ts": int,
            "sender": str,
            "reply_to": str,
            "subject": str,
            "html": str,
            "text": str,
            "variables": str,
            "list_id": str,
            "inline_css": int,
        },
        "pk": "id",
    },
    "messages": {
        "columns": {
            "id": str,
            "seq": int,
            "client_id": str,
            "smart_email_id": str,
            "grp": str,
            "ts": int,
            "delivered_ts": int,
            "final_status": str,
            "recipient": str,
            "sender": str,
            "subject": str,
            "message": str,
            "resendable": int,
        },
        "pk": "id",
    },
    "journeys": {
        "columns": {
            "id": str,
            "client_id": str,
            "list_id": str,
            "name": str,
            "status": str,
            "trigger_type": str,
        },
        "pk": "id",
    },
    "journey_emails": {
        "columns": {
            "id": str,
            "journey_id": str,
            "name": str,
            "position": int,
            "delay_s": int,
        },
        "pk": "id",
    },
    "webhooks": {
        "columns": {
            "id": str,
            "list_id": str,
            "events": str,
            "url": str,
            "format": str,
            "status": str,
        },
        "pk": "id",
    },
    "outbox": {
        "columns": {"id": int, "webhook_id": str, "url": str, "ts": int, "payload": str},
        "pk": "id",
    },
    "tokens": {
        "columns": {
            "access": str,
            "refresh": str,
            "expires_ts": int,
            "revoked": int,
            "scope": str,
        },
        "pk": "access",
    },
    "grants": {
        "columns": {"code": str, "redirect_uri": str, "scope": str, "used": int},
        "pk": "code",
    },
}

_INDEXES: list[tuple[str, list[str], bool]] = [
    ("subscribers", ["list_id", "email_norm"], True),
    ("subscribers", ["list_id", "state", "email_norm"], False),
    # Each page order of the list endpoints has an index that yields it, so a page is an
    # index range, never a sort of the whole list (email, date and name order).
    ("subscribers", ["list_id", "state", "state_ts", "email_norm"], False),
    ("subscribers", ["list_id", "state", "name", "email_norm"], False),
    ("subscribers", ["email_norm"], False),
    ("history", ["list_id", "state", "ts"], False),
    ("pending", ["ts", "id"], False),
    ("recipients", ["source", "source_id", "email"], False),
    ("recipients", ["email"], False),
    ("activity", ["source", "source_id", "kind", "ts"], False),
    ("activity", ["email", "list_id"], False),
    ("fields", ["list_id"], False),
    ("messages", ["client_id", "seq"], False),
    ("lists", ["client_id"], False),
]

_EXPRESSION_INDEXES = [
    # Campaign recipients in email order (``lower(email)``, then insertion order).
    "CREATE INDEX IF NOT EXISTS idx_recipients_email_order "
    "ON recipients (source, source_id, lower(email))",
]


CACHE_KIB = 32 * 1024
"""Page cache of a file store's connection, in KiB."""


class Store:
    """One SQLite database and the lock that serialises access to it.

    Args:
        path: A database file, or ``None`` for a private in-memory database.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        conn = sqlite3.connect(
            str(self.path) if self.path else ":memory:",
            check_same_thread=False,
            isolation_level=None,
            timeout=60.0,  # another process's transaction on the same file: wait, never fail
        )
        conn.execute("PRAGMA journal_mode=WAL" if self.path else "PRAGMA journal_mode=MEMORY")
        conn.execute("PRAGMA synchronous=NORMAL")
        if self.path:
            # A client pages through 100,000s of subscribers and activities; with SQLite's
            # default cache (2 MiB) each page of 1,000 rows reads its table pages from the
            # file again. Bounded, so memory stays flat however big the account grows.
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self._depth = 0
        self._counts: dict[tuple[str, tuple[Any, ...]], tuple[tuple[int, int], int]] = {}
        self._create()

    def _create(self) -> None:
        for name, spec in SCHEMA.items():
            self.db.table(name).create(spec["columns"], pk=spec["pk"], if_not_exists=True)
        for table, columns, unique in _INDEXES:
            self.db.table(table).create_index(columns, unique=unique, if_not_exists=True)
        for statement in _EXPRESSION_INDEXES:
            self.conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block atomically (nestable); roll back if it raises.

        Yields:
            Nothing; use the store's ``execute`` helpers inside.
        """
        with self.lock:
            # The outermost level takes the write lock up front, so a read-then-write
            # transaction waits for another process's write instead of failing at once.
            outer = self._depth == 0 and not self.conn.in_transaction
            name = f"sp{self._depth}"
            self._depth += 1
            self.conn.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT {name}")
            try:
                yield
            except BaseException as exc:
                keep = getattr(exc, "commit", False)
                if outer:
                    self.conn.execute("COMMIT" if keep else "ROLLBACK")
                else:
                    if not keep:
                        self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute("COMMIT" if outer else f"RELEASE {name}")
            finally:
                self._depth -= 1

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> sqlite3.Cursor:
        """Run one statement."""
        with self.lock:
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run one statement for many parameter rows."""
        with self.lock:
            self.conn.executemany(sql, rows)

    def one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> dict[str, Any] | None:
        """The first row of a query as a dict, or ``None``."""
        with self.lock:
            cur = self.conn.execute(sql, params)
            row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def all(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        """All rows of a query as dicts."""
        with self.lock:
            cur = self.conn.execute(sql, params)
            rows = cur.fetchall()
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def scalar(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        """The first column of the first row, or ``None``."""
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def count(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> int:
        """A ``SELECT COUNT(*) ...`` answered once per read of the same rows.

        A client pages through a read with the same filter; the total of every page is the
        same until something is written (here or by another process on the same file), so
        it is counted once and remembered until then.
        """
        key = (sql, tuple(params))
        with self.lock:
            stamp = (
                self.conn.total_changes,
                int(self.conn.execute("PRAGMA data_version").fetchone()[0]),
            )
            held = self._counts.get(key)
            if held is not None and held[0] == stamp:
                return held[1]
            total = int(self.conn.execute(sql, params).fetchone()[0] or 0)
            if len(self._counts) >= 256:
                self._counts.clear()
            self._counts[key] = (stamp, total)
            return total

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row and return its rowid."""
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        cur = self.conn.execute(
            f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', list(row.values())
        )
        return int(cur.lastrowid or 0)

    def meta_get(self, key: str) -> str | None:
        """A value of the account's key/value metadata."""
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def meta_set(self, key: str, value: str) -> None:
        """Set a value of the account's key/value metadata."""
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def wipe(self) -> None:
        """Delete every row of every table (``Account.reset``)."""
        with self.transaction():
            for name in SCHEMA:
                self.execute(f'DELETE FROM "{name}"')

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every table's rows in a stable order (for snapshots)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for name, spec in SCHEMA.items():
            pk = spec["pk"]
            order = ", ".join(f'"{c}"' for c in (pk if isinstance(pk, tuple) else (pk,)))
            out[name] = self.all(f'SELECT * FROM "{name}" ORDER BY {order}')
        return out

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
