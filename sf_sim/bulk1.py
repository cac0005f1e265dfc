"""Bulk API 1.0: jobs and batches under ``/services/async/{version}/``.

A job says its batches' ``contentType``: ``JSON`` (what ``simple_salesforce``'s ``sf.bulk``
sends), ``CSV`` (what jsforce's ``conn.bulk.load`` and Data Loader send) or ``XML``. The
job is created ``Open``, receives batches, and is ``Closed`` or ``Aborted`` by the client.
Each batch is processed as it arrives: the reply to ``POST job/{id}/batch`` says
``Queued`` (as the platform's does) and the first poll reads ``Completed`` or ``Failed``,
so clients that sleep between polls never wait. A DML batch holds at most 10,000 records
and 10 MB; its rows are written in one transaction with per-record results. A query
batch is plain SOQL text whatever the content type; its records come in result pages of
10,000 (JSON dates as epoch milliseconds, as the platform's JSON results carry them;
CSV and XML as text). A batch whose data cannot be read fails with a ``stateMessage``
(``InvalidBatch : …``), and job-level mistakes are errors in the Bulk 1.0 shape
``{exceptionCode, exceptionMessage}`` (rendered by :mod:`sf_sim.bulk1_formats`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sf_sim.apex_limits import BULK_LIMITS
from sf_sim.bulk import CHUNK_RECORDS
from sf_sim.bulk1_formats import BatchDataError, csv_records, xml_records
from sf_sim.dml import WriteContext
from sf_sim.exceptions import SalesforceApiError
from sf_sim.records import SaveResult
from sf_sim.recycle import run_delete
from sf_sim.schema import format_datetime
from sf_sim.soql import QueryCursor, parse
from sf_sim.soql.ast import AggregateItem, SubqueryItem

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["CONTENT_TYPES", "MAX_BATCH_BYTES", "MAX_BATCH_RECORDS", "RESULT_PAGE", "Bulk1Jobs"]

MAX_BATCH_RECORDS = 10_000
MAX_BATCH_BYTES = 10_000_000
RESULT_PAGE = 10_000
"""Records per query result Id."""
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete", "query", "queryAll")
CONTENT_TYPES = ("JSON", "CSV", "XML")
"""Batch formats modelled (``ZIP_CSV``, ``ZIP_XML``, ``ZIP_JSON``: binary attachments, not)."""
MEDIA_TYPES = {
    "JSON": ("application/json",),
    "CSV": ("text/csv",),
    "XML": ("application/xml", "text/xml"),
}


def bulk_error(code: str, message: str, status: int = 400) -> SalesforceApiError:
    """A Bulk 1.0 error (rendered as ``{exceptionCode, exceptionMessage}``)."""
    return SalesforceApiError(code, message, status)


@dataclass
class Batch:
    """One batch of a Bulk 1.0 job."""

    id: str
    job_id: str
    created: str
    request: str
    """The batch data as sent (``GET …/request`` answers it)."""
    state: str = "Completed"
    message: str | None = None
    processed: int = 0
    failed: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    """Per-record ``{success, created, id, errors}`` of a DML batch."""
    cursor: QueryCursor | None = None
    position: int = 0

    def to_api(self) -> dict[str, Any]:
        """The batch information, in the platform's field order."""
        info: dict[str, Any] = {
            "id": self.id,
            "jobId": self.job_id,
            "state": self.state,
            "stateMessage": self.message,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "numberRecordsProcessed": self.processed,
            "numberRecordsFailed": self.failed,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }
        return info

    def queued(self) -> dict[str, Any]:
        """The batch information as the reply to adding it says it (``Queued``, nothing done)."""
        info = self.to_api()
        info.update(state="Queued", stateMessage=None, numberRecordsProcessed=0)
        info["numberRecordsFailed"] = 0
        return info


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
    content_type: str = "JSON"
    state: str = "Open"
    modstamp: str = ""
    batches: dict[str, Batch] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The job information, in the platform's field order."""
        batches = list(self.batches.values())
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp or self.created,
            "state": self.state,
            "externalIdFieldName": self.external_id,
            "concurrencyMode": "Serial" if self.serial else "Parallel",
            "contentType": self.content_type,
            "numberBatchesQueued": 0,
            "numberBatchesInProgress": 0,
            "numberBatchesCompleted": sum(b.state == "Completed" for b in batches),
            "numberBatchesFailed": sum(b.state == "Failed" for b in batches),
            "numberBatchesTotal": len(batches),
            "numberRecordsProcessed": sum(b.processed for b in batches),
            "numberRetries": 0,
            "apiVersion": float(self.api_version),
            "numberRecordsFailed": sum(b.failed for b in batches),
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
            "assignmentRuleId": None,
            "fastPathEnabled": False,
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

    def create(self, spec: dict[str, Any], api_version: str) -> Job1:
        """Create an ``Open`` job from a ``jobInfo`` (JSON object or parsed XML).

        Raises:
            SalesforceApiError: ``InvalidJob`` for an unknown operation, object, content
                type, concurrency mode or external Id field.
        """
        operation = spec.get("operation")
        if operation not in OPERATIONS:
            raise bulk_error("InvalidJob", f"Invalid operation: {operation}")
        content_type = str(spec.get("contentType") or "XML").upper()
        if content_type not in CONTENT_TYPES:
            raise bulk_error(
                "InvalidJob",
                f"Invalid content type: {spec.get('contentType')} "
                "(sf_sim models JSON, CSV and XML batches)",
            )
        name = spec.get("object")
        definition = self.org.schema.object(name) if isinstance(name, str) else None
        if definition is None or not self.org.control.object_visible(definition.name):
            raise bulk_error("InvalidJob", f"Unable to find object: {name}")
        external = None
        if operation == "upsert":
            key = definition.field(str(spec.get("externalIdFieldName") or ""))
            if key is None or not (key.external_id or key.name == "Id"):
                raise bulk_error(
                    "InvalidJob",
                    f"External ID field is not valid: {spec.get('externalIdFieldName')}",
                )
            external = key.name
        mode = spec.get("concurrencyMode", 0)
        if mode not in (0, 1, "0", "1", "Parallel", "Serial", None):
            raise bulk_error("InvalidJob", f"Invalid concurrency mode: {mode}")
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
            content_type=content_type,
        )
        self.jobs[job.id] = job
        return job

    def set_state(self, job_id: str, state: Any) -> Job1:
        """Close or abort an ``Open`` job.

        Raises:
            SalesforceApiError: ``InvalidJobState`` for another state or a job not open.
        """
        job = self.get(job_id)
        if state not in ("Closed", "Aborted"):
            raise bulk_error("InvalidJobState", f"Invalid state: {state}")
        if job.state != "Open":
            raise bulk_error("InvalidJobState", f"Job {job_id} is not open")
        job.state = state
        job.modstamp = format_datetime(self.org.clock.now())
        return job

    def add_batch(self, job_id: str, body: bytes, media_type: str | None = None) -> Batch:
        """Add a batch and process it (records in the job's format, or SOQL for a query job).

        Args:
            job_id: The job.
            body: The batch data as sent.
            media_type: The request's ``Content-Type`` (checked against the job's format).

        Raises:
            SalesforceApiError: ``InvalidJobState`` for a job not open; ``InvalidBatch`` for
                a ``Content-Type`` of another format or data over 10 MB.
        """
        job = self.get(job_id)
        if job.state != "Open":
            raise bulk_error("InvalidJobState", f"Job {job_id} is not open")
        media = (media_type or "").split(";")[0].strip().lower()
        if media and media not in MEDIA_TYPES[job.content_type]:
            raise bulk_error(
                "InvalidBatch",
                f"Content type of the batch ({media}) does not match the job's "
                f"content type ({job.content_type})",
            )
        if len(body) > MAX_BATCH_BYTES:
            raise bulk_error(
                "InvalidBatch", f"Exceeded max size limit of {MAX_BATCH_BYTES} bytes for a batch"
            )
        text = body.decode("utf-8", errors="replace")
        now = format_datetime(self.org.clock.now())
        batch = Batch(self.org.transient_ids.next("751"), job.id, now, text)
        job.batches[batch.id] = batch
        if job.operation in ("query", "queryAll"):
            self._run_query(job, batch)
            return batch
        try:
            records = self._records(job, body)
        except BatchDataError as exc:
            batch.state, batch.message = "Failed", f"InvalidBatch : {exc}"
            return batch
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

    def _records(self, job: Job1, body: bytes) -> list[dict[str, Any]]:
        definition = self.org.schema.object(job.object)
        assert definition is not None
        records: list[dict[str, Any]]
        if job.content_type == "JSON":
            try:
                parsed: Any = json.loads(body.decode("utf-8"))
            except ValueError:
                parsed = None
            if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
                raise BatchDataError("Failed to parse the JSON array of records")
            records = parsed
        elif job.content_type == "CSV":
            records = csv_records(body)
        else:
            records = xml_records(body)
        if len(records) > MAX_BATCH_RECORDS:
            raise BatchDataError(f"Records in a batch cannot exceed {MAX_BATCH_RECORDS}")
        if job.content_type != "JSON":
            for name in dict.fromkeys(key for record in records for key in record):
                if definition.field(name) is None or not self.org.control.field_visible(
                    definition.name, name
                ):
                    raise BatchDataError(f"Field name not found : {name}")
        return records

    def _run(self, job: Job1, records: list[dict[str, Any]]) -> list[SaveResult]:
        """A batch, each chunk of 200 records its own Apex transaction (Bulk API limits)."""
        results: list[SaveResult] = []
        for start in range(0, len(records), CHUNK_RECORDS):
            results.extend(self._run_chunk(job, records[start : start + CHUNK_RECORDS]))
        return results

    def _run_chunk(self, job: Job1, records: list[dict[str, Any]]) -> list[SaveResult]:
        ctx = WriteContext(
            source="json" if job.content_type == "JSON" else "csv", apex_limits=BULK_LIMITS
        )
        with self.org.store.lock:
            if job.operation == "insert":
                return self.org.dml.insert(job.object, records, ctx)
            if job.operation == "update":
                return self.org.dml.update(job.object, records, ctx)
            if job.operation == "upsert":
                assert job.external_id is not None
                return self.org.dml.upsert(job.object, job.external_id, records, ctx)
            ids = [
                str(next((v for k, v in record.items() if k.lower() == "id"), "") or "")
                for record in records
            ]
            return run_delete(
                self.org, ids, ctx, hard=job.operation == "hardDelete", object_name=job.object
            )

    def _run_query(self, job: Job1, batch: Batch) -> None:
        try:
            if job.content_type != "JSON":
                parsed = parse(batch.request)
                if any(isinstance(item, SubqueryItem) for item in parsed.select):
                    batch.state, batch.message = (
                        "Failed",
                        "FeatureNotEnabled : Aggregate Relationships not supported in Bulk "
                        f"Query with {job.content_type} content type",
                    )
                    return
                if any(isinstance(item, AggregateItem) for item in parsed.select):
                    batch.state, batch.message = (
                        "Failed",
                        "InvalidBatch : Failed to process query: Aggregate queries are not "
                        "supported by Bulk API",
                    )
                    return
            batch.cursor = self.org.queries.run(
                batch.request,
                include_deleted=job.operation == "queryAll",
                api_version=job.api_version,
            )
        except SalesforceApiError as exc:
            batch.state, batch.message = "Failed", f"{exc.error_code} : {exc.message}"
            return
        batch.processed = batch.cursor.total_size

    def result_ids(self, batch: Batch) -> list[str]:
        """The result Ids of a completed query batch (one per page of records)."""
        assert batch.cursor is not None
        pages = max((batch.cursor.total_size + RESULT_PAGE - 1) // RESULT_PAGE, 1)
        return [f"752{batch.id[3:15]}{index:03d}" for index in range(pages)]

    def result_page(self, job: Job1, batch: Batch, result_id: str) -> list[dict[str, Any]]:
        """One page of a query batch's records (as the REST API renders them).

        Raises:
            SalesforceApiError: ``InvalidBatch`` for a result Id the batch does not have.
        """
        ids = self.result_ids(batch)
        if result_id not in ids:
            raise bulk_error("InvalidBatch", f"Invalid result id: {result_id}")
        offset = ids.index(result_id) * RESULT_PAGE
        if batch.cursor is None or offset != batch.position:
            batch.cursor = self.org.queries.run(
                batch.request,
                include_deleted=job.operation == "queryAll",
                api_version=job.api_version,
            )
            skipped = 0
            while skipped < offset and not batch.cursor.done:
                skipped += len(batch.cursor.fetch(min(offset - skipped, 2000)))
            batch.position = offset
        records = batch.cursor.fetch(RESULT_PAGE)
        batch.position += len(records)
        return records
