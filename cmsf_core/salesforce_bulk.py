"""Bulk API 2.0 for the Salesforce gateway: large keyed writes and large reads.

A Bulk 2.0 job costs a handful of API calls whatever its size (create, upload, close,
poll, results), so above the gateway's threshold it is far cheaper than sObject
Collections at 200 records a call. Jobs are driven with simple-salesforce's Bulk 2.0
client, but the waiting between polls is ours: it sleeps on the injected clock with
growing intervals, so a virtual clock makes it free and a real one polite.

Results are matched back to the input by a key, never by row order: the external Id
for an upsert, the Id for update and delete, and for an insert the fields the caller
names as identifying a record (a CampaignMember is one per campaign and person). Bulk
2.0 echoes every submitted cell in its result files, so the key is read the way it was
written.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.bulk2 import MAX_INGEST_JOB_FILE_SIZE, Operation, _Bulk2Client
from simple_salesforce.util import call_salesforce

from cmsf_core.errors import PlatformError

if TYPE_CHECKING:
    from cmsf_core.salesforce import SalesforceGateway, WriteResult

__all__ = ["bulk_query", "bulk_write"]

JOB_RECORDS = 100_000
"""Records per ingest job at most (the job's internal governor limit usually decides first)."""
JOB_BYTES = MAX_INGEST_JOB_FILE_SIZE
"""CSV bytes per ingest job at most: the platform takes 150 MB, its clients send 100 MB."""

_TERMINAL = {"JobComplete", "Failed", "Aborted"}
_BLOCK = 1000
"""Records rendered to CSV together (cut row by row only where a job's limit falls)."""


def _client(sf: Salesforce, sobject: str) -> _Bulk2Client:
    """A Bulk 2.0 client on ``sf``'s *current* session.

    Built inside every call, never kept: after the gateway logs in again (an expired
    session), the next attempt must carry the new session id, not the one the job began with.
    """
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + sf.session_id,
        "X-PrettyPrint": "1",
    }
    return _Bulk2Client(sobject, sf.bulk2_url, headers, sf.session)


def _cell(value: Any) -> str:
    if value is None:
        return "#N/A"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wait(
    gateway: SalesforceGateway, sobject: str, job_id: str, *, is_query: bool
) -> dict[str, Any]:
    delay = 1.0
    for _ in range(10_000):
        info = gateway._call(lambda sf: _client(sf, sobject).get_job(job_id, is_query))
        state = info.get("state")
        if state in _TERMINAL:
            if state != "JobComplete":
                raise PlatformError(
                    f"Bulk API 2.0 job {job_id} on {sobject} ended {state}: "
                    f"{info.get('errorMessage') or 'no reason given'}",
                    platform="salesforce",
                    error_code=state,
                )
            return dict(info)
        gateway.clock.sleep(delay)
        delay = min(delay * 2, 30.0)
    raise PlatformError(f"Bulk API 2.0 job {job_id} never finished", platform="salesforce")


def _ingest(
    gateway: SalesforceGateway,
    operation: Operation,
    sobject: str,
    data: io.BytesIO,
    external_id: str | None,
) -> tuple[str, dict[str, Any]]:
    """Create, fill, close and wait for one ingest job; return its id and final state.

    The CSV is uploaded from ``data`` as it is (never copied into another string).
    """
    gateway.write_calls[sobject] += 1
    gateway.bulk_bytes[sobject] += data.getbuffer().nbytes
    job = gateway._call(
        lambda sf: _client(sf, sobject).create_job(
            operation, external_id_field=external_id if operation == Operation.upsert else None
        )
    )
    job_id = str(job["id"])
    gateway._call(lambda sf: _upload(_client(sf, sobject), job_id, data))
    gateway._call(lambda sf: _client(sf, sobject).close_job(job_id))
    return job_id, _wait(gateway, sobject, job_id, is_query=False)


def _upload(client: _Bulk2Client, job_id: str, data: io.BytesIO) -> None:
    """``PUT .../batches`` with the CSV streamed from ``data`` (the platform answers 201)."""
    if not data.getbuffer().nbytes:
        raise PlatformError("a Bulk API 2.0 upload needs data", platform="salesforce")
    data.seek(0)
    headers = client._get_headers(client.CSV_CONTENT_TYPE, client.JSON_CONTENT_TYPE)
    url = client._construct_request_url(job_id, False) + "/batches"
    response = call_salesforce(
        url=url, method="PUT", session=client.session, headers=headers, data=data
    )
    if response.status_code != HTTPStatus.CREATED:
        raise PlatformError(
            f"Bulk API 2.0 upload to job {job_id} answered {response.status_code}, not 201",
            platform="salesforce",
            status=response.status_code,
        )


