"""Merges and deletes as Campaign Monitor sees them (the README's outcome table)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cmsf_core.push_support import Push, make_push


@pytest.fixture
def push() -> Iterator[Push]:
    world = make_push({"opt_out_sync": True})
    try:
        yield world
    finally:
        world.world.close()


def _pair(push: Push) -> tuple[dict[str, str], dict[str, str]]:
    """Two Contacts with different addresses, both Active on list 1: (master, loser)."""
    first, second = push.seeded(1)[:2]
    return (
        {"id": first["Contact__c"], "email": first["Email__c"]},
        {"id": second["Contact__c"], "email": second["Email__c"]},
    )


def test_a_merge_keeps_every_address_as_it_was(push: Push) -> None:
    master, loser = _pair(push)
    before = len(push.writes())
    push.org.merge(master["id"], [loser["id"]])
    push.sync()
    assert push.subscriber(1, master["email"])["State"] == "Active"
    assert push.subscriber(1, loser["email"])["State"] == "Active"  # not renamed, not deleted
    assert len(push.writes()) == before
    assert push.member(1, loser["email"])["Contact__c"] == master["id"]  # memberships follow


def test_an_opt_out_on_a_merged_record_wins(push: Push) -> None:
    master, loser = _pair(push)
    push.org.update("Contact", loser["id"], {"HasOptedOutOfEmail": True})
    push.sync()  # the loser's own opt-out is pushed first
    assert push.subscriber(1, loser["email"])["State"] == "Unsubscribed"
    push.clock.advance(minutes=5)
    push.org.merge(master["id"], [loser["id"]])
    report = push.sync()
    assert push.org.get("Contact", master["id"])["HasOptedOutOfEmail"] is True
    assert push.subscriber(1, master["email"])["State"] == "Unsubscribed"
    assert report.stats.pushed["unsubscribed"] >= 1
    later = len(push.writes())
    push.sync()  # the engine's own opt-out of the master does not come back
    assert len(push.writes()) == later


def test_an_unsubscribe_under_any_merged_address_wins_for_that_list(push: Push) -> None:
    master, loser = _pair(push)
    push.account.change_state(push.list(1)[0], loser["email"], "Unsubscribed")
    push.sync()
    push.org.merge(master["id"], [loser["id"]])
    push.sync()
    assert push.subscriber(1, master["email"])["State"] == "Unsubscribed"


def test_a_merge_never_resubscribes_anyone(push: Push) -> None:
    master, loser = _pair(push)
    push.account.change_state(push.list(1)[0], master["email"], "Unsubscribed")
    push.rule(1, "Email != null")
    push.sync()
    push.org.merge(master["id"], [loser["id"]])
    push.sync()
    assert push.subscriber(1, master["email"])["State"] == "Unsubscribed"
    assert push.subscriber(1, loser["email"])["State"] == "Unsubscribed"  # unsubscribe wins
    assert not [w for w in push.writes() if '"Resubscribe": true' in str(w)]


def test_merging_records_with_the_same_address_writes_nothing(push: Push) -> None:
    master, _ = _pair(push)
    twin = push.contact(master["email"], FirstName="Twin")
    push.sync()
    before = len(push.writes())
    push.org.merge(master["id"], [twin])
    push.sync()
    assert len(push.writes()) == before
    assert push.subscriber(1, master["email"])["State"] == "Active"


def test_a_deleted_then_undeleted_contact_is_pushed_again_when_it_meets_a_rule(push: Push) -> None:
    push.rule(2, "LeadSource = 'Web'")
    contact = push.contact("phoenix@web.example", LeadSource="Web")
    push.sync()
    push.org.delete([contact])
    push.sync()
    assert push.subscriber(2, "phoenix@web.example")["State"] == "Active"  # left alone
    push.account.change_state(push.list(2)[0], "phoenix@web.example", "Deleted")
    push.sync()
    push.org.undelete([contact])
    push.sync()
    # Deleted in Campaign Monitor: undeleting the Contact does not bring it back.
    assert push.subscriber(2, "phoenix@web.example")["State"] == "Deleted"
