"""ORDER BY (nulls, case, parent paths), LIMIT and OFFSET."""

from __future__ import annotations

import pytest
from conftest import World

from sf_sim.exceptions import QueryError


def last_names(world: World, tail: str) -> list[str]:
    return [r["LastName"] for r in world.db.records(f"SELECT LastName FROM Contact {tail}")]


def test_ascending_puts_nulls_first(world: World) -> None:
    rows = world.db.records("SELECT Email FROM Contact ORDER BY Email")
    assert [r["Email"] for r in rows] == [
        None,
        "ada@acme.com",
        "alan@acme.com",
        "edsger_d@globex.com",
        "GRACE@globex.com",
    ]


def test_descending_puts_nulls_last(world: World) -> None:
    rows = world.db.records("SELECT Email FROM Contact ORDER BY Email DESC")
    assert rows[-1]["Email"] is None
    assert rows[0]["Email"] == "GRACE@globex.com"


@pytest.mark.parametrize(
    ("order", "first"),
    [("Email ASC NULLS LAST", "Lovelace"), ("Email DESC NULLS FIRST", "Pauling")],
    ids=["asc-nulls-last", "desc-nulls-first"],
)
def test_explicit_null_placement(world: World, order: str, first: str) -> None:
    assert last_names(world, f"ORDER BY {order}")[0] == first


def test_several_keys_with_parent_path(world: World) -> None:
    assert last_names(world, "ORDER BY Account.Name DESC NULLS LAST, LastName") == [
        "Dijkstra",
        "Hopper",
        "Lovelace",
        "Turing",
        "Pauling",
    ]


def test_limit_and_offset(world: World) -> None:
    assert last_names(world, "ORDER BY LastName LIMIT 2") == ["Dijkstra", "Hopper"]
    assert last_names(world, "ORDER BY LastName LIMIT 2 OFFSET 2") == ["Lovelace", "Pauling"]
    assert last_names(world, "ORDER BY LastName OFFSET 4") == ["Turing"]


def test_total_size_is_capped_by_limit_and_offset(world: World) -> None:
    assert world.db.query("SELECT Id FROM Contact LIMIT 3").total_size == 3
    assert world.db.query("SELECT Id FROM Contact LIMIT 3 OFFSET 4").total_size == 1
    assert world.db.query("SELECT Id FROM Contact OFFSET 2000").total_size == 0


def test_offset_above_2000_is_number_outside_valid_range(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id FROM Contact OFFSET 2001")
    assert exc.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert exc.value.message.endswith("Maximum SOQL offset allowed is 2000")


@pytest.mark.parametrize(
    ("order", "code"),
    [
        ("Interests__c", "INVALID_FIELD"),
        ("Description", "INVALID_FIELD"),
        ("Bogus", "INVALID_FIELD"),
        ("COUNT(Id)", "MALFORMED_QUERY"),
    ],
    ids=["multi-select", "long-text", "unknown", "aggregate-in-record-query"],
)
def test_unsortable_keys_are_refused(world: World, order: str, code: str) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query(f"SELECT Id FROM Contact ORDER BY {order}")
    assert exc.value.error_code == code
