"""Parsing: the AST for valid SOQL and MALFORMED_QUERY with the platform's shape."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sf_sim.exceptions import QueryError
from sf_sim.soql import ast, parse


def test_parse_reads_object_name_as_spelled() -> None:
    assert parse("select id from contact").object_name == "contact"


def test_parse_keeps_parent_path_parts_and_offsets() -> None:
    query = parse("SELECT Account.Owner.Name FROM Contact")
    item = query.select[0]
    assert isinstance(item, ast.FieldItem)
    assert item.path.parts == ("Account", "Owner", "Name")
    assert item.path.offsets == (7, 15, 21)


def test_parse_reads_every_clause() -> None:
    query = parse(
        "SELECT Id FROM Contact USING SCOPE Everything WHERE Name = 'x' WITH SECURITY_ENFORCED "
        "ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5 FOR VIEW"
    )
    assert query.scope == "Everything"
    assert query.security_enforced
    assert query.order_by[0] == ast.OrderItem(query.order_by[0].key, True, False)
    assert query.order_by[1].nulls_last is None
    assert (query.limit, query.offset, query.for_clause) == (10, 5, "VIEW")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("'a\\'b'", "string", "a'b"),
        ("'back\\\\slash'", "string", "back\\slash"),
        ("'line\\nbreak\\ttab'", "string", "line\nbreak\ttab"),
        ("'\\u00e9t\\u00E9'", "string", "été"),
        ("42", "number", 42),
        ("-1.5", "number", -1.5),
        ("TRUE", "boolean", True),
        ("false", "boolean", False),
        ("NULL", "null", None),
        ("2024-01-15", "date", date(2024, 1, 15)),
        ("2024-01-15T10:00:00Z", "datetime", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("2024-01-15T10:00:00+01:00", "datetime", datetime(2024, 1, 15, 9, tzinfo=UTC)),
        ("2024-01-15T10:00:00.000Z", "datetime", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("2024-01-15T10:00:00-0500", "datetime", datetime(2024, 1, 15, 15, tzinfo=UTC)),
        ("today", "date_literal", ("TODAY", None)),
        ("LAST_N_DAYS:7", "date_literal", ("LAST_N_DAYS", 7)),
    ],
    ids=[
        "quote",
        "backslash",
        "newline-tab",
        "unicode",
        "int",
        "negative-decimal",
        "true",
        "false",
        "null",
        "date",
        "datetime-z",
        "datetime-offset",
        "datetime-millis",
        "datetime-compact-offset",
        "today-lower",
        "last-n-days",
    ],
)
def test_parse_decodes_literals(text: str, kind: str, value: object) -> None:
    query = parse(f"SELECT Id FROM Contact WHERE X = {text}")
    assert isinstance(query.where, ast.Comparison)
    assert (query.where.value.kind, query.where.value.value) == (kind, value)


def test_like_pattern_keeps_escaped_wildcards() -> None:
    query = parse(r"SELECT Id FROM Contact WHERE Name LIKE '50\%\_a%'")
    assert isinstance(query.where, ast.Comparison)
    assert query.where.value.value == "50%_a%"
    assert query.where.value.pattern == r"50\%\_a%"


def test_not_binds_tighter_than_and() -> None:
    query = parse("SELECT Id FROM Contact WHERE NOT A = 1 AND B = 2")
    assert isinstance(query.where, ast.And)
    assert isinstance(query.where.items[0], ast.Not)


def test_parenthesised_or_inside_and_parses() -> None:
    query = parse("SELECT Id FROM Contact WHERE A = 1 AND (B = 2 OR C = 3)")
    assert isinstance(query.where, ast.And)
    assert isinstance(query.where.items[1], ast.Or)


def test_not_in_and_semi_join_parse() -> None:
    query = parse(
        "SELECT Id FROM Contact WHERE Id NOT IN (SELECT ContactId FROM CampaignMember) "
        "AND Email NOT IN ('a', 'b')"
    )
    assert isinstance(query.where, ast.And)
    semi, in_list = query.where.items
    assert isinstance(semi, ast.SemiJoin) and semi.negated
    assert isinstance(in_list, ast.InList) and in_list.negated


def test_count_only_and_aggregate_flags() -> None:
    assert parse("SELECT COUNT() FROM Contact").is_count_only
    assert parse("SELECT COUNT(Id) FROM Contact").is_aggregate
    assert parse("SELECT Name FROM Contact GROUP BY Name").is_aggregate
    assert not parse("SELECT Name FROM Contact").is_aggregate


def _error(soql: str) -> QueryError:
    with pytest.raises(QueryError) as exc:
        parse(soql)
    return exc.value


def test_mixing_and_or_without_parentheses_is_malformed_at_the_or() -> None:
    error = _error("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3")
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message.endswith("ERROR at Row:1:Column:46\nunexpected token: 'OR'")


def test_misspelled_keyword_points_at_the_token() -> None:
    error = _error("SELECT Id FORM Contact")
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message == (
        "\nSELECT Id FORM Contact\n               ^\nERROR at Row:1:Column:16\n"
        "unexpected token: 'Contact'"
    )


def test_truncated_query_reports_eof() -> None:
    error = _error("SELECT Id FROM Contact WHERE")
    assert error.message.endswith("unexpected token: '<EOF>'")


def test_unterminated_string_reports_the_character() -> None:
    error = _error("SELECT Id FROM Contact WHERE Name = 'abc")
    assert error.error_code == "MALFORMED_QUERY"
    assert "no viable alternative at character '''" in error.message


def test_multi_line_query_reports_row_and_column() -> None:
    error = _error("SELECT Id\nFROM Contact\nWHERE Name = = 'x'")
    assert "ERROR at Row:3:Column:14" in error.message
    assert error.message.startswith("\nWHERE Name = = 'x'\n             ^\n")


@pytest.mark.parametrize(
    "soql",
    [
        "",
        "   ",
        "SELECT",
        "SELECT FROM Contact",
        "SELECT Id FROM",
        "SELECT Id, FROM Contact",
        "SELECT Id FROM Contact WHERE Name = ",
        "SELECT Id FROM Contact WHERE Name == 'x'",
        "SELECT Id FROM Contact LIMIT -1",
        "SELECT Id FROM Contact LIMIT 'x'",
        "SELECT Id FROM Contact WHERE CreatedDate = 2024-13-45",
        "SELECT Id FROM Contact WHERE CreatedDate = 2024-02-30T10:00:00Z",
        "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYZ:7",
        "SELECT Id FROM Contact WHERE CreatedDate = TODAY:3",
        "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS",
        "SELECT Id FROM Contact WHERE CreatedDate = BOGUS",
        "SELECT Id FROM Contact WHERE Name = 'x' ORDER Name",
        "SELECT TOLABEL(Status) FROM Lead",
        "SELECT SUM() FROM Lead",
        "SELECT Id FROM Contact; DROP TABLE Contact",
        "SELECT Id FROM Contact WHERE Name = 'x' OR",
        "SELECT Id FROM Contact WHERE (Name = 'x'",
        "SELECT Id FROM Contact WHERE Name IN ()",
        "DELETE FROM Contact",
        'SELECT Id FROM Contact WHERE Name = "x"',
        "SELECT Id FROM Contact WHERE Name = 'a\\qb'",
        "SELECT Id FROM Contact WHERE COUNT(Id) IN (SELECT Id FROM Account)",
        "SELECT Id FROM Contact WHERE Name INCLUDES ('a') ",
    ],
    ids=[
        "empty",
        "blank",
        "select-only",
        "no-fields",
        "no-object",
        "trailing-comma",
        "missing-value",
        "double-equals",
        "negative-limit",
        "string-limit",
        "impossible-date",
        "impossible-datetime",
        "unknown-n-literal",
        "number-on-plain-literal",
        "n-literal-without-number",
        "unknown-date-literal",
        "order-without-by",
        "unknown-function",
        "sum-without-field",
        "statement-injection",
        "dangling-or",
        "unclosed-paren",
        "empty-in-list",
        "not-a-select",
        "double-quoted-string",
        "bad-escape",
        "aggregate-semi-join",
        "includes-parses",
    ],
)
def test_malformed_input_is_malformed_query(soql: str) -> None:
    if soql.endswith("('a') "):
        assert isinstance(parse(soql).where, ast.Includes)
        return
    error = _error(soql)
    assert error.error_code == "MALFORMED_QUERY"
    assert error.status == 400


def test_bad_escape_names_the_sequence() -> None:
    error = _error("SELECT Id FROM Contact WHERE Name = 'a\\qb'")
    assert error.message.endswith(
        "Invalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal."
    )


def test_oversized_query_is_refused_without_parsing() -> None:
    soql = "SELECT Id FROM Contact WHERE Name IN (" + ", ".join(["'x'"] * 30_000) + ")"
    error = _error(soql)
    assert error.error_code == "MALFORMED_QUERY"
    assert "100,000 characters" in error.message


def test_deep_nesting_is_too_complicated() -> None:
    soql = "SELECT Id FROM Contact WHERE " + "NOT " * 200 + "Name = 'x'"
    error = _error(soql)
    assert error.error_code == "QUERY_TOO_COMPLICATED"


def test_redundant_parentheses_do_not_exhaust_the_stack() -> None:
    soql = "SELECT Id FROM Contact WHERE " + "(" * 5000 + "Name = 'x'" + ")" * 5000
    assert isinstance(parse(soql).where, ast.Comparison)


def test_non_string_input_is_malformed() -> None:
    with pytest.raises(QueryError) as exc:
        parse(None)  # type: ignore[arg-type]
    assert exc.value.error_code == "MALFORMED_QUERY"
