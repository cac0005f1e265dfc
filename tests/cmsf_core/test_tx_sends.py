"""Smart emails sent for queue items: one message with the mapped variables, one Task."""

from __future__ import annotations

from tests.cmsf_core.tx_support import Tx


def test_a_flow_item_sends_one_message_with_the_mapped_variables_and_one_task(tx: Tx) -> None:
    (item,) = tx.request([tx.ids["ada"]])
    report = tx.sync()
    (message,) = tx.messages()
    assert message["Recipient"] == "ada@tx.example"
    assert tx.data(message["MessageID"]) == {
        "firstname": "Ada", "company": "Acme Pty", "cmsf_queue_item": item,
    }  # fmt: skip
    (row,) = tx.items()
    assert (row["Status__c"], row["Message_Id__c"], row["Error__c"]) == (
        "Done", message["MessageID"], None,
    )  # fmt: skip
    (task,) = tx.tasks()
    assert task["WhoId"] == tx.ids["ada"] and task["Subject"] == "Email: Order shipped"
    assert task["CMSF_Message_Id__c"] == message["MessageID"]
    assert report.stats.pushed["smart emails sent"] == 1
    assert tx.codes(report) == set()


def test_the_smart_email_tasks_job_fills_in_what_was_sent(tx: Tx) -> None:
    tx.request([tx.ids["ada"]])
    tx.sync()
    tx.sync()  # the message was delivered meanwhile
    (task,) = tx.tasks()
    assert task["CMSF_Message_Status__c"] == "Delivered" and task["Status"] == "Completed"
    assert task["Description"] == "Content managed in Email Builder"


def test_a_second_run_sends_nothing_again(tx: Tx) -> None:
    tx.request([tx.ids["ada"], tx.ids["bo"]])
    tx.sync()
    again = tx.sync()
    assert len(tx.messages()) == 2 and len(tx.tasks()) == 2
    assert again.stats.pushed["smart emails sent"] == 0


def _job_calls(tx: Tx, count: int) -> int:
    """Salesforce calls of the sends job in a run that sends for ``count`` new Contacts."""
    people = tx.org.insert(
        "Contact",
        [{"LastName": f"P{n}", "FirstName": f"F{n}", "Email": f"p{count}-{n}@tx.example",
          "AccountId": tx.ids["account"]} for n in range(count)],
    )  # fmt: skip
    tx.request([str(p.id) for p in people])
    report = tx.sync()
    assert report.stats.pushed["smart emails sent"] == count
    return tx.engine.journal.calls(report.run.run_id)["smart_email_sends"]["salesforce"]


def test_a_batch_costs_the_same_salesforce_calls_for_3_records_as_for_40(tx: Tx) -> None:
    # Variables (parent fields included) come from one read per batch, never one per record.
    few = _job_calls(tx, 3)
    many = _job_calls(tx, 40)
    assert few == many
    assert {tx.data(m["MessageID"])["company"] for m in tx.messages()} == {"Acme Pty"}
    assert len(tx.messages()) == 43


def test_the_queue_clean_up_keeps_a_send_in_doubt(tx: Tx) -> None:
    later = (tx.clock.now().replace(microsecond=0)).isoformat()
    doubt, done = tx.request(
        [tx.ids["ada"], tx.ids["bo"]], Status__c="Sending", Send_Started__c=later,
        Next_Attempt__c="2030-01-01T00:00:00Z",
    )  # fmt: skip
    tx.org.update("CMSF_Queue_Item__c", done, {"Status__c": "Failed", "Next_Attempt__c": None})
    tx.sync(hours=24 * 3)
    assert [r["Id"] for r in tx.items()] == [doubt]


def test_an_idle_watch_poll_costs_one_salesforce_call_and_none_of_campaign_monitor(tx: Tx) -> None:
    session = tx.engine.send_session("watch")
    session.drain()  # the first poll checks the connection and recounts open processes
    sf_before, cm_before = len(tx.org.control.request_log), len(tx.account.request_log())
    tx.clock.advance(seconds=30)
    assert session.drain() == []
    assert len(tx.org.control.request_log) - sf_before == 1
    assert len(tx.account.request_log()) == cm_before
    tx.request([tx.ids["ada"]])
    assert [o.status for o in session.drain()] == ["sent"]
