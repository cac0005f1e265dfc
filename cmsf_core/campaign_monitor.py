"""The Campaign Monitor gateway: a typed API v3.3 client over httpx.

Every call goes through :meth:`CampaignMonitorClient._request`, which authenticates (API
key as HTTP Basic, or an OAuth bearer token refreshed on expiry), retries transient
failures with back-off that honours 429 and the ``X-RateLimit-*`` headers, applies a
timeout, counts the call, and maps Campaign Monitor's ``{"Code", "Message"}`` errors to
the engine's error classes in one table (:data:`CODE_ERRORS`). Paged reads are
iterators of :class:`Page` so jobs can commit bookmarks page by page.

Over a network a paged read *reads ahead*: as soon as a page arrives, the request for the
next one is sent from a worker thread while the job works on the page it has, so a job
waits for Campaign Monitor only when it is faster than Campaign Monitor
(:meth:`CampaignMonitorClient._ahead`). What is read, and in which order, does not change;
a caller that stops before a listing's end leaves one page read for nothing. An in-process
transport (cm_sim's, in tests) answers in the caller's own thread, so it reads no page
ahead.

Nothing here logs or repeats a credential: messages name the path and the platform's
code and message only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from cmsf_core.clock import Clock, SystemClock
from cmsf_core.errors import (
    AuthenticationError,
    CmsfError,
    NotFoundError,
    PlatformError,
    RateLimitedError,
    RetriableError,
    SafetyError,
    SkippableRecordError,
)
from cmsf_core.jsontext import from_json
from cmsf_core.pagination import PageNumberPaginator
from cmsf_core.retry import RetryPolicy, call_with_retries

__all__ = [
    "ACTIVITY_ENDPOINTS",
    "CODE_ERRORS",
    "DEFAULT_BASE_URL",
    "SEND_ONCE",
    "SUBSCRIBER_STATES",
    "CampaignMonitorClient",
    "Page",
]

PLATFORM = "campaign_monitor"
DEFAULT_BASE_URL = "https://api.createsend.com/api/v3.3"

SUBSCRIBER_STATES: dict[str, str] = {
    "Active": "active",
    "Unconfirmed": "unconfirmed",
    "Unsubscribed": "unsubscribed",
    "Bounced": "bounced",
    "Deleted": "deleted",
}
"""Subscriber state -> the list endpoint that returns subscribers currently in it."""

ACTIVITY_ENDPOINTS: dict[str, str] = {
    "Sent": "recipients",
    "Open": "opens",
    "Click": "clicks",
    "Bounce": "bounces",
    "Unsubscribe": "unsubscribes",
    "Spam": "spam",
}
"""Tracking activity type -> campaign activity endpoint."""

CODE_ERRORS: dict[int, type[CmsfError]] = {
    1: SkippableRecordError,  # invalid email address
    100: AuthenticationError,  # invalid API key
    101: NotFoundError,  # invalid list id
    102: NotFoundError,  # invalid client id
    120: AuthenticationError,  # invalid OAuth token
    121: AuthenticationError,  # expired OAuth token (refreshed first when possible)
    122: AuthenticationError,  # revoked OAuth token
    203: SkippableRecordError,  # subscriber not in list
    204: SkippableRecordError,  # in suppression list
    205: SkippableRecordError,  # deleted
    206: SkippableRecordError,  # unsubscribed
    207: SkippableRecordError,  # bounced
    208: SkippableRecordError,  # unconfirmed
    211: SkippableRecordError,  # invalid new email address
    214: SkippableRecordError,  # consent to track missing
    215: SkippableRecordError,  # consent to track invalid
    220: SkippableRecordError,  # invalid mobile number
    221: SkippableRecordError,  # invalid mobile number and consent
    301: NotFoundError,  # campaign not found
    302: NotFoundError,  # unknown message id
    926: NotFoundError,  # unknown smart email
    3000: NotFoundError,  # invalid journey
    3002: NotFoundError,  # invalid journey email
}
"""Campaign Monitor ``Code`` -> engine error class (everything else: PlatformError)."""


SEND_ONCE = RetryPolicy(attempts=1)
"""The retry policy of a write that must not be repeated blindly (a transactional send)."""


@dataclass(frozen=True)
class Page:
    """One page of a paged read.

    Attributes:
        results: The rows of this page.
        number: 1-based page number.
        pages: Total number of pages.
        total: Total number of records.
    """

    results: list[dict[str, Any]]
    number: int
    pages: int
    total: int

    @property
    def is_last(self) -> bool:
        """True for the final page."""
        return self.number >= self.pages


class CampaignMonitorClient:
    """A Campaign Monitor API v3.3 client.

    Args:
        api_key: Account or client API key (HTTP Basic auth).
        access_token: OAuth access token (Bearer auth), used when no API key is given.
        refresh_token: Called to obtain a new access token when the current one expired
            (Code 121); without it an expired token is an :class:`AuthenticationError`.
        base_url: API root; defaults to the real ``https://api.createsend.com/api/v3.3``.
        transport: httpx transport (e.g. cm_sim's in-process transport).
        verify: TLS verification for httpx (True, False or an ``ssl.SSLContext``).
        timeout: Seconds per request.
        clock: Clock used for back-off waits.
        retry: Retry policy for 429, 5xx, timeouts and garbled bodies.
        page_size: Page size of paged reads (10-1000).
        on_request: Told ``(method, path)`` for every HTTP request sent (retries included).
        read_ahead: Read each next page of a paged read while the caller works on the one
            it has (default: over a network, that is without ``transport``).

    Raises:
        ValueError: If neither an API key nor an access token is given.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        refresh_token: Callable[[], str] | None = None,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.BaseTransport | None = None,
        verify: Any = True,
        timeout: float = 30.0,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 1000,
        on_request: Callable[[str, str], None] | None = None,
        read_ahead: bool | None = None,
    ) -> None:
        if not api_key and not access_token:
            raise ValueError("a Campaign Monitor API key or OAuth access token is required")
        if not 10 <= page_size <= 1000:
            raise ValueError("page_size must be between 10 and 1000")
        self._api_key = api_key
        self._access_token = access_token
        self._refresh = refresh_token
        self.base_url = base_url.rstrip("/")
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.on_request = on_request
        self.calls = 0
        self.write_calls = 0
        self._counting = threading.Lock()  # a page read ahead is counted from its thread
        self._write_guard: str | None = None
        self._http = httpx.Client(
            transport=transport, verify=verify, timeout=timeout, follow_redirects=False
        )
        self.read_ahead = transport is None if read_ahead is None else read_ahead
        self._reader: ThreadPoolExecutor | None = None
        self._reader_pid = 0

    def __repr__(self) -> str:
        auth = "api-key" if self._api_key else "oauth"
        return f"CampaignMonitorClient(base_url={self.base_url!r}, auth={auth})"

    def add_event_hooks(
        self,
        *,
        request: Callable[[httpx.Request], None] | None = None,
        response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        """Call ``request`` before and ``response`` after every HTTP exchange.

        The distributed runtime shares Campaign Monitor's rate limit between workers
        this way (see :mod:`cmsf_core.distributed.budget`).
        """
        if request is not None:
            self._http.event_hooks["request"].append(request)
        if response is not None:
            self._http.event_hooks["response"].append(response)

    def guard_writes(self, reason: str | None) -> None:
        """Refuse every non-GET request while ``reason`` is set (sandbox safety)."""
        self._write_guard = reason

    def close(self) -> None:
        """Release the HTTP connection pool (and the thread that reads pages ahead)."""
        if self._reader is not None:
            self._reader.shutdown(wait=True)
            self._reader = None
        self._http.close()

    def _ahead(self, pages: Iterator[Page], wanted: bool = True) -> Iterator[Page]:
        """``pages``, each next page read while the caller works on the one it was given.

        The next page is asked for (in a worker thread) as soon as a page is handed over,
        so the request and Campaign Monitor's answer overlap the caller's work. Pages, and
        the requests behind them, come in the same order as without reading ahead; an error
        reading a page is raised where the caller asks for that page. A caller that stops
        early (or fails) waits for the read in flight, which is one call read for nothing:
        a caller that means to stop early says so (``wanted`` False) and reads no page ahead.
        """
        if not (self.read_ahead and wanted):
            return pages
        return self._read_ahead(pages)

    def _read_ahead(self, pages: Iterator[Page]) -> Iterator[Page]:
        if self._reader is None or self._reader_pid != os.getpid():
            # (A process forked from one that read ahead has no reading thread: a new one.)
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="cmsf-cm-read-ahead")
            self._reader_pid = os.getpid()
        reader = self._reader
        pending: Future[Page | None] = reader.submit(next, pages, None)
        try:
            while (page := pending.result()) is not None:
                pending = reader.submit(next, pages, None)
                yield page
        finally:
            if not pending.cancel():  # not started: nothing to wait for
                with contextlib.suppress(Exception):  # the caller's own error comes first
                    pending.result()
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    # ------------------------------------------------------------------ transport

    def _auth(self) -> httpx.Auth:
        if self._api_key:
            return httpx.BasicAuth(self._api_key, "x")
        return _BearerAuth(self._access_token or "")

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Send one API call with retries; return the parsed JSON body (None when empty).

        ``retry`` replaces the client's policy for this call (``SEND_ONCE`` for a write
        that must never be repeated blindly).
        """

        if method != "GET" and self._write_guard is not None:
            raise SafetyError(
                f"refusing to write to Campaign Monitor ({method} {path}): {self._write_guard}",
                platform=PLATFORM,
                support_code="CMSF-SANDBOX",
            )

        def attempt() -> Any:
            return self._send(method, path, params, body)

        policy = retry or self.retry
        try:
            return call_with_retries(attempt, policy=policy, clock=self.clock)
        except AuthenticationError as error:
            if error.error_code == "121" and self._refresh is not None and not self._api_key:
                self._access_token = self._refresh()
                return call_with_retries(attempt, policy=policy, clock=self.clock)
            raise

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {"Content-Type": "application/json; charset=utf-8"}
        content = json.dumps(body) if body is not None else None
        with self._counting:
            self.calls += 1
            if method != "GET":
                self.write_calls += 1
        if self.on_request is not None:
            self.on_request(method, path)
        try:
            response = self._http.request(
                method,
                url,
                params=_wire_params(params),
                content=content,
                headers=headers,
                auth=self._auth(),
            )
        except httpx.TimeoutException as exc:
            raise RetriableError(
                f"Campaign Monitor did not answer {method} {path} in time", platform=PLATFORM
            ) from exc
        except httpx.TransportError as exc:
            raise RetriableError(
                f"could not reach Campaign Monitor for {method} {path}: {type(exc).__name__}",
                platform=PLATFORM,
            ) from exc
        return self._parse(method, path, response)

    def _parse(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        text = response.text
        data: Any = None
        if text.strip():
            try:
                data = from_json(text, response.content)
            except json.JSONDecodeError as exc:
                if status < 300 or status >= 500:
                    raise RetriableError(
                        f"Campaign Monitor sent a malformed body for {method} {path}",
                        platform=PLATFORM,
                        status=status,
                    ) from exc
                data = None
        if status < 300:
            return data
        code = data.get("Code") if isinstance(data, dict) else None
        message = data.get("Message") if isinstance(data, dict) else None
        label = f"Campaign Monitor refused {method} {path}: {message or f'HTTP {status}'}"
        if status == 429:
            raise RateLimitedError(
                label,
                retry_after=_retry_after(response),
                platform=PLATFORM,
                status=status,
                error_code=str(code) if code is not None else "429",
            )
        if status >= 500:
            raise RetriableError(label, platform=PLATFORM, status=status, error_code=str(code))
        if status == 400 and code == 210 and isinstance(data, dict) and "ResultData" in data:
            return data["ResultData"]  # import with some failures: valid rows were imported
        if status == 404:
            raise NotFoundError(label, platform=PLATFORM, status=status, error_code=str(code))
        error_class = CODE_ERRORS.get(int(code)) if isinstance(code, int) else None
        if error_class is None:
            error_class = AuthenticationError if status == 401 else PlatformError
        raise error_class(label, platform=PLATFORM, status=status, error_code=str(code))

    def _paged(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Page]:
        paginator = PageNumberPaginator()
        while not paginator.finished:
            query = {**(params or {}), "page": paginator.current_value, "pagesize": self.page_size}
            body = self._request("GET", path, params=query)
            if not isinstance(body, dict):
                raise PlatformError(
                    f"Campaign Monitor returned no paged envelope for {path}", platform=PLATFORM
                )
            paginator.advance(body)
            yield Page(
                results=list(body.get("Results") or []),
                number=int(body["PageNumber"]),
                pages=int(body["NumberOfPages"]),
                total=int(body.get("TotalNumberOfRecords", 0)),
            )

    # ------------------------------------------------------------------ account

    def clients(self) -> list[dict[str, Any]]:
        """The account's clients: ``[{ClientID, Name}]``."""
        return list(self._request("GET", "clients.json") or [])

    def client_details(self, client_id: str) -> dict[str, Any]:
        """A client's details (``BasicDetails`` with ``TimeZone``, ``BillingDetails``, ...)."""
        return dict(self._request("GET", f"clients/{_seg(client_id)}.json") or {})

    def billing_details(self) -> dict[str, Any]:
        """The account's billing details (``Credits``, ...)."""
        return dict(self._request("GET", "billingdetails.json") or {})

    def primary_contact(self) -> str:
        """The account's primary contact e-mail (``GET /primarycontact.json``)."""
        return str((self._request("GET", "primarycontact.json") or {}).get("EmailAddress", ""))

    def account_fingerprint(self) -> str:
        """A stable, non-personal identity of the account the credentials open.

        Campaign Monitor has no account id in its API; the primary contact is the
        account-level fact that stays put (a client-level key cannot read it, and then the
        sorted client ids stand in). Only a digest is kept, never the address.
        """
        try:
            basis = "contact:" + self.primary_contact().strip().lower()
        except (AuthenticationError, NotFoundError, PlatformError):
            basis = "clients:" + ",".join(sorted(c["ClientID"] for c in self.clients()))
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]

    def says_test_account(self) -> bool | None:
        """What the account itself says about being a test account, or None if it does not say.

        cm_sim surfaces its test-account flag as ``TestAccount`` in billing details; a real
        account has no such field, so only the admin's claim at connect time can tell.
        """
        flag = self.billing_details().get("TestAccount")
        return flag if isinstance(flag, bool) else None

    def system_date(self) -> str:
        """The account's current date and time, in its own time zone."""
        return str((self._request("GET", "systemdate.json") or {}).get("SystemDate", ""))

    def administrators(self) -> list[dict[str, Any]]:
        """Account administrators: ``[{EmailAddress, Name, Status}]``."""
        return list(self._request("GET", "admins.json") or [])

    def people(self, client_id: str) -> list[dict[str, Any]]:
        """People of a client: ``[{EmailAddress, Name, AccessLevel, Status}]``."""
        return list(self._request("GET", f"clients/{_seg(client_id)}/people.json") or [])

    # ------------------------------------------------------------------ lists

    def lists(self, client_id: str) -> list[dict[str, Any]]:
        """A client's lists: ``[{ListID, Name}]``."""
        return list(self._request("GET", f"clients/{_seg(client_id)}/lists.json") or [])

    def list_details(self, list_id: str) -> dict[str, Any]:
        """A list's options (``UnsubscribeSetting``, ``ConfirmedOptIn``, ...)."""
        return dict(self._request("GET", f"lists/{_seg(list_id)}.json") or {})

    def custom_fields(self, list_id: str) -> list[dict[str, Any]]:
        """A list's custom field definitions."""
        return list(self._request("GET", f"lists/{_seg(list_id)}/customfields.json") or [])

    def list_stats(self, list_id: str) -> dict[str, Any]:
        """A list's statistics counters."""
        return dict(self._request("GET", f"lists/{_seg(list_id)}/stats.json") or {})

    def subscriber_pages(
        self, list_id: str, state: str, since: str | None = None, *, read_ahead: bool = True
    ) -> Iterator[Page]:
        """Subscribers currently in ``state`` whose state changed on or after ``since``.

        Args:
            list_id: The list.
            state: One of :data:`SUBSCRIBER_STATES`.
            since: Client-local ``YYYY-MM-DD HH:MM:SS`` (inclusive); None for everyone.
            read_ahead: False for a caller that may stop before the end (see :meth:`_ahead`).

        Yields:
            Pages ordered by ``Date`` ascending.

        Campaign Monitor pages a listing by offset, and a subscriber who leaves the state
        while it is read (an unsubscribe, a deletion) takes its row out of it: every later
        row moves up one, and the row that was first on the next page would be on no page
        read. So after the first page the read goes on *by date*: the next request asks
        for the rows changed on or after the last row's ``Date`` (the ``date`` filter;
        dates are whole minutes), from its first page, and drops the rows of that minute
        already yielded. Only a minute with more rows than a page goes on by offset
        (within that minute). Pages are numbered as read; ``total`` is the first answer's,
        and the last page is the one that reaches the end of the listing.
        """
        return self._ahead(self._dated_pages(*_subscriber_query(list_id, state, since)), read_ahead)

    def _dated_pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Page]:
        """A date-ordered listing read on by date, not offset (:meth:`subscriber_pages`)."""
        edge: str | None = params.get("date")
        offset, number, total = 1, 0, 0
        seen: set[str] = set()  # addresses already yielded with the edge's Date
        while True:
            query = {**params, "date": edge} if edge else dict(params)
            page = self._one_page(path, query, offset, self.page_size)
            number += 1
            if number == 1:
                total = page.total
            end = page.is_last or not page.results
            rows = [
                row for row in page.results
                if edge is None or row.get("Date") != edge or _address(row) not in seen
            ]  # fmt: skip
            if not end:
                last = str(page.results[-1].get("Date") or "")
                if last and (edge is None or last > edge):  # on from the last row's minute
                    edge, offset = last, 1
                    seen = {_address(row) for row in page.results if row.get("Date") == last}
                else:  # the whole page is one minute (or undated): on by offset within it
                    seen |= {_address(row) for row in page.results if row.get("Date") == edge}
                    offset += 1
            yield Page(results=rows, number=number, pages=number if end else number + 1,
                       total=total)  # fmt: skip
            if end:
                return

    def subscriber_page(
        self, list_id: str, state: str, since: str | None, *, page: int, pagesize: int
    ) -> Page:
        """One page of :meth:`subscriber_pages` in a page size of its own (10-1000).

        The distributed runtime's list partitions probe a list with it: how many rows a
        read has, and the ``Date`` at a given offset.
        """
        return self._one_page(*_subscriber_query(list_id, state, since), page, pagesize)

    def _one_page(self, path: str, params: Mapping[str, Any], page: int, pagesize: int) -> Page:
        body = self._request("GET", path, params={**params, "page": page, "pagesize": pagesize})
        results = body.get("Results") or [] if isinstance(body, dict) else None
        try:
            if not isinstance(body, dict) or not isinstance(results, list):
                raise TypeError("not a paged envelope")
            return Page(
                results=list(results),
                number=int(body["PageNumber"]),
                pages=int(body.get("NumberOfPages") or 0),
                total=int(body.get("TotalNumberOfRecords") or 0),
            )
        except (KeyError, TypeError, ValueError):
            raise PlatformError(
                f"Campaign Monitor returned no paged envelope for {path}", platform=PLATFORM
            ) from None

    def suppression_pages(self, client_id: str) -> Iterator[Page]:
        """A client's suppression list, by email ascending.

        An address taken off the list while it is read could hide another from the read
        (the suppression job would then delete a record of an address still suppressed):
        see :meth:`_edge_kept_pages`.
        """
        return self._ahead(
            self._edge_kept_pages(
                f"clients/{_seg(client_id)}/suppressionlist.json",
                {"orderfield": "email", "orderdirection": "asc"},
                _address,
            )
        )

    def _edge_kept_pages(
        self, path: str, params: Mapping[str, Any], key: Callable[[Mapping[str, Any]], str]
    ) -> Iterator[Page]:
        """A listing read by offset pages that keeps the rows a removal moves across an edge.

        For listings with no filter to go on from a row (:meth:`subscriber_pages` goes on by
        date instead). A row taken out of the listing while it is read moves every later row
        up one: the row first on the next page would be on no page read. So after each page
        but the first the page before it is read again, and its rows not read yet (``key``
        tells rows apart; up to a page of them) join the page: one call more per page of a
        listing longer than one page.
        """
        recent: list[set[str]] = []  # the keys of the two pages read last
        for page in self._paged(path, params):
            rows = list(page.results)
            if page.number > 1:
                again = self._one_page(path, params, page.number - 1, self.page_size)
                known = {key(row) for row in rows}.union(*recent)
                rows += [row for row in again.results if key(row) not in known]
            recent = [*recent[-1:], {key(row) for row in rows}]
            yield Page(results=rows, number=page.number, pages=page.pages, total=page.total)

    # ------------------------------------------------------------------ campaigns

    def campaign_pages(
        self, client_id: str, *, sent_from: date | None = None, tags: tuple[str, ...] = ()
    ) -> Iterator[Page]:
        """A client's sent campaigns (hidden ones are never returned), newest first.

        A campaign deleted while they are read could hide another from the read (the
        campaigns job would then remove a campaign still sent, with its tracking
        history): see :meth:`_edge_kept_pages`.
        """
        params: dict[str, Any] = {"orderdirection": "desc"}
        if sent_from is not None:
            params["sentfromdate"] = sent_from.isoformat()
        if tags:
            params["tags"] = ",".join(tags)
        return self._ahead(
            self._edge_kept_pages(
                f"clients/{_seg(client_id)}/campaigns.json",
                params,
                lambda row: str(row.get("CampaignID") or ""),
            )
        )

    def campaign_summary(self, campaign_id: str) -> dict[str, Any]:
        """A sent campaign's counters (``Recipients``, ``TotalOpened``, ``Clicks``, ...)."""
        return dict(self._request("GET", f"campaigns/{_seg(campaign_id)}/summary.json") or {})

    def campaign_lists(self, campaign_id: str) -> dict[str, Any]:
        """The lists and segments a campaign went to."""
        return dict(
            self._request("GET", f"campaigns/{_seg(campaign_id)}/listsandsegments.json") or {}
        )

    def activity_pages(
        self, campaign_id: str, activity: str, since: str | None = None, *, read_ahead: bool = True
    ) -> Iterator[Page]:
        """One kind of campaign activity, oldest first.

        Args:
            campaign_id: The campaign.
            activity: A key of :data:`ACTIVITY_ENDPOINTS` (``Sent`` reads recipients,
                which take no date filter).
            since: Client-local timestamp (inclusive); ignored for recipients.
            read_ahead: False for a caller that may stop before the end (see :meth:`_ahead`).
        """
        return self._ahead(self._paged(*_activity_query(campaign_id, activity, since)), read_ahead)

    def activity_page(
        self, campaign_id: str, activity: str, since: str | None, *, page: int, pagesize: int
    ) -> Page:
        """One page of :meth:`activity_pages` in a page size of its own (a partition probe)."""
        return self._one_page(*_activity_query(campaign_id, activity, since), page, pagesize)

    # ------------------------------------------------------------------ transactional

    def smart_emails(self, client_id: str) -> list[dict[str, Any]]:
        """A client's smart transactional emails: ``[{ID, Name, CreatedAt, Status}]``."""
        return list(
            self._request(
                "GET", "transactional/smartEmail", params={"status": "all", "clientID": client_id}
            )
            or []
        )

    def smart_email(self, smart_email_id: str) -> dict[str, Any]:
        """A smart email's details, with ``Properties.Content.EmailVariables``."""
        return dict(self._request("GET", f"transactional/smartEmail/{_seg(smart_email_id)}") or {})

    def message(self, message_id: str, *, exclude_body: bool = False) -> dict[str, Any]:
        """A transactional message's details (status, message and its ``Data``, statistics).

        Args:
            message_id: The MessageID.
            exclude_body: Leave the HTML and text out (``excludemessagebody``).
        """
        params: dict[str, Any] = {"statistics": not exclude_body}
        if exclude_body:
            params["excludemessagebody"] = True
        return dict(
            self._request("GET", f"transactional/messages/{_seg(message_id)}", params=params) or {}
        )

    def messages(
        self,
        client_id: str,
        *,
        smart_email_id: str | None = None,
        sent_before: str | None = None,
        count: int = 200,
    ) -> list[dict[str, Any]]:
        """One page of the message timeline, newest first (``GET transactional/messages``).

        Args:
            client_id: The client whose messages to list.
            smart_email_id: Only messages of this smart email.
            sent_before: Only messages sent before this MessageID (the cursor of older pages).
            count: Page size (1-200).
        """
        params: dict[str, Any] = {"clientID": client_id, "count": count, "status": "all"}
        if smart_email_id:
            params["smartEmailID"] = smart_email_id
        if sent_before:
            params["sentBeforeID"] = sent_before
        return list(self._request("GET", "transactional/messages", params=params) or [])

    def send_smart_email(
        self,
        smart_email_id: str,
        *,
        to: list[str],
        data: Mapping[str, Any],
        consent_to_track: str = "Unchanged",
        add_recipients_to_list: bool = False,
    ) -> list[dict[str, Any]]:
        """Send a smart email, once; returns ``[{MessageID, Recipient, Status}]``.

        The request is never repeated here: Campaign Monitor has no idempotency key, so a
        timeout, a 5xx or a garbled answer leaves the send's outcome unknown (the caller
        finds out through the message timeline), and a 429 (nothing was sent) is the
        caller's to wait out. Each raises its :class:`RetriableError` at once.
        """
        body = {
            "To": to,
            "Data": dict(data),
            "AddRecipientsToList": add_recipients_to_list,
            "ConsentToTrack": consent_to_track,
        }
        return list(
            self._request(
                "POST",
                f"transactional/smartEmail/{_seg(smart_email_id)}/send",
                body=body,
                retry=SEND_ONCE,
            )
            or []
        )

    # ------------------------------------------------------------------ subscriber writes

    def subscriber(self, list_id: str, email: str) -> dict[str, Any]:
        """One subscriber's details in a list."""
        return dict(
            self._request(
                "GET",
                f"subscribers/{_seg(list_id)}.json",
                params={"email": email, "includetrackingpreference": True},
            )
            or {}
        )

    def add_subscriber(self, list_id: str, subscriber: Mapping[str, Any]) -> str:
        """Add or update one subscriber (Campaign Monitor upserts by email)."""
        return str(
            self._request("POST", f"subscribers/{_seg(list_id)}.json", body=dict(subscriber))
        )

    def import_subscribers(
        self,
        list_id: str,
        subscribers: list[Mapping[str, Any]],
        *,
        resubscribe: bool = False,
        queue_autoresponders: bool = False,
        restart_autoresponders: bool | None = None,
    ) -> dict[str, Any]:
        """Import up to 1,000 subscribers; returns the import result (failures per row).

        ``restart_autoresponders`` (default: as ``queue_autoresponders``) restarts them for
        subscribers the import reactivates.
        """
        restart = queue_autoresponders if restart_autoresponders is None else restart_autoresponders
        body = {
            "Subscribers": [dict(s) for s in subscribers],
            "Resubscribe": resubscribe,
            "QueueSubscriptionBasedAutoResponders": queue_autoresponders,
            "RestartSubscriptionBasedAutoresponders": restart,
        }
        return dict(
            self._request("POST", f"subscribers/{_seg(list_id)}/import.json", body=body) or {}
        )

    def update_subscriber(self, list_id: str, email: str, subscriber: Mapping[str, Any]) -> None:
        """Update a subscriber in place (``PUT subscribers/{list}.json?email=``).

        ``subscriber["EmailAddress"]`` may be a new address: the subscriber keeps its
        history and state under it. Works on inactive subscribers too.
        """
        self._request(
            "PUT",
            f"subscribers/{_seg(list_id)}.json",
            params={"email": email},
            body=dict(subscriber),
        )

    def lists_for_email(self, client_id: str, email: str) -> list[dict[str, Any]]:
        """The client's lists an address is on: ``[{ListID, ListName, SubscriberState, ...}]``."""
        return list(
            self._request(
                "GET", f"clients/{_seg(client_id)}/listsforemail.json", params={"email": email}
            )
            or []
        )

    def unsubscribe(self, list_id: str, email: str) -> None:
        """Unsubscribe an address from a list."""
        self._request(
            "POST", f"subscribers/{_seg(list_id)}/unsubscribe.json", body={"EmailAddress": email}
        )

    def delete_subscriber(self, list_id: str, email: str) -> None:
        """Delete an address from a list (its state becomes Deleted)."""
        self._request("DELETE", f"subscribers/{_seg(list_id)}.json", params={"email": email})

    def create_list(self, client_id: str, title: str, **options: Any) -> str:
        """Create a list; returns its id."""
        body = {"Title": title, **options}
        return str(self._request("POST", f"lists/{_seg(client_id)}.json", body=body))


