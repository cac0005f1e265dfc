"""Tokens are HMAC-SHA256 under the connection key: what a journal on disk holds keeps its
meaning whatever way the engine computes them."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from cmsf_core.pseudonyms import TOKEN_MARK, Pseudonyms

CONNECTION_KEY = "9f" * 32
KEYS = [
    "",
    "a",
    "1a2b3c:lee@example.com",
    "email:zoë@exämple.com",
    "digest:" + "0" * 40,
    'value:FirstName="Ann"',
    "x" * 200,  # longer than SHA-256's block: hashed in several blocks
    "\U0001f600:emoji",
]


def _reference(connection_key: str | None, key: str) -> str:
    """A token as the standard library's ``hmac`` makes it (the definition)."""
    secret = (connection_key or "cmsf-journal-without-connection-key").encode("utf-8")
    mac_key = hashlib.sha256(b"cmsf-token:" + secret).digest()
    return TOKEN_MARK + hmac.new(mac_key, key.encode("utf-8"), hashlib.sha256).hexdigest()[:40]


@pytest.mark.parametrize("connection_key", [CONNECTION_KEY, None])
@pytest.mark.parametrize("key", KEYS)
def test_a_token_is_the_hmac_of_its_key(connection_key: str | None, key: str) -> None:
    names = Pseudonyms(connection_key)
    assert names.token(key) == _reference(connection_key, key)
    assert names.token(key) == names.fresh_token(key) == names.token(key)  # cached or not


def test_tokens_are_pinned_for_journals_already_on_disk() -> None:
    names = Pseudonyms(CONNECTION_KEY)
    assert names.token("1a2b3c:lee@example.com") == _reference(
        CONNECTION_KEY, "1a2b3c:lee@example.com"
    )
    assert (
        names.token("1a2b3c:lee@example.com")
        == "~"
        + (
            hmac.new(
                hashlib.sha256(b"cmsf-token:" + CONNECTION_KEY.encode()).digest(),
                b"1a2b3c:lee@example.com",
                "sha256",
            ).hexdigest()[:40]
        )
    )


def test_a_token_passed_back_is_kept_and_keys_apart_stay_apart() -> None:
    names = Pseudonyms(CONNECTION_KEY)
    token = names.token("1a2b3c:lee@example.com")
    assert names.token(token) == token and names.fresh_token(token) == token
    assert len({names.token(k) for k in KEYS}) == len(KEYS)
    assert Pseudonyms("0" * 64).token("a") != names.token("a")  # another connection
