"""The Salesforce gateway: every call the engine makes to an org, over simple-salesforce.

:class:`SalesforceGateway` streams queries page by page, writes through sObject
Collections (200 records a call) or, above a threshold, Bulk API 2.0
(:mod:`cmsf_core.salesforce_bulk`), counts every HTTP request, keeps the run inside its
API budget (:mod:`cmsf_core.budget`), reconnects on an expired session, retries row-lock
and server errors with back-off, and reports per-record failures instead of failing a
whole batch. Platform errors are mapped to engine errors once, here
(:func:`map_salesforce_error`); nothing else in cmsf_core sees an HTTP status.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceOperationError,
)

from cmsf_core.access import ObjectAccess
from cmsf_core.apex_trouble import diagnose, splittable
from cmsf_core.budget import ApiBudget, parse_limit_info
from cmsf_core.bulk_ledger import BulkLedger
from cmsf_core.clock import Clock, SystemClock
from cmsf_core.errors import (
    AccessError,
    AuthenticationError,
    BudgetExhaustedError,
    CmsfError,
    NotFoundError,
    PlatformError,
    RetriableError,
)
from cmsf_core.pagination import NextRecordsUrlPaginator
from cmsf_core.retry import RetryPolicy, call_with_retries

__all__ = [
    "BATCH_SUBREQUESTS",
    "COLLECTION_SIZE",
    "BatchQuery",
    "RecordFailure",
    "SalesforceGateway",
    "WriteResult",
    "map_salesforce_error",
]

PLATFORM = "salesforce"
COLLECTION_SIZE = 200
"""Records per sObject Collections call (the platform's maximum)."""
BATCH_SUBREQUESTS = 25
"""Subrequests per ``composite/batch`` call (the platform's maximum)."""
QUERY_PAGE = 2000
"""Records per query page at most (the platform's largest REST query batch)."""

RETRIABLE_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
)
"""Per-record or per-request error codes worth retrying."""

T = TypeVar("T")


@dataclass(frozen=True)
class RecordFailure:
    """One record Salesforce refused.

    Attributes:
        index: Position of the record in the input.
        code: The platform's status code (``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``).
        message: The platform's message.
        fields: Fields the error is about.
        record: The record as it was sent.
    """

    index: int
    code: str
    message: str
    fields: tuple[str, ...]
    record: Mapping[str, Any]


@dataclass
class WriteResult:
    """The outcome of a write, record by record.

    Attributes:
        ids: Salesforce Id per input record (None where it failed).
        created: Whether each record was created (upsert/insert) rather than updated.
        failures: Records that failed, with the platform's reasons.
    """

    ids: list[str | None] = field(default_factory=list)
    created: list[bool] = field(default_factory=list)
    failures: list[RecordFailure] = field(default_factory=list)

    def place(self, positions: list[int], part: WriteResult) -> None:
        """Take the outcome of writing the records at ``positions`` (in that order)."""
        for position, index in enumerate(positions):
            self.ids[index] = part.ids[position]
            self.created[index] = part.created[position]
        self.failures.extend(
            RecordFailure(
                index=positions[f.index],
                code=f.code,
                message=f.message,
                fields=f.fields,
                record=f.record,
            )
            for f in part.failures
        )

    @property
    def succeeded(self) -> int:
        """How many records were written."""
        return sum(1 for value in self.ids if value is not None)


class BatchQuery:
    """One query of a :meth:`SalesforceGateway.query_batch` call, answered in one request.

    Its first page comes with the batch; :meth:`pages` yields it and then follows
    ``nextRecordsUrl`` (one call per further page). A query Salesforce refused (a malformed
    condition, an unknown field) keeps its error in :attr:`error` and affects no other
    query of the batch; :meth:`pages` raises it.
    """

    def __init__(
        self,
        gateway: SalesforceGateway,
        body: Mapping[str, Any] | None,
        error: CmsfError | None,
    ) -> None:
        self._gateway = gateway
        self._body = body
        self.error = error

    @property
    def total(self) -> int:
        """``totalSize`` of the query (0 when it failed)."""
        return int((self._body or {}).get("totalSize", 0))

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The records, one page at a time (``attributes`` removed).

        Raises:
            CmsfError: The error Salesforce answered this query with.
        """
        if self.error is not None:
            raise self.error
        body = self._body or {}
        paginator = NextRecordsUrlPaginator()
        paginator.advance(body)
        yield [strip_attributes(r) for r in body.get("records", [])]
        while not paginator.finished:
            body = self._gateway._query_more(paginator.current_value or "")
            paginator.advance(body)
            yield [strip_attributes(r) for r in body.get("records", [])]

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record, page after page (see :meth:`pages`)."""
        for page in self.pages():
            yield from page


