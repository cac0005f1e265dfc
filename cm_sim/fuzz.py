"""Fuzz the Campaign Monitor facade: every route, any input, never a 5xx nor a traceback.

The hypothesis strategy :func:`requests` draws a request for a route of the table
(ids of real objects or made-up ones), with a query string, credentials (the account
key, a client key, OAuth tokens, non-ASCII or broken headers) and a body: any JSON
(deep nesting, lone surrogates, huge numbers, wrong types where the API wants a list
or a string) or bytes that are no JSON at all. :class:`FuzzTarget` answers it through
the WSGI app and reports the status and any ERROR logged meanwhile (a traceback).

The test suite runs a few hundred examples; a longer run:

    python -m cm_sim.fuzz --examples 5000

needs ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import sys
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

import cm_sim.app as app_module
from cm_sim.activation import Account
from cm_sim.urls import API_PREFIX, ID, KEY, OAUTH_ROUTES, ROUTES

__all__ = ["FuzzTarget", "main", "requests"]

FuzzRequest = tuple[str, str, dict[str, str], Any, str]
"""``(method, path, query, body, credential)``; body is bytes (raw) or JSON data or None."""

_FIELDS = (
    "EmailAddress", "Name", "CustomFields", "ConsentToTrack", "Resubscribe", "Subscribers",
    "Attachments", "To", "CC", "BCC", "Data", "Title", "EmailAddresses", "Events", "Url",
    "PayloadFormat", "CompanyName", "TimeZone", "Country", "FieldName", "DataType", "Options",
    "KeepExistingOptions", "MobileNumber", "ConsentToSendSms", "Subject", "From", "ListIDs",
    "SegmentIDs", "SendDate", "ConfirmationEmail", "AccessLevel", "Password", "Rules",
    "RuleGroups", "Key", "Value", "Clear", "AddRecipientsToList", "Html", "Text", "Group",
    "UnsubscribeSetting", "ConfirmedOptIn", "Credits", "CanUseMyCreditsWhenTheyRunOut",
    "VisibleInPreferenceCenter", "QueueSubscriptionBasedAutoResponders",
    "RestartSubscriptionBasedAutoresponders", "TrackOpens", "TrackClicks", "InlineCSS",
)  # fmt: skip
_PARAMS = (
    "email", "date", "page", "pagesize", "orderfield", "orderdirection", "clientID",
    "includetrackingpreference", "includesmspreference", "sentfromdate", "senttodate", "tags",
    "status", "count", "sentBeforeID", "sentAfterID", "group", "smartEmailID", "from", "to",
    "timezone", "client_id", "redirect_uri", "scope", "state", "type",
)  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "a@example.com", "ann@example.com", "0", "-1", "1e999",
                     "99999999999999999999999", "2026-01-05", "9999-99-99", "True", "null",
                     "[x]", "\ud800", "ü@exämple.com", "x" * 300, "%00", "../..", "asc"]),
)  # fmt: skip
_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30, max_value=10**60),
    st.floats(allow_nan=False, allow_infinity=False), _TEXT,
)  # fmt: skip
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(_FIELDS), st.text(max_size=6)), inner, max_size=5
        ),
    ),
    max_leaves=12,
)
_RAW = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"EmailAddress": "\\ud800@example.com", "ConsentToTrack": "Yes"}',
        b'{"Name": "\\udfff"}',
        b'{"EmailAddress": 1e999}',
        b'{"EmailAddress": "a@example.com", "ConsentToTrack": "Yes", "Name": ' + b"9" * 5000 + b"}",
        b"\xff\xfe{}",
        b'{"Attachments": 5, "To": "x"}',
        b"NaN",
        b'"just a string"',
    ]),
)  # fmt: skip


_VALID: dict[str, Any] = {
    "EmailAddress": "fuzz@example.com", "Name": "Fuzz", "ConsentToTrack": "Yes",
    "To": ["fuzz@example.com"], "From": "team@example.com", "Subject": "Hi", "Html": "<p>x</p>",
    "Title": "Fuzzed", "CompanyName": "Fuzz Pty", "TimeZone": "(GMT) Casablanca",
    "Country": "Australia", "FieldName": "Fuzz field", "DataType": "Text", "FromName": "Team",
    "FromEmail": "team@example.com", "ReplyTo": "team@example.com", "ListIDs": [],
    "EmailAddresses": ["fuzz@example.com"], "Events": ["Subscribe"], "Url": "https://example.com/h",
    "PayloadFormat": "json", "Subscribers": [{"EmailAddress": "f2@example.com", "ConsentToTrack": "Yes"}],
}  # fmt: skip
_SHAPED = st.dictionaries(st.sampled_from(_FIELDS), _JSON, min_size=1, max_size=3).map(
    lambda overrides: {**_VALID, **overrides}
)
"""A body valid for most routes with a few fields swapped for anything (wrong types)."""


def _alternatives(pattern: str) -> st.SearchStrategy[str]:
    """A strategy of concrete paths for one route regex (ids filled in by the target)."""
    parts = re.split(r"(\([^)]*\))", pattern)
    pieces: list[st.SearchStrategy[str]] = []
    for part in parts:
        if part == ID:
            pieces.append(st.sampled_from(["{client}", "{list}", "{campaign}", "{segment}",
                                           "{webhook}", "{smart}", "{message}", "{journey}"]) |
                          st.from_regex(r"\A[A-Za-z0-9_-]{1,40}\Z"))  # fmt: skip
        elif part == KEY:
            pieces.append(st.sampled_from(["%5Bcity%5D", "[city]", "%5Bnope%5D"]) |
                          _TEXT.map(lambda text: quote(text, safe="", errors="surrogatepass")).filter(bool))  # fmt: skip
        elif part.startswith("("):
            body = part[1:-1].removeprefix("?:")
            pieces.append(st.sampled_from(body.split("|")))
        else:
            pieces.append(st.just(part.replace("\\", "")))
    return st.tuples(*pieces).map("".join)


def requests() -> st.SearchStrategy[FuzzRequest]:
    """Hypothesis strategy: one request to any route of the facade."""
    routes = [(m, API_PREFIX + p) for m, p, _ in ROUTES] + [(m, p) for m, p, _ in OAUTH_ROUTES]
    route = st.sampled_from(routes).flatmap(
        lambda mp: st.tuples(
            st.one_of(st.just(mp[0]), st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])),
            _alternatives(mp[1]),
        )
    )
    query = st.dictionaries(st.sampled_from(_PARAMS), _TEXT, max_size=4)
    body = st.one_of(st.none(), _JSON, _SHAPED, _SHAPED, _RAW)
    credential = st.sampled_from(
        ["key", "key", "key", "client", "none", "nonascii", "garbage", "bearer", "token"]
    )
    return st.tuples(route, query, body, credential).map(
        lambda t: (t[0][0], t[0][1], t[1], t[2], t[3])
    )


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


class FuzzTarget:
    """An account with one of everything, answering fuzzed requests through its WSGI app."""

    app_module = app_module

    def __init__(self) -> None:
        account = Account(seed=3, test_account=True)
        account.rate_limiter = None
        client = account.create_client("Fuzz Co")
        lst = account.create_list(client, "Fuzz list")
        account.create_custom_field(lst, "City", "Text")
        account.add_subscriber_at(lst, "ann@example.com", "Ann")
        campaign = account.send_campaign_now([lst], name="Fuzz campaign")
        self.ids = {
            "client": client,
            "list": lst,
            "campaign": campaign,
            "segment": account.create_segment(lst, "Fuzz segment", []),
            "webhook": "0" * 32,
            "smart": account.create_smart_email(client, "Fuzz smart"),
            "message": "0" * 32,
            "journey": "0" * 32,
        }
        row = account.store.one("SELECT api_key FROM clients")
        self.client_key = str(row["api_key"]) if row else ""
        app_id, secret = account.register_oauth_app()
        code = account.authorize_oauth("https://example.com/back")
        self.token = str(account.oauth_token({
            "grant_type": "authorization_code", "client_id": app_id, "client_secret": secret,
            "redirect_uri": "https://example.com/back", "code": code,
        })["access_token"])  # fmt: skip
        self.account = account

    def _authorization(self, credential: str) -> str | None:
        basic = {
            "key": f"{self.account.api_key}:x",
            "client": f"{self.client_key}:x",
            "nonascii": "клю\u00e7:x",
        }
        if credential in basic:
            return "Basic " + base64.b64encode(basic[credential].encode("utf-8")).decode()
        return {
            "none": None,
            "garbage": "Basic !!not base64!!",
            "bearer": "Bearer nope",
            "token": f"Bearer {self.token}",
        }[credential]

    def send(self, request: FuzzRequest) -> tuple[int, list[str]]:
        """Answer one fuzzed request; returns the status and ERROR lines logged."""
        method, path, query, body, credential = request
        path = path.format(**self.ids) if "{" in path else path
        headers: dict[str, str] = {}
        auth = self._authorization(credential)
        if auth is not None:
            headers["Authorization"] = auth
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode("utf-8", "surrogatepass")
        builder = EnvironBuilder(
            path=path, method=method, headers=list(headers.items()), data=data,
            query_string=urlencode(query, encoding="utf-8", errors="surrogatepass"),
            content_type="application/json; charset=utf-8", base_url="https://api.createsend.com",
        )  # fmt: skip
        environ = builder.get_environ()
        collector = _Collector()
        root = logging.getLogger()
        root.addHandler(collector)
        statuses: list[str] = []
        try:
            app = self.account.app()
            chunks = app(environ, lambda status, _headers, *_: statuses.append(status))  # type: ignore[arg-type]
            b"".join(chunks)
        finally:
            root.removeHandler(collector)
        return (int(statuses[0].split()[0]) if statuses else 0), collector.records


def main(argv: list[str] | None = None) -> int:
    """Run the property with many examples; print the failures' shapes.

    Returns:
        0 when no request made the facade fail, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    args = parser.parse_args(argv)
    target = FuzzTarget()
    counts: dict[int, int] = {}
    failures: dict[tuple[int, str, str], str] = {}

    @settings(max_examples=args.examples, deadline=None, database=None)
    @given(request=requests())
    def run(request: FuzzRequest) -> None:
        status, logged = target.send(request)
        counts[status // 100 * 100] = counts.get(status // 100 * 100, 0) + 1
        if status >= 500 or logged:
            key = (status, request[0], re.sub(r"[0-9a-f]{32}", "{id}", request[1]))
            failures.setdefault(key, repr(request)[:300])

    run()
    print("requests by status class:", dict(sorted(counts.items())))
    for (status, method, path), example in sorted(failures.items()):
        print(f"FAILED {status} {method} {path}: {example}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