def _result_rows(
    gateway: SalesforceGateway, sobject: str, job_id: str, kind: str
) -> Iterator[dict[str, str]]:
    """Stream a job's result file row by row (never held whole in memory)."""

    def fetch(sf: Salesforce) -> requests.Response:
        client = _client(sf, sobject)
        url = client._construct_request_url(job_id, False) + "/" + kind
        headers = client._get_headers(client.JSON_CONTENT_TYPE, client.CSV_CONTENT_TYPE)
        return call_salesforce(
            url=url, method="GET", session=client.session, headers=headers, stream=True
        )

    response = gateway._call(fetch)
    try:
        yield from csv.DictReader(_lines(response.iter_content(chunk_size=1 << 16)))
    finally:
        response.close()


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """UTF-8 ``chunks`` as text lines that keep their line ends (what ``csv`` reads)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    rest = ""
    for chunk in chunks:
        lines = (rest + decoder.decode(chunk)).split("\n")
        rest = lines.pop()  # the line still open (a CRLF split in two stays whole)
        for line in lines:
            yield line + "\n"
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def parse_error(text: str) -> tuple[str, str, tuple[str, ...]]:
    """Split a Bulk 2.0 ``sf__Error`` cell (``CODE:message:field,field --``)."""
    code, _, rest = text.partition(":")
    body = rest.strip()
    if body.endswith("--"):
        body = body[:-2].rstrip()
    message, sep, tail = body.rpartition(":")
    if not sep or " " in tail.strip():
        message, tail = body, ""
    names = tuple(f.strip() for f in tail.split(",") if f.strip())
    return code.strip() or "UNKNOWN_EXCEPTION", message.strip() or text, names


def _key(values: Mapping[str, Any], fields: tuple[str, ...], *, cells: bool) -> str:
    """A record's match key: its key fields as written to (or read from) the CSV."""
    if cells:
        return "|".join(_cell(values[f]) if f in values else "" for f in fields).lower()
    return "|".join(str(values.get(f) or "") for f in fields).lower()


def bulk_write(
    gateway: SalesforceGateway,
    operation: str,
    sobject: str,
    records: Sequence[Mapping[str, Any]],
    *,
    external_id: str | None = None,
    match_on: tuple[str, ...] = (),
    columns: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> WriteResult:
    """Write records through Bulk 2.0 ingest jobs and match the results to the input.

    Records are cut into jobs of at most :data:`JOB_RECORDS` records and
    :data:`JOB_BYTES` of CSV (the platform's upload limit as its clients enforce it).
    A job's result files are only downloaded when they hold something: successes when
    any record was written, failures when the job reports failed records.

    Args:
        gateway: The gateway whose connection, budget and retries to use.
        operation: ``insert``, ``upsert``, ``update`` or ``delete``.
        sobject: Object API name.
        records: Records to write (read once, in order).
        external_id: The external Id field of an upsert.
        match_on: For an insert, the fields that identify a record.
        columns: Every field the records carry, when the caller knows them.
        keys: For an upsert, the records' external Id values, when the caller knows them.

    Returns:
        Per-record ids and failures, in input order.

    Raises:
        ValueError: If an upsert has no external Id or an insert no ``match_on``.
    """
    from cmsf_core.salesforce import WriteResult

    if operation == "upsert":
        if external_id is None:
            raise ValueError("an upsert needs its external Id field")
        fields: tuple[str, ...] = (external_id,)
    elif operation == "insert":
        if not match_on:
            raise ValueError("a bulk insert needs the fields that identify a record (match_on)")
        fields = match_on
    else:
        fields = ("Id",)
    result = WriteResult(ids=[None] * len(records), created=[False] * len(records))
    bulk_operation = {
        "insert": Operation.insert,
        "upsert": Operation.upsert,
        "update": Operation.update,
        "delete": Operation.delete,
    }[operation]
    if columns is None:
        columns = sorted({key for record in records for key in record})
    ordered = [*fields, *sorted(set(columns) - set(fields))]
    job = _JobData(ordered)
    cells: list[list[str]] = []
    places: list[tuple[str, int]] = []

    def add_block(job: _JobData) -> _JobData:
        """Add the rows gathered to ``job`` (whole when they fit), submitting full jobs."""
        block = job.lines(cells)
        if job.fits_block(len(cells), len(block)):
            job.add_block(block, places)
        else:  # near a job's limits: row by row, to cut exactly where they fall
            for row_cells, (key, index) in zip(cells, places, strict=True):
                row = job.lines([row_cells])
                if not job.fits(row):
                    _submit(
                        gateway, bulk_operation, sobject, external_id, fields, job, records, result
                    )
                    job = _JobData(ordered)
                job.add(row, key, index)
        cells.clear()
        places.clear()
        return job

    for index, record in enumerate(records):
        if keys is not None and len(fields) == 1:
            key = _cell(keys[index]).lower()
        else:
            key = _key(record, fields, cells=True)
        cells.append([_cell(record[c]) if c in record else "" for c in ordered])
        places.append((key, index))
        if len(cells) == _BLOCK:
            job = add_block(job)
    if cells:
        job = add_block(job)
    if job.rows:
        _submit(gateway, bulk_operation, sobject, external_id, fields, job, records, result)
    return result


class _JobData:
    """The CSV of one ingest job being filled (as UTF-8 bytes), and where each record sits."""

    def __init__(self, columns: Sequence[str]) -> None:
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, lineterminator="\n")
        self.data = io.BytesIO()
        self.data.write(self.lines([list(columns)]))
        self.rows = 0
        self.positions: dict[str, list[int]] = {}

    def lines(self, rows: Sequence[Sequence[str]]) -> bytes:
        """CSV lines, encoded (one ``writerows`` for a whole block of records)."""
        self._text.seek(0)
        self._text.truncate()
        self._writer.writerows(rows)
        return self._text.getvalue().encode("utf-8")

    def fits(self, row: bytes) -> bool:
        """Whether ``row`` may join this job (records and bytes per job)."""
        return not self.rows or (
            self.rows < JOB_RECORDS and self.data.tell() + len(row) <= JOB_BYTES
        )

    def fits_block(self, rows: int, size: int) -> bool:
        """Whether ``rows`` records of ``size`` bytes all fit in this job."""
        return self.rows + rows <= JOB_RECORDS and self.data.tell() + size <= JOB_BYTES

    def add(self, row: bytes, key: str, index: int) -> None:
        self.data.write(row)
        self.rows += 1
        self.positions.setdefault(key, []).append(index)

    def add_block(self, block: bytes, places: Sequence[tuple[str, int]]) -> None:
        self.data.write(block)
        self.rows += len(places)
        for key, index in places:
            self.positions.setdefault(key, []).append(index)


