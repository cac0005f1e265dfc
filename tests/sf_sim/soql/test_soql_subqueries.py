"""Child relationship subqueries and semi-join / anti-join sub-selects."""

from __future__ import annotations

import pytest
from conftest import World

from sf_sim.exceptions import QueryError


def test_child_subquery_nests_records_per_parent(world: World) -> None:
    rows = world.db.records(
        "SELECT Name, (SELECT LastName, Email FROM Contacts ORDER BY LastName) FROM Account "
        "ORDER BY Name"
    )
    acme, globex, initech = rows
    assert acme["Contacts"]["totalSize"] == 2
    assert acme["Contacts"]["done"] is True
    assert [c["LastName"] for c in acme["Contacts"]["records"]] == ["Lovelace", "Turing"]
    assert acme["Contacts"]["records"][0] == {
        "attributes": {
            "type": "Contact",
            "url": f"/services/data/v59.0/sobjects/Contact/{world['c1']}",
        },
        "LastName": "Lovelace",
        "Email": "ada@acme.com",
    }
    assert [c["LastName"] for c in globex["Contacts"]["records"]] == ["Dijkstra", "Hopper"]
    assert initech["Contacts"] is None


def test_child_subquery_with_where_limit_and_parent_path(world: World) -> None:
    [campaign] = world.db.records(
        "SELECT Name, (SELECT Status, Contact.LastName FROM CampaignMembers "
        "WHERE ContactId != null ORDER BY Contact.LastName DESC LIMIT 2) "
        "FROM Campaign WHERE Name = 'Spring'"
    )
    members = campaign["CampaignMembers"]["records"]
    assert [m["Contact"]["LastName"] for m in members] == ["Lovelace", "Hopper"]
    assert campaign["CampaignMembers"]["totalSize"] == 2


def test_child_subquery_limit_applies_per_parent(world: World) -> None:
    rows = world.db.records(
        "SELECT Name, (SELECT Id FROM Contacts ORDER BY LastName LIMIT 1) FROM Account "
        "WHERE Name IN ('Acme', 'Globex') ORDER BY Name"
    )
    assert [r["Contacts"]["totalSize"] for r in rows] == [1, 1]


def test_child_subquery_key_uses_canonical_relationship_name(world: World) -> None:
    cursor = world.db.query("SELECT Id, (select id from CONTACTS) FROM Account")
    assert cursor.columns == ["Id", "Contacts"]
    assert "Contacts" in cursor.fetch(1)[0]


def test_child_subquery_over_many_parents_batches_ids(world: World) -> None:
    for n in range(1200):
        world.db.insert("Account", Name=f"Bulk {n:04d}")
    acme = world["acme"]
    cursor = world.db.query("SELECT Id, (SELECT Id FROM Contacts) FROM Account ORDER BY Name")
    records = cursor.fetch(2000)
    assert len(records) == 1203
    assert [r["Id"] for r in records if r["Contacts"]] == [acme, world["globex"]]


def test_unknown_child_relationship_is_invalid_type(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id, (SELECT Id FROM Contactz) FROM Account")
    assert exc.value.error_code == "INVALID_TYPE"
    assert (
        "Didn't understand relationship 'Contactz' in FROM part of query call" in exc.value.message
    )


@pytest.mark.parametrize(
    "inner",
    [
        "SELECT COUNT(Id) FROM Contacts",
        "SELECT Id, (SELECT Id FROM CampaignMembers) FROM Contacts",
        "SELECT Id FROM Contacts OFFSET 1",
    ],
    ids=["aggregate", "nested", "offset"],
)
def test_unsupported_child_subqueries_are_malformed(world: World, inner: str) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query(f"SELECT Id, ({inner}) FROM Account")
    assert exc.value.error_code == "MALFORMED_QUERY"


def test_unknown_field_in_child_subquery_names_child_entity(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id, (SELECT Bogus FROM Contacts) FROM Account")
    assert "No such column 'Bogus' on entity 'Contact'" in exc.value.message


def _last_names(world: World, where: str) -> list[str]:
    rows = world.db.records(f"SELECT LastName FROM Contact WHERE {where} ORDER BY LastName")
    return [r["LastName"] for r in rows]


def test_semi_join_selects_members(world: World) -> None:
    where = "Id IN (SELECT ContactId FROM CampaignMember WHERE Campaign.Name = 'Spring')"
    assert _last_names(world, where) == ["Dijkstra", "Hopper", "Lovelace"]


def test_anti_join_ignores_null_references(world: World) -> None:
    # CampaignMember m3 is a lead (ContactId null): it must not empty the NOT IN.
    where = f"Id NOT IN (SELECT ContactId FROM CampaignMember WHERE CampaignId = '{world['camp']}')"
    assert _last_names(world, where) == ["Pauling", "Turing"]


def test_semi_join_on_reference_field_combined_with_and(world: World) -> None:
    where = "AccountId IN (SELECT Id FROM Account WHERE Industry = 'Banking') AND Email != null"
    assert _last_names(world, where) == ["Dijkstra", "Hopper"]


def test_semi_join_excludes_deleted_rows(world: World) -> None:
    world.db.conn.execute(
        'UPDATE "CampaignMember" SET "IsDeleted" = 1 WHERE "Id" = ?', [world["m2"]]
    )
    where = "Id IN (SELECT ContactId FROM CampaignMember WHERE Campaign.Name = 'Spring')"
    assert _last_names(world, where) == ["Dijkstra", "Lovelace"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("LastName IN (SELECT Name FROM Account)", "only allowed on Id or reference fields"),
        ("Id IN (SELECT Name FROM Account)", "must be a single Id or reference field"),
        ("Id IN (SELECT Id, Name FROM Account)", "must be a single Id or reference field"),
        (
            "Id IN (SELECT ContactId FROM CampaignMember WHERE ContactId IN (SELECT Id FROM Contact))",
            "Nesting of semi join sub-selects is not supported",
        ),
        (
            "Email = null OR Id IN (SELECT ContactId FROM CampaignMember)",
            "not allowed with the 'OR' operator",
        ),
        (
            "NOT (Email != null AND Id IN (SELECT ContactId FROM CampaignMember))",
            "not allowed with the 'OR' operator",
        ),
    ],
    ids=["non-id-left", "non-id-selected", "two-fields", "nested", "under-or", "under-negated-and"],
)
def test_semi_join_refusals(world: World, where: str, message: str) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query(f"SELECT Id FROM Contact WHERE {where}")
    assert exc.value.error_code == "MALFORMED_QUERY"
    assert message in exc.value.message


def test_semi_join_on_unknown_object_is_invalid_type(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM Bogus)")
    assert exc.value.error_code == "INVALID_TYPE"
