"""Fuzz the Salesforce facade: every route, any input, no 5xx the platform would not send.

The hypothesis strategy :func:`requests` draws a request for a route of the table
(versions, object names, real or made-up Ids), a query string (SOQL built from real
tokens and hostile numbers, dates and text), a session (valid, expired, missing) and a
body: any JSON (deep nesting, lone surrogates, huge numbers, wrong types), bodies
shaped like the API's with a field swapped for anything, or bytes in any media type.
:class:`FuzzTarget` answers it in-process and reports the status, whether the platform
itself answers 5xx there (a SOAP fault), and any ERROR logged meanwhile (a traceback).

The test suite runs a few hundred examples; a longer run needs ``hypothesis`` (the
``test`` extra):

    python -m sf_sim.fuzz --examples 5000
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from sf_sim.activation import Org
from sf_sim.transport import call_wsgi
from sf_sim.urls import ROUTES

__all__ = ["FuzzTarget", "main", "requests"]

FuzzRequest = tuple[str, str, dict[str, str], Any, str, str]
"""``(method, path, query, body, content type, session)``."""

_TOKENS = (
    "SELECT", "Id", "Name", "LastName", "Account.Name", "Owner.Name", "CreatedDate", "FROM",
    "Contact", "Account", "Lead", "WHERE", "AND", "OR", "NOT", "=", "!=", ">", "<", "IN", "LIKE",
    "(", ")", ",", "'x'", "'\ud800'", "null", "TODAY", "LAST_N_DAYS:99999999999", "N_DAYS_AGO:5",
    "LAST_N_YEARS:999999", "2024-02-30", "9999-12-31T23:59:59Z", "0000-01-01", "LIMIT",
    "99999999999999999999999", "9223372036854775808", "-1", "1e999", "OFFSET", "ORDER BY",
    "GROUP BY", "COUNT()", "COUNT(Id)", "(SELECT Id FROM Contacts)", "NumberOfEmployees",
    "AnnualRevenue", "Birthdate", "IsDeleted", "true", "ALL ROWS", "FOR UPDATE",
)  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=10),
    st.sampled_from(["", "x", "\ud800", "9" * 40, "1e999", "-0", "2024-13-45", "null", "%00",
                     "a" * 300, "../../etc", "Contact", "LastName", "true"]),
)  # fmt: skip
_SOQL = st.one_of(
    st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=14).map(" ".join),
    st.builds(lambda f, o, w: f"SELECT {f} FROM {o} {w}",
              st.sampled_from(["Id", "Id, Account.Name", "Name, (SELECT Id FROM Contacts)", "COUNT()"]),
              st.sampled_from(["Contact", "Account", "Lead"]),
              st.lists(st.sampled_from(_TOKENS), max_size=6).map(" ".join)),
)  # fmt: skip
_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False), _TEXT,
)  # fmt: skip
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(("LastName", "attributes", "records", "Id",
                                                   "allOrNone", "compositeRequest", "url", "method",
                                                   "body", "referenceId", "httpHeaders", "operation",
                                                   "object", "query", "state", "batchRequests")),
                                  st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=12,
)  # fmt: skip
_BASES: list[dict[str, Any]] = [
    {"LastName": "Fuzz", "Email": "f@example.com"},
    {"records": [{"attributes": {"type": "Contact"}, "LastName": "Fuzz"}], "allOrNone": False},
    {"compositeRequest": [{"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "a"}]},
    {"batchRequests": [{"method": "GET", "url": "v59.0/limits"}]},
    {"operation": "insert", "object": "Contact", "contentType": "CSV", "lineEnding": "LF"},
    {"operation": "query", "query": "SELECT Id FROM Contact"},
    {"state": "UploadComplete"},
]  # fmt: skip


def _swapped(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from([*sorted(base), "httpHeaders", "records"])
    return st.dictionaries(keys, _JSON, max_size=2).map(lambda swap: {**base, **swap})


_SHAPED = st.sampled_from(_BASES).flatmap(_swapped)
"""A body shaped like the API's with up to two fields swapped for anything."""
_RAW = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([
        b"[" * 100_000 + b"]" * 100_000,
        b'{"LastName": "\\ud800"}',
        b'{"LastName": ' + b"9" * 5000 + b"}",
        b'{"LastName": 1e999}',
        b"LastName,Email\nFuzz,f@example.com\n",
        b"SELECT Id, Account.Name FROM Contact",
        b'<sObjects><sObject><LastName>Fuzz</LastName><Title xsi:nil="true"/></sObject></sObjects>',
        b'<?xml version="1.0"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        b"<operation>insert</operation><object>Contact</object><contentType>CSV</contentType>"
        b"</jobInfo>",
        b'<?xml version="1.0" encoding="bogus"?><x/>',
        b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><merge/></soapenv:Body></soapenv:Envelope>",
        b"\xff\xfe\x00",
    ]),
)  # fmt: skip
_IDS = ["{contact}", "{account}", "{job}", "{csv_job}", "{xml_job}", "{query_job}", "x"]
_IDS.append("003000000000000AAA")
_GROUPS: dict[str, st.SearchStrategy[str]] = {
    "version": st.sampled_from(["59.0", "62.0", "50.0", "49.0", "99.9"]),
    "soap_version": st.sampled_from(["59.0", "1.0"]),
    "soap_api": st.sampled_from(["c", "m", "T", "s", "class"]),
    "type": st.sampled_from(["Contact", "Account", "Lead", "Campaign", "User", "Nope__c"]),
    "id": st.sampled_from(_IDS),
    "field": st.sampled_from(["Id", "Email", "LastName", "Nope__c"]),
    "value": _TEXT.map(lambda t: quote(t, safe="", errors="surrogatepass")).filter(bool),
    "locator": st.sampled_from(["0r85g0000000001AAA-2000", "nope", "{contact}"]),
    "resource": st.sampled_from(["query", "queryAll"]),
    "kind": st.sampled_from(["ingest", "query"]),
    "which": st.sampled_from(["successfulResults", "failedResults", "unprocessedrecords"]),
    "batch": st.sampled_from(["751000000000000AAA"]),
    "result": st.sampled_from(["752000000000000AAA"]),
    "org": st.sampled_from(["{org}", "00D000000000000AAA"]),
    "user": st.sampled_from(["{user}", "005000000000000AAA"]),
}
_GROUP_RE = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")


