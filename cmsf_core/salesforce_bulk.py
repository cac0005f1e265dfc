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

A write may be left running (:func:`submit_write`): its jobs are created, filled and
closed, Salesforce processes them in its queue while the engine reads and builds what
comes next, and their results are collected later, as a real integration does.

A job may wait behind the org's other bulk work. When the gateway has a ledger
(:mod:`cmsf_core.bulk_ledger`, the runtime gives it one), every job is recorded there
before its data is uploaded, the wait is bounded (``bulk_wait_minutes``), and a job
still queued or running at the bound raises :class:`~cmsf_core.errors.WaitingError`:
the run ends ``waiting`` and :func:`collect_open_jobs` gathers the job's results at the
start of the next run, so nothing is written twice.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.bulk2 import MAX_INGEST_JOB_FILE_SIZE, Operation, _Bulk2Client
from simple_salesforce.util import call_salesforce

from cmsf_core.bulk_ledger import BulkLedger, OpenJob, Replay
from cmsf_core.bulk_ledger import cell as _cell
from cmsf_core.errors import NotFoundError, PlatformError, WaitingError

if TYPE_CHECKING:
    from cmsf_core.salesforce import SalesforceGateway, WriteResult

__all__ = [
    "bulk_query",
    "bulk_write",
    "collect_open_jobs",
    "prepare_write",
    "record_key",
    "submit_write",
]

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


def _wait(
    gateway: SalesforceGateway, sobject: str, job_id: str, *, is_query: bool
) -> dict[str, Any]:
    """Poll a job until it ends JobComplete; raise for Failed or Aborted."""
    info = _wait_terminal(gateway, sobject, job_id, is_query=is_query)
    if info.get("state") != "JobComplete":
        raise PlatformError(
            f"Bulk API 2.0 job {job_id} on {sobject} ended {info.get('state')}: "
            f"{info.get('errorMessage') or 'no reason given'}",
            platform="salesforce",
            error_code=str(info.get("state")),
        )
    return info


def _wait_terminal(
    gateway: SalesforceGateway, sobject: str, job_id: str, *, is_query: bool
) -> dict[str, Any]:
    """Poll a job (growing intervals on the injected clock) until it is terminal.

    With a ledger the wait is bounded by ``gateway.bulk_wait_seconds`` of clock time.

    Raises:
        WaitingError: The job is still queued or running at the bound.
    """
    delay = 1.0
    began = gateway.clock.now()
    bound = gateway.bulk_wait_seconds if gateway.bulk_ledger is not None else None
    for _ in range(10_000):
        info = gateway._call(lambda sf: _client(sf, sobject).get_job(job_id, is_query))
        state = str(info.get("state"))
        if state in _TERMINAL:
            return dict(info)
        waited = (gateway.clock.now() - began).total_seconds()
        if bound is not None and waited >= bound:
            raise WaitingError(
                f"Salesforce is still processing Bulk API job {job_id} of {sobject} ({state}) "
                f"after {_minutes(waited)}; the next run collects its results",
                job_id=job_id,
                state=state,
                sobject=sobject,
            )
        step = delay if bound is None else max(0.001, min(delay, bound - waited))
        gateway.clock.sleep(step)
        delay = min(delay * 2, 30.0)
    raise PlatformError(f"Bulk API 2.0 job {job_id} never finished", platform="salesforce")


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} minute(s)" if minutes >= 1 else f"{seconds:.0f} second(s)"


def _ingest(
    gateway: SalesforceGateway,
    operation: Operation,
    sobject: str,
    data: io.BytesIO,
    external_id: str | None,
    fields: tuple[str, ...],
) -> str:
    """Create, fill and close one ingest job (Salesforce queues it); return its id.

    The CSV is uploaded from ``data`` as it is (never copied into another string). With a
    ledger the job is recorded before its data goes up, so a run that stops waiting (or
    crashes) from then on leaves it for the next run to collect.
    """
    gateway.write_calls[sobject] += 1
    gateway.bulk_bytes[sobject] += data.getbuffer().nbytes
    job = gateway._call(
        lambda sf: _client(sf, sobject).create_job(
            operation, external_id_field=external_id if operation == Operation.upsert else None
        )
    )
    job_id = str(job["id"])
    if gateway.bulk_ledger is not None:
        gateway.bulk_ledger.opened(job_id, sobject, operation.value, fields, gateway.clock.now())
    gateway._call(lambda sf: _upload(_client(sf, sobject), job_id, data))
    gateway._call(lambda sf: _client(sf, sobject).close_job(job_id))
    return job_id


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
    yield from _dict_rows(_result_table(gateway, sobject, job_id, kind))