class _BearerAuth(httpx.Auth):
    """OAuth bearer token authentication (the token never appears in reprs)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(<hidden>)"


def _seg(value: str) -> str:
    """Quote an id for use as one path segment."""
    return quote(str(value), safe="")


def _wire_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def _retry_after(response: httpx.Response) -> float | None:
    reset = response.headers.get("X-RateLimit-Reset")
    try:
        return float(reset) if reset is not None else None
    except ValueError:
        return None


def _address(row: Mapping[str, Any]) -> str:
    return str(row.get("EmailAddress") or "").lower()


def _subscriber_query(list_id: str, state: str, since: str | None) -> tuple[str, dict[str, Any]]:
    """The path and query of a list's subscribers in one state, oldest change first."""
    params: dict[str, Any] = {
        "orderfield": "date",
        "orderdirection": "asc",
        "includetrackingpreference": True,
        "includesmspreference": True,
    }
    if since:
        params["date"] = since
    return f"lists/{_seg(list_id)}/{SUBSCRIBER_STATES[state]}.json", params


def _activity_query(
    campaign_id: str, activity: str, since: str | None
) -> tuple[str, dict[str, Any]]:
    """The path and query of one kind of a campaign's activity, oldest first."""
    endpoint = ACTIVITY_ENDPOINTS[activity]
    params: dict[str, Any] = {}
    if endpoint == "recipients":
        params = {"orderfield": "email", "orderdirection": "asc"}
    else:
        params = {"orderfield": "date", "orderdirection": "asc"}
        if since:
            params["date"] = since
    return f"campaigns/{_seg(campaign_id)}/{endpoint}.json", params
