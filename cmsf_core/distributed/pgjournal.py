"""The journal on PostgreSQL: the distributed runtime's shared state.

:class:`PgJournal` is the same storage interface as the SQLite :class:`~cmsf_core.state.Journal`
(it is a subclass and overrides every public method), so jobs, the shadow index and the
runtimes use either without knowing which. Every worker process and the coordinator open
their own connection; PostgreSQL's transactions and row locks keep them consistent:

- **runs, job_runs, scopes, bookmarks, api_calls, binding, pending, shadow**: as in SQLite;
- **runner_lease**: the runner lock as a *lease* (holder, expiry) that its holder renews;
  a holder that dies stops renewing and the lease can be taken once it has expired, from
  any machine (a pid cannot be checked across hosts);
- **dist_groups**: the tasks of a distributed run (a job's scopes of one client), with
  their claim (which worker, until when), attempts, status and error;
- **dist_written**, **dist_counts**: what the workers' tasks wrote and read, for the run's
  summary; **dist_message_folds**: the run's maintenance messages folded across processes
  (:mod:`cmsf_core.distributed.messages`);
- **dist_engine_writes**: the push's notes of what workers wrote to Contacts and Leads
  (value tokens), for the push ledger;
- the **ledger tables** of the jobs that remember across runs (the push's, the import
  wizard's, the people merged away, open Bulk API jobs): :attr:`PgJournal.ledgers`
  (:class:`PgLedgerStore`), the same SQL interface as the SQLite journal's, so whichever
  machine coordinates the next run (or resumes this one) finds them, and every worker
  reads the merges change capture recorded.

``db`` is an SQLite database of this process only (:attr:`PgJournal.tables_private`), for
working tables of one run: the person index, campaign-member joins, reconciliation
seen-sets, rebuilt by whichever process runs a scope. On a worker it is a scratch file; on
the coordinator (``side`` given) the runner's journal file, which holds nothing a later
run needs. Data passed between jobs through ``db`` (the member feed) is not shared with
workers; jobs check :attr:`tables_private` and read from the platforms instead.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlite_utils

from cmsf_core.errors import ConfigError
from cmsf_core.jsontext import to_json
from cmsf_core.shadow import SYNCED_OBJECTS
from cmsf_core.state import RUNNING, Journal, LedgerStore, Rows, Run, ledger_tables

__all__ = ["SCHEMA", "TERMINAL", "PgJournal", "PgLedgerStore", "PgShadowStore"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY, started_at TEXT, signpost TEXT, "full" INTEGER,
        status TEXT, resumes INTEGER, finished_at TEXT, reason TEXT,
        resumable INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS job_runs (
        run_id TEXT, job TEXT, status TEXT, started_at TEXT, finished_at TEXT,
        scopes_done INTEGER, records_read INTEGER, records_written INTEGER,
        failures INTEGER, error TEXT, PRIMARY KEY (run_id, job))""",
    """CREATE TABLE IF NOT EXISTS scopes (
        run_id TEXT, job TEXT, scope TEXT, PRIMARY KEY (run_id, job, scope))""",
    """CREATE TABLE IF NOT EXISTS bookmarks (
        job TEXT, key TEXT, value TEXT, PRIMARY KEY (job, key))""",
    """CREATE TABLE IF NOT EXISTS api_calls (
        run_id TEXT, job TEXT, platform TEXT, calls BIGINT, PRIMARY KEY (run_id, job, platform))""",
    """CREATE TABLE IF NOT EXISTS binding (
        id INTEGER PRIMARY KEY, org_id TEXT, generation TEXT, bound_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS pending (
        job TEXT, token TEXT, scope TEXT, locator TEXT, version TEXT, code TEXT,
        first_failed TEXT, attempts INTEGER, PRIMARY KEY (job, token))""",
    """CREATE TABLE IF NOT EXISTS shadow (
        object TEXT, key TEXT, scope TEXT, sf_id TEXT, digest TEXT, version TEXT,
        PRIMARY KEY (object, key))""",
    "CREATE INDEX IF NOT EXISTS shadow_sf_id ON shadow (object, sf_id)",
    "CREATE INDEX IF NOT EXISTS shadow_scope ON shadow (object, scope)",
    """CREATE TABLE IF NOT EXISTS runner_lease (
        id INTEGER PRIMARY KEY, holder TEXT, host TEXT, pid INTEGER, since TEXT,
        expires_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS dist_groups (
        run_id TEXT, job TEXT, grp TEXT, scopes TEXT, status TEXT, attempts INTEGER,
        claimed_by TEXT, claim_until TEXT, error TEXT, published_at TEXT,
        PRIMARY KEY (run_id, job, grp))""",
    "ALTER TABLE dist_groups ADD COLUMN IF NOT EXISTS ran_by TEXT",
    """CREATE TABLE IF NOT EXISTS dist_written (
        run_id TEXT, object TEXT, sf_id TEXT, PRIMARY KEY (run_id, object, sf_id))""",
    """CREATE TABLE IF NOT EXISTS dist_counts (
        run_id TEXT, kind TEXT, object TEXT, n BIGINT, PRIMARY KEY (run_id, kind, object))""",
    """CREATE TABLE IF NOT EXISTS dist_engine_writes (
        seq BIGSERIAL PRIMARY KEY, object TEXT, tokens TEXT, created INTEGER)""",
    "CREATE TABLE IF NOT EXISTS oauth_grants (key TEXT PRIMARY KEY, sealed TEXT)",
    """CREATE TABLE IF NOT EXISTS dist_message_folds (
        run_id TEXT, job TEXT, code TEXT, topic TEXT, seq BIGSERIAL, body TEXT,
        PRIMARY KEY (run_id, job, code, topic))""",
)
"""The PostgreSQL schema (idempotent: every statement may run again)."""

