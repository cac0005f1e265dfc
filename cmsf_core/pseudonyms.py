"""No personal data on the runner's disk: keyed pseudonyms and sealed locators.

The product promises no independent data storage: people's data lives in the org and in
Campaign Monitor. The runner's journal must still recognise a record it wrote before
(the shadow index), match people across a run (the person index) and find a refused
record again (pending retries). It does so without keeping an address:

- a **token** stands for a key such as ``<list id>:<email>``: an HMAC-SHA256 under the
  connection key, which lives in the org (``CMSF_Settings__c.Connection_Key__c``), not on
  the runner; the disk alone cannot be turned back into addresses, not even by trying
  candidate addresses;
- a **locator** is what a retry needs to fetch a record again (an address), sealed with a
  key derived from the same connection key (Fernet: AES with an authentication tag).

A new connection makes a new key, and the journal starts clean state with it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["TOKEN_MARK", "Pseudonyms", "scope_of"]

TOKEN_MARK = "~"
"""Tokens start with this; plain keys never do, so a token passed back in is kept as is."""

_UNKEYED = "cmsf-journal-without-connection-key"
TOKEN_CACHE = 1 << 16
"""Tokens remembered per connection key (about 10 MB at most)."""


def scope_of(key: str) -> str:
    """The non-personal scope of a key: the Campaign Monitor id before its first ``:``."""
    return key.split(":", 1)[0] if ":" in key and not key.startswith(TOKEN_MARK) else ""


class Pseudonyms:
    """Tokens and sealed locators under one connection key.

    Args:
        key: The connection key (64 hex characters); None uses a fixed stand-in key, for
            journals used outside a connected run (tests, tools).
    """

    def __init__(self, key: str | None = None) -> None:
        secret = (key or _UNKEYED).encode("utf-8")
        self._mac_key = hashlib.sha256(b"cmsf-token:" + secret).digest()
        self._mac = hmac.new(self._mac_key, digestmod=hashlib.sha256)
        # A run asks for the same key's token several times (shadow lookup, record, retry
        # bookkeeping): remember the latest ones (bounded, so memory stays flat).
        self.token = functools.lru_cache(maxsize=TOKEN_CACHE)(self._token)  # type: ignore[method-assign]
        sealing = hashlib.sha256(b"cmsf-locator:" + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(sealing))

    def token(self, key: str) -> str:
        """The token standing for ``key`` (a token is returned unchanged)."""
        return self._token(key)

    def _token(self, key: str) -> str:
        if key.startswith(TOKEN_MARK):
            return key
        mac = self._mac.copy()  # keyed once: a copy skips HMAC's key schedule per token
        mac.update(key.encode("utf-8"))
        return TOKEN_MARK + mac.hexdigest()[:40]

    def seal(self, text: str) -> str:
        """``text`` sealed (readable only with the connection key)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def unseal(self, sealed: str) -> str | None:
        """The text of a sealed locator, or None if it was sealed under another key."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None
