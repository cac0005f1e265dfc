"""Rate limits, outages and lost answers: sends wait, say so, then go -- each exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from cmsf_core.transactional import settle
from tests.cmsf_core.tx_support import Tx


def _people(tx: Tx, count: int) -> list[str]:
    rows = tx.org.insert(
        "Contact", [{"LastName": f"L{n}", "Email": f"l{n}@tx.example"} for n in range(count)]
    )
    return [str(r.id) for r in rows]


def _once_each(tx: Tx, expected: int) -> None:
    recipients = Counter(m["Recipient"] for m in tx.messages())
    assert len(recipients) == expected and set(recipients.values()) == {1}, recipients


def test_a_rate_limit_storm_delays_sends_with_a_message_then_they_go(tx: Tx) -> None:
    tx.request(_people(tx, 4))
    tx.account.rate_limit_storm("/send", until=tx.clock.now() + timedelta(minutes=90))
    stormy = tx.sync()
    assert tx.messages() == []
    (message,) = [m for m in stormy.messages if m.code == "CMSF-TX-RATE"]
    assert message.summary == (
        "Campaign Monitor's transactional rate limit delayed 4 smart email send(s)"
    )
    assert {r["Status__c"] for r in tx.items()} == {"Pending"}
    assert [r["Attempts__c"] for r in tx.items()] == [1, 0, 0, 0]  # only the one tried counts
    assert stormy.status == "completed"  # the rest of the sync is not held up
    calm = tx.sync()
    _once_each(tx, 4)
    assert {r["Status__c"] for r in tx.items()} == {"Done"} and len(tx.tasks()) == 4
    assert "CMSF-TX-RATE" not in tx.codes(calm)


def test_a_short_rate_limit_is_waited_out_within_the_run(tx: Tx) -> None:
    tx.account.set_transactional_rate_limit(5, window_seconds=60)
    tx.request(_people(tx, 12))
    drained = tx.send()
    _once_each(tx, 12)
    assert drained.stats.pushed["smart email rate-limit waits"] == 2
    assert "CMSF-TX-RATE" not in drained.codes


def test_sends_give_up_after_the_tries_allowed_with_the_reason(tx: Tx) -> None:
    tx.engine.change_settings({"governor_limits": {"smart_email_attempts": 2}})
    first, *rest = tx.request(_people(tx, 3))
    tx.account.rate_limit_storm("/send", until=tx.clock.now() + timedelta(hours=2, minutes=30))
    tx.send(minutes=60)
    drained = tx.send(minutes=60)
    by_id = {r["Id"]: r for r in tx.items()}
    assert by_id[first]["Status__c"] == "Failed"
    assert by_id[first]["Error__c"].startswith("gave up after 2 tries: rate limited")
    assert [m.code for m in drained.messages if m.severity == "Error"] == ["CMSF-TX-GAVE-UP"]
    assert {by_id[i]["Status__c"] for i in rest} == {"Pending"}
    tx.send(minutes=60)  # the storm is over
    _once_each(tx, 2)


@pytest.mark.parametrize("fault", ["outage", "timeout", "lost_answer"])
def test_a_send_whose_outcome_is_unknown_is_looked_up_never_sent_twice(tx: Tx, fault: str) -> None:
    tx.request(_people(tx, 3))
    if fault == "outage":
        tx.account.start_outage("/send", count=1)
    elif fault == "timeout":
        tx.account.time_out("/send", count=1)
    else:
        tx.account.lose_answers("/send", count=1)
    first = tx.send()
    assert "CMSF-TX-DOWN" in first.codes
    assert [r["Status__c"] for r in tx.items()] == ["Sending", "Pending", "Pending"]
    tx.send()
    _once_each(tx, 3)
    rows = tx.items()
    assert {r["Status__c"] for r in rows} == {"Done"}
    assert {r["Message_Id__c"] for r in rows} == {m["MessageID"] for m in tx.messages()}
    assert len(tx.tasks()) == 3
    assert rows[0]["Attempts__c"] == (1 if fault == "lost_answer" else 2)


def test_an_unreadable_message_log_keeps_the_send_in_doubt(tx: Tx) -> None:
    tx.request(_people(tx, 1))
    tx.account.lose_answers("/send", count=1)
    tx.send()
    tx.account.start_outage("/transactional/messages", until=tx.clock.now() + timedelta(hours=2))
    drained = tx.send()
    assert "CMSF-TX-DOWN" in drained.codes
    assert [r["Status__c"] for r in tx.items()] == ["Sending"]
    tx.send(minutes=150)
    _once_each(tx, 1)
    assert [r["Status__c"] for r in tx.items()] == ["Done"]


def test_a_send_that_cannot_be_confirmed_fails_rather_than_go_twice(
    tx: Tx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settle, "MAX_LOOKUPS", 1)
    (lost,) = tx.request(_people(tx, 1))
    tx.account.lose_answers("/send", count=1)
    tx.send()
    for other in ("x@elsewhere.example", "y@elsewhere.example"):  # another app's sends
        tx.account.send_smart_email(tx.ids["smart"], {"To": [other], "ConsentToTrack": "No"})
    tx.send()
    row = next(r for r in tx.items() if r["Id"] == lost)
    assert row["Status__c"] == "Failed" and "not sent again" in row["Error__c"]
    assert sum(1 for m in tx.messages() if m["Recipient"] == "l0@tx.example") == 1


def test_queue_items_salesforce_will_not_mark_are_not_sent_until_it_will(tx: Tx) -> None:
    tx.request(_people(tx, 2))
    tx.org.control.lock(object_name="CMSF_Queue_Item__c", until=tx.clock.now() + timedelta(hours=1))
    drained = tx.send()
    assert {o.status for o in drained.outcomes} == {"deferred"}
    assert tx.messages() == [] and {r["Status__c"] for r in tx.items()} == {"Pending"}
    tx.send(minutes=90)
    _once_each(tx, 2)


def test_a_sandbox_copy_sends_nothing_to_a_live_account(tx: Tx) -> None:
    from cmsf_core.errors import SafetyError
    from scenarios.world import World, engine_for

    tx.account.mark_test_account(False)
    tx.request([tx.ids["ada"]])
    sandbox = tx.org.refresh_sandbox("uat")
    try:
        engine = engine_for(
            World(clock=tx.clock, org=sandbox, account=tx.account, spec=tx.world.spec)
        )
        with pytest.raises(SafetyError, match="sandbox"):
            engine.send_session("watch").drain()
        with pytest.raises(SafetyError, match="sandbox"):
            engine.send_smart_email("Shipped", [tx.ids["ada"]])
        assert tx.messages() == []
    finally:
        sandbox.close()


def test_an_item_salesforce_will_not_finish_is_settled_never_sent_again(tx: Tx) -> None:
    tx.request(_people(tx, 1))
    tx.org.control.add_validation_rule(
        "CMSF_Queue_Item__c", "Not done today",
        lambda new, old: "Queue items may not be done today" if new.get("Status__c") == "Done" else None,
    )  # fmt: skip
    first = tx.send()
    assert "CMSF-REC-WRITE" in first.codes
    assert [r["Status__c"] for r in tx.items()] == ["Sending"]
    tx.org.control.remove_validation_rule("CMSF_Queue_Item__c", "Not done today")
    tx.send()
    _once_each(tx, 1)
    assert [r["Status__c"] for r in tx.items()] == ["Done"] and len(tx.tasks()) == 1
