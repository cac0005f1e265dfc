"""Records Salesforce refused are kept and retried every run until they are written."""

from __future__ import annotations

from typing import Any

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def _refuse(world: World, sobject: str, name: str, when: Any) -> None:
    world.org.control.add_validation_rule(
        sobject, name, lambda new, old: "Refused by a validation rule" if when(new) else None
    )


def _codes(report: Any) -> list[str]:
    return sorted({m.code for m in report.messages})


def _pending_message(report: Any) -> str:
    [message] = [m for m in report.messages if m.code == "CMSF-REC-PENDING"]
    return str(message.summary)


@pytest.mark.parametrize("count", [3, 110], ids=["few-fetched-one-by-one", "many-read-again"])
def test_refused_memberships_are_written_once_the_cause_is_gone(
    world: World, engine: Engine, clock: VirtualClock, count: int
) -> None:
    assert engine.sync().status == "completed"
    list_id = world.summary["lists"][0]
    for i in range(count):
        world.account.add_subscriber_at(list_id, f"held{i}@refused.example", f"Held {i}")
    _refuse(
        world,
        "CMSF_List_Member__c",
        "no_refused",
        lambda r: "refused.example" in str(r.get("Email__c")),
    )
    clock.advance(hours=1)
    refused = engine.sync()
    assert "CMSF-REC-PENDING" in _codes(refused)
    assert _pending_message(refused).startswith(f"{count} record(s)")
    clock.advance(hours=1)
    still = engine.sync()  # the cause is still there: retried, still pending, said again
    assert _pending_message(still).startswith(f"{count} record(s)")
    world.org.control.remove_validation_rule("CMSF_List_Member__c", "no_refused")
    clock.advance(hours=1)
    fixed = engine.sync()
    assert fixed.status == "completed", fixed.reason
    assert "CMSF-REC-PENDING" not in _codes(fixed)
    rows = world.org.query(
        "SELECT Id FROM CMSF_List_Member__c WHERE Email__c LIKE '%@refused.example'"
    )
    assert len(rows) == count
    assert engine.journal.pending_counts() == {}
    assert compare(world, engine.settings()) == []


def test_refused_opt_outs_are_written_once_the_cause_is_gone(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    members = world.org.query(
        "SELECT Email__c, Contact__c FROM CMSF_List_Member__c WHERE Contact__c != null "
        "AND State__c = 'Active' ORDER BY Email__c LIMIT 4"
    )
    emails = sorted({m["Email__c"] for m in members})
    for email in emails:
        for list_id in world.summary["lists"]:
            if email in world.account.email_addresses(list_id):
                world.account.change_state(list_id, email, "Unsubscribed")
    _refuse(world, "Contact", "keep_opted_in", lambda r: bool(r.get("HasOptedOutOfEmail")))
    clock.advance(hours=1)
    assert "CMSF-REC-PENDING" in _codes(engine.sync())
    world.org.control.remove_validation_rule("Contact", "keep_opted_in")
    clock.advance(hours=1)
    fixed = engine.sync()
    assert "CMSF-REC-PENDING" not in _codes(fixed)
    listed = ", ".join(f"'{e}'" for e in emails)
    opted = world.org.query(f"SELECT HasOptedOutOfEmail FROM Contact WHERE Email IN ({listed})")
    assert opted and all(row["HasOptedOutOfEmail"] for row in opted)


def test_refused_campaign_members_are_written_once_the_cause_is_gone(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    _refuse(world, "CampaignMember", "no_members", lambda r: True)
    first = engine.sync()
    assert "CMSF-REC-PENDING" in _codes(first)
    assert world.org.count("CampaignMember") == 0
    world.org.control.remove_validation_rule("CampaignMember", "no_members")
    clock.advance(hours=1)
    fixed = engine.sync()
    assert "CMSF-REC-PENDING" not in _codes(fixed)
    assert world.org.count("CampaignMember") > 0
    assert engine.journal.pending_counts() == {}
    assert compare(world, engine.settings()) == []


def test_refused_tracking_history_is_written_once_the_cause_is_gone(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    _refuse(
        world, "CMSF_Email_Activity__c", "no_clicks", lambda r: r.get("Activity_Type__c") == "Click"
    )
    first = engine.sync()
    assert "CMSF-REC-PENDING" in _codes(first)
    assert (
        world.org.query("SELECT Id FROM CMSF_Email_Activity__c WHERE Activity_Type__c = 'Click'")
        == []
    )
    world.org.control.remove_validation_rule("CMSF_Email_Activity__c", "no_clicks")
    clock.advance(hours=1)
    fixed = engine.sync()
    assert "CMSF-REC-PENDING" not in _codes(fixed)
    assert engine.journal.pending_counts() == {}
    assert compare(world, engine.settings()) == []
