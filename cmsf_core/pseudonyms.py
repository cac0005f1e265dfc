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

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["TOKEN_MARK", "Pseudonyms", "scope_of"]

TOKEN_MARK = "~"
"""Tokens start with this; plain keys never do, so a token passed back in is kept as is."""

_UNKEYED = "cmsf-journal-without-connection-key"
TOKEN_CACHE = 1 << 16
"""Tokens remembered per connection key (about 10 MB at most)."""
_SHA256_BLOCK = 64
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
"""HMAC's inner and outer pads, as ``bytes.translate`` tables (RFC 2104)."""


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
        # HMAC-SHA256 (RFC 2104) with its two key schedules done once: each token copies
        # the keyed inner and outer hashes (a third less work than copying an HMAC object).
        block = self._mac_key.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(block.translate(_IPAD)).copy
        self._outer = hashlib.sha256(block.translate(_OPAD)).copy
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
        inner = self._inner()
        inner.update(key.encode("utf-8"))
        outer = self._outer()
        outer.update(inner.digest())
        return TOKEN_MARK + outer.hexdigest()[:40]

    def fresh_token(self, key: str) -> str:
        """:meth:`token`, not remembered: for values seen once (a record's digest), which
        would only push the keys a run asks for again out of the cache."""
        return self._token(key)

    def seal(self, text: str) -> str:
        """``text`` sealed (readable only with the connection key)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def unseal(self, sealed: str) -> str | None:
        """The text of a sealed locator, or None if it was sealed under another key."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None
