"""WHERE: operators, SOQL's null semantics, types, IN, LIKE, INCLUDES, AND/OR/NOT."""

from __future__ import annotations

import pytest
from conftest import OrgDb, World

from sf_sim.exceptions import QueryError
from sf_sim.ids import to_15


def names(world: World, where: str, obj: str = "Contact") -> list[str]:
    records = world.db.records(f"SELECT LastName FROM {obj} WHERE {where} ORDER BY LastName")
    return [r["LastName"] for r in records]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = 'grace@globex.com'", ["Hopper"]),
        ("Email = 'ADA@ACME.COM'", ["Lovelace"]),
        ("Email != 'ada@acme.com'", ["Dijkstra", "Hopper", "Pauling", "Turing"]),
        ("Email <> 'ada@acme.com'", ["Dijkstra", "Hopper", "Pauling", "Turing"]),
        ("Email = null", ["Pauling"]),
        ("Email != null", ["Dijkstra", "Hopper", "Lovelace", "Turing"]),
        ("LastName < 'H'", ["Dijkstra"]),
        ("LastName <= 'hopper'", ["Dijkstra", "Hopper"]),
        ("LastName > 'p'", ["Pauling", "Turing"]),
        ("LastName >= 'Turing'", ["Turing"]),
        ("HasOptedOutOfEmail = true", ["Dijkstra", "Turing"]),
        ("HasOptedOutOfEmail != true", ["Hopper", "Lovelace", "Pauling"]),
    ],
    ids=[
        "equals",
        "equals-ignores-case",
        "not-equals-includes-null",
        "angle-not-equals",
        "is-null",
        "is-not-null",
        "less",
        "less-equal-ignores-case",
        "greater",
        "greater-equal",
        "boolean",
        "boolean-not",
    ],
)
def test_comparison_operators(world: World, where: str, expected: list[str]) -> None:
    assert names(world, where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("NOT Email = 'ada@acme.com'", ["Dijkstra", "Hopper", "Pauling", "Turing"]),
        ("NOT (LastName < 'L')", ["Lovelace", "Pauling", "Turing"]),
        ("NOT (Email LIKE '%acme%')", ["Dijkstra", "Hopper", "Pauling"]),
        ("NOT (Email != null)", ["Pauling"]),
        ("NOT (Email = 'x' OR LastName = 'Turing')", ["Dijkstra", "Hopper", "Lovelace", "Pauling"]),
        ("NOT (Email != null AND LastName != 'Turing')", ["Pauling", "Turing"]),
        ("NOT NOT LastName = 'Turing'", ["Turing"]),
    ],
    ids=[
        "not-equals",
        "not-less",
        "not-like",
        "not-not-null",
        "de-morgan-or",
        "de-morgan-and",
        "double-not",
    ],
)
def test_not_uses_two_valued_logic(world: World, where: str, expected: list[str]) -> None:
    assert names(world, where) == expected


