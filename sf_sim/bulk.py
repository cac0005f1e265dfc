"""Bulk API 2.0: ingest jobs (CSV in, per-record results out) and query jobs (CSV pages).

Ingest: create (``Open``) → upload CSV (201) → ``UploadComplete`` → (its turn in the
org's queue, :mod:`sf_sim.bulk_queue`) ``InProgress`` → processed in internal batches of
10,000 records, each chunk of 200 records one Apex transaction with the Bulk API's
governor limits (the higher of the synchronous and asynchronous ones), as on the
platform → ``JobComplete``; or ``Aborted``. A quiet org processes a job the moment it is
closed; a busy one (``org.bulk.queue``) keeps it waiting on the virtual clock. Results are CSV: ``sf__Id,sf__Created,<columns>``
for successes, ``sf__Id,sf__Error,<columns>`` for failures (``CODE:message:fields --``),
and the unprocessed rows of an aborted job. An unknown column fails the whole job
(``InvalidBatch : Field name not found : X``).

Query: create (``UploadComplete``, the query is checked and read at once) → its turn in
the queue (``InProgress``) → ``JobComplete``; results are pages of CSV with
``Sforce-Locator`` (``null`` on the last page) and ``Sforce-NumberOfRecords``.

Memory stays flat however many jobs run: an ingest job's uploaded data is dropped once it
is processed, and its result rows live in the org's store (``_sf_bulk_results``), not in
the job object; finished jobs and their results are forgotten seven days after they
finished, as the platform's are.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sf_sim.apex_limits import BULK_LIMITS
from sf_sim.bulk_queue import BulkQueue
from sf_sim.bulk_worker import BulkWorker
from sf_sim.dml import WriteContext
from sf_sim.exceptions import SalesforceApiError
from sf_sim.records import SaveResult
from sf_sim.recycle import run_delete
from sf_sim.schema import format_datetime
from sf_sim.soql import QueryCursor, parse
from sf_sim.soql.ast import AggregateItem, SubqueryItem

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["BATCH_RECORDS", "CHUNK_RECORDS", "BulkJobs", "Job"]

BATCH_RECORDS = 10_000
"""Records per internal batch (one DailyBulkApiBatches unit)."""
CHUNK_RECORDS = 200
"""Records per Apex transaction inside a batch (triggers' governor limits reset per chunk)."""
DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")


@dataclass
class Job:
    """One Bulk API 2.0 job."""

    id: str
    kind: str
    operation: str
    object: str
    created_by: str
    created: str
    modstamp: str
    api_version: str
    delimiter: str = "COMMA"
    line_ending: str = "LF"
    external_id: str | None = None
    query: str | None = None
    state: str = "Open"
    uploads: list[str] = field(default_factory=list)
    processed: int = 0
    failed: int = 0
    error_message: str | None = None
    header: list[str] = field(default_factory=list)
    cursor: QueryCursor | None = None
    position: int = 0
    closed_at: datetime | None = None
    started_at: datetime | None = None
    duration: float | None = None
    foreign: bool = False

    def to_api(self, *, detail: bool = False) -> dict[str, Any]:
        """The job as the jobs resources render it (``detail`` for GET of one job)."""
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
        }
        if self.external_id:
            body["externalIdFieldName"] = self.external_id
        if self.kind == "ingest":
            body["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
        body["lineEnding"] = self.line_ending
        body["columnDelimiter"] = self.delimiter
        if detail:
            body["jobType"] = "V2Ingest" if self.kind == "ingest" else "V2Query"
            body["numberRecordsProcessed"] = self.processed
            body["retries"] = 0
            body["totalProcessingTime"] = 0
            if self.kind == "ingest":
                body["numberRecordsFailed"] = self.failed
                body["apiActiveProcessingTime"] = 0
                body["apexProcessingTime"] = 0
            else:
                body["isPkChunkingSupported"] = True
            if self.error_message:
                body["errorMessage"] = self.error_message
        return body


def _bad(message: str, code: str = "INVALIDJOB", status: int = 400) -> SalesforceApiError:
    return SalesforceApiError(code, message, status)


class BulkJobs:
    """The Bulk API 2.0 jobs of one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, Job] = {}
        self._batches: list[Any] = []
        self.queue = BulkQueue(org)
        self.worker: BulkWorker | None = None
        store = org.store
        with store.lock:
            # One row per internal batch and kind: its result rows as the CSV text the
            # results resource serves (the job's delimiter and line ending), rendered once.
            store.conn.execute(
                "CREATE TABLE IF NOT EXISTS _sf_bulk_results (job TEXT NOT NULL, "
                "kind TEXT NOT NULL, finished TEXT NOT NULL, rows INTEGER NOT NULL, "
                "csv TEXT NOT NULL)"
            )
            store.conn.execute(
                "CREATE INDEX IF NOT EXISTS _sf_bulk_results_job ON _sf_bulk_results (job, kind)"
            )
            # expire() runs on every request: finding expired rows must not scan the table.
            store.conn.execute(
                "CREATE INDEX IF NOT EXISTS _sf_bulk_results_finished "
                "ON _sf_bulk_results (finished)"
            )

    def _keep(self, job: Job, kind: str, rows: list[list[str]]) -> None:
        """Store result rows of ``job`` (``success``, ``failure`` or ``unprocessed``)."""
        if not rows:
            return
        store = self.org.store
        with store.transaction():
            store.conn.execute(
                "INSERT INTO _sf_bulk_results (job, kind, finished, rows, csv) "
                "VALUES (?, ?, ?, ?, ?)",
                (job.id, kind, job.modstamp, len(rows), _csv_rows(rows, job)),
            )

    def _kept(self, job: Job, kind: str) -> str:
        """The stored result rows of ``job`` of one kind, as CSV (no header)."""
        cursor = self.org.store.conn.execute(
            "SELECT csv FROM _sf_bulk_results WHERE job = ? AND kind = ? ORDER BY rowid",
            (job.id, kind),
        )
        return "".join(text for (text,) in cursor)

    def _drop(self, job_ids: list[str]) -> None:
        if not job_ids:
            return
        store = self.org.store
        with store.transaction():
            store.conn.executemany(
                "DELETE FROM _sf_bulk_results WHERE job = ?", [(job_id,) for job_id in job_ids]
            )

    def jobs_in_window(self) -> int:
        """Ingest batches counted in the last 24 hours (``DailyBulkApiBatches``)."""
        since = self.org.clock.now() - timedelta(hours=24)
        self._batches = [at for at in self._batches if at > since]
        return len(self._batches)

    def expire(self) -> int:
        """Forget finished jobs older than 7 days (Bulk API 2.0 retention); returns how many."""
        cutoff = format_datetime(self.org.clock.now() - timedelta(days=7))
        old = [
            key
            for key, job in self.jobs.items()
            if job.state in ("JobComplete", "Failed", "Aborted") and job.modstamp < cutoff
        ]
        for key in old:
            del self.jobs[key]
        self._drop(old)
        store = self.org.store
        # Results of jobs another process ran; most requests find none, and take no write lock.
        if store.scalar("SELECT 1 FROM _sf_bulk_results WHERE finished < ? LIMIT 1", (cutoff,)):
            with store.transaction():
                store.conn.execute("DELETE FROM _sf_bulk_results WHERE finished < ?", (cutoff,))
        return len(old)

    def process_in_background(self) -> None:
        """Process closed ingest jobs after the close request answered (a served org)."""
        if self.worker is None:
            self.worker = BulkWorker(self)

    def settle(self) -> None:
        """Wait until closed jobs being processed in the background are (the barrier every
        request passes first; see :mod:`sf_sim.bulk_worker`)."""
        if self.worker is not None:
            self.worker.settle()

    def advance(self) -> int:
        """Bring the org's bulk queue up to the clock (see :mod:`sf_sim.bulk_queue`).

        Returns:
            How many jobs finished.
        """
        if not self.queue.pending():
            return 0
        with self.org.store.lock:
            return self.queue.advance(self._finish)

    def _finish(self, job: Job) -> None:
        """Do a job's work when its turn in the queue ends."""
        if job.foreign or job.kind == "query":
            job.state = "JobComplete"
            if job.cursor is not None:
                job.processed = job.cursor.total_size
        else:
            with self.org.run_as(job.created_by):
                self._process(job)
        job.modstamp = format_datetime(self.org.clock.now())

    def add_foreign_job(
        self, duration: timedelta, *, object_name: str = "Account", records: int = 10_000
    ) -> Job:
        """Another app's ingest job that holds the org's bulk queue for ``duration``.

        It is listed by ``GET jobs/ingest`` and ends ``JobComplete`` with ``records``
        processed, writing nothing (its data is not this org's concern in a scenario).
        """
        now = format_datetime(self.org.clock.now())
        job = Job(
            id=self.org.transient_ids.next("750"),
            kind="ingest",
            operation="insert",
            object=object_name,
            created_by=self.org.running_user_id,
            created=now,
            modstamp=now,
            api_version="59.0",
            state="UploadComplete",
            foreign=True,
        )
        job.processed = records
        self.jobs[job.id] = job
        self.queue.add_foreign(job, duration)
        self.advance()
        return job

    def get(self, job_id: str, kind: str) -> Job:
        """A job by Id, or NOT_FOUND (404)."""
        self.advance()
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind:
            raise _bad("Could not find job with id " + job_id[:18], "NOT_FOUND", 404)
        return job

    def _new(self, kind: str, body: dict[str, Any], api_version: str) -> Job:
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        ending = str(body.get("lineEnding") or "LF")
        if delimiter not in DELIMITERS:
            raise _bad(f"Invalid column delimiter: {delimiter}", "INVALIDJOB")
        if ending not in LINE_ENDINGS:
            raise _bad(f"Invalid line ending: {ending}", "INVALIDJOB")
        if body.get("contentType", "CSV") != "CSV":
            raise _bad("Unsupported content type: " + str(body.get("contentType")), "INVALIDJOB")
        now = format_datetime(self.org.clock.now())
        return Job(
            id=self.org.transient_ids.next("750"),
            kind=kind,
            operation=str(body.get("operation")),
            object="",
            created_by=self.org.running_user_id,
            created=now,
            modstamp=now,
            api_version=api_version,
            delimiter=delimiter,
            line_ending=ending,
        )

    # ------------------------------------------------------------------ ingest

    def create_ingest(self, body: dict[str, Any], api_version: str) -> Job:
        """Create an ingest job in state ``Open``."""
        operation = body.get("operation")
        if operation not in INGEST_OPERATIONS:
            raise _bad(
                f"Invalid operation: {operation}. Valid values: {', '.join(INGEST_OPERATIONS)}"
            )
        name = body.get("object")
        definition = self.org.schema.object(str(name)) if isinstance(name, str) else None
        if definition is None or not self.org.control.object_visible(definition.name):
            raise _bad(f"Unable to find object: {name}")
        job = self._new("ingest", body, api_version)
        job.object = definition.name
        if operation == "upsert":
            external = body.get("externalIdFieldName")
            item = definition.field(str(external)) if external else None
            if item is None or not (item.external_id or item.name == "Id"):
                raise _bad(f"External ID field {external} is not valid for {definition.name}")
            job.external_id = item.name
        self.jobs[job.id] = job
        return job

    def upload(self, job_id: str, data: bytes) -> None:
        """Add CSV data to an ``Open`` job."""
        job = self.get(job_id, "ingest")
        if job.state != "Open":
            raise _bad(f"Job {job_id} is not in state Open", "INVALIDJOBSTATE", 409)
        try:
            job.uploads.append(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise _bad("CSV data must be UTF-8", "INVALIDJOB") from exc

    def set_state(self, job_id: str, kind: str, state: Any) -> Job:
        """Close (``UploadComplete``: queued, see :mod:`sf_sim.bulk_queue`) or abort a job."""
        job = self.get(job_id, kind)
        if state == "UploadComplete" and kind == "ingest" and job.state == "Open":
            job.state = "UploadComplete"
            job.modstamp = format_datetime(self.org.clock.now())
            self.queue.enqueue(job, sum(max(text.count("\n"), 1) for text in job.uploads))
            if self.worker is not None:
                self.worker.schedule()  # after this request answered (sf_sim.bulk_worker)
            else:
                self.advance()
            return job
        if state == "Aborted" and job.state in ("Open", "UploadComplete", "InProgress"):
            job.state = "Aborted"
            self.queue.remove(job)
            if kind == "ingest":
                try:
                    job.header = self._header(job)
                    unprocessed = list(self._rows(job))
                except (SalesforceApiError, csv.Error):
                    job.header, unprocessed = [], []
                job.uploads = []
                self._keep(job, "unprocessed", unprocessed)
        else:
            raise _bad(
                f"Invalid state transition from {job.state} to {state}", "INVALIDJOBSTATE", 400
            )
        job.modstamp = format_datetime(self.org.clock.now())
        return job

    def delete(self, job_id: str, kind: str) -> None:
        """Delete a job that is no longer running."""
        job = self.get(job_id, kind)
        if (
            job.state in ("Open", "UploadComplete", "InProgress")
            and kind == "ingest"
            and job.state != "Open"
        ):
            raise _bad("Job is still processing", "INVALIDJOBSTATE", 400)
        del self.jobs[job_id]
        self._drop([job_id])

    def _header(self, job: Job) -> list[str]:
        """Check every upload (CSV that parses, no null character, one header); the header.

        The whole data is checked before any record is written, as a job whose data does not
        parse fails without processing any; the rows are then read again batch by batch
        (:meth:`_rows`), so a job's records are never all in memory at once.
        """
        header: list[str] = []
        for text in job.uploads:
            if "\x00" in text:
                raise _bad("Failed to parse CSV: the data contains a null character")
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.delimiter])
            first = next(reader, None)
            if first is None:
                continue
            if header and first != header:
                raise _bad("InvalidBatch : All uploads must use the same header")
            header = first
            for _ in reader:  # every row must parse
                pass
        return header

    def _rows(self, job: Job) -> Iterator[list[str]]:
        """The data rows of every upload, in order (their headers left out)."""
        for text in job.uploads:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.delimiter])
            if next(reader, None) is None:
                continue
            yield from filter(None, reader)  # blank lines (empty rows) left out

    def _process(self, job: Job) -> None:
        try:
            self._process_uploads(job)
        finally:
            job.uploads = []  # processed (or refused): the data is not kept

    def _process_uploads(self, job: Job) -> None:
        try:
            header = self._header(job)
        except (SalesforceApiError, csv.Error) as exc:
            self._fail(job, f"InvalidBatch : {getattr(exc, 'message', exc)}")
            return
        job.header = header
        definition = self.org.schema.object(job.object)
        assert definition is not None
        if not header:
            self._fail(job, "InvalidBatch : Records not found")
            return
        for name in header:
            if definition.field(name) is None or not self.org.control.field_visible(
                definition.name, name
            ):
                self._fail(job, f"InvalidBatch : Field name not found : {name}")
                return
        if job.operation in ("delete", "hardDelete") and [h.lower() for h in header] != ["id"]:
            self._fail(job, "InvalidBatch : The 'delete' batch must contain only 'Id' column")
            return
        ctx = WriteContext(source="csv", apex_limits=BULK_LIMITS)
        rows = self._rows(job)
        while chunk := list(itertools.islice(rows, BATCH_RECORDS)):
            self._batches.append(self.org.clock.now())
            width = len(header)
            for row in chunk:
                if len(row) != width:
                    row.extend([""] * (width - len(row)))
            records = [
                dict(zip(header, row if len(row) == width else row[:width], strict=True))
                for row in chunk
            ]
            with self.org.store.grouped():  # one commit for the batch, its records and results
                self._tally(job, header, chunk, self._run(job, records, ctx))
        job.state = "JobComplete"
        self.org.store.optimize()

    def _tally(
        self, job: Job, header: list[str], chunk: list[list[str]], results: list[SaveResult]
    ) -> None:
        """Count one internal batch's outcomes and keep its result rows."""
        successes: list[list[str]] = []
        failures: list[list[str]] = []
        for row, result in zip(chunk, results, strict=True):
            job.processed += 1
            if result.success:
                created = (
                    "true"
                    if result.created or (result.created is None and job.operation == "insert")
                    else "false"
                )
                successes.append([result.id or "", created, *row])
            else:
                job.failed += 1
                error = result.errors[0]
                text = f"{error.error_code}:{error.message}:{','.join(error.fields)} --"
                failures.append([_id_of(header, row), text, *row])
        self._keep(job, "success", successes)
        self._keep(job, "failure", failures)

    def _run(self, job: Job, records: list[dict[str, Any]], ctx: WriteContext) -> list[SaveResult]:
        """One internal batch: each chunk of 200 records is its own Apex transaction."""
        results: list[SaveResult] = []
        for start in range(0, len(records), CHUNK_RECORDS):
            results.extend(self._run_chunk(job, records[start : start + CHUNK_RECORDS], ctx))
        return results

    def _run_chunk(
        self, job: Job, records: list[dict[str, Any]], ctx: WriteContext
    ) -> list[SaveResult]:
        if job.operation == "insert":
            return self.org.dml.insert(job.object, records, ctx)
        if job.operation == "update":
            return self.org.dml.update(job.object, records, ctx)
        if job.operation == "upsert":
            assert job.external_id is not None
            return self.org.dml.upsert(job.object, job.external_id, records, ctx)
        ids = [next(iter(record.values()), "") for record in records]
        return run_delete(
            self.org, ids, ctx, hard=job.operation == "hardDelete", object_name=job.object
        )

    def _fail(self, job: Job, message: str) -> None:
        job.state = "Failed"
        job.error_message = message

    def results_csv(self, job_id: str, which: str) -> str:
        """``successfulResults``, ``failedResults`` or ``unprocessedrecords`` as CSV."""
        job = self.get(job_id, "ingest")
        if job.state in ("Open", "UploadComplete", "InProgress"):
            raise _bad("Job is not complete", "INVALIDJOBSTATE", 400)
        if which == "successfulResults":
            header, kind = ["sf__Id", "sf__Created", *job.header], "success"
        elif which == "failedResults":
            header, kind = ["sf__Id", "sf__Error", *job.header], "failure"
        else:
            header, kind = list(job.header), "unprocessed"
        return _csv_rows([header], job) + self._kept(job, kind)

    # ------------------------------------------------------------------ query

    def create_query(self, body: dict[str, Any], api_version: str) -> Job:
        """Create a query job: the query is read now, the job completes in its queue turn."""
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise _bad(f"Invalid operation: {operation}. Valid values: query, queryAll")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise _bad("Query is required for query jobs")
        parsed = parse(soql)
        if (
            any(isinstance(item, SubqueryItem | AggregateItem) for item in parsed.select)
            or parsed.group_by
        ):
            raise _bad(
                "FeatureNotEnabled : Aggregate and child relationship queries are not supported by Bulk API 2.0",
                "API_ERROR",
            )
        job = self._new("query", body, api_version)
        job.query = soql
        cursor = self.org.queries.run(
            soql, include_deleted=operation == "queryAll", api_version=api_version
        )
        job.object = cursor.object_name
        job.cursor = cursor
        job.state = "UploadComplete"
        self.jobs[job.id] = job
        self.queue.enqueue(job, cursor.total_size)
        self.advance()
        return job

    def query_results(
        self, job_id: str, max_records: str | None, locator: str | None
    ) -> tuple[str, str, int]:
        """One page of a query job's results: ``(csv, next locator or 'null', row count)``."""
        job = self.get(job_id, "query")
        if job.state != "JobComplete" or job.cursor is None or job.query is None:
            raise _bad("Job is not complete", "INVALIDJOBSTATE", 400)
        try:
            size = int(max_records) if max_records else job.cursor.total_size or 1
            offset = int(base64.b64decode(locator).decode()) if locator else 0
        except ValueError as exc:
            raise _bad("Invalid maxRecords or locator", "INVALIDQUERYLOCATOR", 400) from exc
        if size <= 0:
            raise _bad("maxRecords must be a positive number", "INVALIDQUERYLOCATOR", 400)
        if offset != job.position:
            job.cursor = self.org.queries.run(
                job.query, include_deleted=job.operation == "queryAll", api_version=job.api_version
            )
            skipped = 0
            while skipped < offset and not job.cursor.done:
                skipped += len(job.cursor.fetch(min(offset - skipped, 2000)))
            job.position = offset
        records = job.cursor.fetch(size)
        job.position += len(records)
        columns = job.cursor.columns
        rows = [[_csv_value(_walk(record, column)) for column in columns] for record in records]
        following = (
            "null" if job.cursor.done else base64.b64encode(str(job.position).encode()).decode()
        )
        return _csv(columns, rows, job), following, len(rows)


def _walk(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _id_of(header: list[str], row: list[str]) -> str:
    for name, value in zip(header, row, strict=False):
        if name.lower() == "id":
            return value
    return ""


def _csv_rows(rows: list[list[str]], job: Job) -> str:
    """Rows as CSV text in the job's delimiter and line ending, every value quoted."""
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=DELIMITERS[job.delimiter],
        lineterminator=LINE_ENDINGS[job.line_ending],
        quoting=csv.QUOTE_ALL,
    )
    writer.writerows(rows)
    return out.getvalue()


def _csv(header: list[str], rows: list[list[str]], job: Job) -> str:
    return _csv_rows([header, *rows], job)
