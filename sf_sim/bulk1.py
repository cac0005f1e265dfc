"""Bulk API 1.0 with JSON content (what ``simple_salesforce``'s ``sf.bulk`` speaks).

Jobs live under ``/services/async/{version}/``. A job is created ``Open`` (the client
sends ``concurrencyMode`` as the integer 0 or 1); each added batch is processed at once
and reads ``Completed`` on the first poll, so clients that sleep between polls never
wait. DML batches hold at most 10,000 records and answer per-record
``{success, created, id, errors}``; a query batch is raw SOQL and answers a list of
result Ids, each a JSON page of records with ``attributes`` (date and datetime values
as epoch milliseconds, as the platform's JSON Bulk results carry them). Errors use the
Bulk 1.0 shape ``{"exceptionCode", "exceptionMessage"}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sf_sim.dml import WriteContext
from sf_sim.exceptions import SalesforceApiError
from sf_sim.records import SaveResult
from sf_sim.recycle import run_delete
from sf_sim.schema import format_datetime, parse_datetime
from sf_sim.soql import QueryCursor

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["MAX_BATCH_RECORDS", "RESULT_PAGE", "Bulk1Jobs"]

MAX_BATCH_RECORDS = 10_000
RESULT_PAGE = 10_000
"""Records per query result Id."""
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete", "query", "queryAll")


def bulk_error(code: str, message: str, status: int = 400) -> SalesforceApiError:
    """A Bulk 1.0 error (rendered as ``{exceptionCode, exceptionMessage}``)."""
    return SalesforceApiError(code, message, status)


@dataclass
class Batch:
    """One batch of a Bulk 1.0 job."""

    id: str
    job_id: str
    created: str
    request: Any
    state: str = "Completed"
    message: str | None = None
    processed: int = 0
    failed: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    cursor: QueryCursor | None = None
    position: int = 0

    def to_api(self) -> dict[str, Any]:
        """The batch information JSON."""
        return {
            "apexProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "createdDate": self.created,
            "id": self.id,
            "jobId": self.job_id,
            "numberRecordsFailed": self.failed,
            "numberRecordsProcessed": self.processed,
            "state": self.state,
            "stateMessage": self.message,
            "systemModstamp": self.created,
            "totalProcessingTime": 0,
        }


@dataclass
class Job1:
    """One Bulk 1.0 job."""

    id: str
    operation: str
    object: str
    serial: bool
    external_id: str | None
    created_by: str
    created: str
    api_version: str
    state: str = "Open"
    batches: dict[str, Batch] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The job information JSON."""
        batches = list(self.batches.values())
        return {
            "apexProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apiVersion": float(self.api_version),
            "assignmentRuleId": None,
            "concurrencyMode": "Serial" if self.serial else "Parallel",
            "contentType": "JSON",
            "createdById": self.created_by,
            "createdDate": self.created,
            "externalIdFieldName": self.external_id,
            "fastPathEnabled": False,
            "id": self.id,
            "numberBatchesCompleted": sum(b.state == "Completed" for b in batches),
            "numberBatchesFailed": sum(b.state == "Failed" for b in batches),
            "numberBatchesInProgress": 0,
            "numberBatchesQueued": 0,
            "numberBatchesTotal": len(batches),
            "numberRecordsFailed": sum(b.failed for b in batches),
            "numberRecordsProcessed": sum(b.processed for b in batches),
            "numberRetries": 0,
            "object": self.object,
            "operation": self.operation,
            "state": self.state,
            "systemModstamp": self.created,
            "totalProcessingTime": 0,
        }