def test_and_or_with_parentheses(world: World) -> None:
    where = "HasOptedOutOfEmail = false AND (LastName = 'Hopper' OR Email = null)"
    assert names(world, where) == ["Hopper", "Pauling"]
    where = "(LastName = 'Hopper' AND Email != null) OR LastName = 'Turing'"
    assert names(world, where) == ["Hopper", "Turing"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("LastName IN ('turing', 'HOPPER')", ["Hopper", "Turing"]),
        ("LastName NOT IN ('Turing', 'Hopper')", ["Dijkstra", "Lovelace", "Pauling"]),
        ("Email IN ('ada@acme.com', null)", ["Lovelace", "Pauling"]),
        ("Email NOT IN ('ada@acme.com')", ["Dijkstra", "Hopper", "Pauling", "Turing"]),
        ("Email NOT IN ('ada@acme.com', null)", ["Dijkstra", "Hopper", "Turing"]),
        ("NOT LastName IN ('Turing')", ["Dijkstra", "Hopper", "Lovelace", "Pauling"]),
    ],
    ids=[
        "in",
        "not-in",
        "in-with-null",
        "not-in-includes-null",
        "not-in-with-null",
        "not-in-by-not",
    ],
)
def test_in_lists(world: World, where: str, expected: list[str]) -> None:
    assert names(world, where) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("'%acme%'", ["Lovelace", "Turing"]),
        ("'A%'", ["Lovelace", "Turing"]),
        ("'_da@%'", ["Lovelace"]),
        ("'%GLOBEX.COM'", ["Dijkstra", "Hopper"]),
        ("'edsger\\_d%'", ["Dijkstra"]),
        ("'edsger\\%%'", []),
        ("'%\\_%'", ["Dijkstra"]),
    ],
    ids=[
        "contains",
        "prefix",
        "single-char",
        "case-insensitive",
        "escaped-underscore",
        "escaped-percent",
        "any-underscore",
    ],
)
def test_like(world: World, pattern: str, expected: list[str]) -> None:
    assert names(world, f"Email LIKE {pattern}") == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Interests__c INCLUDES ('Golf')", ["Lovelace", "Pauling"]),
        ("Interests__c INCLUDES ('golf;chess')", ["Lovelace"]),
        ("Interests__c INCLUDES ('Golf;Chess', 'Tennis')", ["Lovelace", "Pauling", "Turing"]),
        ("Interests__c EXCLUDES ('Golf')", ["Dijkstra", "Hopper", "Turing"]),
        ("Interests__c EXCLUDES ('Golf;Tennis', 'Chess')", ["Hopper", "Turing"]),
        ("Interests__c = 'Chess;Golf'", ["Lovelace"]),
        ("Interests__c = 'Golf'", []),
        ("Interests__c != 'Tennis'", ["Dijkstra", "Hopper", "Lovelace", "Pauling"]),
        ("Interests__c = null", ["Hopper"]),
    ],
    ids=[
        "includes",
        "includes-and",
        "includes-or",
        "excludes",
        "excludes-and-or",
        "equals-any-order",
        "equals-exact-set",
        "not-equals",
        "null",
    ],
)
def test_multi_select_picklists(world: World, where: str, expected: list[str]) -> None:
    assert names(world, where) == expected


def test_parent_field_filter_joins_the_parent(world: World) -> None:
    assert names(world, "Account.Name = 'acme'") == ["Lovelace", "Turing"]
    assert names(world, "Account.Owner.Alias = 'broe'") == ["Dijkstra", "Hopper"]
    assert names(world, "Account.Name != 'Acme'") == ["Dijkstra", "Hopper", "Pauling"]


def test_polymorphic_owner_filter(world: World) -> None:
    assert names(world, "Owner.Name = 'Web Leads'", "Lead") == ["Queue"]


def test_id_filter_accepts_15_and_18_characters(world: World) -> None:
    assert names(world, f"Id = '{world['c2']}'") == ["Turing"]
    assert names(world, f"Id = '{to_15(world['c2'])}'") == ["Turing"]
    assert names(world, f"AccountId IN ('{to_15(world['acme'])}')") == ["Lovelace", "Turing"]


def test_empty_string_reference_means_null(world: World) -> None:
    assert names(world, "AccountId = ''") == ["Pauling"]


