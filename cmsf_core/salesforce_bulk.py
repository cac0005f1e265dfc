"""Bulk API 2.0 for the Salesforce gateway: large keyed writes and large reads.

A Bulk 2.0 job costs a handful of API calls whatever its size (create, upload, close,
poll, results), so above the gateway's threshold it is far cheaper than sObject
Collections at 200 records a call. Jobs are driven with simple-salesforce's Bulk 2.0
client, but the waiting between polls is ours: it sleeps on the injected clock with
growing intervals, so a virtual clock makes it free and a real one polite.

Only keyed operations use Bulk 2.0 (upsert by external Id, update and delete by Id):
their results can be matched back to the input without relying on row order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simple_salesforce.bulk2 import Operation, _Bulk2Client

from cmsf_core.errors import PlatformError

if TYPE_CHECKING:
    from cmsf_core.salesforce import SalesforceGateway, WriteResult

__all__ = ["bulk_query", "bulk_write"]

JOB_RECORDS = 100_000
"""Records per ingest job (keeps each upload well under the 100 MB file limit)."""

_TERMINAL = {"JobComplete", "Failed", "Aborted"}


def _client(gateway: SalesforceGateway, sobject: str) -> _Bulk2Client:
    sf = gateway.sf
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


def _to_csv(records: Sequence[Mapping[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record[c]) if c in record else "" for c in columns])
    return out.getvalue()


def _wait(
    gateway: SalesforceGateway, sobject: str, job_id: str, *, is_query: bool
) -> dict[str, Any]:
    delay = 1.0
    for _ in range(10_000):
        info = gateway._call(lambda sf: _client(gateway, sobject).get_job(job_id, is_query))
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
    data: str,
    external_id: str | None,
) -> str:
    """Create, fill, close and wait for one ingest job; return its id."""
    client = _client(gateway, sobject)
    gateway.write_calls[sobject] += 1
    job = gateway._call(
        lambda sf: client.create_job(
            operation, external_id_field=external_id if operation == Operation.upsert else None
        )
    )
    job_id = str(job["id"])
    gateway._call(lambda sf: client.upload_job_data(job_id, data))
    gateway._call(lambda sf: client.close_job(job_id))
    _wait(gateway, sobject, job_id, is_query=False)
    return job_id


def _results(gateway: SalesforceGateway, sobject: str, job_id: str, kind: str) -> str:
    client = _client(gateway, sobject)
    return str(gateway._call(lambda sf: client.get_ingest_results(job_id, kind)))


def bulk_write(
    gateway: SalesforceGateway,
    operation: str,
    sobject: str,
    records: Sequence[Mapping[str, Any]],
    *,
    external_id: str | None = None,
) -> WriteResult:
    """Write records through Bulk 2.0 ingest jobs and match the results to the input.

    Args:
        gateway: The gateway whose connection, budget and retries to use.
        operation: ``upsert``, ``update`` or ``delete``.
        sobject: Object API name.
        records: Records to write; each carries ``external_id`` (upsert) or ``Id``.
        external_id: The external Id field of an upsert.

    Returns:
        Per-record ids and failures, in input order.
    """
    from cmsf_core.salesforce import RecordFailure, WriteResult

    key_field = external_id if operation == "upsert" else "Id"
    if key_field is None:
        raise ValueError("an upsert needs its external Id field")
    result = WriteResult(ids=[None] * len(records), created=[False] * len(records))
    positions: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        positions.setdefault(str(record.get(key_field, "")).lower(), []).append(index)
    bulk_operation = {
        "upsert": Operation.upsert,
        "update": Operation.update,
        "delete": Operation.delete,
    }[operation]
    for start in range(0, len(records), JOB_RECORDS):
        chunk = records[start : start + JOB_RECORDS]
        columns = sorted({key for record in chunk for key in record})
        columns.remove(key_field)
        columns.insert(0, key_field)
        data = _to_csv(chunk, columns)
        job_id = _ingest(gateway, bulk_operation, sobject, data, external_id)
        ok = _results(gateway, sobject, job_id, "successfulResults")
        for row in csv.DictReader(io.StringIO(ok)):
            for index in positions.get(str(row.get(key_field, "")).lower(), []):
                result.ids[index] = row.get("sf__Id") or None
                result.created[index] = str(row.get("sf__Created", "")).lower() == "true"
        failed = _results(gateway, sobject, job_id, "failedResults")
        for row in csv.DictReader(io.StringIO(failed)):
            error = row.get("sf__Error") or ""
            code, _, message = error.partition(":")
            for index in positions.get(str(row.get(key_field, "")).lower(), []):
                result.failures.append(
                    RecordFailure(
                        index=index,
                        code=code.strip() or "UNKNOWN_EXCEPTION",
                        message=message.strip() or error,
                        fields=(),
                        record=records[index],
                    )
                )
    return result


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
    job = gateway._call(
        lambda sf: _client(gateway, sobject).create_job(Operation.query, query=soql)
    )
    job_id = job["id"]
    _wait(gateway, sobject, job_id, is_query=True)
    client = _client(gateway, sobject)

    def fetch(locator: str) -> Any:
        return gateway._call(lambda sf: client.get_query_results(job_id, locator, page_size))

    locator = ""
    while True:
        page = fetch(locator)
        yield from csv.DictReader(io.StringIO(page["records"]))
        locator = page["locator"]
        if not locator:
            return
