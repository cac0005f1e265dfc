"""COUNT(), aggregate functions, GROUP BY, HAVING, aliases and the AggregateResult shape."""

from __future__ import annotations

import pytest
from conftest import World

from sf_sim.exceptions import QueryError


def test_count_only_has_no_records(world: World) -> None:
    cursor = world.db.query("SELECT COUNT() FROM Contact WHERE Email != null")
    assert cursor.is_count_only
    assert cursor.total_size == 4
    assert cursor.fetch(2000) == []
    assert cursor.done


def test_count_only_respects_limit(world: World) -> None:
    assert world.db.query("SELECT COUNT() FROM Contact LIMIT 2").total_size == 2


def test_aggregate_without_group_by_is_one_row(world: World) -> None:
    cursor = world.db.query(
        "SELECT COUNT(Id), COUNT(Email), COUNT_DISTINCT(AccountId), MIN(LastName) FROM Contact"
    )
    assert cursor.total_size == 1
    assert cursor.fetch(10) == [
        {
            "attributes": {"type": "AggregateResult"},
            "expr0": 5,
            "expr1": 4,
            "expr2": 2,
            "expr3": "Dijkstra",
        }
    ]


def test_group_by_parent_path_keys_by_last_element(world: World) -> None:
    rows = world.db.records(
        "SELECT Account.Name, COUNT(Id) total FROM Contact GROUP BY Account.Name "
        "ORDER BY Account.Name NULLS LAST"
    )
    assert rows == [
        {"attributes": {"type": "AggregateResult"}, "Name": "Acme", "total": 2},
        {"attributes": {"type": "AggregateResult"}, "Name": "Globex", "total": 2},
        {"attributes": {"type": "AggregateResult"}, "Name": None, "total": 1},
    ]


def test_expr_numbers_count_only_unaliased_aggregates(world: World) -> None:
    [row] = world.db.records("SELECT COUNT(Id) n, MAX(LastName), MIN(LastName) low FROM Contact")
    assert list(row) == ["attributes", "n", "expr0", "low"]


def test_sum_and_avg(world: World) -> None:
    [row] = world.db.records("SELECT SUM(AnnualRevenue), AVG(AnnualRevenue) FROM Lead")
    assert row["expr0"] == 1250.5
    assert row["expr1"] == 625.25


def test_having_filters_groups(world: World) -> None:
    rows = world.db.records(
        "SELECT CampaignId, COUNT(Id) FROM CampaignMember GROUP BY CampaignId HAVING COUNT(Id) > 1"
    )
    assert rows == [
        {"attributes": {"type": "AggregateResult"}, "CampaignId": world["camp"], "expr0": 4}
    ]


def test_group_by_text_ignores_case(world: World) -> None:
    world.db.insert("Contact", LastName="x", Title="VP")
    world.db.insert("Contact", LastName="y", Title="vp")
    rows = world.db.records(
        "SELECT Title, COUNT(Id) FROM Contact WHERE Title != null GROUP BY Title"
    )
    assert len(rows) == 1
    assert rows[0]["expr0"] == 2


def test_order_by_aggregate_and_limit(world: World) -> None:
    cursor = world.db.query(
        "SELECT OwnerId, COUNT(Id) c FROM Contact GROUP BY OwnerId ORDER BY COUNT(Id) DESC LIMIT 1"
    )
    assert cursor.total_size == 1
    assert cursor.fetch(5)[0] == {
        "attributes": {"type": "AggregateResult"},
        "OwnerId": world["ann"],
        "c": 3,
    }


def test_group_by_without_aggregates_returns_groups(world: World) -> None:
    rows = world.db.records("SELECT AccountId FROM Contact GROUP BY AccountId")
    assert len(rows) == 3


def test_count_only_with_group_by_counts_groups(world: World) -> None:
    assert world.db.query("SELECT COUNT() FROM Contact GROUP BY AccountId").total_size == 3


@pytest.mark.parametrize(
    ("soql", "code", "message"),
    [
        (
            "SELECT LastName, COUNT(Id) FROM Contact",
            "MALFORMED_QUERY",
            "Field must be grouped or aggregated: LastName",
        ),
        (
            "SELECT COUNT(), Id FROM Contact",
            "MALFORMED_QUERY",
            "COUNT() must be the only element in the SELECT list",
        ),
        (
            "SELECT Id, COUNT() FROM Contact",
            "MALFORMED_QUERY",
            "COUNT() must be the only element in the SELECT list",
        ),
        (
            "SELECT SUM(LastName) FROM Contact",
            "MALFORMED_QUERY",
            "field LastName does not support aggregate operator SUM",
        ),
        (
            "SELECT MAX(HasOptedOutOfEmail) FROM Contact",
            "MALFORMED_QUERY",
            "field HasOptedOutOfEmail does not support aggregate operator MAX",
        ),
        (
            "SELECT CreatedDate, COUNT(Id) FROM Contact GROUP BY CreatedDate",
            "INVALID_FIELD",
            "field 'CreatedDate' can not be grouped in a query call",
        ),
        (
            "SELECT COUNT(Id) a, COUNT(Email) A FROM Contact",
            "MALFORMED_QUERY",
            "duplicate alias: A",
        ),
        ("SELECT COUNT(Bogus) FROM Contact", "INVALID_FIELD", "No such column 'Bogus'"),
        (
            "SELECT COUNT(Id), (SELECT Id FROM CampaignMembers) FROM Contact",
            "MALFORMED_QUERY",
            "not supported in aggregate queries",
        ),
        (
            "SELECT AccountId, COUNT(Id) FROM Contact GROUP BY AccountId HAVING LastName = 'x'",
            "MALFORMED_QUERY",
            "Field must be grouped or aggregated: LastName",
        ),
        (
            "SELECT AccountId, COUNT(Id) FROM Contact GROUP BY AccountId ORDER BY LastName",
            "MALFORMED_QUERY",
            "Field must be grouped or aggregated: LastName",
        ),
        (
            "SELECT AccountId, COUNT(Id) FROM Contact GROUP BY AccountId HAVING COUNT(Id) > 'x'",
            "INVALID_FIELD",
            "must be of type integer",
        ),
    ],
    ids=[
        "ungrouped-field",
        "count-with-field",
        "field-with-count",
        "sum-of-text",
        "max-of-boolean",
        "group-by-datetime",
        "duplicate-alias",
        "unknown-field",
        "child-subquery",
        "having-ungrouped",
        "order-ungrouped",
        "having-wrong-type",
    ],
)
def test_aggregate_refusals(world: World, soql: str, code: str, message: str) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query(soql)
    assert exc.value.error_code == code
    assert message in exc.value.message