@dataclass(frozen=True)
class SplitNote:
    """Records a trigger's Apex limit refused that the gateway wrote again in smaller calls.

    Attributes:
        sobject: The object written.
        cause: The platform's words for the limit (the first refusal's).
        trigger: The trigger named by the platform.
        retried: Records sent again.
        written: Of those, records written in the end.
        size: The smallest number of records a call that was tried.
    """

    sobject: str
    cause: str
    trigger: str
    retried: int
    written: int
    size: int


def map_salesforce_error(error: BaseException) -> CmsfError:
    """Map a simple-salesforce or transport exception to an engine error.

    The mapping table: 401 INVALID_SESSION_ID -> re-login (handled by the gateway);
    403 REQUEST_LIMIT_EXCEEDED -> :class:`BudgetExhaustedError`; UNABLE_TO_LOCK_ROW and
    5xx -> :class:`RetriableError`; 404 -> :class:`NotFoundError`; login failures ->
    :class:`AuthenticationError`; anything else -> :class:`PlatformError`.
    """
    if isinstance(error, CmsfError):
        return error
    if isinstance(error, SalesforceAuthenticationFailed):
        return AuthenticationError(
            f"Salesforce refused the login: {error.code}",
            platform=PLATFORM,
            error_code=str(error.code),
        )
    if isinstance(error, requests.exceptions.Timeout):
        return RetriableError("Salesforce did not answer in time", platform=PLATFORM)
    if isinstance(error, requests.exceptions.RequestException):
        return RetriableError(
            f"could not reach Salesforce: {type(error).__name__}", platform=PLATFORM
        )
    if isinstance(error, SalesforceOperationError) and not isinstance(error, SalesforceError):
        return PlatformError(f"Salesforce bulk job failed: {error}", platform=PLATFORM)
    if not isinstance(error, SalesforceError):
        return PlatformError(f"unexpected Salesforce failure: {type(error).__name__}")
    status = int(getattr(error, "status", 0) or 0)
    code, message = _first_error(getattr(error, "content", None))
    label = f"Salesforce refused {error.resource_name or 'the request'}: {message or status}"
    transient = _limit_or_retriable(label, status, code)
    if transient is not None:
        return transient
    hidden = _access_error(code, message, status)
    if hidden is not None:
        return hidden
    if status == 401:
        return AuthenticationError(label, platform=PLATFORM, status=status, error_code=code)
    if status == 404:
        return NotFoundError(label, platform=PLATFORM, status=status, error_code=code)
    return PlatformError(label, platform=PLATFORM, status=status, error_code=code)


def _limit_or_retriable(label: str, status: int, code: str | None) -> CmsfError | None:
    """The error that stops the whole request (daily limit, transient fault), or ``None``."""
    if code == "REQUEST_LIMIT_EXCEEDED":
        return BudgetExhaustedError(
            "the org's daily Salesforce API limit is exhausted (REQUEST_LIMIT_EXCEEDED)",
            platform=PLATFORM,
            status=status,
            error_code=code,
            support_code="CMSF-API-LIMIT",
        )
    if code in RETRIABLE_CODES or status >= 500:
        return RetriableError(label, platform=PLATFORM, status=status, error_code=code)
    return None


_NO_COLUMN = re.compile(r"No such column '([\w.]+)' on (?:entity|sobject of type) '?(\w+)'?")
_NO_TYPE = re.compile(r"sObject type '(\w+)' is not supported")


def _access_error(code: str | None, message: str | None, status: int) -> AccessError | None:
    """An :class:`AccessError` when Salesforce says an object or field is not visible."""
    hidden = _hidden(code, message or "")
    if hidden is None:
        return None
    sobject, field_name = hidden
    what = f"{sobject}.{field_name}" if field_name else sobject
    return AccessError(
        f"Insufficient permissions: secure query included inaccessible "
        f"{'field' if field_name else 'object'} {what} (the sync user cannot see it)",
        object_name=sobject,
        field_name=field_name,
        platform=PLATFORM,
        status=status,
        error_code=code,
    )


