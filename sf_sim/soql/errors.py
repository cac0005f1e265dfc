"""Platform-shaped SOQL error messages: the query fragment, a caret line and the text.

Salesforce reports a refused query as a message that quotes the part of the statement
around the problem, points at it with a caret, and names the row and column::

    \\nCreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c
                                  ^
    ERROR at Row:1:Column:114
    No such column 'TPI_Product__c' on entity 'X'. ...

The fragment is the error's line of the query, cut to about 30 characters before the
offending token and 20 after it, widened to whole words (this matches the fragments
observed in real error bodies; the platform's exact window is not documented). Every
refusal of this package goes through :func:`query_error` so that all messages share
that shape and no Python exception escapes for a user mistake.
"""

from __future__ import annotations

from sf_sim.exceptions import QueryError

__all__ = [
    "INSUFFICIENT_ACCESS",
    "INVALID_FIELD",
    "INVALID_QUERY_FILTER_OPERATOR",
    "INVALID_TYPE",
    "MALFORMED_QUERY",
    "NUMBER_OUTSIDE_VALID_RANGE",
    "QUERY_TOO_COMPLICATED",
    "no_such_column",
    "no_such_relationship",
    "query_error",
    "snippet",
    "unsupported_object",
]

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
QUERY_TOO_COMPLICATED = "QUERY_TOO_COMPLICATED"
INSUFFICIENT_ACCESS = "INSUFFICIENT_ACCESS"

_BEFORE = 30
_AFTER = 20


def _is_word(char: str) -> bool:
    return char.isalnum() or char in "_.'"


def snippet(soql: str, pos: int, width: int = 1) -> str:
    """Render the fragment, caret line and ``ERROR at Row:r:Column:c`` for ``pos``.

    Args:
        soql: The query as the client sent it.
        pos: Zero-based character offset of the offending token (``len(soql)`` for
            the end of the statement).
        width: Length of the offending token, so the fragment keeps text after it.

    Returns:
        The text that precedes the platform's explanation, starting with a newline.
    """
    pos = max(0, min(pos, len(soql)))
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    if line_end < 0:
        line_end = len(soql)
    line = soql[line_start:line_end]
    row = soql.count("\n", 0, pos) + 1
    column = pos - line_start
    start = max(0, column - _BEFORE)
    while start > 0 and _is_word(line[start - 1]):
        start -= 1
    end = min(len(line), column + max(width, 0) + _AFTER)
    while end < len(line) and _is_word(line[end]):
        end += 1
    fragment = line[start:end]
    caret = " " * (column - start) + "^"
    return f"\n{fragment}\n{caret}\nERROR at Row:{row}:Column:{column + 1}\n"


def query_error(code: str, soql: str, pos: int | None, text: str, width: int = 1) -> QueryError:
    """Build a :class:`QueryError` whose message has the platform's shape.

    Args:
        code: Platform error code (``MALFORMED_QUERY``, ``INVALID_FIELD``, ...).
        soql: The query as the client sent it.
        pos: Offset of the offending token, or None for a message without a fragment.
        text: The explanation that follows the caret diagram.
        width: Length of the offending token.
    """
    if pos is None:
        return QueryError(code, text)
    return QueryError(code, snippet(soql, pos, width) + text)


def no_such_column(soql: str, pos: int, name: str, entity: str) -> QueryError:
    """INVALID_FIELD for a field the entity does not have (or the user cannot see)."""
    return query_error(
        INVALID_FIELD,
        soql,
        pos,
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. Please "
        "reference your WSDL or the describe call for the appropriate names.",
        len(name),
    )


def no_such_relationship(soql: str, pos: int, name: str) -> QueryError:
    """INVALID_FIELD for a relationship name the entity does not have."""
    return query_error(
        INVALID_FIELD,
        soql,
        pos,
        f"Didn't understand relationship '{name}' in field path. If you are attempting to "
        "use a custom relationship, be sure to append the '__r' after the custom "
        "relationship name. Please reference your WSDL or the describe call for the "
        "appropriate names.",
        len(name),
    )


def unsupported_object(soql: str, pos: int, name: str) -> QueryError:
    """INVALID_TYPE for an object the org does not have."""
    return query_error(
        INVALID_TYPE,
        soql,
        pos,
        f"sObject type '{name}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
        len(name),
    )