def _path_strategy(pattern: str) -> st.SearchStrategy[str]:
    body = pattern.removeprefix("^").removesuffix("/?$")
    # Optional trailing segments ("(?:/[A-Za-z0-9]*)?", "{0,2}") are left out of the drawn path.
    body = re.sub(r"\(\?:/\[A-Za-z0-9\]\*\)(?:\?|\{\d,\d\})", "", body)
    pieces: list[st.SearchStrategy[str]] = []
    last = 0
    for match in _GROUP_RE.finditer(body):
        pieces.append(st.just(body[last : match.start()].replace("\\", "")))
        pieces.append(_GROUPS.get(match.group(1), st.just("x")))
        last = match.end()
    pieces.append(st.just(body[last:].replace("\\", "")))
    return st.tuples(*pieces).map("".join)


def requests() -> st.SearchStrategy[FuzzRequest]:
    """Hypothesis strategy: one request to any route of the facade."""
    routes = [(r.method, r.pattern.pattern) for r in ROUTES]
    route = st.sampled_from(routes).flatmap(
        lambda mp: st.tuples(
            st.one_of(st.just(mp[0]), st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"])),
            _path_strategy(mp[1]),
        )
    )
    query = st.one_of(
        st.builds(lambda q: {"q": q}, _SOQL),
        st.dictionaries(st.sampled_from(["q", "ids", "fields", "start", "end", "columns",
                                         "maxRecords", "locator", "allOrNone"]), _TEXT, max_size=3),
    )  # fmt: skip
    body = st.one_of(st.none(), _JSON, _SHAPED, _SHAPED, _RAW)
    media = st.sampled_from(["application/json", "application/json", "text/csv", "text/xml",
                             "text/plain", "application/xml", ""])  # fmt: skip
    session = st.sampled_from(["valid", "valid", "valid", "none", "bogus"])
    return st.tuples(route, query, body, media, session).map(
        lambda t: (t[0][0], t[0][1], t[1], t[2], t[3], t[4])
    )


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


class FuzzTarget:
    """An org with a few records, answering fuzzed requests through its WSGI app."""

    def __init__(self) -> None:
        org = Org(api_limit=10_000_000)
        account = org.create("Account", {"Name": "Fuzz Co"})
        contact = org.create("Contact", {"LastName": "Fuzz", "AccountId": account})
        with org.store.lock:
            self.session = org.sessions.open(org.running_user_id)
        bulk1 = {
            f"{name}_job": org.bulk1.create(
                {"operation": operation, "object": "Contact", "contentType": content,
                 "externalIdFieldName": "Id"}, "59.0"
            ).id
            for name, operation, content in (
                ("csv", "insert", "CSV"), ("xml", "upsert", "XML"), ("query", "query", "CSV")
            )
        }  # fmt: skip
        self.ids = {"contact": contact, "account": account, "job": "750000000000000AAA",
                    "org": org.org_id, "user": org.running_user_id, **bulk1}  # fmt: skip
        self.org = org

    def send(self, request: FuzzRequest) -> tuple[int, bool, list[str]]:
        """Answer one request: ``(status, platform answers 5xx here, ERROR lines logged)``."""
        method, path, query, body, media, session = request
        path = path.format(**self.ids) if "{" in path else path
        if query:
            path += "?" + urlencode(query, errors="surrogatepass")
        headers: dict[str, str] = {}
        if media:
            headers["Content-Type"] = media
        if session == "valid":
            headers["Authorization"] = f"Bearer {self.session}"
        elif session == "bogus":
            headers["Authorization"] = "Bearer 00Dbogus!AQ"
        if body is None:
            data = None
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode("utf-8", "surrogatepass")
        collector = _Collector()
        root = logging.getLogger()
        root.addHandler(collector)
        try:
            status, reply_headers, _ = call_wsgi(
                self.org.app, method, "https://acme.my.salesforce.com" + path, headers, data
            )
        finally:
            root.removeHandler(collector)
        soap_fault = status == 500 and any(
            k.lower() == "content-type" and "xml" in v for k, v in reply_headers
        )
        return status, soap_fault, collector.records


def main(argv: list[str] | None = None) -> int:
    """Run the property with many examples; print the failing request shapes.

    Returns:
        0 when no request made the facade fail, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    args = parser.parse_args(argv)
    target = FuzzTarget()
    counts: dict[int, int] = {}
    failures: dict[tuple[int, str, str], str] = {}

    @settings(max_examples=args.examples, deadline=None, database=None)
    @given(request=requests())
    def run(request: FuzzRequest) -> None:
        status, platform_5xx, logged = target.send(request)
        counts[status // 100 * 100] = counts.get(status // 100 * 100, 0) + 1
        if (status >= 500 and not platform_5xx) or logged:
            key = (status, request[0], re.sub(r"[0-9A-Za-z]{18}", "{id}", request[1]))
            failures.setdefault(key, ascii(request)[:300] + " " + ascii(logged)[:200])

    run()
    print("requests by status class:", dict(sorted(counts.items())))
    for (status, method, path), example in sorted(failures.items()):
        print(f"FAILED {status} {method} {path}: {example}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
