"""The OAuth 2.0 web server flow: authorization codes, refresh tokens and their rotation.

- ``GET /services/oauth2/authorize?response_type=code&client_id=&redirect_uri=[&state=]
  [&code_challenge=]``: a user who is logged in (sf_sim has no login page: the session
  comes as the ``sid`` cookie the UI sets, or a Bearer header) approves at once, and the
  answer is a 302 to ``redirect_uri?code=…&state=…``. Codes are single-use and live 15
  minutes on the org's clock. A client or callback the org does not know gets a 400 page;
  other refusals go back to the callback as ``error=…`` (``login_required`` without a
  session, ``unsupported_response_type``).
- ``POST /services/oauth2/token`` with ``grant_type=authorization_code`` (the client's
  secret when it has one; the PKCE ``code_verifier`` when a ``code_challenge`` was sent,
  S256) answers a session and a refresh token; ``grant_type=refresh_token`` answers a new
  session, and a new refresh token only when the connected app rotates them (Salesforce's
  "Enable Refresh Token Rotation", off by default): the one used then stops working.
- ``POST /services/oauth2/revoke`` (``token=``) ends a refresh token or a session.

Every org has the Salesforce CLI's global connected app ``PlatformCLI`` (a public client
without a secret, callback ``http://localhost:1717/OauthRedirect``), so ``sf org login
web`` and ``sf org login sfdx-url`` work. Codes and refresh tokens are stored only as
SHA-256 digests; the raw value exists in the one response that issues it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sf_sim.exceptions import SalesforceApiError, SfSimError
from sf_sim.schema import format_datetime, parse_datetime

if TYPE_CHECKING:
    from sf_sim.models import Org
    from sf_sim.sessions import Sessions

__all__ = ["CODE_LIFETIME", "PLATFORM_CLI", "AuthorizeError", "OAuthError", "WebServerFlow"]

CODE_LIFETIME = timedelta(minutes=15)
PLATFORM_CLI = "PlatformCLI"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BUILT_IN_APPS: dict[str, dict[str, Any]] = {
    PLATFORM_CLI: {
        "secret": None,
        "secret_key": base64.b64encode(hashlib.sha256(PLATFORM_CLI.encode()).digest()).decode(),
        "callback_urls": ["http://localhost:1717/OauthRedirect"],
        "rotate_refresh_tokens": False,
    }
}
"""Connected apps every org has (Salesforce's own global apps)."""


class OAuthError(SfSimError):
    """An OAuth token request the org refuses (rendered as ``{error, error_description}``)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class AuthorizeError(SfSimError):
    """An authorization request refused on a page of its own (unknown client or callback)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def session_from(headers: dict[str, str]) -> str | None:
    """The session a browser or client presents: the ``sid`` cookie or a Bearer header."""
    lowered = {key.lower(): value for key, value in headers.items()}
    scheme, _, token = lowered.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    try:
        cookie = SimpleCookie(lowered.get("cookie", ""))
    except CookieError:
        return None
    morsel = cookie.get("sid")
    return morsel.value if morsel is not None and morsel.value else None


class WebServerFlow:
    """Authorization codes and refresh tokens of one org."""

    def __init__(self, org: Org, sessions: Sessions) -> None:
        self.org = org
        self.sessions = sessions
        conn = org.store.conn
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _sf_oauth_codes (code TEXT PRIMARY KEY, user_id TEXT "
            "NOT NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, challenge TEXT, "
            "expires TEXT NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _sf_refresh_tokens (token TEXT PRIMARY KEY, user_id TEXT "
            "NOT NULL, client_id TEXT NOT NULL, issued TEXT NOT NULL, revoked INTEGER NOT NULL)"
        )

    def app(self, client_id: str | None) -> dict[str, Any] | None:
        """A connected app by consumer key (the org's own, or a built-in one)."""
        if not client_id:
            return None
        apps: dict[str, Any] = self.org.store.meta("connected_apps", {})
        found = apps.get(client_id) or BUILT_IN_APPS.get(client_id)
        return None if found is None else dict(found)

    def _new_secret(self, prefix: str, length: int) -> str:
        rng = self.org.credential_random
        return prefix + "".join(rng.choice(_B62) for _ in range(length))

    # ------------------------------------------------------------------ authorize

    def authorize(self, params: dict[str, str], session_id: str | None) -> str:
        """Approve an authorization request; returns the URL to redirect the browser to.

        Raises:
            AuthorizeError: ``invalid_client_id`` or ``redirect_uri_mismatch`` (no redirect).
        """
        client_id = params.get("client_id")
        app = self.app(client_id)
        if app is None:
            raise AuthorizeError("invalid_client_id", "client identifier invalid")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in (app.get("callback_urls") or []):
            raise AuthorizeError("redirect_uri_mismatch", "redirect_uri must match configuration")
        state = {"state": params["state"]} if "state" in params else {}
        joiner = "&" if "?" in redirect_uri else "?"
        if params.get("response_type") != "code":
            return (
                redirect_uri
                + joiner
                + urlencode(
                    {
                        "error": "unsupported_response_type",
                        "error_description": "response type not supported",
                        **state,
                    }
                )
            )
        try:
            user_id = self.sessions.authenticate(session_id)
        except SalesforceApiError:
            return (
                redirect_uri
                + joiner
                + urlencode(
                    {
                        "error": "login_required",
                        "error_description": "the user is not logged in (sf_sim has no login page: "
                        "send the session as the sid cookie)",
                        **state,
                    }
                )
            )
        code = self._new_secret("aPrx", 60) + "=="
        expires = format_datetime(self.org.clock.now() + CODE_LIFETIME)
        self.org.store.conn.execute(
            "INSERT INTO _sf_oauth_codes (code, user_id, client_id, redirect_uri, challenge, "
            "expires) VALUES (?, ?, ?, ?, ?, ?)",
            (
                _digest(code),
                user_id,
                client_id,
                redirect_uri,
                params.get("code_challenge"),
                expires,
            ),
        )
        return redirect_uri + joiner + urlencode({"code": code, **state})

    # ------------------------------------------------------------------ token grants

    def _client(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        client_id, secret = basic or (form.get("client_id") or "", form.get("client_secret"))
        app = self.app(client_id)
        if app is None:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if app.get("secret") is not None and not (
            secret
            and hmac.compare_digest(self.sessions.secret_hash(secret, client_id), app["secret"])
        ):
            raise OAuthError("invalid_client", "invalid client credentials")
        app["client_id"] = client_id
        return app

    def exchange_code(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """``grant_type=authorization_code``: a session and a refresh token.

        Raises:
            OAuthError: ``invalid_client_id``, ``invalid_client``, ``invalid_grant`` or
                ``redirect_uri_mismatch``.
        """
        app = self._client(form, basic)
        key = _digest(form.get("code") or "")
        rows = self.org.store.select("SELECT * FROM _sf_oauth_codes WHERE code = ?", (key,))
        self.org.store.conn.execute("DELETE FROM _sf_oauth_codes WHERE code = ?", (key,))
        if not rows or rows[0]["client_id"] != app["client_id"]:
            raise OAuthError("invalid_grant", "invalid authorization code")
        row = rows[0]
        if self.org.clock.now() > parse_datetime(row["expires"]):
            raise OAuthError("invalid_grant", "expired authorization code")
        if form.get("redirect_uri") != row["redirect_uri"]:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if row["challenge"]:
            verifier = form.get("code_verifier") or ""
            expected = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode("utf-8", "surrogatepass")).digest()
            ).decode()
            if not verifier or not hmac.compare_digest(
                expected.rstrip("="), str(row["challenge"]).rstrip("=")
            ):
                raise OAuthError("invalid_grant", "invalid code verifier")
        user_id = self._active(str(row["user_id"]))
        body = self.sessions.token_response(user_id, app)
        body["refresh_token"] = self._issue(user_id, app["client_id"])
        body["scope"] = "refresh_token api"
        return body

    def refresh(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """``grant_type=refresh_token``: a new session (and refresh token, when rotating).

        Raises:
            OAuthError: ``invalid_client_id``, ``invalid_client`` or ``invalid_grant``.
        """
        app = self._client(form, basic)
        key = _digest(form.get("refresh_token") or "")
        rows = self.org.store.select(
            "SELECT * FROM _sf_refresh_tokens WHERE token = ? AND client_id = ? AND revoked = 0",
            (key, app["client_id"]),
        )
        if not rows:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        user_id = self._active(str(rows[0]["user_id"]))
        body = self.sessions.token_response(user_id, app)
        body["scope"] = "refresh_token api"
        if app.get("rotate_refresh_tokens"):
            self.org.store.conn.execute(
                "UPDATE _sf_refresh_tokens SET revoked = 1 WHERE token = ?", (key,)
            )
            body["refresh_token"] = self._issue(user_id, app["client_id"])
        return body

    def revoke(self, token: str) -> bool:
        """End a refresh token or a session; False when the token is neither."""
        key = _digest(token)
        conn = self.org.store.conn
        if conn.execute(
            "UPDATE _sf_refresh_tokens SET revoked = 1 WHERE token = ? AND revoked = 0", (key,)
        ).rowcount:
            return True
        return self.sessions.end(token)

    def _active(self, user_id: str) -> str:
        active = self.org.store.scalar('SELECT IsActive FROM "User" WHERE Id = ?', (user_id,))
        if not active:
            raise OAuthError("invalid_grant", "inactive user")
        return user_id

    def _issue(self, user_id: str, client_id: str) -> str:
        token = self._new_secret("5Aep861", 80)
        self.org.store.conn.execute(
            "INSERT INTO _sf_refresh_tokens (token, user_id, client_id, issued, revoked) "
            "VALUES (?, ?, ?, ?, 0)",
            (_digest(token), user_id, client_id, format_datetime(self.org.clock.now())),
        )
        return token