class Bulk1Jobs:
    """The Bulk API 1.0 jobs of one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, Job1] = {}

    def get(self, job_id: str) -> Job1:
        """A job by Id, or ``InvalidJob``."""
        job = self.jobs.get(job_id)
        if job is None:
            raise bulk_error("InvalidJob", f"Invalid job id: {job_id}")
        return job

    def batch(self, job_id: str, batch_id: str) -> Batch:
        """A batch by Id, or ``InvalidBatch``."""
        found = self.get(job_id).batches.get(batch_id)
        if found is None:
            raise bulk_error("InvalidBatch", f"Invalid batch id: {batch_id}")
        return found

    def create(self, body: dict[str, Any], api_version: str) -> Job1:
        """Create an ``Open`` job."""
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise bulk_error("InvalidJob", f"Invalid operation: {operation}")
        if str(body.get("contentType", "JSON")).upper() != "JSON":
            raise bulk_error(
                "InvalidJob", "This simulator accepts Bulk API 1.0 jobs with contentType JSON only"
            )
        name = body.get("object")
        definition = self.org.schema.object(name) if isinstance(name, str) else None
        if definition is None or not self.org.control.object_visible(definition.name):
            raise bulk_error("InvalidJob", f"Unable to find object: {name}")
        external = None
        if operation == "upsert":
            key = definition.field(str(body.get("externalIdFieldName") or ""))
            if key is None or not (key.external_id or key.name == "Id"):
                raise bulk_error(
                    "InvalidJob",
                    f"External ID field is not valid: {body.get('externalIdFieldName')}",
                )
            external = key.name
        mode = body.get("concurrencyMode", 0)
        now = format_datetime(self.org.clock.now())
        job = Job1(
            id=self.org.transient_ids.next("750"),
            operation=str(operation),
            object=definition.name,
            serial=mode in (1, "1", "Serial"),
            external_id=external,
            created_by=self.org.running_user_id,
            created=now,
            api_version=api_version,
        )
        self.jobs[job.id] = job
        return job

    def set_state(self, job_id: str, state: Any) -> Job1:
        """Close or abort a job."""
        job = self.get(job_id)
        if state not in ("Closed", "Aborted"):
            raise bulk_error("InvalidJobState", f"Invalid state: {state}")
        if job.state != "Open":
            raise bulk_error("InvalidJobState", f"Job {job_id} is not open")
        job.state = state
        return job

    def add_batch(self, job_id: str, body: bytes) -> Batch:
        """Add and process a batch (JSON records, or raw SOQL for query jobs)."""
        job = self.get(job_id)
        if job.state != "Open":
            raise bulk_error("InvalidJobState", f"Job {job_id} is not open")
        now = format_datetime(self.org.clock.now())
        batch = Batch(self.org.transient_ids.next("751"), job.id, now, None)
        job.batches[batch.id] = batch
        text = body.decode("utf-8", errors="replace")
        if job.operation in ("query", "queryAll"):
            batch.request = text
            try:
                batch.cursor = self.org.queries.run(
                    text, include_deleted=job.operation == "queryAll", api_version=job.api_version
                )
            except SalesforceApiError as exc:
                batch.state, batch.message = "Failed", f"{exc.error_code} : {exc.message}"
                return batch
            batch.processed = batch.cursor.total_size
            return batch
        try:
            records = json.loads(text)
        except ValueError:
            records = None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            batch.state, batch.message = (
                "Failed",
                "InvalidBatch : Failed to parse the JSON array of records",
            )
            return batch
        if len(records) > MAX_BATCH_RECORDS:
            batch.state, batch.message = (
                "Failed",
                f"InvalidBatch : Records in a batch cannot exceed {MAX_BATCH_RECORDS}",
            )
            return batch
        batch.request = records
        results = self._run(job, records)
        for result in results:
            batch.processed += 1
            batch.failed += 0 if result.success else 1
            created = (
                bool(result.created) if result.created is not None else job.operation == "insert"
            )
            batch.results.append(
                {
                    "success": result.success,
                    "created": result.success and created,
                    "id": result.id,
                    "errors": [error.to_record_error() for error in result.errors],
                }
            )
        return batch

    def _run(self, job: Job1, records: list[dict[str, Any]]) -> list[SaveResult]:
        ctx = WriteContext()
        with self.org.store.lock:
            if job.operation == "insert":
                return self.org.dml.insert(job.object, records, ctx)
            if job.operation == "update":
                return self.org.dml.update(job.object, records, ctx)
            if job.operation == "upsert":
                assert job.external_id is not None
                return self.org.dml.upsert(job.object, job.external_id, records, ctx)
            ids = [str(record.get("Id") or record.get("id") or "") for record in records]
            return run_delete(
                self.org, ids, ctx, hard=job.operation == "hardDelete", object_name=job.object
            )

    def result_ids(self, batch: Batch) -> list[str]:
        """The result Ids of a completed query batch (one per page of records)."""
        assert batch.cursor is not None
        pages = max((batch.cursor.total_size + RESULT_PAGE - 1) // RESULT_PAGE, 1)
        return [f"752{batch.id[3:15]}{index:03d}" for index in range(pages)]

    def result_page(self, job: Job1, batch: Batch, result_id: str) -> list[dict[str, Any]]:
        """One page of a query batch's records, dates as epoch milliseconds."""
        ids = self.result_ids(batch)
        if result_id not in ids:
            raise bulk_error("InvalidBatch", f"Invalid result id: {result_id}")
        offset = ids.index(result_id) * RESULT_PAGE
        if batch.cursor is None or offset != batch.position:
            batch.cursor = self.org.queries.run(
                str(batch.request),
                include_deleted=job.operation == "queryAll",
                api_version=job.api_version,
            )
            skipped = 0
            while skipped < offset and not batch.cursor.done:
                skipped += len(batch.cursor.fetch(min(offset - skipped, 2000)))
            batch.position = offset
        records = batch.cursor.fetch(RESULT_PAGE)
        batch.position += len(records)
        return [self._epoch_dates(record) for record in records]

    def _epoch_dates(self, record: dict[str, Any]) -> dict[str, Any]:
        kind = (record.get("attributes") or {}).get("type")
        definition = self.org.schema.object(str(kind)) if kind else None
        out: dict[str, Any] = {}
        for key, value in record.items():
            item = definition.field(key) if definition is not None and key != "attributes" else None
            if isinstance(value, dict) and key != "attributes" and "attributes" in value:
                out[key] = self._epoch_dates(value)
            elif item is not None and value is not None and item.type == "datetime":
                out[key] = int(parse_datetime(str(value)).timestamp() * 1000)
            elif item is not None and value is not None and item.type == "date":
                day = date.fromisoformat(str(value))
                out[key] = (day.toordinal() - date(1970, 1, 1).toordinal()) * 86_400_000
            else:
                out[key] = value
        return out
