"""The OAuth web server flow: authorization codes, refresh tokens, rotation, revocation."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cmsf_core.clock import VirtualClock
from sf_sim import Org

CALLBACK = "https://app.example.com/callback"


class Browser:
    """What a user's browser and an OAuth client send to the org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.http: requests.Session = org.session()
        with org.store.lock:
            self.sid = org.sessions.open(org.running_user_id)

    def authorize(
        self, client_id: str, redirect_uri: str = CALLBACK, **params: str
    ) -> requests.Response:
        return self.http.get(
            f"{self.org.instance_url}/services/oauth2/authorize",
            params={"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, **params},
            cookies={"sid": self.sid},
            allow_redirects=False,
        )  # fmt: skip

    def code(self, client_id: str, redirect_uri: str = CALLBACK, **params: str) -> str:
        reply = self.authorize(client_id, redirect_uri, **params)
        assert reply.status_code == 302, reply.text
        return _query(reply)["code"]

    def token(self, **form: str) -> requests.Response:
        return self.http.post(f"{self.org.instance_url}/services/oauth2/token", data=form)

    def api(self, access_token: str) -> int:
        reply = self.http.get(
            f"{self.org.instance_url}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {access_token}"},
        )
        return reply.status_code


def _query(reply: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(reply.headers["Location"]).query).items()}


@pytest.fixture
def org() -> Org:
    org = Org(clock=VirtualClock())
    org.control.add_connected_app("web-app", "web-secret", callback_url=CALLBACK)
    org.control.add_connected_app(
        "rotating-app", "rot-secret", callback_url=CALLBACK, rotate_refresh_tokens=True
    )
    return org


def _exchange(
    browser: Browser, client: str = "web-app", secret: str = "web-secret"
) -> dict[str, Any]:
    reply = browser.token(grant_type="authorization_code", code=browser.code(client),
                          client_id=client, client_secret=secret, redirect_uri=CALLBACK)  # fmt: skip
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_code_flow_issues_a_session_and_a_refresh_token(org: Org) -> None:
    browser = Browser(org)
    reply = browser.authorize("web-app", state="xyz")
    assert reply.status_code == 302 and reply.headers["Location"].startswith(CALLBACK + "?")
    assert _query(reply)["state"] == "xyz"
    token = browser.token(grant_type="authorization_code", code=_query(reply)["code"],
                          client_id="web-app", client_secret="web-secret",
                          redirect_uri=CALLBACK).json()  # fmt: skip
    assert browser.api(token["access_token"]) == 200
    assert token["refresh_token"] and token["id"].endswith(org.running_user_id)
    refreshed = browser.token(grant_type="refresh_token", refresh_token=token["refresh_token"],
                              client_id="web-app", client_secret="web-secret").json()  # fmt: skip
    assert browser.api(refreshed["access_token"]) == 200
    assert "refresh_token" not in refreshed  # no rotation: the same refresh token keeps working
    again = browser.token(grant_type="refresh_token", refresh_token=token["refresh_token"],
                          client_id="web-app", client_secret="web-secret")  # fmt: skip
    assert again.status_code == 200


def test_refresh_tokens_rotate_where_the_app_says(org: Org) -> None:
    browser = Browser(org)
    first = _exchange(browser, "rotating-app", "rot-secret")["refresh_token"]
    form = {
        "grant_type": "refresh_token",
        "client_id": "rotating-app",
        "client_secret": "rot-secret",
    }
    second = browser.token(refresh_token=first, **form).json()["refresh_token"]
    assert second != first
    replay = browser.token(refresh_token=first, **form)
    assert replay.status_code == 400 and replay.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    assert browser.token(refresh_token=second, **form).status_code == 200


def test_platform_cli_needs_no_secret_but_its_pkce_verifier(org: Org) -> None:
    browser = Browser(org)
    callback = "http://localhost:1717/OauthRedirect"
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    form = {
        "grant_type": "authorization_code",
        "client_id": "PlatformCLI",
        "redirect_uri": callback,
    }
    code = browser.code("PlatformCLI", callback, code_challenge=challenge.rstrip("="))
    missing = browser.token(code=code, **form)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    code = browser.code("PlatformCLI", callback, code_challenge=challenge)
    assert (
        browser.token(code=code, code_verifier="w" * 64, **form).json()["error"] == "invalid_grant"
    )
    code = browser.code("PlatformCLI", callback, code_challenge=challenge)
    token = browser.token(code=code, code_verifier=verifier, **form)
    assert token.status_code == 200 and browser.api(token.json()["access_token"]) == 200
    reused = browser.token(code=code, code_verifier=verifier, **form)
    assert reused.json()["error_description"] == "invalid authorization code"


def test_codes_expire_after_fifteen_minutes(org: Org) -> None:
    browser = Browser(org)
    code = browser.code("web-app")
    assert isinstance(org.clock, VirtualClock)
    org.clock.advance(timedelta(minutes=16))
    with org.store.lock:
        browser.sid = org.sessions.open(org.running_user_id)
    late = browser.token(grant_type="authorization_code", code=code, client_id="web-app",
                         client_secret="web-secret", redirect_uri=CALLBACK)  # fmt: skip
    assert late.json() == {
        "error": "invalid_grant",
        "error_description": "expired authorization code",
    }


