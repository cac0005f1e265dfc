"""The runner's journal: runs, job progress, bookmarks and API calls, in SQLite.

The local runtime records everything it needs to resume after a crash at any point:

- **runs**: one row per primary sync, with its *signpost* (the run's start time, past
  which no bookmark moves) and its status; an unfinished run is resumed, not restarted;
- **job_runs** and **scopes**: which jobs of a run finished and which scopes of a job
  were executed, so a resumed run skips them;
- **bookmarks**: each job's plain JSON bookmark per key (a list and state, a campaign and
  activity type, ...), read and written only through this module;
- **api_calls**: calls per run, job and platform, for summaries and budgets.

The jobs that remember things across runs (the push, the import wizard, merged-away
people, open Bulk API jobs) keep their *ledger tables* through :attr:`Journal.ledgers`
(:class:`LedgerStore`), one small SQL interface that the PostgreSQL journal implements too,
so those ledgers live wherever the journal lives. :attr:`Journal.db` itself is for a job's
working tables of one run.

All writes go through :meth:`Journal.transaction` so a job can commit a batch's shadow
rows (see :mod:`cmsf_core.shadow`) and its bookmark atomically.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from cmsf_core.errors import ConfigError
from cmsf_core.jsontext import to_json

__all__ = ["Journal", "LedgerStore", "Rows", "Run"]

RUNNING = "running"
CACHE_KIB = 16 * 1024
"""Page cache of the journal's connection, in KiB."""


@dataclass(frozen=True)
class Run:
    """One primary sync run.

    Attributes:
        run_id: Unique id of the run.
        started_at: When the run first started (ISO UTC).
        signpost: The instant no bookmark may move past (the first start time).
        full: A full sync (own objects cleared and re-imported).
        status: ``running``, ``completed``, ``completed_with_errors``, ``stopped``, ``failed``.
        resumed: This run was resumed after an interruption.
        finished_at: When the run finished, if it did.
        reason: Why the run did not complete (failed jobs, a stop, a failure), if it did not.
    """

    run_id: str
    started_at: str
    signpost: str
    full: bool
    status: str
    resumed: bool = False
    finished_at: str | None = None
    reason: str | None = None


class Rows(Protocol):
    """What a ledger query returns (an SQLite or a psycopg cursor)."""

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """The remaining rows."""

    def __iter__(self) -> Iterator[Any]:
        """The remaining rows, one by one."""


