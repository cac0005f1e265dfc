"""Hostile input to the Campaign Monitor facade: a 4xx with the platform's shape, nothing changed.

Also the server side of hostile clients: a slow sender holds up nobody, and a silent
connection is closed after the read timeout.
"""

from __future__ import annotations

import base64
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from cm_sim import Account
from cm_sim.app import MAX_BODY_BYTES
from cmsf_core.serving import LoopbackServer

LONG = "x" * 256


def _cases(list_id: str, client_id: str, smart_id: str) -> list[tuple[str, str, str, Any, int]]:
    return [
        ("smart-attachments-number", "POST", f"/transactional/smartEmail/{smart_id}/send",
         {"To": ["a@example.com"], "ConsentToTrack": "Yes", "Attachments": 5}, 400),
        ("classic-attachments-strings", "POST", f"/transactional/classicEmail/send?clientID={client_id}",
         {"To": ["a@example.com"], "From": "t@example.com", "Subject": "s", "Html": "x",
          "ConsentToTrack": "Yes", "Attachments": ["a.pdf"]}, 400),
        ("segment-rules-not-objects", "POST", f"/segments/{list_id}.json",
         {"Title": "S", "RuleGroups": [5, {"Rules": 5}]}, 400),
        ("credits-beyond-32-bits", "POST", f"/clients/{client_id}/credits.json", {"Credits": 10**40}, 400),
        ("subscriber-name-too-long", "POST", f"/subscribers/{list_id}.json",
         {"EmailAddress": "b@example.com", "Name": LONG, "ConsentToTrack": "Yes"}, 400),
        ("client-name-too-long", "POST", "/clients.json",
         {"CompanyName": LONG, "TimeZone": "(GMT) Casablanca", "Country": "Australia"}, 152),
        ("list-title-too-long", "POST", f"/lists/{client_id}.json", {"Title": LONG}, 251),
        ("campaign-name-too-long", "POST", f"/campaigns/{client_id}.json",
         {"Name": LONG, "Subject": "s", "FromName": "f", "FromEmail": "f@example.com",
          "ReplyTo": "f@example.com", "HtmlUrl": "https://example.com", "ListIDs": [list_id]}, 305),
    ]  # fmt: skip


RAW_BODIES = {
    "deep-arrays": b"[" * 100_000 + b"]" * 100_000,
    "deep-objects": b'{"a":' * 100 + b"1" + b"}" * 100,
    "lone-surrogate": b'{"EmailAddress": "\\ud800@example.com", "ConsentToTrack": "Yes"}',
    "lone-surrogate-key": b'{"\\udc00": 1, "EmailAddress": "c@example.com", "ConsentToTrack": "Yes"}',
    "infinite-number": b'{"EmailAddress": "c@example.com", "ConsentToTrack": "Yes", "Resubscribe": 1e999}',
    "nan": b'{"EmailAddress": "c@example.com", "ConsentToTrack": "Yes", "Name": NaN}',
    "huge-integer": b'{"EmailAddress": "c@example.com", "ConsentToTrack": "Yes", "Name": ' + b"9" * 5000 + b"}",
    "not-utf8": b"\xff\xfe{}",
}  # fmt: skip


@pytest.fixture
def smart_id(account: Account, client_id: str) -> str:
    return account.create_smart_email(client_id, "Welcome")


@pytest.mark.parametrize(
    "case", range(8),
    ids=[c[0] for c in _cases("l", "c", "s")],
)  # fmt: skip
def test_wrong_types_and_long_names_are_refused(
    http: httpx.Client, account: Account, list_id: str, client_id: str, smart_id: str, case: int
) -> None:
    _, method, path, body, code = _cases(list_id, client_id, smart_id)[case]
    before = account.snapshot()
    response = http.request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["Code"] == code
    assert account.snapshot() == before


@pytest.mark.parametrize("body", list(RAW_BODIES.values()), ids=list(RAW_BODIES))
def test_malformed_json_is_code_400(
    http: httpx.Client, account: Account, list_id: str, body: bytes
) -> None:
    before = account.snapshot()
    response = http.post(
        f"/subscribers/{list_id}.json", content=body, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["Code"]) == (400, 400)
    assert account.snapshot() == before


def test_longest_name_is_kept_whole(http: httpx.Client, account: Account, list_id: str) -> None:
    name = "y" * 255
    response = http.post(
        f"/subscribers/{list_id}.json",
        json={"EmailAddress": "d@example.com", "Name": name, "ConsentToTrack": "Yes"},
    )
    assert response.status_code == 201
    details = http.get(f"/subscribers/{list_id}.json", params={"email": "d@example.com"}).json()
    assert details["Name"] == name


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode("ключ:x".encode()).decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic !!!",
        "Bearer %00%ff",
    ],
    ids=["non-ascii-key", "not-utf8", "not-base64", "junk-bearer"],
)
def test_odd_credentials_are_401(account: Account, header: str) -> None:
    with httpx.Client(base_url=account.base_url, transport=account.transport()) as raw:
        response = raw.get("/clients.json", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["Code"] in (100, 120)


def test_oversized_body_is_413(http: httpx.Client, list_id: str) -> None:
    response = http.post(
        f"/subscribers/{list_id}/import.json",
        content=b" " * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"Code": 413, "Message": "Request Entity Too Large"}


def _raw_connection(server: LoopbackServer, ca: Path) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(ca))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return context.wrap_socket(sock, server_hostname="localhost")


def test_slow_sender_does_not_stall_other_clients(account: Account, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    with LoopbackServer(account.app(), ca_path=ca) as server:
        slow = _raw_connection(server, ca)
        auth = base64.b64encode(f"{account.api_key}:x".encode()).decode()
        slow.sendall(
            (f"POST /api/v3.3/clients.json HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {auth}\r\n"
             "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"CompanyName\":").encode()
        )  # fmt: skip
        answered = threading.Event()
        with httpx.Client(base_url=server.url + "/api/v3.3", verify=ssl.create_default_context(cafile=str(ca)), auth=(account.api_key, "x"),
                          timeout=60) as fast:  # fmt: skip
            assert fast.get("/clients.json").status_code == 200
            answered.set()
        # the slow request is still waiting for its body: it held no lock meanwhile
        slow.sendall(
            b' "Slow Co", "TimeZone": "(GMT) Casablanca", "Country": "Australia"}'.ljust(185)
        )
        reply = slow.recv(4096)
        slow.close()
    assert answered.is_set()
    assert reply.startswith(b"HTTP/1.1 201")


def test_silent_connection_is_closed_after_the_read_timeout(
    account: Account, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    with LoopbackServer(account.app(), ca_path=ca, read_timeout=0.2) as server:
        silent = _raw_connection(server, ca)
        silent.sendall(b"GET /api/v3.3/clients.json HTTP/1.1\r\nHost: localhost\r\n")  # never ends
        data = silent.recv(4096)  # the server gives up: the connection closes
        silent.close()
    assert b"500" not in data
