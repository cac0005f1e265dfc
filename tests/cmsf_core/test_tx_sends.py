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