class LedgerStore:
    """The journal's ledger tables: what jobs keep across runs, in the journal's database.

    SQL here is the subset SQLite and PostgreSQL share: ``?`` placeholders, ``INSERT ...
    ON CONFLICT``, ``rowid`` (every ledger table has one unless created ``WITHOUT ROWID``);
    writes join :meth:`Journal.transaction`. This class keeps them in the SQLite journal;
    the PostgreSQL journal's store is the same interface
    (:class:`~cmsf_core.distributed.pgjournal.PgLedgerStore`).

    Args:
        journal: The journal whose database holds the tables.
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def create(self, *statements: str) -> None:
        """Create tables and indexes (``CREATE ... IF NOT EXISTS``) in one transaction."""
        with self.journal.transaction():
            for statement in statements:
                self.journal.db.execute(statement)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement; the cursor of its rows."""
        return self.journal.db.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run ``sql`` for every row in one transaction."""
        with self.journal.transaction():
            self.journal.db.conn.executemany(sql, rows)

    def clear(self, tables: Iterable[str]) -> None:
        """Delete every row of those tables that exist."""
        names = set(self.journal.db.table_names())
        with self.journal.transaction():
            for table in tables:
                if table in names:
                    self.journal.db.execute(f"DELETE FROM {table}")


def ledger_tables(*, other_org: bool = False) -> tuple[str, ...]:
    """The ledger tables cleared when the journal is bound to another org or connection.

    Open Bulk API jobs are cleared only with ``other_org``: after a new connection to the
    same org they are still collected there (what they wrote is not written again), but
    a job of another org can never be collected in this one.
    """
    from cmsf_core.bulk_ledger import BULK_TABLES  # Bulk API jobs of the previous org
    from cmsf_core.imports.ledger import IMPORT_TABLES  # the imports' ledgers
    from cmsf_core.matching import MERGED_TABLE  # merges seen in the previous org
    from cmsf_core.push.ledger import PUSH_TABLES  # the push's ledgers

    return (*PUSH_TABLES, *IMPORT_TABLES, MERGED_TABLE, *(BULK_TABLES if other_org else ()))


class Journal:
    """The SQLite journal of the local runtime.

    Args:
        path: Database file; ``None`` keeps the journal in memory (tests).
    """

    tables_private = False
    """Whether the tables of :attr:`db` are seen by this process only (True for the
    distributed runtime's journal): jobs then pass no data to other jobs through them."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=60.0
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL: a commit is durable against a crash of this
            # process (it is in the WAL file at once); only a power loss or an OS crash can
            # lose the last transactions before a checkpoint, and those are re-done by the
            # resumed run (see the README, "What a crash can lose").
            conn.execute("PRAGMA synchronous=NORMAL")
            # The shadow and person indexes are keyed by random tokens: their B-tree pages
            # stay cached (bounded; SQLite's default is 2 MiB) as they grow.
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        else:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self.ledgers = LedgerStore(self)
        """The ledger tables of the jobs that remember across runs."""
        self._lock = threading.RLock()
        self._depth = 0
        self._create()

    def _create(self) -> None:
        db = self.db
        if "runs" not in db.table_names():
            db.table("runs").create(
                {
                    "run_id": str,
                    "started_at": str,
                    "signpost": str,
                    "full": int,
                    "status": str,
                    "resumes": int,
                    "finished_at": str,
                    "reason": str,
                },
                pk="run_id",
            )
        elif "reason" not in db.table("runs").columns_dict:  # a journal from before reasons
            db.table("runs").add_column("reason", str)
        if "job_runs" not in db.table_names():
            db.table("job_runs").create(
                {
                    "run_id": str,
                    "job": str,
                    "status": str,
                    "started_at": str,
                    "finished_at": str,
                    "scopes_done": int,
                    "records_read": int,
                    "records_written": int,
                    "failures": int,
                    "error": str,
                },
                pk=("run_id", "job"),
            )
        if "scopes" not in db.table_names():
            db.table("scopes").create(
                {"run_id": str, "job": str, "scope": str}, pk=("run_id", "job", "scope")
            )
        if "bookmarks" not in db.table_names():
            db.table("bookmarks").create({"job": str, "key": str, "value": str}, pk=("job", "key"))
        if "runner_lock" not in db.table_names():
            db.table("runner_lock").create(
                {"id": int, "pid": int, "host": str, "since": str}, pk="id"
            )
        if "api_calls" not in db.table_names():
            db.table("api_calls").create(
                {"run_id": str, "job": str, "platform": str, "calls": int},
                pk=("run_id", "job", "platform"),
            )
        if "resumable" not in db.table("runs").columns_dict:
            db.table("runs").add_column("resumable", int, not_null_default=0)
        if "binding" not in db.table_names():
            db.table("binding").create(
                {"id": int, "org_id": str, "generation": str, "bound_at": str}, pk="id"
            )
        if "pending" not in db.table_names():
            db.table("pending").create(
                {
                    "job": str,
                    "token": str,
                    "scope": str,
                    "locator": str,
                    "version": str,
                    "code": str,
                    "first_failed": str,
                    "attempts": int,
                },
                pk=("job", "token"),
            )
        if "oauth_grants" not in db.table_names():
            db.table("oauth_grants").create({"key": str, "sealed": str}, pk="key")

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes atomically; nested uses join the outer transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self.db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self.db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.db.execute("COMMIT")

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run ``sql`` for every row in one transaction (never one commit per row)."""
        with self.transaction():
            self.db.conn.executemany(sql, rows)

    def execute_script(self, *statements: str) -> None:
        """Run a few statements (scratch tables of a job) in one transaction."""
        with self.transaction():
            for statement in statements:
                self.db.execute(statement)

    # ------------------------------------------------------------------ runner lock

    def acquire(self, now: datetime) -> None:
        """Take the runner lock, so two runs never share a journal at the same time.

        A lock left by a process that no longer exists on this host is taken over.

        Raises:
            ConfigError: If another live process holds the lock.
        """
        with self.transaction():
            row = self.db.execute(
                "SELECT pid, host, since FROM runner_lock WHERE id = 1"
            ).fetchone()
            me = (os.getpid(), socket.gethostname())
            if row is not None and (row[0], row[1]) != me and _alive(row[0], row[1]):
                raise ConfigError(
                    f"another cmsf run (pid {row[0]} on {row[1]}, since {row[2]}) is using this "
                    "journal; wait for it to finish"
                )
            self.db.table("runner_lock").insert(
                {"id": 1, "pid": me[0], "host": me[1], "since": now.isoformat()},
                pk="id",
                replace=True,
            )

    def lock_holder(self) -> dict[str, Any] | None:
        """The live process holding the runner lock (``pid``, ``host``, ``since``), if any."""
        row = self.db.execute("SELECT pid, host, since FROM runner_lock WHERE id = 1").fetchone()
        if row is None or not _alive(row[0], row[1]):
            return None
        return {"pid": row[0], "host": row[1], "since": row[2]}

    def release(self) -> None:
        """Give the runner lock back (only if this process holds it)."""
        with self.transaction():
            self.db.execute(
                "DELETE FROM runner_lock WHERE id = 1 AND pid = ? AND host = ?",
                [os.getpid(), socket.gethostname()],
            )

    # ------------------------------------------------------------------ runs

    def open_run(self, now: datetime, *, full: bool = False) -> Run:
        """Resume the unfinished run if there is one, else start a new run at ``now``.

        A resumed run keeps its signpost and its ``full`` flag: bookmarks never move past
        the moment the interrupted run began. Unfinished means interrupted (a crash), or a
        full sync that stopped or failed after it began clearing: it stays a full sync
        until it completes.
        """
        with self.transaction():
            rows = self._unfinished_rows()
            if rows:
                row = rows[-1]
                self.db.table("runs").update(
                    row["run_id"],
                    {"resumes": row["resumes"] + 1, "status": RUNNING, "resumable": 0},
                )
                return Run(
                    run_id=row["run_id"],
                    started_at=row["started_at"],
                    signpost=row["signpost"],
                    full=bool(row["full"]),
                    status=RUNNING,
                    resumed=True,
                )
            stamp = now.isoformat()
            run = Run(
                run_id=uuid.uuid5(uuid.NAMESPACE_URL, f"cmsf-run:{stamp}:{self._count_runs()}").hex,
                started_at=stamp,
                signpost=stamp,
                full=full,
                status=RUNNING,
            )
            self.db.table("runs").insert(
                {
                    "run_id": run.run_id,
                    "started_at": run.started_at,
                    "signpost": run.signpost,
                    "full": int(full),
                    "status": RUNNING,
                    "resumes": 0,
                    "finished_at": None,
                }
            )
            return run

    def _count_runs(self) -> int:
        return int(self.db.table("runs").count)

    def _unfinished_rows(self) -> list[dict[str, Any]]:
        return list(
            self.db.table("runs").rows_where(
                "status = ? OR resumable = 1", [RUNNING], order_by="started_at"
            )
        )

    def unfinished_run(self) -> Run | None:
        """The run the next invocation resumes (interrupted, or a full sync not completed)."""
        rows = self._unfinished_rows()
        return self._to_run(rows[-1]) if rows else None

    def finish_run(
        self,
        run_id: str,
        status: str,
        now: datetime,
        reason: str | None = None,
        *,
        resumable: bool = False,
    ) -> None:
        """Mark a run finished with ``status`` and, if it did not complete, why.

        Args:
            run_id: The run.
            status: How it ended.
            now: When.
            reason: Why it did not complete.
            resumable: The next invocation resumes this run (a full sync that stopped).
        """
        with self.transaction():
            self.db.table("runs").update(
                run_id,
                {
                    "status": status,
                    "finished_at": now.isoformat(),
                    "reason": reason,
                    "resumable": int(resumable),
                },
            )

    def runs(self, limit: int = 20) -> list[Run]:
        """The most recent runs, newest first."""
        rows = self.db.table("runs").rows_where(order_by="started_at desc", limit=limit)
        return [self._to_run(row) for row in rows]

    @staticmethod
    def _to_run(row: dict[str, Any]) -> Run:
        return Run(
            run_id=row["run_id"],
            started_at=row["started_at"],
            signpost=row["signpost"],
            full=bool(row["full"]),
            status=row["status"],
            resumed=bool(row["resumes"]),
            finished_at=row["finished_at"],
            reason=row.get("reason"),
        )

    # ------------------------------------------------------------------ identity

    def binding(self) -> tuple[str, str] | None:
        """The org Id and connection generation the journal is bound to, if any."""
        row = self.db.execute("SELECT org_id, generation FROM binding WHERE id = 1").fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def bind(self, org_id: str, generation: str, now: datetime) -> str | None:
        """Bind the journal to one org and one connection; start clean state on a change.

        Everything the journal keeps (bookmarks, the shadow index, pending retries, the
        progress of an interrupted run) describes one org synced with one Campaign
        Monitor account over one connection. Used against another org, or after a new
        connection (another account, or a reset and connect), that state would make the
        engine skip what it never wrote there; so it is cleared and the run starts as a
        first sync. The run history stays.

        Args:
            org_id: The org the engine runs against.
            generation: The connection's generation (a digest of its connection key).
            now: When.

        Returns:
            What the journal was bound to, when it changed; None when it is the same.
        """
        with self.transaction():
            row = self.db.execute(
                "SELECT org_id, generation, bound_at FROM binding WHERE id = 1"
            ).fetchone()
            if row is not None and (row[0][:15], row[1]) == (org_id[:15], generation):
                return None
            before = None
            if row is not None:
                before = (
                    f"org {row[0][:15]}"
                    if row[0][:15] != org_id[:15]
                    else f"an earlier connection of org {row[0][:15]} (made before {row[2]})"
                )
                self._clear_state(now, other_org=row[0][:15] != org_id[:15])
            self.db.table("binding").insert(
                {"id": 1, "org_id": org_id, "generation": generation, "bound_at": now.isoformat()},
                pk="id",
                replace=True,
            )
            return before

    def _clear_state(self, now: datetime, *, other_org: bool) -> None:
        """Forget everything that describes the previous org (``other_org``) or connection."""
        for table in ("bookmarks", "shadow", "pending", "scopes"):
            if table in self.db.table_names():
                self.db.execute(f"DELETE FROM {table}")
        self.ledgers.clear(ledger_tables(other_org=other_org))
        self.db.execute(
            "UPDATE runs SET status = 'abandoned', resumable = 0, finished_at = ? "
            "WHERE status = ? OR resumable = 1",
            [now.isoformat(), RUNNING],
        )

    # ------------------------------------------------------------------ jobs and scopes

    def job_status(self, run_id: str, job: str) -> str | None:
        """Status of ``job`` in ``run_id`` (``running``, ``completed``, ...), or None."""
        rows = list(self.db.table("job_runs").rows_where("run_id = ? and job = ?", [run_id, job]))
        return rows[0]["status"] if rows else None

    def start_job(self, run_id: str, job: str, now: datetime) -> None:
        """Record that ``job`` started (or restarted after a crash)."""
        with self.transaction():
            self.db.table("job_runs").upsert(
                {
                    "run_id": run_id,
                    "job": job,
                    "status": RUNNING,
                    "started_at": now.isoformat(),
                    "finished_at": None,
                    "error": None,
                },
                pk=("run_id", "job"),
            )

    def finish_job(
        self, run_id: str, job: str, status: str, now: datetime, error: str | None = None
    ) -> None:
        """Record how ``job`` ended."""
        with self.transaction():
            self.db.table("job_runs").upsert(
                {
                    "run_id": run_id,
                    "job": job,
                    "status": status,
                    "finished_at": now.isoformat(),
                    "error": error,
                },
                pk=("run_id", "job"),
            )

    def add_job_counts(
        self, run_id: str, job: str, *, read: int = 0, written: int = 0, failures: int = 0
    ) -> None:
        """Add to the records read/written and failure counts of a job run."""
        with self.transaction():
            self.db.execute(
                "UPDATE job_runs SET records_read = COALESCE(records_read, 0) + ?, "
                "records_written = COALESCE(records_written, 0) + ?, "
                "failures = COALESCE(failures, 0) + ? WHERE run_id = ? AND job = ?",
                [read, written, failures, run_id, job],
            )

    def job_runs(self, run_id: str) -> list[dict[str, Any]]:
        """All job rows of a run, in start order."""
        return list(
            self.db.table("job_runs").rows_where("run_id = ?", [run_id], order_by="started_at")
        )

    def scope_done(self, run_id: str, job: str, scope: str) -> bool:
        """True if ``scope`` of ``job`` already executed in this run."""
        rows = self.db.execute(
            "SELECT 1 FROM scopes WHERE run_id = ? AND job = ? AND scope = ?", [run_id, job, scope]
        ).fetchone()
        return rows is not None

    def mark_scope_done(self, run_id: str, job: str, scope: str) -> None:
        """Record that ``scope`` of ``job`` executed in this run."""
        with self.transaction():
            self.db.table("scopes").insert(
                {"run_id": run_id, "job": job, "scope": scope},
                pk=("run_id", "job", "scope"),
                replace=True,
            )
            self.db.execute(
                "UPDATE job_runs SET scopes_done = COALESCE(scopes_done, 0) + 1 "
                "WHERE run_id = ? AND job = ?",
                [run_id, job],
            )

    # ------------------------------------------------------------------ bookmarks

    def bookmark(self, job: str, key: str = "") -> Any:
        """The JSON bookmark of ``job`` for ``key``, or None if it has none."""
        row = self.db.execute(
            "SELECT value FROM bookmarks WHERE job = ? AND key = ?", [job, key]
        ).fetchone()
        return json.loads(row[0]) if row else None

    def bookmarks(self, job: str) -> dict[str, Any]:
        """Every bookmark of ``job`` by key."""
        return {
            row["key"]: json.loads(row["value"])
            for row in self.db.table("bookmarks").rows_where("job = ?", [job])
        }

    def set_bookmark(self, job: str, key: str, value: Any) -> None:
        """Store the JSON bookmark of ``job`` for ``key``."""
        with self.transaction():
            self.db.table("bookmarks").insert(
                {"job": job, "key": key, "value": to_json(value)},
                pk=("job", "key"),
                replace=True,
            )

    def clear_bookmarks(self, job: str | None = None, key_prefix: str = "") -> None:
        """Forget bookmarks (of one job, optionally only keys starting with ``key_prefix``)."""
        with self.transaction():
            if job is None:
                self.db.execute("DELETE FROM bookmarks")
            else:
                self.db.execute(
                    "DELETE FROM bookmarks WHERE job = ? AND substr(key, 1, ?) = ?",
                    [job, len(key_prefix), key_prefix],
                )

    # ------------------------------------------------------------------ pending retries

    def add_pending(self, job: str, rows: list[dict[str, Any]], now: datetime) -> None:
        """Remember writes Salesforce refused, so later runs retry them until written.

        Args:
            job: The job that retries them.
            rows: ``{token, scope, locator, version, code}`` each: a non-personal key, the
                scope it belongs to (a list or campaign id), how to find the record again,
                the source version and the platform's error code.
            now: When they failed (kept from the first failure).
        """
        if not rows:
            return
        with self.transaction():
            self.db.conn.executemany(
                "INSERT INTO pending (job, token, scope, locator, version, code, first_failed, "
                "attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (job, token) DO UPDATE SET "
                "locator = excluded.locator, version = excluded.version, code = excluded.code, "
                "scope = excluded.scope, attempts = pending.attempts + 1",
                [
                    (
                        job,
                        r["token"],
                        r.get("scope") or "",
                        r.get("locator") or "",
                        r.get("version") or "",
                        r.get("code") or "",
                        now.isoformat(),
                    )
                    for r in rows
                ],
            )

    def remove_pending(self, job: str, tokens: list[str]) -> None:
        """Forget pending writes that are written now (or no longer wanted)."""
        if not tokens:
            return
        with self.transaction():
            self.db.conn.executemany(
                "DELETE FROM pending WHERE job = ? AND token = ?", [(job, t) for t in tokens]
            )

    def pending(self, job: str, scope: str | None = None) -> list[dict[str, Any]]:
        """The pending writes of ``job`` (of one scope), oldest version first."""
        where, params = "job = ?", [job]
        if scope is not None:
            where, params = "job = ? AND scope = ?", [job, scope]
        return list(self.db.table("pending").rows_where(where, params, order_by="version, token"))

    def pending_counts(self) -> dict[str, int]:
        """How many refused writes wait for a retry, per job."""
        return {
            job: int(count)
            for job, count in self.db.execute(
                "SELECT job, count(*) FROM pending GROUP BY job ORDER BY job"
            )
        }

    # ------------------------------------------------------------------ API calls

    def add_calls(self, run_id: str, job: str, platform: str, calls: int) -> None:
        """Add ``calls`` API calls to ``platform`` made by ``job`` in ``run_id``."""
        if calls <= 0:
            return
        with self.transaction():
            self.db.execute(
                "INSERT INTO api_calls (run_id, job, platform, calls) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run_id, job, platform) DO UPDATE SET calls = calls + excluded.calls",
                [run_id, job, platform, calls],
            )

    def calls(self, run_id: str) -> dict[str, dict[str, int]]:
        """API calls of a run as ``{job: {platform: calls}}``."""
        out: dict[str, dict[str, int]] = {}
        for row in self.db.table("api_calls").rows_where("run_id = ?", [run_id]):
            out.setdefault(row["job"], {})[row["platform"]] = row["calls"]
        return out

    def run_calls(self, run_id: str) -> dict[str, int]:
        """API calls of a whole run per platform (every job, the runtime's own, every resume)."""
        totals: dict[str, int] = {}
        for row in self.db.execute(
            "SELECT platform, SUM(calls) FROM api_calls WHERE run_id = ? GROUP BY platform",
            [run_id],
        ):
            totals[row[0]] = int(row[1])
        if "campaign_monitor" in totals:  # the writes are a part of those calls, even when 0
            totals.setdefault("campaign_monitor_writes", 0)
        return totals

    # ------------------------------------------------------------------ OAuth grants

    def oauth_grant(self, key: str) -> str | None:
        """The sealed Campaign Monitor OAuth grant kept under ``key`` (:mod:`cmsf_core.cm_oauth`)."""
        row = self.db.execute("SELECT sealed FROM oauth_grants WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else None

    def keep_oauth_grant(self, key: str, sealed: str) -> None:
        """Keep a rotated grant (sealed) for the next run; survives a rebind to another org."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO oauth_grants (key, sealed) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed",
                [key, sealed],
            )

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def _alive(pid: int, host: str) -> bool:
    """Whether process ``pid`` still runs (a lock from another host is assumed alive)."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
