"""SOQL literals: strings with their escapes, numbers, booleans, dates and date literals.

String escapes are SOQL's (``\\'``, ``\\"``, ``\\\\``, ``\\n``, ``\\r``, ``\\t``, ``\\b``,
``\\f``, ``\\uXXXX``); ``\\%`` and ``\\_`` escape LIKE wildcards, so a string keeps both
its value and its LIKE pattern. Any other escape is MALFORMED_QUERY, as on the platform.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from lark import Token

from sf_sim.schema import parse_datetime
from sf_sim.soql import ast
from sf_sim.soql.dates import DATE_LITERALS, N_DATE_LITERALS
from sf_sim.soql.errors import MALFORMED_QUERY, query_error

__all__ = ["decode_string", "make_literal"]

_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


def decode_string(soql: str, token: Token) -> tuple[str, str]:
    """Decode a quoted SOQL string into its value and its LIKE pattern.

    Args:
        soql: The whole statement (for error messages).
        token: The STRING token, quotes included.

    Returns:
        ``(value, pattern)``: the value with escapes resolved (``\\%`` and ``\\_`` as
        ``%`` and ``_``), and the SQL LIKE pattern that uses ``\\`` as escape character.

    Raises:
        QueryError: MALFORMED_QUERY for an escape sequence SOQL does not define.
    """
    body = str(token)[1:-1]
    value: list[str] = []
    pattern: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            value.append(char)
            pattern.append(char)
            index += 1
            continue
        nxt = body[index + 1] if index + 1 < len(body) else ""
        if nxt in _ESCAPES:
            decoded = _ESCAPES[nxt]
            value.append(decoded)
            pattern.append("\\\\" if decoded == "\\" else decoded)
            index += 2
        elif nxt in "%_":
            value.append(nxt)
            pattern.append("\\" + nxt)
            index += 2
        elif nxt in "uU" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2 : index + 6]):
            decoded = chr(int(body[index + 2 : index + 6], 16))
            value.append(decoded)
            pattern.append("\\\\" if decoded == "\\" else decoded)
            index += 6
        else:
            raise query_error(
                MALFORMED_QUERY,
                soql,
                token.start_pos,
                f"Invalid string literal '{body}'. Illegal character sequence "
                f"'\\{nxt}' in string literal.",
                len(token),
            )
    return "".join(value), "".join(pattern)


def make_literal(soql: str, token: Token) -> ast.Literal:
    """Turn a value token into a :class:`~sf_sim.soql.ast.Literal`.

    Raises:
        QueryError: MALFORMED_QUERY for impossible dates, unknown date literals and bad
            string escapes.
    """
    text, pos, kind = str(token), _pos(token), token.type
    if kind == "STRING":
        decoded, pattern = decode_string(soql, token)
        return ast.Literal("string", decoded, text, pos, pattern)
    if kind == "NUMBER":
        number: int | float = float(text) if "." in text else int(text)
        if isinstance(number, int) and abs(number) >= 2**63:
            number = float(number)  # beyond SQLite's integers; compares the same
        return ast.Literal("number", number, text, pos)
    if kind in ("TRUE", "FALSE"):
        return ast.Literal("boolean", kind == "TRUE", text, pos)
    if kind == "NULL":
        return ast.Literal("null", None, text, pos)
    if kind == "DATE":
        try:
            return ast.Literal("date", date.fromisoformat(text), text, pos)
        except ValueError:
            raise _bad_value(soql, token) from None
    if kind == "DATETIME":
        try:
            return ast.Literal("datetime", _parse_datetime(text), text, pos)
        except ValueError:
            raise _bad_value(soql, token) from None
    return _date_literal(soql, token)


def _date_literal(soql: str, token: Token) -> ast.Literal:
    text, pos = str(token), _pos(token)
    name, _, number = text.partition(":")
    upper = name.upper()
    if number:
        if upper not in N_DATE_LITERALS:
            raise _bad_value(soql, token)
        n = int(number)
        if n < 0:
            raise _bad_value(soql, token)
        return ast.Literal("date_literal", (upper, n), text, pos)
    if upper not in DATE_LITERALS:
        raise _bad_value(soql, token)
    return ast.Literal("date_literal", (upper, None), text, pos)


def _bad_value(soql: str, token: Token) -> Exception:
    return query_error(
        MALFORMED_QUERY, soql, _pos(token), f"unexpected token: '{token}'", len(token)
    )


def _parse_datetime(text: str) -> datetime:
    """Parse a SOQL datetime literal (``Z``, ``+01:00``, ``+0100``, fractional seconds)."""
    if "." in text:
        head, _, tail = text.partition(".")
        digits = re.match(r"\d+", tail)
        assert digits is not None
        fraction = digits.group(0)[:6].ljust(3, "0")
        text = f"{head}.{fraction}{tail[digits.end() :]}"
    return parse_datetime(text)


def _pos(token: Token) -> int:
    return int(token.start_pos) if token.start_pos is not None else 0
