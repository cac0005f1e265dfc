"""Bulk API jobs the engine opened, kept in the journal until their results are in.

The tables (``bulk_jobs``, ``bulk_results``) are the journal's ledger tables
(:attr:`~cmsf_core.state.Journal.ledgers`): in the runner's SQLite file, or in PostgreSQL
with the distributed runtime, where the coordinator and every worker share them.

Salesforce writes a Bulk API 2.0 ingest job on its own time: in a busy org the job waits
behind other apps' jobs (``UploadComplete``), then runs (``InProgress``). The engine
never waits for it forever and never writes its records twice:

- before a job's data is uploaded, the job is recorded here (id, object, operation and
  the fields that key its records), so a crash at any later point leaves it known;
- a job still running when the run's wait bound (``bulk_wait_minutes``) is reached stays
  here and the run ends ``waiting``;
- at the start of the next run every open job is *collected* (see
  :func:`cmsf_core.salesforce_bulk.collect_open_jobs`): a job never closed is aborted
  (nothing was written), one still queued or running is waited for again, and a
  finished one's results are kept here per record: a token of the record's key, a keyed
  digest of the values that were written, and the record's Id or its refusal;
- the resumed run then writes what it wants as usual, but the gateway takes a kept
  result as the answer for a record sent with exactly those values (a *replay*) instead
  of writing it again; so the shadow index, pending retries and counts follow the same
  path as an unbroken run. What a run did not claim is forgotten when it completes.

Keys and values are kept as keyed pseudonyms and refusal messages sealed
(:mod:`cmsf_core.pseudonyms`): the journal holds no address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmsf_core.shadow import Shadow
    from cmsf_core.state import Journal

__all__ = ["BULK_TABLES", "BulkLedger", "OpenJob", "Replay", "cell"]

BULK_TABLES = ("bulk_jobs", "bulk_results")
"""The ledger's tables (cleared when the journal is bound to another org: a job of the old
org can never be collected in the new one)."""


def cell(value: Any) -> str:
    """A value as a Bulk API 2.0 CSV cell (``#N/A`` clears a field)."""
    if value is None:
        return "#N/A"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class OpenJob:
    """A Bulk API job the engine opened and has not finished with.

    Attributes:
        job_id: The job's Id (750...).
        sobject: Its object.
        operation: ``insert``, ``upsert``, ``update`` or ``delete``.
        key_fields: The fields that identify a record of it.
        opened_at: When it was created (ISO UTC).
        state: ``open`` (results not collected yet) or ``collected``.
    """

    job_id: str
    sobject: str
    operation: str
    key_fields: tuple[str, ...]
    opened_at: str
    state: str


@dataclass(frozen=True)
class Replay:
    """The kept outcome of one record of a collected job."""

    sf_id: str | None
    created: bool
    code: str | None
    message: str
    fields: tuple[str, ...]


class BulkLedger:
    """The journal's record of open Bulk API jobs and of results not yet claimed.

    Args:
        journal: The runner's journal.
        shadow: The shadow index, whose pseudonyms (the run's connection key) key the rows.
    """

    def __init__(self, journal: Journal, shadow: Shadow) -> None:
        self.journal = journal
        self.shadow = shadow
        self._waiting: set[tuple[str, str]] | None = None
        self.db = journal.ledgers
        self.db.create(
            "CREATE TABLE IF NOT EXISTS bulk_jobs (job_id TEXT PRIMARY KEY, sobject TEXT, "
            "operation TEXT, key_fields TEXT, opened_at TEXT, state TEXT)",
            "CREATE TABLE IF NOT EXISTS bulk_results (job_id TEXT, sobject TEXT, "
            "operation TEXT, token TEXT, row TEXT, sf_id TEXT, created INTEGER, code TEXT, "
            "message TEXT, fields TEXT)",
            "CREATE INDEX IF NOT EXISTS idx_bulk_results_sobject_operation_token "
            "ON bulk_results (sobject, operation, token)",
        )

    # ------------------------------------------------------------------ jobs

    def opened(
        self,
        job_id: str,
        sobject: str,
        operation: str,
        key_fields: Sequence[str],
        now: datetime,
    ) -> None:
        """Record a job before its data is uploaded."""
        with self.journal.transaction():
            self.db.execute(
                "INSERT INTO bulk_jobs (job_id, sobject, operation, key_fields, opened_at, "
                "state) VALUES (?, ?, ?, ?, ?, 'open') ON CONFLICT (job_id) DO UPDATE SET "
                "sobject = excluded.sobject, operation = excluded.operation, "
                "key_fields = excluded.key_fields, opened_at = excluded.opened_at, "
                "state = excluded.state",
                [job_id, sobject, operation, json.dumps(list(key_fields)), now.isoformat()],
            )

    def closed(self, job_id: str) -> None:
        """Forget a job whose results were used (or that wrote nothing)."""
        with self.journal.transaction():
            self.db.execute("DELETE FROM bulk_jobs WHERE job_id = ?", [job_id])
            self.db.execute("DELETE FROM bulk_results WHERE job_id = ?", [job_id])
        self._waiting = None

    def open_jobs(self) -> list[OpenJob]:
        """Jobs whose results are not collected yet, oldest first."""
        return [
            OpenJob(
                job_id=str(row[0]),
                sobject=str(row[1]),
                operation=str(row[2]),
                key_fields=tuple(json.loads(row[3])),
                opened_at=str(row[4]),
                state=str(row[5]),
            )
            for row in self.db.execute(
                "SELECT job_id, sobject, operation, key_fields, opened_at, state FROM bulk_jobs "
                "WHERE state = 'open' ORDER BY opened_at, job_id"
            ).fetchall()
        ]

    def count(self) -> int:
        """How many jobs are open or hold results not yet claimed."""
        return int(self.db.execute("SELECT count(*) FROM bulk_jobs").fetchone()[0])

    # ------------------------------------------------------------------ results

    def _token(self, sobject: str, operation: str, key: str) -> str:
        return self.shadow.token(f"bulk:{sobject}:{operation}:{key}")

    def row_digest(self, cells: Mapping[str, str]) -> str:
        """A keyed digest of the values a record was written with (empty cells left out)."""
        pairs = sorted((name, value) for name, value in cells.items() if value != "")
        return self.shadow.token("bulk-row:" + json.dumps(pairs, ensure_ascii=False))

    def record_digest(self, record: Mapping[str, Any]) -> str:
        """:meth:`row_digest` of a record as the engine would send it."""
        return self.row_digest({name: cell(value) for name, value in record.items()})

    def store(self, job: OpenJob, rows: Sequence[tuple[str, Mapping[str, str], Replay]]) -> None:
        """Keep a finished job's results: ``(key, cells written, outcome)`` per record."""
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO bulk_results (job_id, sobject, operation, token, row, sf_id, "
                "created, code, message, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        job.job_id,
                        job.sobject,
                        job.operation,
                        self._token(job.sobject, job.operation, key),
                        self.row_digest(cells),
                        outcome.sf_id,
                        int(outcome.created),
                        outcome.code,
                        self.shadow.names.seal(outcome.message) if outcome.message else "",
                        json.dumps(list(outcome.fields)),
                    )
                    for key, cells, outcome in rows
                ],
            )
            self.db.execute(
                "UPDATE bulk_jobs SET state = 'collected' WHERE job_id = ?", [job.job_id]
            )
        self._waiting = None

    def has_results(self, sobject: str, operation: str) -> bool:
        """Whether collected results of ``sobject`` and ``operation`` wait to be claimed."""
        if self._waiting is None:
            self._waiting = {
                (str(row[0]), str(row[1]))
                for row in self.db.execute("SELECT DISTINCT sobject, operation FROM bulk_results")
            }
        return (sobject, operation) in self._waiting

    def claim(
        self, sobject: str, operation: str, key: str, record: Mapping[str, Any]
    ) -> Replay | None:
        """The kept outcome of ``record`` if a collected job wrote exactly it; it is used up."""
        token = self._token(sobject, operation, key)
        row = self.db.execute(
            "SELECT rowid, row, sf_id, created, code, message, fields FROM bulk_results "
            "WHERE sobject = ? AND operation = ? AND token = ? ORDER BY rowid DESC LIMIT 1",
            [sobject, operation, token],
        ).fetchone()
        if row is None or row[1] != self.record_digest(record):
            return None
        with self.journal.transaction():
            self.db.execute("DELETE FROM bulk_results WHERE rowid = ?", [row[0]])
        message = self.shadow.names.unseal(row[5]) if row[5] else ""
        return Replay(
            sf_id=row[2] or None,
            created=bool(row[3]),
            code=row[4] or None,
            message=message or "",
            fields=tuple(json.loads(row[6] or "[]")),
        )

    def forget_collected(self) -> int:
        """Drop results no write claimed (a completed run); returns how many jobs went."""
        with self.journal.transaction():
            gone = self.db.execute(
                "SELECT count(*) FROM bulk_jobs WHERE state = 'collected'"
            ).fetchone()[0]
            self.db.execute(
                "DELETE FROM bulk_results WHERE job_id IN "
                "(SELECT job_id FROM bulk_jobs WHERE state = 'collected')"
            )
            self.db.execute("DELETE FROM bulk_jobs WHERE state = 'collected'")
        self._waiting = None
        return int(gone)