def _hidden(code: str | None, message: str) -> tuple[str, str | None] | None:
    """``(object, field)`` a query named that the user cannot see (field None: the object)."""
    if code == "INVALID_FIELD":
        found = _NO_COLUMN.search(message)
        if found:
            return found.group(2), found.group(1)
    if code == "INVALID_TYPE":
        found = _NO_TYPE.search(message)
        if found:
            return found.group(1), None
    return None


def _first_error(content: Any) -> tuple[str | None, str | None]:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return first.get("errorCode") or first.get("statusCode"), first.get("message")
    if isinstance(content, dict):
        return content.get("errorCode") or content.get("error"), content.get(
            "message"
        ) or content.get("error_description")
    return None, str(content)[:300] if content else None


_FIELD_VALUES = frozenset({str, int, float, bool, type(None)})
"""Types of a plain field's value (told apart from a relationship without asking the
``Mapping`` ABC, whose check costs more than the rest of the copy)."""


def strip_attributes(record: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``attributes`` from a record and its parent relationships."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if type(value) in _FIELD_VALUES:
            out[key] = value
        elif isinstance(value, Mapping) and "records" not in value:
            out[key] = strip_attributes(value)
        else:
            out[key] = value
    return out


class SalesforceGateway:
    """All Salesforce access of one run.

    Args:
        connect: Returns a logged-in ``simple_salesforce.Salesforce``; called again to
            re-login when a session expires.
        clock: Clock used for back-off waits.
        retry: Retry policy for lock errors, 5xx and transport failures.
        budget: The API budget to enforce (unlimited when None).
        bulk_threshold: Writes of more records than this use Bulk API 2.0.
        on_request: Told ``(method, url path)`` for every HTTP request.
    """

    def __init__(
        self,
        connect: Callable[[], Salesforce],
        *,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        budget: ApiBudget | None = None,
        bulk_threshold: int = 2000,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        self._connect = connect
        self._sf: Salesforce | None = None
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.budget = budget or ApiBudget(run_share=1.0, org_ceiling=1.0, reserve=0)
        self.bulk_threshold = bulk_threshold
        self.bulk_ledger: BulkLedger | None = None
        self.access = ObjectAccess()
        self.limit_split_floor = 0
        self.splits: list[SplitNote] = []
        self.bulk_wait_seconds = 30 * 60.0
        self.on_request = on_request
        self.calls = 0
        self.write_calls: Counter[str] = Counter()
        self.bulk_bytes: Counter[str] = Counter()
        self._reads: dict[str, int] = {}
        self.relogins = 0
        self._unbudgeted = 0
        self._describes: dict[str, dict[str, Any]] = {}
        self._parent: SalesforceGateway | None = None

    def for_login(self, connect: Callable[[], Salesforce]) -> SalesforceGateway:
        """A gateway logged in another way (as another user) that shares this one's API
        budget, retry policy and clock, and whose calls count as this gateway's too (so a
        run's totals include what was read as an import's owner)."""
        child = SalesforceGateway(
            connect,
            clock=self.clock,
            retry=self.retry,
            budget=self.budget,
            bulk_threshold=self.bulk_threshold,
            on_request=self.on_request,
        )
        child._parent = self
        return child

    def __repr__(self) -> str:
        return f"SalesforceGateway(calls={self.calls})"

    # ------------------------------------------------------------------ connection

    @property
    def sf(self) -> Salesforce:
        """The simple-salesforce client, connected on first use."""
        if self._sf is None:
            try:
                client = self._connect()
            except Exception as exc:
                raise map_salesforce_error(exc) from exc
            hooks = client.session.hooks.setdefault("response", [])
            if self._on_response not in hooks:
                hooks.append(self._on_response)
            self._sf = client
        return self._sf

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        if self._parent is not None:
            self._parent.calls += 1
        self.budget.count()
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self.budget.observe(*usage)
        if self.on_request is not None:
            request = response.request
            method = (request.method or "GET") if request is not None else "GET"
            path = urlsplit(request.url or "").path if request is not None else ""
            self.on_request(method, path)

    def reconnect(self) -> None:
        """Drop the session and log in again on the next call."""
        self._sf = None
        self.relogins += 1

    @contextlib.contextmanager
    def unbudgeted(self) -> Iterator[None]:
        """Allow calls past the budget (used to record why a run stopped)."""
        self._unbudgeted += 1
        try:
            yield
        finally:
            self._unbudgeted -= 1

    def _call(self, action: Callable[[Salesforce], T]) -> T:
        """Make one API call with budget check, re-login and retries."""

        def attempt() -> T:
            if not self._unbudgeted:
                self.budget.check()
            try:
                return action(self.sf)
            except SalesforceExpiredSession:
                self.reconnect()
                try:
                    return action(self.sf)
                except Exception as exc:
                    raise map_salesforce_error(exc) from exc
            except Exception as exc:
                raise map_salesforce_error(exc) from exc

        return call_with_retries(attempt, policy=self.retry, clock=self.clock)

    # ------------------------------------------------------------------ reads

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Stream the records of a SOQL query, page by page (``attributes`` removed)."""
        for page in self.query_pages(soql, include_deleted=include_deleted):
            yield from page

    def query_pages(
        self, soql: str, *, include_deleted: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """Stream a SOQL query one page (up to 2,000 records) at a time."""
        paginator = NextRecordsUrlPaginator()
        body = self._call(lambda sf: sf.query(soql, include_deleted=include_deleted))
        self._read(f"{include_deleted}:{soql}", int(body.get("totalSize") or 0))
        paginator.advance(body)
        yield [strip_attributes(r) for r in body.get("records", [])]
        while not paginator.finished:
            body = self._query_more(paginator.current_value or "")
            paginator.advance(body)
            yield [strip_attributes(r) for r in body.get("records", [])]

    def _read(self, what: str, rows: int) -> None:
        """Remember a distinct read and its size, for :attr:`read_floor`."""
        key = hashlib.sha1(what.encode("utf-8"), usedforsecurity=False).hexdigest()
        self._reads[key] = max(rows, self._reads.get(key, 0))

    @property
    def read_floor(self) -> int:
        """The fewest calls that make the reads this gateway made: every distinct read once,
        at the platform's largest page (2,000 records), however often it was made."""
        return sum(max(1, math.ceil(rows / QUERY_PAGE)) for rows in self._reads.values())

    def _query_more(self, url: str) -> Any:
        return self._call(lambda sf: sf.query_more(url, identifier_is_url=True))

    def _restful(self, path: str, method: str, **kwargs: Any) -> Any:
        return self._call(lambda sf: sf.restful(path, method=method, **kwargs))

    def rest(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One REST call under ``/services/data/vXX.X/`` (the Analytics and list view
        resources); the parsed JSON body, None when empty."""
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = dict(params)
        if body is not None:
            kwargs["json"] = body
        return self._restful(path, method, **kwargs)

    def query_batch(self, queries: Sequence[tuple[str, bool]]) -> list[BatchQuery]:
        """Run several queries in one ``composite/batch`` request per 25 (one API call each).

        Args:
            queries: ``(soql, include_deleted)`` pairs (``include_deleted`` uses ``queryAll``).

        Returns:
            One :class:`BatchQuery` per query, in order; a refused query carries its error.
        """
        out: list[BatchQuery] = []
        for start in range(0, len(queries), BATCH_SUBREQUESTS):
            chunk = queries[start : start + BATCH_SUBREQUESTS]
            version = self.sf.sf_version
            payload = {
                "haltOnError": False,
                "batchRequests": [
                    {
                        "method": "GET",
                        "url": f"v{version}/{'queryAll' if deleted else 'query'}/?q="
                        + quote(soql, safe=""),
                    }
                    for soql, deleted in chunk
                ],
            }
            body = self._restful("composite/batch", "POST", json=payload) or {}
            results = list(body.get("results") or [])
            # the floor: one call for the batch, plus the further pages of each query that
            # has more (a COUNT() query's totalSize is its count, not rows to page through)
            further = sum(
                max(0, math.ceil(int(r["result"].get("totalSize") or 0) / QUERY_PAGE) - 1)
                for r in results
                if isinstance(r, Mapping)
                and isinstance(r.get("result"), Mapping)
                and r["result"].get("done") is False
            )
            self._read(
                "batch:" + "\n".join(f"{deleted}:{soql}" for soql, deleted in chunk),
                QUERY_PAGE * (1 + further),
            )
            for index, _ in enumerate(chunk):
                item = results[index] if index < len(results) else {}
                status = int(item.get("statusCode") or 0)
                result = item.get("result")
                if 200 <= status < 300 and isinstance(result, Mapping):
                    out.append(BatchQuery(self, result, None))
                    continue
                code, message = _first_error(result)
                label = f"Salesforce refused a query: {message or status}"
                transient = _limit_or_retriable(label, status, code)
                if transient is not None:
                    raise transient
                error = _access_error(code, message, status) or PlatformError(
                    label, platform=PLATFORM, status=status, error_code=code
                )
                out.append(BatchQuery(self, None, error))
        return out

    def count(self, soql: str) -> int:
        """Run a ``SELECT COUNT() ...`` query and return the count."""
        body = self._call(lambda sf: sf.query(soql))
        self._read(f"count:{soql}", 0)
        return int(body.get("totalSize", 0))

    def limits(self) -> dict[str, Any]:
        """The org's limits (``DailyApiRequests`` ...); also primes the API budget."""
        body = self._call(lambda sf: sf.limits())
        self._read("limits", 0)
        daily = body.get("DailyApiRequests") or {}
        if "Max" in daily and "Remaining" in daily:
            self.budget.observe(int(daily["Max"]) - int(daily["Remaining"]), int(daily["Max"]))
        return dict(body)

    def describe(self, sobject: str) -> dict[str, Any]:
        """An object's describe, cached for the gateway's life.

        Raises:
            NotFoundError: If the object does not exist in the org.
        """
        if sobject not in self._describes:
            body = self._call(lambda sf: sf.restful(f"sobjects/{sobject}/describe"))
            self._read(f"describe:{sobject}", 0)
            self._describes[sobject] = dict(body or {})
        return self._describes[sobject]

    def forget_describes(self) -> None:
        """Drop cached describes (after the schema changed, e.g. a deploy)."""
        self._describes.clear()

    def field_names(self, sobject: str) -> set[str]:
        """API names of the fields of ``sobject`` visible to the running user."""
        return {f["name"] for f in self.describe(sobject).get("fields", [])}

    def organization(self) -> dict[str, Any]:
        """The org's identity: ``Id``, ``Name``, ``IsSandbox``, ``OrganizationType``."""
        rows = list(self.query("SELECT Id, Name, IsSandbox, OrganizationType FROM Organization"))
        if not rows:
            raise PlatformError("the Organization object returned no row", platform=PLATFORM)
        return rows[0]

    def current_user_id(self) -> str:
        """The Id of the user this gateway is logged in as (``oauth2/userinfo``)."""

        def ask(sf: Salesforce) -> Any:
            response = sf.session.get(
                f"https://{sf.sf_instance}/services/oauth2/userinfo", headers=sf.headers, timeout=60
            )
            if response.status_code == 401:
                raise SalesforceExpiredSession(response.url, 401, "userinfo", response.content)
            response.raise_for_status()
            return response.json()

        body = self._call(ask)
        self._read("userinfo", 0)
        return str(body.get("user_id") or "")

    def _metadata(self, call: Callable[[Salesforce], T]) -> T:
        """A Metadata API call. simple-salesforce's metadata client adds its SOAP headers
        (``Content-Type: text/xml``) to the client's shared headers; they are put back so
        the REST calls that follow still send JSON."""

        def guarded(sf: Salesforce) -> T:
            saved = dict(sf.headers)
            try:
                return call(sf)
            finally:
                sf.headers.clear()
                sf.headers.update(saved)

        return self._call(guarded)

    def deploy(self, data: bytes) -> str:
        """Start a Metadata API deploy of a zip (all or nothing); return its async Id."""
        import io

        started = self._metadata(lambda sf: sf.deploy(io.BytesIO(data), sandbox=False))
        if not started.get("asyncId"):
            raise PlatformError("Salesforce did not accept the deploy", platform=PLATFORM)
        return str(started["asyncId"])

    def deploy_status(self, deploy_id: str) -> dict[str, Any]:
        """``checkDeployStatus`` of a deploy: ``state`` and component ``errors``."""
        return dict(self._metadata(lambda sf: sf.checkDeployStatus(deploy_id)))

    # ------------------------------------------------------------------ writes

    def _replayed(
        self,
        operation: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        key_fields: Sequence[str],
        write: Callable[[Sequence[Mapping[str, Any]]], WriteResult],
    ) -> WriteResult:
        """Write ``records``, taking a collected Bulk API job's result for those it wrote.

        After a run ended waiting for a Bulk API job (or crashed while one ran), the next
        run collects the job's results (:mod:`cmsf_core.bulk_ledger`); a record sent again
        with exactly the values the job wrote gets the job's outcome instead of a second
        write. The rest are written by ``write``.
        """
        ledger = self.bulk_ledger
        if ledger is None or not ledger.has_results(sobject, operation):
            return write(records)
        from cmsf_core.salesforce_bulk import record_key

        result = WriteResult(ids=[None] * len(records), created=[False] * len(records))
        rest: list[int] = []
        for index, record in enumerate(records):
            kept = ledger.claim(sobject, operation, record_key(record, key_fields), record)
            if kept is None:
                rest.append(index)
            elif kept.sf_id is not None:
                result.ids[index] = kept.sf_id
                result.created[index] = kept.created
            else:
                result.failures.append(
                    RecordFailure(
                        index=index,
                        code=kept.code or "UNKNOWN_EXCEPTION",
                        message=kept.message,
                        fields=kept.fields,
                        record=record,
                    )
                )
        if rest:
            result.place(rest, write([records[i] for i in rest]))
        result.failures.sort(key=lambda f: f.index)
        return result

    def upsert(
        self,
        sobject: str,
        external_id: str,
        records: Sequence[Mapping[str, Any]],
        *,
        columns: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
    ) -> WriteResult:
        """Insert or update records keyed by ``external_id`` (idempotent).

        Args:
            sobject: Object API name.
            external_id: The external Id field.
            records: Records to write.
            columns: Every field the records carry, when the caller knows them (spares
                a Bulk API write a pass over the records).
            keys: The records' external Id values, likewise.
        """
        path = f"composite/sobjects/{sobject}/{external_id}"

        def write(chunk: Sequence[Mapping[str, Any]]) -> WriteResult:
            if len(chunk) > self.bulk_threshold:
                from cmsf_core.salesforce_bulk import bulk_write

                result = bulk_write(
                    self,
                    "upsert",
                    sobject,
                    chunk,
                    external_id=external_id,
                    columns=columns,
                    keys=keys if chunk is records else None,
                )
            else:
                result = self._collections("PATCH", path, sobject, chunk)
            return self._split_retry("PATCH", path, sobject, chunk, result)

        return self._replayed("upsert", sobject, records, (external_id,), write)

    def submit_upsert(
        self,
        sobject: str,
        external_id: str,
        records: Sequence[Mapping[str, Any]],
        *,
        columns: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
    ) -> WriteResult | Callable[[], WriteResult]:
        """:meth:`upsert`, with Bulk API jobs left running: a call that collects them.

        A write that goes through Bulk API 2.0 has its jobs created, filled and closed now
        and collected (with the same outcome :meth:`upsert` gives) when the returned
        function is called, so the caller can do other work while Salesforce processes
        them. Smaller writes, and writes that take a collected job's results (the ledger
        holds some for ``sobject``), are made now: their result is returned.
        """
        return self.prepare_upsert(sobject, external_id, records, columns=columns, keys=keys)()

    def prepare_upsert(
        self,
        sobject: str,
        external_id: str,
        records: Sequence[Mapping[str, Any]],
        *,
        columns: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
    ) -> Callable[[], WriteResult | Callable[[], WriteResult]]:
        """:meth:`submit_upsert` in two steps: a Bulk API write's CSV is made now, without a
        call; calling the result submits it (or makes a smaller write) as
        :meth:`submit_upsert` does (:func:`~cmsf_core.salesforce_bulk.prepare_write`)."""

        def now() -> WriteResult:
            return self.upsert(sobject, external_id, records, columns=columns, keys=keys)

        if len(records) <= self.bulk_threshold or self._replays(sobject):
            return now
        from cmsf_core.salesforce_bulk import prepare_write

        send = prepare_write(
            self, "upsert", sobject, records, external_id=external_id, columns=columns, keys=keys
        )
        path = f"composite/sobjects/{sobject}/{external_id}"

        def submit() -> WriteResult | Callable[[], WriteResult]:
            if self._replays(sobject):  # a job collected since: its results are taken
                return now()
            collect = send()
            return lambda: self._split_retry("PATCH", path, sobject, records, collect())

        return submit

    def _replays(self, sobject: str) -> bool:
        """Whether the ledger holds collected Bulk API results of upserts to ``sobject``."""
        return self.bulk_ledger is not None and self.bulk_ledger.has_results(sobject, "upsert")

    def create(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        match_on: tuple[str, ...] = (),
    ) -> WriteResult:
        """Insert records.

        Args:
            sobject: Object API name.
            records: Records to create.
            match_on: Fields that identify a record; when given, large inserts go through
                Bulk API 2.0 (results are matched on these fields).
        """

        def write(chunk: Sequence[Mapping[str, Any]]) -> WriteResult:
            if match_on and len(chunk) > self.bulk_threshold:
                from cmsf_core.salesforce_bulk import bulk_write

                result = bulk_write(self, "insert", sobject, chunk, match_on=match_on)
            else:
                result = self._collections("POST", "composite/sobjects", sobject, chunk)
            return self._split_retry("POST", "composite/sobjects", sobject, chunk, result)

        if not match_on:
            return write(records)
        return self._replayed("insert", sobject, records, match_on, write)

    def update(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> WriteResult:
        """Update records (each must carry its ``Id``)."""

        def write(chunk: Sequence[Mapping[str, Any]]) -> WriteResult:
            if len(chunk) > self.bulk_threshold:
                from cmsf_core.salesforce_bulk import bulk_write

                result = bulk_write(self, "update", sobject, chunk)
            else:
                result = self._collections("PATCH", "composite/sobjects", sobject, chunk)
            return self._split_retry("PATCH", "composite/sobjects", sobject, chunk, result)

        return self._replayed("update", sobject, records, ("Id",), write)

    def delete(self, ids: Sequence[str], *, sobject: str = "") -> WriteResult:
        """Delete records by Id (to the recycle bin)."""
        if (
            sobject
            and self.bulk_ledger is not None
            and self.bulk_ledger.has_results(sobject, "delete")
        ):
            return self._replayed(
                "delete",
                sobject,
                [{"Id": i} for i in ids],
                ("Id",),
                lambda chunk: self._delete([str(r["Id"]) for r in chunk], sobject),
            )
        return self._delete(ids, sobject)

    def _delete(self, ids: Sequence[str], sobject: str) -> WriteResult:
        if len(ids) > self.bulk_threshold and sobject:
            from cmsf_core.salesforce_bulk import bulk_write

            return bulk_write(self, "delete", sobject, [{"Id": i} for i in ids])
        result = WriteResult(ids=[None] * len(ids), created=[False] * len(ids))
        pending = list(range(len(ids)))
        for attempt in range(1, self.retry.attempts + 1):
            retry_next: list[int] = []
            for start in range(0, len(pending), COLLECTION_SIZE):
                chunk = pending[start : start + COLLECTION_SIZE]
                joined = ",".join(quote(ids[i]) for i in chunk)
                self.write_calls[sobject or "delete"] += 1
                body = self._restful(
                    "composite/sobjects",
                    "DELETE",
                    params={"ids": joined, "allOrNone": "false"},
                )
                for index, item in zip(chunk, body or [], strict=False):
                    retry_next += self._absorb(result, index, item, {"Id": ids[index]}, attempt)
            if not retry_next:
                break
            pending = retry_next
            self.clock.sleep(self.retry.delay(attempt))
        return result

    def _collections(
        self,
        method: str,
        path: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        size: int = COLLECTION_SIZE,
    ) -> WriteResult:
        result = WriteResult(ids=[None] * len(records), created=[False] * len(records))
        pending = list(range(len(records)))
        for attempt in range(1, self.retry.attempts + 1):
            retry_next: list[int] = []
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                self.write_calls[sobject] += 1
                payload = {
                    "allOrNone": False,
                    "records": [{"attributes": {"type": sobject}, **records[i]} for i in chunk],
                }
                body = self._restful(path, method, json=payload)
                for index, item in zip(chunk, body or [], strict=False):
                    retry_next += self._absorb(result, index, item, records[index], attempt)
            if not retry_next:
                break
            pending = retry_next
            self.clock.sleep(self.retry.delay(attempt))
        return result

    def _split_retry(
        self,
        method: str,
        path: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        result: WriteResult,
    ) -> WriteResult:
        """Send again, in halves, records a trigger's per-transaction Apex limit refused.

        Only with ``limit_split_floor`` above 0, and only for limits that fewer records a
        transaction can avoid (queueable jobs, SOQL queries, DML, CPU time, heap: not a
        full flex queue). Each round halves the records a call, down to the floor; what
        still fails keeps its refusal. The transactions that failed were rolled back, so
        nothing is written twice.
        """
        floor = self.limit_split_floor
        if floor <= 0 or not result.failures:
            return result
        first = None
        failed: list[int] = []
        for failure in result.failures:
            trouble = diagnose(failure.message)
            if splittable(trouble):
                failed.append(failure.index)
                first = first or trouble
        if not failed or first is None:
            return result
        originally = list(failed)
        size, tried = min(COLLECTION_SIZE, len(records)) // 2, 0
        while failed and size >= floor:
            tried = size
            again = self._collections(
                method, path, sobject, [records[i] for i in failed], size=size
            )
            still = set(failed)
            result.failures = [f for f in result.failures if f.index not in still]
            result.place(failed, again)
            failed = [failed[f.index] for f in again.failures if splittable(diagnose(f.message))]
            size //= 2
        result.failures.sort(key=lambda f: f.index)
        if tried:
            self.splits.append(
                SplitNote(
                    sobject=sobject,
                    cause=first.cause,
                    trigger=first.trigger,
                    retried=len(originally),
                    written=sum(1 for index in originally if result.ids[index] is not None),
                    size=tried,
                )
            )
        return result

    def _absorb(
        self,
        result: WriteResult,
        index: int,
        item: Mapping[str, Any],
        record: Mapping[str, Any],
        attempt: int,
    ) -> list[int]:
        """Record one per-record result; return ``[index]`` if it should be retried."""
        if item.get("success"):
            result.ids[index] = item.get("id")
            result.created[index] = bool(item.get("created", False))
            result.failures = [f for f in result.failures if f.index != index]
            return []
        errors = item.get("errors") or [{}]
        first = errors[0]
        code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN_EXCEPTION")
        failure = RecordFailure(
            index=index,
            code=code,
            message=str(first.get("message", "")),
            fields=tuple(first.get("fields") or ()),
            record=record,
        )
        result.failures = [f for f in result.failures if f.index != index] + [failure]
        if code in RETRIABLE_CODES and attempt < self.retry.attempts:
            return [index]
        return []

    def custom_notification(
        self, type_id: str, recipients: Sequence[str], title: str, body: str, target_id: str
    ) -> None:
        """Send a custom notification (the bell) through the standard ``customNotificationAction``.

        Raises:
            PlatformError: If Salesforce refuses it.
        """
        payload = {
            "inputs": [
                {
                    "customNotifTypeId": type_id,
                    "recipientIds": list(recipients),
                    "title": title,
                    "body": body,
                    "targetId": target_id,
                }
            ]
        }
        self.write_calls["customNotificationAction"] += 1
        answer = self._restful("actions/standard/customNotificationAction", "POST", json=payload)
        first = (answer or [{}])[0]
        if not first.get("isSuccess"):
            error = (first.get("errors") or [{}])[0]
            raise PlatformError(
                f"Salesforce refused the notification: {error.get('message')}",
                platform=PLATFORM,
                error_code=error.get("statusCode"),
            )

    def send_email(self, addresses: Sequence[str], subject: str, body: str) -> None:
        """Send an email through the org's standard ``emailSimple`` action."""
        payload = {
            "inputs": [
                {
                    "emailAddresses": ",".join(addresses),
                    "emailSubject": subject,
                    "emailBody": body,
                }
            ]
        }
        self.write_calls["emailSimple"] += 1
        self._restful("actions/standard/emailSimple", "POST", json=payload)
