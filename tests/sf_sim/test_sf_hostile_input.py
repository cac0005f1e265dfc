"""Hostile input to the Salesforce facade: the platform's 4xx and error shape, never a 500."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from sf_sim import Org
from sf_sim.transport import call_wsgi

BASE = "https://acme.my.salesforce.com/services/data/v59.0"

QUERIES = {
    "limit-beyond-64-bits": ("SELECT Id FROM Contact LIMIT 99999999999999999999999", "NUMBER_OUTSIDE_VALID_RANGE"),
    "limit-beyond-32-bits": ("SELECT Id FROM Contact LIMIT 2147483648", "NUMBER_OUTSIDE_VALID_RANGE"),
    "last-n-days-out-of-calendar": ("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:99999999999", "MALFORMED_QUERY"),
    "next-n-days-out-of-calendar": ("SELECT Id FROM Contact WHERE CreatedDate = NEXT_N_DAYS:4000000", "MALFORMED_QUERY"),
    "n-years-ago-out-of-calendar": ("SELECT Id FROM Contact WHERE CreatedDate = N_YEARS_AGO:99999", "MALFORMED_QUERY"),
    "datetime-out-of-calendar": ("SELECT Id FROM Contact WHERE CreatedDate > 2024-13-45T99:99:99Z", "MALFORMED_QUERY"),
    "year-zero": ("SELECT Id FROM Contact WHERE CreatedDate > 0000-01-01T00:00:00Z", "MALFORMED_QUERY"),
}  # fmt: skip


@pytest.fixture
def session(sf_org: Org) -> dict[str, str]:
    with sf_org.store.lock:
        sid = sf_org.sessions.open(sf_org.running_user_id)
    return {"Authorization": f"Bearer {sid}", "Content-Type": "application/json"}


def _errors(body: bytes) -> list[dict[str, str]]:
    value: list[dict[str, str]] = json.loads(body)
    return value


@pytest.mark.parametrize(("soql", "code"), list(QUERIES.values()), ids=list(QUERIES))
def test_out_of_range_queries_are_400(
    sf_org: Org, session: dict[str, str], soql: str, code: str
) -> None:
    status, _, body = call_wsgi(sf_org.app, "GET", f"{BASE}/query?q={quote(soql)}", session, None)
    assert status == 400
    assert _errors(body)[0]["errorCode"] == code


def test_integer_beyond_64_bits_compares_without_error(
    sf_org: Org, session: dict[str, str]
) -> None:
    sf_org.create("Account", {"Name": "Big", "NumberOfEmployees": 5})
    soql = "SELECT Name FROM Account WHERE NumberOfEmployees < 99999999999999999999999"
    status, _, body = call_wsgi(sf_org.app, "GET", f"{BASE}/query?q={quote(soql)}", session, None)
    assert status == 200 and json.loads(body)["totalSize"] == 1


def test_lone_surrogate_in_a_value_is_a_parser_error(sf_org: Org, session: dict[str, str]) -> None:
    status, _, body = call_wsgi(
        sf_org.app, "POST", f"{BASE}/sobjects/Contact", session, b'{"LastName": "\\ud800"}'
    )
    assert (status, _errors(body)[0]["errorCode"]) == (400, "JSON_PARSER_ERROR")
    assert sf_org.count("Contact") == 0


@pytest.mark.parametrize("headers", [5, "x", ["a"], {"X-Thing": 5}], ids=repr)
def test_non_object_http_headers_fail_only_that_subrequest(
    sf_org: Org, session: dict[str, str], headers: object
) -> None:
    composite = {"compositeRequest": [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "a", "httpHeaders": headers}
    ]}  # fmt: skip
    status, _, body = call_wsgi(
        sf_org.app, "POST", f"{BASE}/composite", session, json.dumps(composite).encode()
    )
    assert status == 200
    sub = json.loads(body)["compositeResponse"][0]
    assert (sub["httpStatusCode"], sub["body"][0]["errorCode"]) == (400, "JSON_PARSER_ERROR")


@pytest.mark.parametrize("media", ["text/plain", "application/xml", "text/csv"])
def test_other_media_types_are_415(sf_org: Org, session: dict[str, str], media: str) -> None:
    status, _, body = call_wsgi(
        sf_org.app, "POST", f"{BASE}/sobjects/Contact", {**session, "Content-Type": media},
        b'{"LastName": "Lee"}',
    )  # fmt: skip
    assert (status, _errors(body)[0]["errorCode"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert sf_org.count("Contact") == 0


@pytest.mark.parametrize(
    "envelope",
    [b'<?xml version="1.0" encoding="bogus-enc"?><x/>', b"<unclosed", b"\xff\xfe\x00<"],
    ids=["unknown-encoding", "not-xml", "not-text"],
)
def test_bad_soap_envelopes_are_soap_faults(sf_org: Org, envelope: bytes) -> None:
    status, headers, body = call_wsgi(
        sf_org.app, "POST", "https://login.salesforce.com/services/Soap/u/59.0",
        {"Content-Type": "text/xml", "SOAPAction": "login"}, envelope,
    )  # fmt: skip
    assert status == 500 and b"<soapenv:Fault>" in body
    assert dict(headers)["Content-Type"].startswith("text/xml")


@pytest.mark.parametrize("api", ["c", "T", "s"])
def test_soap_endpoints_not_modelled_answer_soap_faults(sf_org: Org, api: str) -> None:
    envelope = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><describeGlobal/></soapenv:Body></soapenv:Envelope>"
    )
    status, _, body = call_wsgi(
        sf_org.app, "POST", f"https://acme.my.salesforce.com/services/Soap/{api}/59.0",
        {"Content-Type": "text/xml", "SOAPAction": "describeGlobal"}, envelope,
    )  # fmt: skip
    assert status == 500
    assert b"<faultcode>sf:UNKNOWN_EXCEPTION</faultcode>" in body and b"describeGlobal" in body
