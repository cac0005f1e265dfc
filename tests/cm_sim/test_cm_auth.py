"""Authentication (API keys, client keys, OAuth on the virtual clock) and rate limiting."""

from __future__ import annotations

import base64

import httpx
import pytest

from cm_sim import Account
from cmsf_core.clock import VirtualClock


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic " + base64.b64encode(b"wrong:x").decode()}, {"Authorization": "Basic !!!"},
     {"Authorization": "Token abc"}],
    ids=["missing", "wrong-key", "garbage", "unknown-scheme"],
)  # fmt: skip
def test_bad_credentials_are_401_code_100(account: Account, headers: dict[str, str]) -> None:
    with httpx.Client(
        base_url=account.base_url, transport=account.transport(), headers=headers
    ) as http:
        response = http.get("/clients.json")
    assert (response.status_code, response.json()) == (
        401,
        {"Code": 100, "Message": "Invalid API Key"},
    )


def test_errors_never_echo_the_credential(account: Account) -> None:
    with httpx.Client(
        base_url=account.base_url, transport=account.transport(), auth=("secret-key-123", "x")
    ) as http:
        response = http.get("/clients.json")
    assert "secret-key-123" not in response.text
    assert "secret-key-123" not in repr(account.request_log())
    assert account.api_key not in repr(account)


def test_client_key_sees_only_its_client(account: Account, client_id: str, list_id: str) -> None:
    other = account.create_client("Other")
    other_list = account.create_list(other, "Theirs")
    key = account.client_details_to_api(client_id)["ApiKey"]
    with account.client(auth=(key, "x")) as http:
        assert http.get(f"/clients/{client_id}/lists.json").json() == [
            {"ListID": list_id, "Name": "Newsletter"}
        ]
        foreign = http.get(f"/clients/{other}/lists.json")
        assert (foreign.status_code, foreign.json()["Code"]) == (401, 102)
        assert http.get(f"/lists/{other_list}.json").json()["Code"] == 101
        assert http.get("/clients.json").json() == [{"ClientID": client_id, "Name": "Acme Pty Ltd"}]
        assert http.get("/billingdetails.json").status_code == 401


def test_oauth_exchange_use_and_expiry(
    account: Account, client_id: str, cm_clock: VirtualClock
) -> None:
    app_id, secret = account.register_oauth_app()
    code = account.authorize_oauth("https://app.example/cb")
    with httpx.Client(transport=account.transport()) as raw:
        form = {"grant_type": "authorization_code", "client_id": app_id, "client_secret": secret,
                "redirect_uri": "https://app.example/cb", "code": code}  # fmt: skip
        token = raw.post("https://api.createsend.com/oauth/token", data=form).json()
        assert token["expires_in"] == 1209600
        reused = raw.post("https://api.createsend.com/oauth/token", data=form).json()
        assert reused == {
            "error": "invalid_grant",
            "error_description": "Specified code was invalid or expired",
        }
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        assert raw.get(account.base_url + "/clients.json", headers=bearer).status_code == 200
        cm_clock.advance(seconds=1209600)
        expired = raw.get(account.base_url + "/clients.json", headers=bearer)
        assert (expired.status_code, expired.json()) == (
            401,
            {"Code": 121, "Message": "Expired OAuth Token"},
        )
        fresh = raw.post("https://api.createsend.com/oauth/token",
                         data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}).json()  # fmt: skip
        assert raw.get(account.base_url + "/clients.json",
                       headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code == 200  # fmt: skip
        revoked = raw.get(account.base_url + "/clients.json", headers=bearer)
        assert revoked.json()["Code"] == 122
        unknown = raw.get(
            account.base_url + "/clients.json", headers={"Authorization": "Bearer nope"}
        )
        assert unknown.json()["Code"] == 120


def test_expire_oauth_tokens_control(account: Account) -> None:
    code = account.authorize_oauth("https://app.example/cb")
    app_id, secret = account.register_oauth_app()
    token = account.oauth_token({"grant_type": "authorization_code", "client_id": app_id, "client_secret": secret,
                                 "redirect_uri": "https://app.example/cb", "code": code})  # fmt: skip
    account.expire_oauth_tokens()
    with httpx.Client(base_url=account.base_url, transport=account.transport(),
                      headers={"Authorization": f"Bearer {token['access_token']}"}) as http:  # fmt: skip
        assert http.get("/clients.json").json()["Code"] == 121


def test_authorize_page_redirects_with_a_code(account: Account) -> None:
    app_id, _ = account.register_oauth_app()
    with httpx.Client(transport=account.transport()) as raw:
        response = raw.get("https://api.createsend.com/oauth", params={"client_id": app_id, "scope": "ManageLists",
                           "redirect_uri": "https://app.example/cb", "state": "xyz"})  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://app.example/cb?code=")
    assert response.headers["Location"].endswith("&state=xyz")


def test_rate_limit_headers_and_429(
    http: httpx.Client, account: Account, cm_clock: VirtualClock
) -> None:
    account.set_rate_limit(3, window_seconds=60)
    first = http.get("/clients.json")
    assert (
        first.headers["X-RateLimit-Limit"],
        first.headers["X-RateLimit-Remaining"],
        first.headers["X-RateLimit-Reset"],
    ) == ("3", "2", "60")
    cm_clock.advance(seconds=10)
    http.get("/clients.json")
    http.get("/clients.json")
    limited = http.get("/clients.json")
    assert (limited.status_code, limited.json()) == (
        429,
        {"Code": 429, "Message": "Rate limit exceeded"},
    )
    assert (limited.headers["X-RateLimit-Remaining"], limited.headers["X-RateLimit-Reset"]) == (
        "0",
        "50",
    )
    cm_clock.advance(seconds=50)
    assert http.get("/clients.json").status_code == 200
