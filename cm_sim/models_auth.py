"""Authentication: API keys (account and client level) and OAuth 2 tokens on the virtual clock.

* ``Authorization: Basic base64(key:anything)``: the account key sees every client; a
  client key (``ApiKey`` in client details) sees only its client. Missing or unknown
  key -> 401 Code 100 "Invalid API Key".
* ``Authorization: Bearer <token>``: tokens come from ``POST /oauth/token``
  (authorization code or refresh token). Unknown -> 401 Code 120, expired (after
  ``expires_in`` = 1,209,600 virtual seconds) -> 401 Code 121, revoked (by a refresh or
  the control API) -> 401 Code 122.

The OAuth application's ``client_id``/``client_secret`` and authorization codes are
made by :meth:`AuthMixin.register_oauth_app` and :meth:`AuthMixin.authorize_oauth`
(or the ``GET /oauth`` page, which approves at once and redirects with the code).

The account keeps access tokens, refresh tokens and authorization codes only as SHA-256
digests: the raw value is in the one response that issues it. API keys and the OAuth
client secret stay readable, as Campaign Monitor shows them again (account settings,
client details' ``ApiKey``, the app's page). The rate limit counts per credential digest
(:func:`_bucket`), never per raw header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from cm_sim.exceptions import CmApiError, api_error
from cm_sim.models_base import Scope
from cm_sim.models_transactional import TransactionalMixin

__all__ = ["TOKEN_LIFETIME", "AuthMixin", "OAuthError"]

TOKEN_LIFETIME = 1_209_600


class OAuthError(CmApiError):
    """An OAuth token endpoint failure, rendered as ``{error, error_description}``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(400, description, 400)
        self.error = error
        self.description = description

    def to_api(self) -> dict[str, Any]:
        """The OAuth error body."""
        return {"error": self.error, "error_description": self.description}


class AuthMixin(TransactionalMixin):
    """Credentials and who they let in."""

    api_key: str

    def authenticate(self, header: str | None) -> tuple[Scope, str]:
        """Check an ``Authorization`` header.

        Returns:
            The caller's scope and a digest of the credential (rate-limit bucket).

        Raises:
            CmApiError: 401 with Code 100, 120, 121 or 122.
        """
        header = (header or "").strip()
        scheme, _, value = header.partition(" ")
        digest = _bucket("none", "")
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise api_error(100) from None
            key = decoded.partition(":")[0]
            digest = _bucket("apikey", key)  # one bucket per key, whatever the password part
            if key and key == self.api_key:
                return Scope(None, "apikey"), digest
            client = (
                self.store.one("SELECT id FROM clients WHERE api_key = ?", (key,)) if key else None
            )
            if client is not None:
                return Scope(str(client["id"]), "apikey"), digest
            raise api_error(100)
        if scheme.lower() == "bearer" and value:
            digest = _bucket("oauth", value.strip())
            token = self.store.one(
                "SELECT * FROM tokens WHERE access = ?", (_digest(value.strip()),)
            )
            if token is None:
                raise api_error(120)
            if token["revoked"]:
                raise api_error(122)
            if self.now_ts() >= int(token["expires_ts"]):
                raise api_error(121)
            return Scope(None, "oauth"), digest
        raise api_error(100)

    def register_oauth_app(self) -> tuple[str, str]:
        """The OAuth application credentials ``(client_id, client_secret)`` (made once)."""
        app_id = self.store.meta_get("oauth_client_id")
        secret = self.store.meta_get("oauth_client_secret")
        if app_id is None or secret is None:
            app_id, secret = str(self.rng.randint(1000, 999999)), self.new_hex(32)
            self.store.meta_set("oauth_client_id", app_id)
            self.store.meta_set("oauth_client_secret", secret)
        return app_id, secret

    def authorize_oauth(
        self, redirect_uri: str, scope: str = "ViewReports,ManageLists,ImportSubscribers"
    ) -> str:
        """What a user approving the app does: returns a one-time authorization code."""
        self.register_oauth_app()
        code = self.new_hex(24)
        self.store.execute(
            "INSERT INTO grants (code, redirect_uri, scope, used) VALUES (?, ?, ?, 0)",
            (_digest(code), redirect_uri, scope),
        )
        return code

    def _issue(self, scope: str, refresh: str | None = None) -> dict[str, Any]:
        access = self.new_hex(40)
        refresh = refresh or self.new_hex(40)
        self.store.execute(
            "INSERT INTO tokens (access, refresh, expires_ts, revoked, scope) VALUES (?, ?, ?, 0, ?)",
            (_digest(access), _digest(refresh), self.now_ts() + TOKEN_LIFETIME, scope),
        )
        return {"access_token": access, "expires_in": TOKEN_LIFETIME, "refresh_token": refresh}

    def oauth_token(self, form: dict[str, str]) -> dict[str, Any]:
        """``POST /oauth/token`` (form-encoded).

        Raises:
            OAuthError: ``invalid_grant``/``invalid_client``/``unsupported_grant_type``.
        """
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            app_id, secret = self.register_oauth_app()
            if form.get("client_id") != app_id or form.get("client_secret") != secret:
                raise OAuthError("invalid_client", "Invalid client credentials")
            row = self.store.one(
                "SELECT * FROM grants WHERE code = ?", (_digest(form.get("code", "")),)
            )
            if row is None or row["used"] or row["redirect_uri"] != form.get("redirect_uri"):
                raise OAuthError("invalid_grant", "Specified code was invalid or expired")
            self.store.execute("UPDATE grants SET used = 1 WHERE code = ?", (row["code"],))
            return self._issue(str(row["scope"]))
        if grant == "refresh_token":
            old = self.store.one(
                "SELECT * FROM tokens WHERE refresh = ? AND revoked = 0",
                (_digest(form.get("refresh_token", "")),),
            )
            if old is None:
                raise OAuthError("invalid_grant", "Specified refresh_token was invalid or expired")
            self.store.execute("UPDATE tokens SET revoked = 1 WHERE refresh = ?", (old["refresh"],))
            return self._issue(str(old["scope"]))  # the refresh token rotates
        raise OAuthError(
            "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
        )

    def expire_oauth_tokens(self) -> int:
        """Make every access token expired now (control API); returns how many."""
        cur = self.store.execute(
            "UPDATE tokens SET expires_ts = ? WHERE revoked = 0", (self.now_ts(),)
        )
        return cur.rowcount

    def revoke_oauth_token(self, access_token: str) -> None:
        """Revoke one access token (control API)."""
        self.store.execute(
            "UPDATE tokens SET revoked = 1 WHERE access = ?", (_digest(access_token),)
        )


def _digest(token: str) -> str:
    """How OAuth tokens and codes are kept: a SHA-256 digest (the raw value is never stored)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _bucket(kind: str, credential: str) -> str:
    """The rate-limit bucket of a credential (a digest: the key itself is never kept)."""
    return hashlib.sha256(f"{kind}:{credential}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
