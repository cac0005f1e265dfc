"""Memberships and tracking history follow people through lead conversion and merges."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def _linked_lead(world: World) -> dict[str, str]:
    [row] = world.org.query(
        "SELECT Lead__c, Email__c FROM CMSF_List_Member__c WHERE Lead__c != null "
        "AND Contact__c = null ORDER BY Email__c LIMIT 1"
    )
    return row


def test_a_converted_lead_hands_its_memberships_and_history_to_the_contact(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    member = _linked_lead(world)
    lead = member["Lead__c"]
    history = world.org.query(f"SELECT Id FROM CMSF_Email_Activity__c WHERE Lead__c = '{lead}'")
    contact = world.org.convert_lead(lead)["contactId"]
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed", report.reason
    moved = world.org.query(
        f"SELECT Contact__c, Lead__c FROM CMSF_List_Member__c WHERE Email__c = '{member['Email__c']}'"
    )
    assert moved and all(r["Contact__c"] == contact and r["Lead__c"] is None for r in moved)
    assert world.org.query(f"SELECT Id FROM CMSF_Email_Activity__c WHERE Lead__c = '{lead}'") == []
    followed = world.org.query(
        f"SELECT Id FROM CMSF_Email_Activity__c WHERE Contact__c = '{contact}'"
    )
    assert len(followed) >= len(history)
    assert compare(world, engine.settings()) == []


def test_merged_contacts_keep_the_master_link_when_the_losers_address_changes_state(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = world.summary["lists"][0]
    for email in ("ann.master@merge.example", "ann.old@merge.example"):
        world.account.add_subscriber_at(list_id, email, "Ann")
    master = world.org.create("Contact", {"LastName": "Ann", "Email": "ann.master@merge.example"})
    loser = world.org.create("Contact", {"LastName": "Ann", "Email": "ann.old@merge.example"})
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    world.org.merge(master, [loser])
    clock.advance(hours=1)
    world.account.change_state(list_id, "ann.old@merge.example", "Unsubscribed")
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    [row] = world.org.query(
        "SELECT Contact__c, State__c FROM CMSF_List_Member__c "
        "WHERE Email__c = 'ann.old@merge.example'"
    )
    assert (row["Contact__c"], row["State__c"]) == (master, "Unsubscribed")


def test_an_address_merged_twice_follows_to_the_last_survivor_and_no_contact_is_made_for_it(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    list_id = world.summary["lists"][0]
    people = ("cy.first@merge.example", "cy.second@merge.example", "cy.last@merge.example")
    for email in people:
        world.account.add_subscriber_at(list_id, email, "Cy")
    first, second, last = (
        world.org.create("Contact", {"LastName": "Cy", "Email": email}) for email in people
    )
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    [list_sf] = world.org.query(f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{list_id}'")
    world.org.update("CMSF_List__c", list_sf["Id"], {"Create_Rule__c": "Contact"})
    world.org.merge(second, [first])
    clock.advance(hours=1)
    assert engine.sync().status == "completed"
    world.org.merge(last, [second])
    clock.advance(hours=1)
    assert engine.sync().status == "completed"
    world.account.change_state(list_id, "cy.first@merge.example", "Unsubscribed")
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    world.account.change_state(list_id, "cy.first@merge.example", "Active")
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    rows = world.org.query(
        "SELECT Contact__c, State__c FROM CMSF_List_Member__c "
        "WHERE Email__c IN ('cy.first@merge.example', 'cy.second@merge.example')"
    )
    assert rows and all(r["Contact__c"] == last for r in rows)
    made = world.org.query(
        "SELECT Id FROM Contact WHERE Email IN ('cy.first@merge.example', 'cy.second@merge.example')"
    )
    assert made == []  # the create rule did not undo the merges


def test_merges_remembered_for_one_org_are_forgotten_when_the_journal_moves_to_another(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    from cmsf_core.matching import MERGED_TABLE

    list_id = world.summary["lists"][0]
    for email in ("di.master@merge.example", "di.old@merge.example"):
        world.account.add_subscriber_at(list_id, email, "Di")
    master = world.org.create("Contact", {"LastName": "Di", "Email": "di.master@merge.example"})
    loser = world.org.create("Contact", {"LastName": "Di", "Email": "di.old@merge.example"})
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    world.org.merge(master, [loser])
    clock.advance(hours=1)
    assert engine.sync().status == "completed"
    journal = engine.journal
    held = journal.db.execute(f"SELECT loser_id, master_id FROM {MERGED_TABLE}").fetchall()
    assert [tuple(r) for r in held] == [(loser, master)]
    assert journal.bind("00D000000000999", "another", clock.now()) is not None
    assert journal.db.execute(f"SELECT COUNT(*) FROM {MERGED_TABLE}").fetchone()[0] == 0
