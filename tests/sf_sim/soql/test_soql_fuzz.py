"""Fuzzing: no input string makes the engine raise anything but QueryError."""

from __future__ import annotations

from conftest import World
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sf_sim.exceptions import QueryError
from sf_sim.soql import Query, parse

# The world fixture is only read by these queries, so sharing it across examples is safe.
_SHARED_FIXTURE = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

_TOKENS = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "INCLUDES",
    "EXCLUDES",
    "ORDER BY",
    "GROUP BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "ASC",
    "DESC",
    "NULLS FIRST",
    "NULLS LAST",
    "WITH SECURITY_ENFORCED",
    "FOR VIEW",
    "USING SCOPE",
    "COUNT()",
    "COUNT(",
    "SUM(",
    "MAX(",
    "COUNT_DISTINCT(",
    "(",
    ")",
    ",",
    ".",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "Id",
    "Name",
    "LastName",
    "Email",
    "AccountId",
    "Account",
    "Owner",
    "Contacts",
    "CampaignMembers",
    "CampaignMember",
    "Contact",
    "Lead",
    "Account.Name",
    "Owner.Name",
    "Interests__c",
    "CreatedDate",
    "Birthdate",
    "HasOptedOutOfEmail",
    "IsDeleted",
    "NumberOfEmployees",
    "'x'",
    "'%a\\_'",
    "''",
    "'Golf;Chess'",
    "'001000000000000AAA'",
    "5",
    "-1.5",
    "2001",
    "true",
    "null",
    "2024-01-15",
    "2024-01-15T10:00:00Z",
    "TODAY",
    "LAST_N_DAYS:7",
    "N_DAYS_AGO:1",
    "Bogus",
    "\\",
    "'",
    ";",
    "\n",
]


@given(st.text(max_size=200))
@settings(max_examples=500, deadline=None)
def test_parse_of_any_text_returns_a_query_or_raises_query_error(text: str) -> None:
    try:
        assert isinstance(parse(text), Query)
    except QueryError as exc:
        assert exc.error_code in {"MALFORMED_QUERY", "QUERY_TOO_COMPLICATED"}


@given(st.text(max_size=120).map(lambda tail: "SELECT Id FROM Contact WHERE " + tail))
@_SHARED_FIXTURE
def test_any_where_clause_is_evaluated_or_refused(world: World, soql: str) -> None:
    try:
        cursor = world.db.query(soql)
        cursor.fetch(10)
    except QueryError:
        pass


@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=25).map(" ".join))
@_SHARED_FIXTURE
def test_token_soup_is_evaluated_or_refused(world: World, body: str) -> None:
    for soql in (body, "SELECT " + body, "SELECT Id FROM Contact WHERE " + body):
        try:
            cursor = world.db.query(soql)
            cursor.fetch(10)
        except QueryError as exc:
            assert exc.message


_FIELD = st.sampled_from(
    ["Id", "LastName", "Email", "AccountId", "Account.Name", "Owner.Email", "CreatedDate",
     "Birthdate", "HasOptedOutOfEmail", "Interests__c", "Account.NumberOfEmployees", "Bogus"]
)  # fmt: skip
_VALUE = st.sampled_from(
    ["'a'", "'ADA@ACME.COM'", "null", "5", "true", "2024-03-15", "2024-03-15T12:00:00Z",
     "TODAY", "LAST_N_DAYS:3", "'Golf'", "('a', 'b')", "'%a%'", "''"]
)  # fmt: skip
_OP = st.sampled_from(["=", "!=", "<", ">=", "LIKE", "IN", "NOT IN", "INCLUDES", "EXCLUDES"])


@st.composite
def _conditions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth < 3 and draw(st.booleans()):
        joiner = draw(st.sampled_from([" AND ", " OR "]))
        parts = draw(st.lists(_conditions(depth + 1), min_size=2, max_size=3))
        text = "(" + joiner.join(parts) + ")"
        return ("NOT " + text) if draw(st.booleans()) else text
    return f"{draw(_FIELD)} {draw(_OP)} {draw(_VALUE)}"


@given(_conditions(), st.sampled_from(["", " ORDER BY LastName DESC", " LIMIT 3"]))
@_SHARED_FIXTURE
def test_generated_conditions_match_or_refuse(world: World, condition: str, tail: str) -> None:
    soql = f"SELECT Id, Account.Name FROM Contact WHERE {condition}{tail}"
    try:
        cursor = world.db.query(soql)
    except QueryError as exc:
        assert exc.error_code in {
            "MALFORMED_QUERY",
            "INVALID_FIELD",
            "INVALID_QUERY_FILTER_OPERATOR",
        }
        return
    records = cursor.fetch(100)
    assert len(records) == cursor.total_size <= 5