def _submit(
    gateway: SalesforceGateway,
    operation: Operation,
    sobject: str,
    external_id: str | None,
    fields: tuple[str, ...],
    job: _JobData,
    records: Sequence[Mapping[str, Any]],
    result: WriteResult,
) -> None:
    """Run one ingest job and fold its results into ``result``."""
    from cmsf_core.salesforce import RecordFailure

    job_id, info = _ingest(gateway, operation, sobject, job.data, external_id)
    job.data = io.BytesIO()  # uploaded: let the CSV go
    processed = int(info.get("numberRecordsProcessed") or 0)
    failed = int(info.get("numberRecordsFailed") or 0)
    if processed > failed:
        for row in _result_rows(gateway, sobject, job_id, "successfulResults"):
            for index in job.positions.get(_key(row, fields, cells=False), []):
                result.ids[index] = row.get("sf__Id") or None
                result.created[index] = str(row.get("sf__Created", "")).lower() == "true"
    if failed:
        for row in _result_rows(gateway, sobject, job_id, "failedResults"):
            code, message, error_fields = parse_error(row.get("sf__Error") or "")
            for index in job.positions.get(_key(row, fields, cells=False), []):
                result.failures.append(
                    RecordFailure(
                        index=index,
                        code=code,
                        message=message,
                        fields=error_fields,
                        record=records[index],
                    )
                )


def bulk_query(
    gateway: SalesforceGateway, soql: str, *, sobject: str = "", page_size: int = 50_000
) -> Iterator[dict[str, str]]:
    """Stream a large query through a Bulk 2.0 query job (values come back as text).

    Args:
        gateway: The gateway whose connection, budget and retries to use.
        soql: The query.
        sobject: Object name (for messages only).
        page_size: Records per results page.
    """
    job = gateway._call(lambda sf: _client(sf, sobject).create_job(Operation.query, query=soql))
    job_id = job["id"]
    _wait(gateway, sobject, job_id, is_query=True)

    def fetch(locator: str) -> Any:
        return gateway._call(
            lambda sf: _client(sf, sobject).get_query_results(job_id, locator, page_size)
        )

    locator = ""
    while True:
        page = fetch(locator)
        yield from csv.DictReader(io.StringIO(page["records"]))
        locator = page["locator"]
        if not locator:
            return
