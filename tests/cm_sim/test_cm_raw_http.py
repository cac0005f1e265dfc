"""Raw HTTP against the WSGI app (werkzeug's test client): wire details and hostile input."""

from __future__ import annotations

import base64

import pytest
from werkzeug.test import Client

from cm_sim import Account


@pytest.fixture
def raw(account: Account) -> Client:
    return Client(account.app())


@pytest.fixture
def auth(account: Account) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{account.api_key}:x".encode()).decode()}


def test_json_content_type_and_rate_limit_headers(raw: Client, auth: dict[str, str]) -> None:
    response = raw.get("/api/v3.3/clients.json", headers=auth)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
        response.headers.keys()
    )


@pytest.mark.parametrize(
    "body",
    [b'{"EmailAddress": "a@example.com", ', b"\xff\xfe", b"[1, 2]", b'"just a string"'],
    ids=["truncated", "not-utf8", "array", "string"],
)
def test_malformed_bodies_are_400_code_400(
    raw: Client, auth: dict[str, str], account: Account, list_id: str, body: bytes
) -> None:
    before = account.snapshot()
    response = raw.post(
        f"/api/v3.3/subscribers/{list_id}.json",
        data=body,
        headers=auth | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["Code"] == 400
    assert account.snapshot() == before


def test_unknown_route_is_404(raw: Client, auth: dict[str, str]) -> None:
    for path in ("/api/v3.3/nothing.json", "/api/v3.3/clients.xml", "/elsewhere"):
        assert raw.get(path, headers=auth).status_code == 404


def test_query_booleans_are_case_insensitive(
    raw: Client, auth: dict[str, str], account: Account, list_id: str
) -> None:
    account.add_subscriber_at(list_id, "a@example.com")
    for flag in ("True", "true", "TRUE"):
        row = raw.get(
            f"/api/v3.3/lists/{list_id}/active.json?includetrackingpreference={flag}", headers=auth
        ).json["Results"][0]
        assert row["ConsentToTrack"] == "Yes"
    row = raw.get(
        f"/api/v3.3/lists/{list_id}/active.json?includetrackingpreference=False", headers=auth
    ).json["Results"][0]
    assert "ConsentToTrack" not in row


def test_url_encoded_email_and_field_key(
    raw: Client, auth: dict[str, str], account: Account, list_id: str
) -> None:
    account.create_custom_field(list_id, "new date field", "Date")
    account.add_subscriber_at(list_id, "a+tag@example.com")
    assert (
        raw.get(
            f"/api/v3.3/subscribers/{list_id}.json?email=a%2Btag%40example.com", headers=auth
        ).status_code
        == 200
    )
    assert (
        raw.delete(
            f"/api/v3.3/lists/{list_id}/customfields/%5Bnewdatefield%5D.json", headers=auth
        ).status_code
        == 200
    )


def test_hostile_ids_are_plain_unknown_ids(
    raw: Client, auth: dict[str, str], account: Account
) -> None:
    before = account.snapshot()
    response = raw.get("/api/v3.3/lists/x'%20OR%201=1--/active.json", headers=auth)
    assert response.status_code in (400, 404)
    response = raw.get("/api/v3.3/lists/abc'OR'1'='1.json", headers=auth)
    assert response.status_code == 404
    assert account.snapshot() == before


def test_oversized_values_are_refused_not_crashing(
    raw: Client, auth: dict[str, str], account: Account, list_id: str
) -> None:
    huge = "a" * 300 + "@example.com"
    response = raw.post(
        f"/api/v3.3/subscribers/{list_id}.json",
        json={"EmailAddress": huge, "ConsentToTrack": "Yes"},
        headers=auth,
    )
    assert (response.status_code, response.json["Code"]) == (400, 1)
    response = raw.post(f"/api/v3.3/subscribers/{list_id}.json",
                        json={"EmailAddress": "a@example.com", "ConsentToTrack": "Yes", "Name": {"x": 1}}, headers=auth)  # fmt: skip
    assert response.status_code == 400


def test_unexpected_failure_is_platform_500_without_traceback(raw: Client, auth: dict[str, str], account: Account,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(account, "clients_to_api", boom)
    response = raw.get("/api/v3.3/clients.json", headers=auth)
    assert (response.status_code, response.json) == (
        500,
        {"Code": 500, "Message": "Internal Server Error"},
    )
    assert b"internal detail" not in response.data
