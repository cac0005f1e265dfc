"""Bulk requests grouped under process records, deleteProcess, and Run Test."""

from __future__ import annotations

from typing import Any

import pytest

from cmsf_core.errors import ConfigError
from tests.cmsf_core.tx_support import Tx


def _processes(tx: Tx) -> list[dict[str, Any]]:
    return list(
        tx.org.query(
            "SELECT Id, Status__c, Total__c, Sent__c, Failed__c, Requested_By__c, Finished_At__c, "
            "Smart_Email_Mapping__c FROM CMSF_Process__c ORDER BY Name"
        )
    )


def _people(tx: Tx, count: int, prefix: str = "b") -> list[str]:
    rows = tx.org.insert(
        "Contact", [{"LastName": f"B{n}", "Email": f"{prefix}{n}@tx.example"} for n in range(count)]
    )
    return [str(r.id) for r in rows]


def test_a_bulk_request_is_grouped_under_a_process_that_counts_what_was_sent(tx: Tx) -> None:
    people = _people(tx, 3)
    report = tx.engine.send_smart_email("Shipped", [*people, tx.ids["nomail"]])
    assert report.request.process_id is not None
    assert [o.status for o in report.outcomes] == ["sent", "sent", "sent", "failed"]
    (process,) = _processes(tx)
    admin = tx.org.running_user_id
    assert (process["Status__c"], process["Total__c"], process["Sent__c"], process["Failed__c"]) == (
        "Done", 4, 3, 1,
    )  # fmt: skip
    assert process["Requested_By__c"] == admin and process["Finished_At__c"]
    assert process["Smart_Email_Mapping__c"] == tx.ids["mapping"]
    assert {r["Process__c"] for r in tx.items()} == {process["Id"]}


def test_items_a_flow_saves_together_are_grouped_and_a_lone_one_is_not(tx: Tx) -> None:
    tx.engine.change_settings({"governor_limits": {"smart_email_sends": 2}})
    together = tx.request(_people(tx, 5))  # one save: one CreatedDate, split over 3 batches
    tx.clock.advance(seconds=5)
    (alone,) = tx.request([tx.ids["ada"]])
    drained = tx.send()
    (process,) = _processes(tx)
    by_id = {r["Id"]: r for r in tx.items()}
    assert {by_id[i]["Process__c"] for i in together} == {process["Id"]}
    assert by_id[alone]["Process__c"] is None
    assert (process["Status__c"], process["Total__c"], process["Sent__c"]) == ("Done", 5, 5)
    assert drained.stats.pushed["send processes done"] == 1
    assert len(tx.messages()) == 6


def test_a_process_stays_open_while_sends_wait(tx: Tx) -> None:
    tx.account.rate_limit_storm("/send", count=1000)
    tx.engine.send_smart_email("Shipped", _people(tx, 2))
    (process,) = _processes(tx)
    assert process["Status__c"] == "Processing" and process["Finished_At__c"] is None
    assert tx.engine.delete_processes(10) == 0


def test_delete_process_removes_finished_processes_oldest_first_up_to_count(tx: Tx) -> None:
    for batch in range(3):
        tx.engine.send_smart_email("Shipped", _people(tx, 2, prefix=f"d{batch}-"))
        tx.clock.advance(minutes=1)
    first, second, third = (p["Id"] for p in _processes(tx))
    assert tx.engine.delete_processes(2) == 2
    assert [p["Id"] for p in _processes(tx)] == [third]
    rows = tx.items()
    assert len(rows) == 6  # the items stay; their lookup is cleared
    assert sum(1 for r in rows if r["Process__c"] is None) == 4
    assert first and second
    with pytest.raises(ConfigError, match="between 1 and 10,000"):
        tx.engine.delete_processes(0)


def test_run_test_sends_for_one_record_reports_what_was_sent_and_records_no_task(tx: Tx) -> None:
    tx.org.update("CMSF_Smart_Email_Mapping__c", tx.ids["mapping"], {"Active__c": False})
    report = tx.engine.send_smart_email(tx.ids["mapping"][:15], [tx.ids["ada"]], test=True)
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.recipient, outcome.data, outcome.consent) == (
        "sent", "ada@tx.example", {"firstname": "Ada", "company": "Acme Pty"}, "Unchanged",
    )  # fmt: skip
    assert outcome.message_id == tx.messages()[0]["MessageID"]
    assert tx.tasks() == [] and _processes(tx) == [] and report.request.process_id is None


@pytest.mark.parametrize(
    ("mapping", "records", "test", "message"),
    [("Shipped", ["LEAD"], True, "is not a Contact record"),
     ("Shipped", ["ADA", "BO"], True, "Run Test (--test) sends for one record"),
     ("Nope", ["ADA"], False, "no smart email mapping is named or has the Id 'Nope'"),
     ("x' OR Name != '", ["ADA"], False, "no smart email mapping is named"),
     ("Shipped", ["003'; DELETE"], False, "is not a Salesforce record Id"),
     ("Shipped", [], False, "give at least one record Id"),
     ("", ["ADA"], False, "give a smart email mapping's Id or its name"),
     ("x" * 81, ["ADA"], False, "at most 80 characters"),
     ("Shipped", ["ADA"] * 10_001, False, "at most 10,000 records per request")],
    ids=["other-object", "test-of-two", "unknown-mapping", "quote-injection", "bad-id", "no-ids", "no-mapping",
         "long-mapping", "too-many"],
)  # fmt: skip
def test_bad_requests_are_refused_before_anything_is_queued(
    tx_shared: Tx, mapping: str, records: list[str], test: bool, message: str
) -> None:
    tx = tx_shared  # nothing is written: one world serves every case
    named = {"ADA": tx.ids["ada"], "BO": tx.ids["bo"], "LEAD": tx.ids["lead"]}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tx.engine.send_smart_email(mapping, [named.get(r, r) for r in records], test=test)
    assert tx.items() == [] and tx.messages() == []


def test_two_mappings_of_one_name_must_be_told_apart_by_id(tx: Tx) -> None:
    tx.mapping("Shipped", Variable_Map__c={})
    with pytest.raises(ConfigError, match="several smart email mappings are named 'Shipped'"):
        tx.engine.send_smart_email("Shipped", [tx.ids["ada"]])
    assert (
        tx.engine.send_smart_email(tx.ids["mapping"], [tx.ids["ada"]]).outcomes[0].status == "sent"
    )