def _result_table(
    gateway: SalesforceGateway, sobject: str, job_id: str, kind: str
) -> Iterator[list[str]]:
    """A job's result file as CSV rows, its header first, streamed."""

    def fetch(sf: Salesforce) -> requests.Response:
        client = _client(sf, sobject)
        url = client._construct_request_url(job_id, False) + "/" + kind
        headers = client._get_headers(client.JSON_CONTENT_TYPE, client.CSV_CONTENT_TYPE)
        return call_salesforce(
            url=url, method="GET", session=client.session, headers=headers, stream=True
        )

    response = gateway._call(fetch)
    try:
        yield from csv.reader(_lines(response.iter_content(chunk_size=1 << 16)))
    finally:
        response.close()


def _dict_rows(reader: Iterator[list[str]]) -> Iterator[dict[str, str]]:
    """Rows by header name, as ``csv.DictReader`` gives them (blank lines skipped, a short
    row filled with None, a long row's extra cells under None) at a third of its cost: a
    result file has a row per record written."""
    header = next(reader, None)
    if header is None:
        return
    width = len(header)
    for row in reader:
        if len(row) == width:
            yield dict(zip(header, row, strict=True))
        elif row:
            yield _uneven_row(header, row)


def _uneven_row(header: list[str], row: list[str]) -> dict[Any, Any]:
    """A row shorter or longer than the header, as ``csv.DictReader`` gives it."""
    out: dict[Any, Any] = dict(zip(header, row, strict=False))
    if len(row) > len(header):
        out[None] = row[len(header) :]
    else:
        out.update(dict.fromkeys(header[len(row) :]))
    return out


def _successes(
    reader: Iterator[list[str]], fields: tuple[str, ...]
) -> Iterator[tuple[str, str | None, bool]]:
    """``(match key, sf__Id, sf__Created)`` of each row of a successful-results file.

    What :func:`_dict_rows` and :func:`_key` give, read by column position (a result
    file has a row per record written; a dict per row cost more than the rest of the
    fold): a row of the header's width is read in place, any other through its dict.
    """
    header = next(reader, None)
    if header is None:
        return
    width = len(header)
    at = {name: index for index, name in enumerate(header)}  # a repeated name: the last
    id_at, created_at = at.get("sf__Id"), at.get("sf__Created")
    key_at = [at.get(name) for name in fields]
    for row in reader:
        if len(row) == width:
            key = "|".join(row[i] if i is not None else "" for i in key_at).lower()
            sf_id = row[id_at] or None if id_at is not None else None
            created = created_at is not None and row[created_at].lower() == "true"
            yield key, sf_id, created
        elif row:
            values = _uneven_row(header, row)
            yield (
                _key(values, fields, cells=False),
                values.get("sf__Id") or None,
                str(values.get("sf__Created", "")).lower() == "true",
            )


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