def test_invalid_id_literal_is_invalid_query_filter_operator(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id FROM Contact WHERE AccountId = 'foo'")
    assert exc.value.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert exc.value.message.endswith("invalid ID field: foo")


def test_numbers_compare_numerically(world: World) -> None:
    assert names(world, "AnnualRevenue > 999", "Lead") == ["Queue"]
    assert names(world, "AnnualRevenue <= 250", "Lead") == ["Owned"]
    assert names(world, "AnnualRevenue IN (250, 1000.5)", "Lead") == ["Owned", "Queue"]


def test_dates_and_datetimes_compare_as_values(world: World) -> None:
    rows = world.db.records("SELECT Name FROM Campaign WHERE StartDate >= 2024-03-01")
    assert [r["Name"] for r in rows] == ["Spring"]
    assert names(world, "CreatedDate = 2024-03-15T12:00:00Z") != []
    assert names(world, "CreatedDate = 2024-03-15T13:00:00+01:00") != []
    assert names(world, "CreatedDate > 2024-03-15T12:00:00.001Z") == []


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            "CreatedDate > '2024-01-01'",
            "field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes",
        ),
        (
            "CreatedDate > 2024-01-01",
            "field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes",
        ),
        (
            "Birthdate = 2024-01-01T00:00:00Z",
            "field 'Birthdate' must be of type date and should not be enclosed in quotes",
        ),
        ("Email = 5", "field 'Email' must be of type string and should be enclosed in quotes"),
        (
            "HasOptedOutOfEmail = 'true'",
            "field 'HasOptedOutOfEmail' must be of type boolean and should not be enclosed in quotes",
        ),
        (
            "HasOptedOutOfEmail = 1",
            "field 'HasOptedOutOfEmail' must be of type boolean and should not be enclosed in quotes",
        ),
        (
            "Account.NumberOfEmployees = '5'",
            "field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes",
        ),
        ("Email = TODAY", "field 'Email' must be of type string and should be enclosed in quotes"),
        (
            "LastName IN ('a', 1)",
            "field 'LastName' must be of type string and should be enclosed in quotes",
        ),
    ],
    ids=[
        "quoted-datetime",
        "date-for-datetime",
        "datetime-for-date",
        "number-for-string",
        "quoted-boolean",
        "number-for-boolean",
        "quoted-integer",
        "date-literal-for-string",
        "mixed-in-list",
    ],
)
def test_wrongly_typed_values_are_invalid_field(world: World, where: str, message: str) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query(f"SELECT Id FROM Contact WHERE {where}")
    assert exc.value.error_code == "INVALID_FIELD"
    assert exc.value.message.endswith("value of filter criterion for " + message)


@pytest.mark.parametrize(
    "where",
    [
        "HasOptedOutOfEmail > true",
        "CreatedDate LIKE '2024%'",
        "AccountId LIKE '001%'",
        "LastName INCLUDES ('a')",
        "Interests__c LIKE 'Golf%'",
        "Interests__c > 'Golf'",
        "HasOptedOutOfEmail IN (true)",
    ],
    ids=[
        "boolean-range",
        "like-datetime",
        "like-id",
        "includes-on-string",
        "like-multi",
        "range-multi",
        "in-boolean",
    ],
)
def test_operator_not_valid_for_type(world: World, where: str) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query(f"SELECT Id FROM Contact WHERE {where}")
    assert exc.value.error_code == "INVALID_QUERY_FILTER_OPERATOR"


def test_long_text_area_cannot_be_filtered(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id FROM Contact WHERE Description = 'x'")
    assert exc.value.error_code == "INVALID_FIELD"
    assert exc.value.message.endswith("field 'Description' can not be filtered in a query call")


def test_aggregate_in_where_is_malformed(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id FROM Contact WHERE COUNT(Id) > 1")
    assert exc.value.error_code == "MALFORMED_QUERY"


def test_unknown_field_in_where_is_invalid_field(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT Id FROM Contact WHERE Emial = 'x'")
    assert exc.value.error_code == "INVALID_FIELD"
    assert "No such column 'Emial' on entity 'Contact'" in exc.value.message


def test_comparison_with_null_range_matches_nothing(world: World) -> None:
    assert names(world, "LastName > null") == []
    assert len(names(world, "NOT (LastName > null)")) == 5


def test_condition_too_large_for_sqlite_is_too_complicated(world: World) -> None:
    soql = "SELECT Id FROM Contact WHERE " + " AND ".join(["LastName != 'x'"] * 3000)
    with pytest.raises(QueryError) as exc:
        world.db.query(soql)
    assert exc.value.error_code == "QUERY_TOO_COMPLICATED"


def test_long_in_list_is_bound_as_parameters(world: World) -> None:
    values = ",".join(str(n) for n in range(15_000))
    soql = f"SELECT Name FROM Account WHERE NumberOfEmployees IN ({values})"
    assert [r["Name"] for r in world.db.records(soql)] == ["Initech"]
