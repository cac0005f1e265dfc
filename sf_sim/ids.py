"""Salesforce record Ids: key prefixes, 15/18-character forms, and the checksum suffix.

A 15-character Id is case-sensitive: three characters of key prefix, two of instance
(pod), one reserved, nine of base-62 serial. The 18-character form appends three
characters that encode, for each five-character chunk, which characters are upper-case,
so the Id survives case-insensitive systems. Responses always carry 18 characters;
inputs accept either.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["IdError", "IdGenerator", "is_valid_id", "to_15", "to_18"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


class IdError(ValueError):
    """A string is not a well-formed Salesforce Id."""


@lru_cache(maxsize=65_536)
def _suffix(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        out.append(_SUFFIX[bits])
    return "".join(out)


def is_valid_id(value: str) -> bool:
    """True if ``value`` is a 15-character Id or an 18-character Id with a correct suffix."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return False
    return len(value) == 15 or _suffix(value[:15]) == value[15:]


def to_18(value: str) -> str:
    """Return the 18-character form of a 15- or 18-character Id.

    Raises:
        IdError: If ``value`` is not a well-formed Id.
    """
    if not is_valid_id(value):
        raise IdError(f"invalid Salesforce Id: {value!r}")
    return value if len(value) == 18 else value + _suffix(value)


def to_15(value: str) -> str:
    """Return the case-sensitive 15-character form of an Id.

    Raises:
        IdError: If ``value`` is not a well-formed Id.
    """
    return to_18(value)[:15]


class IdGenerator:
    """Hands out sequential, well-formed 18-character Ids for one org.

    Args:
        instance: Two-character pod code placed after the key prefix (``5g``).
        start: First serial number to use.
    """

    def __init__(self, instance: str = "5g", start: int = 1) -> None:
        if len(instance) != 2 or not instance.isalnum():
            raise IdError(f"instance code must be two alphanumerics, got {instance!r}")
        self.instance = instance
        self.serial = start
        self._high = -1
        self._head = ""
        self._head_bits = (0, 0)

    def next(self, key_prefix: str) -> str:
        """Return a new 18-character Id with the given three-character key prefix."""
        if len(key_prefix) != 3:
            raise IdError(f"key prefix must be three characters, got {key_prefix!r}")
        high, low = divmod(self.serial, _PAIR_SPAN)
        self.serial += 1
        if high != self._high:
            # The serial's first seven digits change once every 3,844 Ids: rendered once.
            self._high, self._head = high, _base62(high, 7)
            self._head_bits = (_upper_bits("0" + self._head[:4]), _upper_bits(self._head[4:]))
        pair = _PAIRS[low]
        lead = key_prefix + self.instance
        suffix = (
            _SUFFIX[_upper_bits(lead)]
            + _SUFFIX[self._head_bits[0]]
            + _SUFFIX[self._head_bits[1] | _PAIR_BITS[low] << 3]
        )
        return lead + "0" + self._head + pair + suffix


_PAIR_SPAN = 62 * 62
_PAIRS = [a + b for a in _BASE62 for b in _BASE62]
"""The serial's last two base-62 digits, by value."""
_PAIR_BITS = [("A" <= a <= "Z") | ("A" <= b <= "Z") << 1 for a in _BASE62 for b in _BASE62]
"""Which of those two digits are upper-case (the checksum's bits 3 and 4 of the third chunk)."""


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
    return "".join(reversed(digits))


@lru_cache(maxsize=4096)
def _upper_bits(chunk: str) -> int:
    """Bit ``i`` set when character ``i`` of an Id chunk is upper-case (A-Z)."""
    bits = 0
    for position, char in enumerate(chunk):
        if "A" <= char <= "Z":
            bits |= 1 << position
    return bits