@pytest.mark.parametrize(
    ("client", "redirect", "extra", "status", "error"),
    [
        ("nope", CALLBACK, {}, 400, "invalid_client_id"),
        ("web-app", "https://evil.example.com/cb", {}, 400, "redirect_uri_mismatch"),
        ("web-app", CALLBACK, {"response_type": "token"}, 302, "unsupported_response_type"),
    ],
    ids=["unknown-client", "foreign-callback", "implicit-flow"],
)
def test_authorize_refusals(
    org: Org, client: str, redirect: str, extra: dict[str, str], status: int, error: str
) -> None:
    reply = Browser(org).authorize(client, redirect, **extra)
    assert reply.status_code == status
    assert (reply.json() if status == 400 else _query(reply))["error"] == error


def test_authorize_without_a_session_goes_back_with_login_required(org: Org) -> None:
    browser = Browser(org)
    browser.sid = "00Dnot-a-session"
    reply = browser.authorize("web-app", state="s1")
    assert reply.status_code == 302
    assert _query(reply)["error"] == "login_required" and _query(reply)["state"] == "s1"
    garbled = browser.http.get(
        f"{org.instance_url}/services/oauth2/authorize",
        params={"response_type": "code", "client_id": "web-app", "redirect_uri": CALLBACK},
        headers={"Cookie": 'sid="\\x00; ;;=='},
        allow_redirects=False,
    )
    assert garbled.status_code == 302 and _query(garbled)["error"] == "login_required"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_id": "web-app"}, "invalid_client"),
        ({"client_id": "web-app", "client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "nope", "client_secret": "web-secret"}, "invalid_client_id"),
        ({"client_id": "web-app", "client_secret": "web-secret", "redirect_uri": "x"}, "redirect_uri_mismatch"),
    ],
    ids=["no-secret", "wrong-secret", "unknown-client", "other-callback"],
)  # fmt: skip
def test_code_exchange_refusals(org: Org, form: dict[str, str], error: str) -> None:
    browser = Browser(org)
    body = {
        "grant_type": "authorization_code",
        "code": browser.code("web-app"),
        "redirect_uri": CALLBACK,
    }
    reply = browser.token(**{**body, **form})  # fmt: skip
    assert reply.status_code == 400 and reply.json()["error"] == error


def test_hostile_token_requests_are_400s(org: Org) -> None:
    browser = Browser(org)
    for form in (
        {"grant_type": "refresh_token", "refresh_token": "x" * 100_000, "client_id": "PlatformCLI"},
        {"grant_type": "authorization_code", "code": "\udcff", "client_id": "PlatformCLI"},
        {"grant_type": "refresh_token", "client_id": "PlatformCLI"},
    ):
        body = "&".join(f"{k}={v}" for k, v in form.items()).encode("utf-8", "surrogatepass")
        reply = browser.http.post(
            f"{org.instance_url}/services/oauth2/token",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert reply.status_code == 400 and reply.json()["error"] in (
            "invalid_grant",
            "unsupported_grant_type",  # a body that is not UTF-8 is no grant at all
        )


def test_refresh_stops_for_a_deactivated_user(org: Org) -> None:
    user_id = org.control.add_user("ann@example.com", password="pw-1")
    browser = Browser(org)
    with org.store.lock:
        browser.sid = org.sessions.open(user_id)
    refresh = _exchange(browser)["refresh_token"]
    org.control.set_user_active(user_id, False)
    reply = browser.token(grant_type="refresh_token", refresh_token=refresh, client_id="web-app",
                          client_secret="web-secret")  # fmt: skip
    assert reply.json() == {"error": "invalid_grant", "error_description": "inactive user"}


def test_revoke_ends_refresh_tokens_and_sessions(org: Org) -> None:
    browser = Browser(org)
    token = _exchange(browser)
    revoke = f"{org.instance_url}/services/oauth2/revoke"
    assert browser.http.post(revoke, data={"token": token["refresh_token"]}).status_code == 200
    refused = browser.token(grant_type="refresh_token", refresh_token=token["refresh_token"],
                            client_id="web-app", client_secret="web-secret")  # fmt: skip
    assert refused.json()["error"] == "invalid_grant"
    assert browser.http.post(revoke, data={"token": token["access_token"]}).status_code == 200
    assert browser.api(token["access_token"]) == 401
    unknown = browser.http.post(revoke, data={"token": "nothing"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "unsupported_token_type"


def test_codes_and_refresh_tokens_are_kept_as_digests(tmp_path: Path) -> None:
    org = Org(tmp_path / "org.sqlite", clock=VirtualClock())
    org.control.add_connected_app("web-app", "web-secret", callback_url=CALLBACK)
    browser = Browser(org)
    code = browser.code("web-app")
    token = _exchange(browser)
    org.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (code, token["refresh_token"], token["access_token"], "web-secret"):
        assert secret.encode() not in data
    assert hashlib.sha256(token["refresh_token"].encode()).hexdigest().encode() in data