def record_key(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The match key of a record to be written (what its result rows are matched on)."""
    return _key(record, tuple(fields), cells=True)


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

    Each job is waited for before the next one is created (see :func:`submit_write` for
    jobs left to run while the caller goes on). Arguments as :func:`submit_write`'s.
    """
    return _write(
        gateway, operation, sobject, records, external_id, match_on, columns, keys, wait=True
    )()()


def submit_write(
    gateway: SalesforceGateway,
    operation: str,
    sobject: str,
    records: Sequence[Mapping[str, Any]],
    *,
    external_id: str | None = None,
    match_on: tuple[str, ...] = (),
    columns: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> Callable[[], WriteResult]:
    """Submit records to Bulk 2.0 ingest jobs; the returned call collects their results.

    The jobs are created, filled and closed now; Salesforce processes them in its queue
    while the caller goes on with other work, and calling the returned function waits
    for them and matches their results to the input (as :func:`bulk_write` returns
    them). With a ledger, jobs a run never collects (it ended or crashed first) are
    gathered by the next run (:func:`collect_open_jobs`).

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
        What collects the results: per-record ids and failures, in input order.

    Raises:
        ValueError: If an upsert has no external Id or an insert no ``match_on``.
    """
    return prepare_write(
        gateway,
        operation,
        sobject,
        records,
        external_id=external_id,
        match_on=match_on,
        columns=columns,
        keys=keys,
    )()


def prepare_write(
    gateway: SalesforceGateway,
    operation: str,
    sobject: str,
    records: Sequence[Mapping[str, Any]],
    *,
    external_id: str | None = None,
    match_on: tuple[str, ...] = (),
    columns: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> Callable[[], Callable[[], WriteResult]]:
    """:func:`submit_write` in two steps: the CSV of its jobs is made now, without a call;
    calling the result submits the jobs (as :func:`submit_write`) and returns what collects
    them.

    A caller with a write still in flight builds the next one while Salesforce processes
    the first, collects the first, and submits the next at once: the platform is kept busy
    while the caller makes CSV. Arguments as :func:`submit_write`'s.
    """
    return _write(
        gateway, operation, sobject, records, external_id, match_on, columns, keys, wait=False
    )


def _write(
    gateway: SalesforceGateway,
    operation: str,
    sobject: str,
    records: Sequence[Mapping[str, Any]],
    external_id: str | None,
    match_on: tuple[str, ...],
    columns: Sequence[str] | None,
    keys: Sequence[str] | None,
    *,
    wait: bool,
) -> Callable[[], Callable[[], WriteResult]]:
    """Cut ``records`` into jobs; return what submits them and returns what collects them.

    With ``wait`` each job is submitted and collected as soon as it is full (one job's CSV
    in memory at a time); the returned calls then only hand the result over."""
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
    submitted: list[tuple[str, _JobData]] = []
    built: list[_JobData] = []

    def ingest(job: _JobData) -> str:
        job_id = _ingest(gateway, bulk_operation, sobject, job.data, external_id, fields)
        job.data = io.BytesIO()  # uploaded: let the CSV go
        return job_id

    def submit(job: _JobData) -> None:
        if wait:
            _fold(gateway, sobject, fields, ingest(job), job, records, result)
        else:
            built.append(job)

    def add_block(job: _JobData) -> _JobData:
        """Add the rows gathered to ``job`` (whole when they fit), submitting full jobs."""
        block = job.lines(cells)
        if job.fits_block(len(cells), len(block)):
            job.add_block(block, places)
        else:  # near a job's limits: row by row, to cut exactly where they fall
            for row_cells, (key, index) in zip(cells, places, strict=True):
                row = job.lines([row_cells])
                if not job.fits(row):
                    submit(job)
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
        submit(job)

    def collect() -> WriteResult:
        while submitted:
            job_id, done = submitted.pop(0)
            _fold(gateway, sobject, fields, job_id, done, records, result)
        return result

    def send() -> Callable[[], WriteResult]:
        while built:
            job = built.pop(0)
            submitted.append((ingest(job), job))
        return collect

    return send


def _plain_lines(rows: Sequence[Sequence[str]]) -> str | None:
    """``rows`` exactly as ``csv.writer`` (``lineterminator="\\n"``) writes them when no cell
    needs quoting, else None (the writer writes them).

    A cell is quoted when it holds a comma, a double quote or a line break, and a row of
    one empty cell is written ``""``; a block with none of these is the cells joined by
    commas and newlines, which ``str.join`` makes at a tenth of the writer's cost (records
    are rendered a block of 1,000 at a time, every one of a write's). Whether the block
    needs quoting is read from the joined text itself: no quote or carriage return in it,
    and exactly the commas and newlines the joins put there. Its first row is looked at
    alone first: blocks with a column to quote (JSON text, say) usually quote it in every
    row, and go to the writer at once.
    """
    if not rows or min(map(len, rows)) < 2 or _needs_quoting(rows[0]):
        return None
    text = "\n".join(map(",".join, rows)) + "\n"
    if (
        '"' in text
        or "\r" in text
        or text.count(",") != sum(map(len, rows)) - len(rows)
        or text.count("\n") != len(rows)
    ):
        return None
    return text


def _needs_quoting(row: Sequence[str]) -> bool:
    """Whether a cell of ``row`` holds a quote, a line break or a comma."""
    line = ",".join(row)
    return '"' in line or "\n" in line or "\r" in line or line.count(",") != len(row) - 1


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
        text = _plain_lines(rows)
        if text is None:
            self._text.seek(0)
            self._text.truncate()
            self._writer.writerows(rows)
            text = self._text.getvalue()
        return text.encode("utf-8")

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


def _fold(
    gateway: SalesforceGateway,
    sobject: str,
    fields: tuple[str, ...],
    job_id: str,
    job: _JobData,
    records: Sequence[Mapping[str, Any]],
    result: WriteResult,
) -> None:
    """Wait for one submitted ingest job and fold its results into ``result``."""
    from cmsf_core.salesforce import RecordFailure

    info = _wait(gateway, sobject, job_id, is_query=False)
    processed = int(info.get("numberRecordsProcessed") or 0)
    failed = int(info.get("numberRecordsFailed") or 0)
    if processed > failed:
        table = _result_table(gateway, sobject, job_id, "successfulResults")
        for key, sf_id, created in _successes(table, fields):
            for index in job.positions.get(key, ()):
                result.ids[index] = sf_id
                result.created[index] = created
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
    if gateway.bulk_ledger is not None:
        gateway.bulk_ledger.closed(job_id)


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


def collect_open_jobs(gateway: SalesforceGateway) -> int:
    """Gather the results of the Bulk API jobs an earlier run left open (see the ledger).

    A job never closed (a crash before its upload finished) is aborted: Salesforce wrote
    nothing. A job still queued or running is waited for, within the wait bound. A job
    that ended (``JobComplete``, or ``Failed`` part-way) has its written and refused
    records kept in the ledger, for the writes of this run to take instead of writing
    them again. A job Salesforce no longer knows (purged after seven days) is forgotten.

    Returns:
        How many jobs' results were collected.

    Raises:
        WaitingError: A job is still queued or running at the bound.
    """
    ledger = gateway.bulk_ledger
    if ledger is None:
        return 0
    return sum(1 for job in ledger.open_jobs() if _collect(gateway, ledger, job))


def _collect(gateway: SalesforceGateway, ledger: BulkLedger, job: OpenJob) -> bool:
    """Collect one open job; True if its results are now kept in the ledger."""
    client = _job_client(job)
    try:
        info = gateway._call(lambda sf: client(sf).get_job(job.job_id, False))
    except NotFoundError:
        ledger.closed(job.job_id)
        return False
    state = str(info.get("state"))
    if state == "Open":
        gateway._call(lambda sf: client(sf).abort_job(job.job_id, False))
        ledger.closed(job.job_id)
        return False
    if state not in _TERMINAL:
        state = str(_wait_terminal(gateway, job.sobject, job.job_id, is_query=False)["state"])
    if state == "Aborted":
        ledger.closed(job.job_id)
        return False
    ledger.store(job, list(_outcomes(gateway, job)))
    return True


def _job_client(job: OpenJob) -> Callable[[Salesforce], _Bulk2Client]:
    """Builds a client for ``job``'s object on the current session (see :func:`_client`)."""

    def build(sf: Salesforce) -> _Bulk2Client:
        return _client(sf, job.sobject)

    return build


def _outcomes(
    gateway: SalesforceGateway, job: OpenJob
) -> Iterator[tuple[str, dict[str, str], Replay]]:
    """``(key, cells written, outcome)`` of every record of a finished job."""
    fields = job.key_fields
    for row in _result_rows(gateway, job.sobject, job.job_id, "successfulResults"):
        yield (
            _key(row, fields, cells=False),
            _cells(row),
            Replay(
                sf_id=row.get("sf__Id") or None,
                created=str(row.get("sf__Created", "")).lower() == "true",
                code=None,
                message="",
                fields=(),
            ),
        )
    for row in _result_rows(gateway, job.sobject, job.job_id, "failedResults"):
        code, message, error_fields = parse_error(row.get("sf__Error") or "")
        yield (
            _key(row, fields, cells=False),
            _cells(row),
            Replay(sf_id=None, created=False, code=code, message=message, fields=error_fields),
        )


def _cells(row: Mapping[str, Any]) -> dict[str, str]:
    """The submitted cells of a result row (the ``sf__`` columns left out)."""
    return {
        name: str(value or "")
        for name, value in row.items()
        if name is not None and not name.startswith("sf__")
    }
