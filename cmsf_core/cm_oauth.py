"""Campaign Monitor OAuth tokens that survive their rotation.

Campaign Monitor answers a refresh (``POST /oauth/token``, ``grant_type=refresh_token``)
with a new access token *and a new refresh token* (``refresh_oauth_token.json``); a client
that keeps sending the refresh token it was configured with fails at its second refresh
(``invalid_grant``), which for a runner means every run after the first expiry, two weeks
after the admin authorised the app. :class:`TokenKeeper` keeps the latest pair:

- in the process (a long run refreshing twice uses the rotated token);
- in the journal, so the next run (another process, another day) starts from it. The pair
  is *sealed* (Fernet) under a key derived from the app's client secret, which the journal
  never holds: the journal file alone opens no account. It is kept under a digest of the
  configured refresh token and client id, so an admin who authorises the app again (a new
  configured token) starts from the new grant, never a stale stored one.

Two processes sharing a journal (a sync and ``cmsf watch``, or the distributed runtime's
workers) may meet an expired token at once. No lock is held during the HTTP call: a
process whose refresh is refused re-reads the journal and, when another one rotated the
grant meanwhile, takes the pair it stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from cryptography.fernet import Fernet, InvalidToken

from cmsf_core.errors import AuthenticationError

__all__ = ["Grant", "GrantStore", "TokenKeeper"]

PLATFORM = "campaign_monitor"
TIMEOUT = 30.0
"""Seconds the token endpoint has to answer."""


@dataclass(frozen=True)
class Grant:
    """An access token and the refresh token that replaces it."""

    access_token: str
    refresh_token: str

    def __repr__(self) -> str:
        return "Grant(<sealed>)"


class GrantStore(Protocol):
    """Where the sealed grant is kept: the journal (SQLite or PostgreSQL)."""

    def oauth_grant(self, key: str) -> str | None:
        """The sealed grant kept under ``key``, if any."""

    def keep_oauth_grant(self, key: str, sealed: str) -> None:
        """Keep ``sealed`` under ``key`` (replacing what was there)."""


class TokenKeeper:
    """The current Campaign Monitor OAuth grant of one configured authorisation.

    Args:
        access_token: The configured access token (may have expired long ago).
        refresh_token: The configured refresh token.
        client_id: The OAuth app's client id.
        client_secret: The OAuth app's client secret (seals the stored grant).
        token_url: The token endpoint (``https://api.createsend.com/oauth/token``).
        store: The journal, or None to keep the grant in this process only.
        verify: TLS verification for httpx.
    """

    def __init__(
        self,
        *,
        access_token: str | None,
        refresh_token: str,
        client_id: str,
        client_secret: str,
        token_url: str,
        store: GrantStore | None = None,
        verify: Any = True,
    ) -> None:
        self._configured = Grant(access_token or "", refresh_token)
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_url = token_url
        self._store = store
        self._verify = verify
        self._key = hashlib.sha256(
            f"cmsf-cm-grant:{client_id}:{refresh_token}".encode()
        ).hexdigest()
        sealing = hashlib.sha256(f"cmsf-cm-grant-seal:{client_secret}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(sealing))
        self._lock = threading.Lock()
        self._grant = self._stored() or self._configured

    def __repr__(self) -> str:
        return f"TokenKeeper(token_url={self._token_url!r})"

    @property
    def access_token(self) -> str:
        """The access token to send now."""
        return self._grant.access_token

    def _stored(self) -> Grant | None:
        if self._store is None:
            return None
        sealed = self._store.oauth_grant(self._key)
        if not sealed:
            return None
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
            return Grant(str(data["access_token"]), str(data["refresh_token"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None  # sealed under another client secret, or damaged: start over

    def _keep(self, grant: Grant) -> None:
        self._grant = grant
        if self._store is not None:
            body = json.dumps(
                {"access_token": grant.access_token, "refresh_token": grant.refresh_token}
            )
            self._store.keep_oauth_grant(
                self._key, self._fernet.encrypt(body.encode("utf-8")).decode("ascii")
            )

    def refresh(self) -> str:
        """A new access token (Campaign Monitor called the current one expired).

        Raises:
            AuthenticationError: If Campaign Monitor refuses the refresh and no other
                process rotated the grant meanwhile (the app must be authorised again).
        """
        with self._lock:
            stored = self._stored()
            if stored is not None and stored.access_token != self._grant.access_token:
                self._grant = stored  # another process refreshed meanwhile
                return stored.access_token
            used = (stored or self._grant).refresh_token
            fresh = self._exchange(used)
            if fresh is None:
                again = self._stored()
                if again is not None and again.refresh_token != used:
                    self._grant = again
                    return again.access_token
                raise AuthenticationError(
                    "Campaign Monitor refused to refresh the OAuth token (invalid_grant): "
                    "authorise the app again and set the new access and refresh tokens "
                    "(CMSF_CM_ACCESS_TOKEN, CMSF_CM_REFRESH_TOKEN)",
                    platform=PLATFORM,
                )
            self._keep(fresh)
            return fresh.access_token

    def _exchange(self, refresh_token: str) -> Grant | None:
        """Ask for a new grant; None when Campaign Monitor refuses this refresh token."""
        try:
            response = httpx.post(
                self._token_url,
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=(self._client_id, self._client_secret),
                verify=self._verify,
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise AuthenticationError(
                f"could not reach Campaign Monitor to refresh the OAuth token: {type(exc).__name__}",
                platform=PLATFORM,
            ) from None
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            # a refresh token that does not rotate stays the one used
            return Grant(str(body["access_token"]), str(body.get("refresh_token") or refresh_token))
        if isinstance(body, dict) and body.get("error") == "invalid_grant":
            return None
        raise AuthenticationError(
            f"Campaign Monitor refused to refresh the OAuth token (HTTP {response.status_code}"
            + (f", {body['error']}" if isinstance(body, dict) and body.get("error") else "")
            + ")",
            platform=PLATFORM,
        )