TERMINAL = frozenset({"completed", "failed", "stopped", "poison"})
"""States in which a task has ended."""

_SCHEMA_LOCK = 727_017
"""Advisory lock id serialising schema creation between processes."""


def _ts(value: datetime) -> str:
    return value.isoformat()


class PgJournal(Journal):
    """The journal in a PostgreSQL database.

    Args:
        url: A libpq URL (``postgresql://user:pass@host:port/db`` or a socket URL).
        lease_seconds: How long a runner lease lasts without renewal.

    Raises:
        ConfigError: If the database cannot be reached (the URL's password never appears).
    """

    tables_private = True
    """The tables of :attr:`db` are this process's own (see the module's docstring)."""

    def __init__(
        self, url: str, *, lease_seconds: float = 60.0, side: Path | str | None = None
    ) -> None:
        self.path = None
        self.url = url
        self.lease_seconds = lease_seconds
        self.holder = uuid.uuid4().hex
        try:
            self.pg = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            from cmsf_core.distributed.config import redact

            raise ConfigError(
                f"cannot reach the journal database {redact(url)}: {type(exc).__name__}"
            ) from None
        self._lock = threading.RLock()
        self._depth = 0
        self._tx: Any = None
        with self.pg.transaction():
            self.pg.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
            for statement in SCHEMA:
                self.pg.execute(statement)
        self._scratch_file: Any = None
        self.side = side
        if side is not None:  # the coordinator's runner file (working tables only)
            Path(side).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(side), check_same_thread=False, isolation_level=None, timeout=60.0
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        else:
            # closed (and removed) by close(): the scratch lives as long as the journal
            scratch = tempfile.NamedTemporaryFile(prefix="cmsf-scratch-", suffix=".db")  # noqa: SIM115
            self._scratch_file = scratch
            conn = sqlite3.connect(scratch.name, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
        self.db = sqlite_utils.Database(conn)
        self.ledgers: LedgerStore = PgLedgerStore(self)
        """The ledger tables of the jobs that remember across runs, in PostgreSQL."""

    # ------------------------------------------------------------------ plumbing

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cursor = self.pg.execute(sql, list(params))
            return list(cursor.fetchall()) if cursor.description is not None else []

    def _x(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return int(self.pg.execute(sql, list(params)).rowcount)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [list(r) for r in rows]
        if not batch:
            return
        with self._lock, self.transaction(), self.pg.cursor() as cursor:
            cursor.executemany(sql, batch)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes atomically; nested uses join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self.pg.transaction():
                self._depth = 1
                self.db.execute("BEGIN")
                try:
                    yield
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
                else:
                    self.db.execute("COMMIT")
                finally:
                    self._depth = 0

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run ``sql`` (``?`` placeholders) on the scratch database for every row."""
        with self.transaction():
            self.db.conn.executemany(sql, rows)

    def execute_script(self, *statements: str) -> None:
        """Run statements on the scratch database."""
        for statement in statements:
            self.db.execute(statement)

    # ------------------------------------------------------------------ runner lease

    def acquire(self, now: datetime) -> None:
        """Take the runner lease (held until :meth:`release` or ``lease_seconds`` unrenewed).

        Raises:
            ConfigError: If another live holder has it.
        """
        import os
        import socket

        expires = _ts(now + timedelta(seconds=self.lease_seconds))
        with self.transaction():
            rows = self._q(
                "SELECT holder, host, pid, since, expires_at FROM runner_lease WHERE id = 1 "
                "FOR UPDATE"
            )
            if rows and rows[0][0] != self.holder and str(rows[0][4]) > _ts(now):
                _, host, pid, since, until = rows[0]
                raise ConfigError(
                    f"another cmsf run (pid {pid} on {host}, since {since}) holds the "
                    f"runner lease until {until}; wait for it to finish"
                )
            self._x(
                "INSERT INTO runner_lease (id, holder, host, pid, since, expires_at) "
                "VALUES (1, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                "holder = excluded.holder, host = excluded.host, pid = excluded.pid, "
                "since = excluded.since, expires_at = excluded.expires_at",
                [self.holder, socket.gethostname(), os.getpid(), _ts(now), expires],
            )

    def renew(self, now: datetime) -> bool:
        """Extend this holder's lease; False if it was lost (taken over after expiry)."""
        return (
            self._x(
                "UPDATE runner_lease SET expires_at = %s WHERE id = 1 AND holder = %s",
                [_ts(now + timedelta(seconds=self.lease_seconds)), self.holder],
            )
            == 1
        )

    def lock_holder(self) -> dict[str, Any] | None:
        """The holder of an unexpired lease (``pid``, ``host``, ``since``), if any."""
        from cmsf_core.clock import SystemClock

        rows = self._q("SELECT pid, host, since, expires_at FROM runner_lease WHERE id = 1")
        if not rows or str(rows[0][3]) <= _ts(SystemClock().now()):
            return None
        return {"pid": rows[0][0], "host": rows[0][1], "since": rows[0][2]}

    def release(self) -> None:
        """Give the lease back (only if this holder has it)."""
        self._x("DELETE FROM runner_lease WHERE id = 1 AND holder = %s", [self.holder])

    # ------------------------------------------------------------------ runs

    def _run_rows(
        self, where: str, params: Sequence[Any] = (), tail: str = ""
    ) -> list[dict[str, Any]]:
        rows = self._q(
            'SELECT run_id, started_at, signpost, "full", status, resumes, finished_at, reason, '
            f"resumable FROM runs WHERE {where} {tail}",
            params,
        )
        keys = ("run_id", "started_at", "signpost", "full", "status", "resumes", "finished_at",
                "reason", "resumable")  # fmt: skip
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def _unfinished_rows(self) -> list[dict[str, Any]]:
        return self._run_rows("status = %s OR resumable = 1", [RUNNING], "ORDER BY started_at")

    def _count_runs(self) -> int:
        return int(self._q("SELECT count(*) FROM runs")[0][0])

    def open_run(self, now: datetime, *, full: bool = False) -> Run:
        """Resume the unfinished run if there is one, else start a new run at ``now``."""
        with self.transaction():
            self._q("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK + 1])
            rows = self._unfinished_rows()
            if rows:
                row = rows[-1]
                self._x(
                    "UPDATE runs SET resumes = resumes + 1, status = %s, resumable = 0 "
                    "WHERE run_id = %s",
                    [RUNNING, row["run_id"]],
                )
                return Run(
                    run_id=row["run_id"],
                    started_at=row["started_at"],
                    signpost=row["signpost"],
                    full=bool(row["full"]),
                    status=RUNNING,
                    resumed=True,
                )
            stamp = _ts(now)
            run = Run(
                run_id=uuid.uuid5(uuid.NAMESPACE_URL, f"cmsf-run:{stamp}:{self._count_runs()}").hex,
                started_at=stamp,
                signpost=stamp,
                full=full,
                status=RUNNING,
            )
            self._x(
                'INSERT INTO runs (run_id, started_at, signpost, "full", status, resumes) '
                "VALUES (%s, %s, %s, %s, %s, 0)",
                [run.run_id, stamp, stamp, int(full), RUNNING],
            )
            return run

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
        """Mark a run finished with ``status`` and, if it did not complete, why."""
        self._x(
            "UPDATE runs SET status = %s, finished_at = %s, reason = %s, resumable = %s "
            "WHERE run_id = %s",
            [status, _ts(now), reason, int(resumable), run_id],
        )

    def runs(self, limit: int = 20) -> list[Run]:
        """The most recent runs, newest first."""
        return [
            self._to_run(r)
            for r in self._run_rows("TRUE", [limit], "ORDER BY started_at DESC LIMIT %s")
        ]

    def run_status(self, run_id: str) -> str | None:
        """The status of one run, or None if there is no such run."""
        rows = self._q("SELECT status FROM runs WHERE run_id = %s", [run_id])
        return str(rows[0][0]) if rows else None

    def run(self, run_id: str) -> Run | None:
        """One run by id."""
        rows = self._run_rows("run_id = %s", [run_id])
        return self._to_run(rows[0]) if rows else None

    # ------------------------------------------------------------------ identity

    def binding(self) -> tuple[str, str] | None:
        """The org Id and connection generation the journal is bound to, if any."""
        rows = self._q("SELECT org_id, generation FROM binding WHERE id = 1")
        return None if not rows else (str(rows[0][0]), str(rows[0][1]))

    def bind(self, org_id: str, generation: str, now: datetime) -> str | None:
        """Bind the journal to one org and one connection; start clean state on a change."""
        with self.transaction():
            rows = self._q(
                "SELECT org_id, generation, bound_at FROM binding WHERE id = 1 FOR UPDATE"
            )
            if rows and (rows[0][0][:15], rows[0][1]) == (org_id[:15], generation):
                return None
            before = None
            if rows:
                row = rows[0]
                before = (
                    f"org {row[0][:15]}"
                    if row[0][:15] != org_id[:15]
                    else f"an earlier connection of org {row[0][:15]} (made before {row[2]})"
                )
                self._clear_state(now, other_org=row[0][:15] != org_id[:15])
            self._x(
                "INSERT INTO binding (id, org_id, generation, bound_at) VALUES (1, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, "
                "generation = excluded.generation, bound_at = excluded.bound_at",
                [org_id, generation, _ts(now)],
            )
            return before

    def _clear_state(self, now: datetime, *, other_org: bool) -> None:
        for table in ("bookmarks", "shadow", "pending", "scopes", "dist_groups"):
            self._x(f"DELETE FROM {table}")
        self.ledgers.clear(ledger_tables(other_org=other_org))
        self._x(
            "UPDATE runs SET status = 'abandoned', resumable = 0, finished_at = %s "
            "WHERE status = %s OR resumable = 1",
            [_ts(now), RUNNING],
        )

    # ------------------------------------------------------------------ jobs and scopes

    def job_status(self, run_id: str, job: str) -> str | None:
        """Status of ``job`` in ``run_id``, or None."""
        rows = self._q("SELECT status FROM job_runs WHERE run_id = %s AND job = %s", [run_id, job])
        return str(rows[0][0]) if rows else None

    def start_job(self, run_id: str, job: str, now: datetime) -> None:
        """Record that ``job`` started (or restarted after a crash)."""
        self._x(
            "INSERT INTO job_runs (run_id, job, status, started_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (run_id, job) DO UPDATE SET status = excluded.status, "
            "started_at = excluded.started_at, finished_at = NULL, error = NULL",
            [run_id, job, RUNNING, _ts(now)],
        )

    def finish_job(
        self, run_id: str, job: str, status: str, now: datetime, error: str | None = None
    ) -> None:
        """Record how ``job`` ended."""
        self._x(
            "INSERT INTO job_runs (run_id, job, status, finished_at, error) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (run_id, job) DO UPDATE SET "
            "status = excluded.status, finished_at = excluded.finished_at, error = excluded.error",
            [run_id, job, status, _ts(now), error],
        )

    def add_job_counts(
        self, run_id: str, job: str, *, read: int = 0, written: int = 0, failures: int = 0
    ) -> None:
        """Add to the records read/written and failure counts of a job run."""
        self._x(
            "UPDATE job_runs SET records_read = COALESCE(records_read, 0) + %s, "
            "records_written = COALESCE(records_written, 0) + %s, "
            "failures = COALESCE(failures, 0) + %s WHERE run_id = %s AND job = %s",
            [read, written, failures, run_id, job],
        )

    def job_runs(self, run_id: str) -> list[dict[str, Any]]:
        """All job rows of a run, in start order."""
        keys = ("run_id", "job", "status", "started_at", "finished_at", "scopes_done",
                "records_read", "records_written", "failures", "error")  # fmt: skip
        rows = self._q(
            f"SELECT {', '.join(keys)} FROM job_runs WHERE run_id = %s ORDER BY started_at",
            [run_id],
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def scope_done(self, run_id: str, job: str, scope: str) -> bool:
        """True if ``scope`` of ``job`` already executed in this run."""
        return bool(
            self._q(
                "SELECT 1 FROM scopes WHERE run_id = %s AND job = %s AND scope = %s",
                [run_id, job, scope],
            )
        )

    def mark_scope_done(self, run_id: str, job: str, scope: str) -> None:
        """Record that ``scope`` of ``job`` executed in this run (once, however often told)."""
        with self.transaction():
            added = self._x(
                "INSERT INTO scopes (run_id, job, scope) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [run_id, job, scope],
            )
            if added:
                self._x(
                    "UPDATE job_runs SET scopes_done = COALESCE(scopes_done, 0) + 1 "
                    "WHERE run_id = %s AND job = %s",
                    [run_id, job],
                )

    # ------------------------------------------------------------------ bookmarks

    def bookmark(self, job: str, key: str = "") -> Any:
        """The JSON bookmark of ``job`` for ``key``, or None if it has none."""
        rows = self._q("SELECT value FROM bookmarks WHERE job = %s AND key = %s", [job, key])
        return json.loads(rows[0][0]) if rows else None

    def bookmarks(self, job: str) -> dict[str, Any]:
        """Every bookmark of ``job`` by key."""
        return {
            str(k): json.loads(v)
            for k, v in self._q("SELECT key, value FROM bookmarks WHERE job = %s", [job])
        }

    def set_bookmark(self, job: str, key: str, value: Any) -> None:
        """Store the JSON bookmark of ``job`` for ``key``."""
        self._x(
            "INSERT INTO bookmarks (job, key, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (job, key) DO UPDATE SET value = excluded.value",
            [job, key, to_json(value)],
        )

    def clear_bookmarks(self, job: str | None = None, key_prefix: str = "") -> None:
        """Forget bookmarks (of one job, optionally only keys starting with ``key_prefix``)."""
        if job is None:
            self._x("DELETE FROM bookmarks")
        else:
            self._x(
                "DELETE FROM bookmarks WHERE job = %s AND substr(key, 1, %s) = %s",
                [job, len(key_prefix), key_prefix],
            )

    # ------------------------------------------------------------------ pending retries

    def add_pending(self, job: str, rows: list[dict[str, Any]], now: datetime) -> None:
        """Remember writes Salesforce refused, so later runs retry them until written."""
        self._many(
            "INSERT INTO pending (job, token, scope, locator, version, code, first_failed, "
            "attempts) VALUES (%s, %s, %s, %s, %s, %s, %s, 1) ON CONFLICT (job, token) DO UPDATE "
            "SET locator = excluded.locator, version = excluded.version, code = excluded.code, "
            "scope = excluded.scope, attempts = pending.attempts + 1",
            [
                (
                    job,
                    r["token"],
                    r.get("scope") or "",
                    r.get("locator") or "",
                    r.get("version") or "",
                    r.get("code") or "",
                    _ts(now),
                )
                for r in rows
            ],
        )

    def remove_pending(self, job: str, tokens: list[str]) -> None:
        """Forget pending writes that are written now (or no longer wanted)."""
        if tokens:
            self._x("DELETE FROM pending WHERE job = %s AND token = ANY(%s)", [job, list(tokens)])

    def pending(self, job: str, scope: str | None = None) -> list[dict[str, Any]]:
        """The pending writes of ``job`` (of one scope), oldest version first."""
        keys = ("job", "token", "scope", "locator", "version", "code", "first_failed", "attempts")
        where, params = "job = %s", [job]
        if scope is not None:
            where, params = "job = %s AND scope = %s", [job, scope]
        rows = self._q(
            f"SELECT {', '.join(keys)} FROM pending WHERE {where} ORDER BY version, token", params
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def pending_counts(self) -> dict[str, int]:
        """How many refused writes wait for a retry, per job."""
        return {
            str(job): int(n)
            for job, n in self._q("SELECT job, count(*) FROM pending GROUP BY job ORDER BY job")
        }

    # ------------------------------------------------------------------ API calls

    def add_calls(self, run_id: str, job: str, platform: str, calls: int) -> None:
        """Add ``calls`` API calls to ``platform`` made by ``job`` in ``run_id``."""
        if calls > 0:
            self._x(
                "INSERT INTO api_calls (run_id, job, platform, calls) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (run_id, job, platform) DO UPDATE SET "
                "calls = api_calls.calls + excluded.calls",
                [run_id, job, platform, calls],
            )

    def calls(self, run_id: str) -> dict[str, dict[str, int]]:
        """API calls of a run as ``{job: {platform: calls}}``."""
        out: dict[str, dict[str, int]] = {}
        for job, platform, n in self._q(
            "SELECT job, platform, calls FROM api_calls WHERE run_id = %s", [run_id]
        ):
            out.setdefault(str(job), {})[str(platform)] = int(n)
        return out

    def run_calls(self, run_id: str) -> dict[str, int]:
        """API calls of a whole run per platform."""
        return {
            str(p): int(n)
            for p, n in self._q(
                "SELECT platform, SUM(calls) FROM api_calls WHERE run_id = %s GROUP BY platform",
                [run_id],
            )
        }

    # ------------------------------------------------------------------ OAuth grants

    def oauth_grant(self, key: str) -> str | None:
        """The sealed Campaign Monitor OAuth grant kept under ``key`` (shared by every worker)."""
        rows = self._q("SELECT sealed FROM oauth_grants WHERE key = %s", [key])
        return str(rows[0][0]) if rows else None

    def keep_oauth_grant(self, key: str, sealed: str) -> None:
        """Keep a rotated grant (sealed) for every process and the next run."""
        self._x(
            "INSERT INTO oauth_grants (key, sealed) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET sealed = EXCLUDED.sealed",
            [key, sealed],
        )

    # ------------------------------------------------------------------ distributed tasks

    def publish_groups(
        self, run_id: str, job: str, groups: dict[str, list[Any]], now: datetime
    ) -> None:
        """Record a job's tasks (scopes of one client each) before they are sent.

        A resumed run publishes its tasks again: a completed one stays done, one still
        queued or running keeps its claim, and one that ended stopped, failed or poison
        starts over (as the local runtime retries a failed job in the next run).
        """
        self._many(
            "INSERT INTO dist_groups (run_id, job, grp, scopes, status, attempts, published_at) "
            "VALUES (%s, %s, %s, %s, 'queued', 0, %s) ON CONFLICT (run_id, job, grp) DO UPDATE "
            "SET published_at = excluded.published_at, "
            "scopes = CASE WHEN dist_groups.status IN ('stopped', 'failed', 'poison') "
            "THEN excluded.scopes ELSE dist_groups.scopes END, "
            "attempts = CASE WHEN dist_groups.status IN ('stopped', 'failed', 'poison') "
            "THEN 0 ELSE dist_groups.attempts END, "
            "error = CASE WHEN dist_groups.status IN ('stopped', 'failed', 'poison') "
            "THEN NULL ELSE dist_groups.error END, "
            "status = CASE WHEN dist_groups.status IN ('stopped', 'failed', 'poison') "
            "THEN 'queued' ELSE dist_groups.status END",
            [(run_id, job, grp, to_json(scopes), _ts(now)) for grp, scopes in groups.items()],
        )

    def claim_group(
        self, run_id: str, job: str, grp: str, worker: str, now: datetime, seconds: float
    ) -> tuple[str, list[Any], int]:
        """Claim a task's scopes for ``worker`` (one delivery more).

        Returns:
            ``(verdict, scopes, attempts)``: ``run`` (claimed: execute), ``done`` (already
            ended), ``busy`` (another worker's claim is alive) or ``gone`` (no such task).
        """
        with self.transaction():
            rows = self._q(
                "SELECT scopes, status, attempts, claimed_by, claim_until FROM dist_groups "
                "WHERE run_id = %s AND job = %s AND grp = %s FOR UPDATE",
                [run_id, job, grp],
            )
            if not rows:
                return "gone", [], 0
            scopes, status, attempts, holder, until = rows[0]
            if status in TERMINAL:
                return "done", [], int(attempts)
            if holder and holder != worker and until and str(until) > _ts(now):
                return "busy", [], int(attempts)
            self._x(
                "UPDATE dist_groups SET status = 'running', attempts = attempts + 1, "
                "claimed_by = %s, claim_until = %s WHERE run_id = %s AND job = %s AND grp = %s",
                [worker, _ts(now + timedelta(seconds=seconds)), run_id, job, grp],
            )
            return "run", list(json.loads(scopes)), int(attempts) + 1

    def renew_claim(
        self, run_id: str, job: str, grp: str, worker: str, now: datetime, seconds: float
    ) -> bool:
        """Extend ``worker``'s claim; False if it no longer holds it."""
        return bool(
            self._x(
                "UPDATE dist_groups SET claim_until = %s WHERE run_id = %s AND job = %s "
                "AND grp = %s AND claimed_by = %s",
                [_ts(now + timedelta(seconds=seconds)), run_id, job, grp, worker],
            )
        )

    def release_claim(
        self, run_id: str, job: str, grp: str, worker: str, error: str | None = None
    ) -> None:
        """Give a claim back without ending the task (it is delivered again)."""
        self._x(
            "UPDATE dist_groups SET claimed_by = NULL, claim_until = NULL, status = 'queued', "
            "error = COALESCE(%s, error) WHERE run_id = %s AND job = %s AND grp = %s "
            "AND claimed_by = %s",
            [error, run_id, job, grp, worker],
        )

    def finish_group(
        self, run_id: str, job: str, grp: str, status: str, error: dict[str, Any] | None = None
    ) -> None:
        """End a task: ``completed``, ``failed`` (the job failed), ``stopped`` or ``poison``."""
        self._x(
            "UPDATE dist_groups SET status = %s, error = %s, ran_by = claimed_by, "
            "claimed_by = NULL, claim_until = NULL WHERE run_id = %s AND job = %s AND grp = %s",
            [status, to_json(error) if error else None, run_id, job, grp],
        )

    def groups(self, run_id: str, job: str) -> list[dict[str, Any]]:
        """The tasks of one job of a run with their state."""
        keys = ("grp", "scopes", "status", "attempts", "claimed_by", "claim_until", "error",
                "published_at")  # fmt: skip
        rows = self._q(
            f"SELECT {', '.join(keys)} FROM dist_groups WHERE run_id = %s AND job = %s "
            "ORDER BY grp",
            [run_id, job],
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def add_written(self, run_id: str, sobject: str, ids: Iterable[str | None]) -> None:
        """Count records written by a task (distinct across the run)."""
        self._many(
            "INSERT INTO dist_written (run_id, object, sf_id) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [(run_id, sobject, sf_id) for sf_id in dict.fromkeys(ids) if sf_id],
        )

    def add_counts(self, run_id: str, kind: str, counts: dict[str, int]) -> None:
        """Add a task's records read, failed or deleted per object."""
        self._many(
            "INSERT INTO dist_counts (run_id, kind, object, n) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (run_id, kind, object) DO UPDATE SET n = dist_counts.n + excluded.n",
            [(run_id, kind, sobject, n) for sobject, n in counts.items() if n],
        )

    def run_written(self, run_id: str) -> dict[str, int]:
        """Distinct records written per object by the run's tasks."""
        return {
            str(o): int(n)
            for o, n in self._q(
                "SELECT object, count(*) FROM dist_written WHERE run_id = %s GROUP BY object",
                [run_id],
            )
        }

    def run_counts(self, run_id: str) -> dict[str, dict[str, int]]:
        """Records read, failed and deleted by the run's tasks: ``{kind: {object: n}}``."""
        out: dict[str, dict[str, int]] = {}
        for kind, sobject, n in self._q(
            "SELECT kind, object, n FROM dist_counts WHERE run_id = %s", [run_id]
        ):
            out.setdefault(str(kind), {})[str(sobject)] = int(n)
        return out

    def fold_key(self, run_id: str) -> str:
        """What a run's messages are folded under in this invocation: a resumed run (one
        that waited for a Bulk API job, or stopped) folds afresh, as the local runtime's
        log of each invocation does, so its report lists what this invocation raised."""
        rows = self._q("SELECT resumes FROM runs WHERE run_id = %s", [run_id])
        resumes = int(rows[0][0] or 0) if rows else 0
        return run_id if resumes == 0 else f"{run_id}~{resumes}"

    @contextmanager
    def message_fold(
        self, run_id: str, job: str, code: str, topic: str
    ) -> Iterator[dict[str, Any]]:
        """The run's fold of one job, code and topic (empty when new), locked: what the
        caller puts in it is stored when the block ends (see :mod:`.messages`)."""
        with self.transaction():
            self._x(
                "INSERT INTO dist_message_folds (run_id, job, code, topic, body) "
                "VALUES (%s, %s, %s, %s, '{}') ON CONFLICT DO NOTHING",
                [run_id, job, code, topic],
            )
            rows = self._q(
                "SELECT body FROM dist_message_folds WHERE run_id = %s AND job = %s "
                "AND code = %s AND topic = %s FOR UPDATE",
                [run_id, job, code, topic],
            )
            fold: dict[str, Any] = json.loads(rows[0][0]) if rows else {}
            yield fold
            self._x(
                "UPDATE dist_message_folds SET body = %s WHERE run_id = %s AND job = %s "
                "AND code = %s AND topic = %s",
                [to_json(fold), run_id, job, code, topic],
            )

    def message_folds(self, run_id: str) -> list[dict[str, Any]]:
        """The run's folded messages (with ``job`` and ``code``), in the order first raised."""
        return [
            {**json.loads(body), "job": job, "code": code}
            for job, code, body in self._q(
                "SELECT job, code, body FROM dist_message_folds WHERE run_id = %s "
                "AND body != '{}' ORDER BY seq",
                [run_id],
            )
        ]

    # ------------------------------------------------------------------ engine writes

    def forward_engine_write(
        self, sobject: str, tokens: dict[str, dict[str, str]], created: bool
    ) -> bool:
        """On a worker, keep the push's notes of engine writes (value tokens by record Id)
        for the coordinator's push ledger; return whether they were kept here."""
        if self.side is not None or not tokens:
            return self.side is None
        self._x(
            "INSERT INTO dist_engine_writes (object, tokens, created) VALUES (%s, %s, %s)",
            [sobject, to_json(tokens), int(created)],
        )
        return True

    def take_engine_writes(self) -> list[tuple[str, dict[str, dict[str, str]], bool]]:
        """The workers' notes of engine writes, oldest first; they are removed when the
        enclosing transaction commits (the coordinator records them in its ledger in it)."""
        rows = self._q(
            "DELETE FROM dist_engine_writes WHERE seq IN (SELECT seq FROM dist_engine_writes "
            "ORDER BY seq FOR UPDATE) RETURNING seq, object, tokens, created"
        )
        return [(str(r[1]), json.loads(r[2]), bool(r[3])) for r in sorted(rows)]

    # ------------------------------------------------------------------ shadow

    def shadow_store(self) -> PgShadowStore:
        """Where the shadow index lives (see :mod:`cmsf_core.shadow`)."""
        return PgShadowStore(self)

    def close(self) -> None:
        """Close the database connection and drop the scratch database."""
        try:
            self.pg.close()
        finally:
            self.db.close()
            if self._scratch_file is not None:
                self._scratch_file.close()


class PgLedgerStore(LedgerStore):
    """The journal's ledger tables in PostgreSQL: the SQL of :class:`~cmsf_core.state.LedgerStore`
    (``?`` placeholders become ``%s``; a table has a ``rowid`` column, a ``BIGSERIAL``, unless
    it is created ``WITHOUT ROWID``, as in SQLite), run on the journal's connection inside
    its transactions. Every process of a distributed run sees the same rows."""

    journal: PgJournal

    def __init__(self, journal: PgJournal) -> None:
        super().__init__(journal)

    def create(self, *statements: str) -> None:
        """Create tables and indexes (``IF NOT EXISTS``), serialised between processes."""
        with self.journal.transaction():
            self.journal._q("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
            for statement in statements:
                self.journal._x(_pg_ddl(statement))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement; the cursor of its rows (fetched whole)."""
        with self.journal._lock:
            return self.journal.pg.execute(_pg_sql(sql), list(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run ``sql`` for every row in one transaction."""
        self.journal._many(_pg_sql(sql), rows)

    def clear(self, tables: Iterable[str]) -> None:
        """Delete every row of those tables that exist."""
        with self.journal.transaction():
            for table in tables:
                if self.journal._q("SELECT to_regclass(%s)", [table])[0][0] is not None:
                    self.journal._x(f"DELETE FROM {table}")


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """A ledger statement with PostgreSQL's placeholders (a literal ``%`` escaped)."""
    return sql.replace("%", "%%").replace("?", "%s")


_CREATE_TABLE = re.compile(r"^\s*CREATE TABLE IF NOT EXISTS (\w+) \(", re.IGNORECASE)


def _pg_ddl(statement: str) -> str:
    """A ledger table's DDL for PostgreSQL: SQLite's implicit ``rowid`` made a column."""
    if statement.rstrip().upper().endswith("WITHOUT ROWID"):
        return statement.rstrip()[: -len("WITHOUT ROWID")].rstrip()
    return _CREATE_TABLE.sub(r"CREATE TABLE IF NOT EXISTS \1 (rowid BIGSERIAL, ", statement)


class PgShadowStore:
    """The shadow index's rows in PostgreSQL (same operations as the SQLite store)."""

    def __init__(self, journal: PgJournal) -> None:
        self.journal = journal

    def get(self, sobject: str, tokens: list[str]) -> Iterator[tuple[str, str, str, str]]:
        """Rows ``(key, sf_id, digest, version)`` of these key tokens."""
        for start in range(0, len(tokens), 5000):
            yield from self.journal._q(
                "SELECT key, sf_id, digest, version FROM shadow WHERE object = %s "
                "AND key = ANY(%s)",
                [sobject, tokens[start : start + 5000]],
            )

    def record(self, payload: list[tuple[str, str, str, str, str, str]]) -> None:
        """Insert or replace rows ``(object, key, scope, sf_id, digest, version)``."""
        self.journal._many(
            "INSERT INTO shadow (object, key, scope, sf_id, digest, version) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (object, key) DO UPDATE SET "
            "scope = excluded.scope, sf_id = excluded.sf_id, digest = excluded.digest, "
            "version = excluded.version",
            payload,
        )

    def forget(self, sobject: str, tokens: list[str]) -> None:
        """Delete rows by key token."""
        if tokens:
            self.journal._x(
                "DELETE FROM shadow WHERE object = %s AND key = ANY(%s)", [sobject, tokens]
            )

    def forget_scope(self, sobject: str, scope: str) -> None:
        """Delete every row of one scope."""
        self.journal._x("DELETE FROM shadow WHERE object = %s AND scope = %s", [sobject, scope])

    def rows(self, sobject: str, scope: str | None) -> Iterator[tuple[str, str, str, str]]:
        """Every row of ``sobject`` (of one scope)."""
        if scope is None:
            yield from self.journal._q(
                "SELECT key, sf_id, digest, version FROM shadow WHERE object = %s", [sobject]
            )
        else:
            yield from self.journal._q(
                "SELECT key, sf_id, digest, version FROM shadow WHERE object = %s AND scope = %s",
                [sobject, scope],
            )

    def count(self, sobject: str) -> int:
        """Rows of ``sobject``."""
        return int(
            self.journal._q("SELECT count(*) FROM shadow WHERE object = %s", [sobject])[0][0]
        )

    def count_synced(self) -> int:
        """Rows of the sync's own objects (:data:`~cmsf_core.shadow.SYNCED_OBJECTS`)."""
        return int(
            self.journal._q(
                "SELECT count(*) FROM shadow WHERE object LIKE %s ESCAPE '!' "
                "AND object NOT LIKE %s",
                list(SYNCED_OBJECTS),
            )[0][0]
        )

    def clear(self, sobject: str | None) -> None:
        """Delete everything, or everything of one object."""
        if sobject is None:
            self.journal._x("DELETE FROM shadow")
        else:
            self.journal._x("DELETE FROM shadow WHERE object = %s", [sobject])
