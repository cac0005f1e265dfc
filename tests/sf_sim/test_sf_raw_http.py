from __future__ import annotations

import pytest
from werkzeug.test import Client, create_environ, run_wsgi_app

from sf_sim import Org


@pytest.fixture
def http(sf_org: Org) -> Client:
    return Client(sf_org.app)


@pytest.fixture
def auth(sf_org: Org) -> dict[str, str]:
    return {"Authorization": "Bearer " + sf_org.sessions.open(sf_org.running_user_id)}


def test_versions_list_needs_no_session(http: Client) -> None:
    response = http.get("/services/data/")
    versions = [v["version"] for v in response.get_json()]
    assert response.status_code == 200 and versions[0] == "50.0" and "59.0" in versions


def test_resources_of_a_version(http: Client, auth: dict[str, str]) -> None:
    body = http.get("/services/data/v59.0/", headers=auth).get_json()
    assert (
        body["sobjects"] == "/services/data/v59.0/sobjects"
        and body["query"] == "/services/data/v59.0/query"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/services/data/v59.0/nothing",
        "/services/data/v49.0/sobjects",
        "/favicon.ico",
        "/services/data/v59.0/sobjects/Contact/a/b/c/d/e",
    ],
    ids=["unknown-resource", "old-version", "root-file", "deep-path"],
)
def test_unknown_paths_are_404_in_list_shape(http: Client, auth: dict[str, str], path: str) -> None:
    response = http.get(path, headers=auth)
    assert response.status_code == 404
    assert response.get_json()[0]["errorCode"] == "NOT_FOUND"


def test_wrong_method_is_405(http: Client, auth: dict[str, str]) -> None:
    response = http.put("/services/data/v59.0/sobjects/Contact", headers=auth)
    assert response.status_code == 405
    assert response.get_json() == [
        {
            "message": "HTTP Method 'PUT' not allowed. Allowed are GET,POST",
            "errorCode": "METHOD_NOT_ALLOWED",
        }
    ]


def test_create_without_session_is_401_and_writes_nothing(http: Client, sf_org: Org) -> None:
    response = http.post("/services/data/v59.0/sobjects/Contact/", json={"LastName": "Lee"})
    assert response.status_code == 401 and sf_org.count("Contact") == 0


def test_update_returns_204_without_body(http: Client, auth: dict[str, str], sf_org: Org) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    response = http.patch(
        f"/services/data/v59.0/sobjects/Contact/{contact}", json={"FirstName": "Ann"}, headers=auth
    )
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_create_sets_location_header(http: Client, auth: dict[str, str]) -> None:
    response = http.post(
        "/services/data/v62.0/sobjects/Account", json={"Name": "Acme"}, headers=auth
    )
    assert response.status_code == 201
    assert (
        response.headers["Location"]
        == f"/services/data/v62.0/sobjects/Account/{response.get_json()['id']}"
    )


@pytest.mark.parametrize(
    "body",
    [b"", b"[1, 2]", b"\xff\xfe", b'{"LastName": ', b"null"],
    ids=["empty", "array", "binary", "truncated", "null"],
)
def test_malformed_bodies_are_json_parser_errors(
    http: Client, auth: dict[str, str], body: bytes, sf_org: Org
) -> None:
    response = http.post(
        "/services/data/v59.0/sobjects/Contact",
        data=body,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert (
        response.status_code == 400 and response.get_json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    )
    assert sf_org.count("Contact") == 0


def test_oversized_body_is_refused(auth: dict[str, str], sf_org: Org) -> None:
    environ = create_environ(
        "/services/data/v59.0/sobjects/Contact", method="POST", data=b"{}", headers=auth
    )
    environ["CONTENT_LENGTH"] = str(200 * 1024 * 1024)
    _, status, _ = run_wsgi_app(sf_org.app, environ, buffered=True)
    assert status.startswith("413")


def test_a_simulator_bug_is_a_500_body_not_a_traceback(
    http: Client, auth: dict[str, str], sf_org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(sf_org.limits, "to_api", explode)
    response = http.get("/services/data/v59.0/limits", headers=auth)
    assert response.status_code == 500
    assert response.get_json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "internal detail" not in response.get_data(as_text=True)


def test_deeply_nested_json_is_a_parser_error(http: Client, auth: dict[str, str]) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = http.post(
        "/services/data/v59.0/composite/sobjects",
        data=body,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert (
        response.status_code == 400 and response.get_json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    )


@pytest.mark.parametrize(
    "value",
    ["1e999", "NaN", '"12abc"'],
    ids=["infinite", "nan", "not-a-number"],
)
def test_non_finite_numbers_are_refused(
    http: Client, auth: dict[str, str], value: str, sf_org: Org
) -> None:
    body = ('{"Name": "Acme", "AnnualRevenue": ' + value + "}").encode()
    response = http.post(
        "/services/data/v59.0/sobjects/Account",
        data=body,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert (
        response.status_code == 400 and response.get_json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    )
    assert sf_org.count("Account") == 0
