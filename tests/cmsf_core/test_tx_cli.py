"""``cmsf send-smart-email``, ``cmsf watch`` and ``cmsf delete-process`` as a user runs them.

Each command runs as the installed console script in a subprocess over a copy of the
transactional test world (simulator files given with ``--org-db``/``--account-db``); the
test edits the org's file in between, as a Flow or an admin would.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cm_sim import Account
from cmsf_core.clock import SystemClock
from sf_sim import Org
from tests.cmsf_core.cli_support import CMSF, clean_env, no_traceback, run_cmsf
from tests.cmsf_core.tx_support import copy_of


@pytest.fixture
def files(tx_template: Any, tmp_path: Path) -> tuple[list[str], dict[str, str], Path]:
    """A copy of the world's files, the global options that open it, and its ids."""
    folder = tmp_path / "world"
    copy_of(tx_template, folder).close()
    options = ["--org-db", str(folder / "org.db"), "--account-db", str(folder / "account.db"),
               "--journal", str(folder / "journal.db")]  # fmt: skip
    return options, dict(tx_template[2]), folder


def _org(folder: Path) -> Org:
    return Org(folder / "org.db")


def _query(folder: Path, soql: str) -> list[dict[str, Any]]:
    org = _org(folder)
    try:
        return list(org.query(soql))
    finally:
        org.close()


def _messages(folder: Path, ids: dict[str, str]) -> list[dict[str, Any]]:
    account = Account(folder / "account.db", clock=SystemClock())  # as cmsf opened it
    try:
        with account.client() as http:
            return list(http.get("/transactional/messages",
                                 params={"clientID": ids["client"], "smartEmailID": ids["smart"]}).json())  # fmt: skip
    finally:
        account.close()


def test_run_test_a_bulk_send_and_delete_process(
    files: tuple[list[str], dict[str, str], Path],
) -> None:
    options, ids, folder = files
    tested = run_cmsf(*options, "send-smart-email", "Shipped", ids["ada"], "--test", "--json")
    assert tested.returncode == 0, tested.stderr
    report = json.loads(tested.stdout)
    (send,) = report["sends"]
    assert (send["status"], send["recipient"], send["variables"], send["task_id"]) == (
        "sent", "ada@tx.example", {"firstname": "Ada", "company": "Acme Pty"}, None,
    )  # fmt: skip
    assert report["process_id"] is None and report["exit_code"] == 0
    assert _query(folder, "SELECT Id FROM Task WHERE CMSF_Message_Id__c != null") == []

    bulk = run_cmsf(*options, "send-smart-email", "Shipped", ids["ada"], ids["bo"])
    assert bulk.returncode == 0, bulk.stderr
    assert "bulk request: process a0" in bulk.stdout
    assert bulk.stdout.count("sent: ") == 2 and "to bo@tx.example (MessageID " in bulk.stdout
    assert len(_query(folder, "SELECT Id FROM Task WHERE CMSF_Message_Id__c != null")) == 2
    assert len(_messages(folder, ids)) == 3

    deleted = run_cmsf(*options, "delete-process", "--count", "5")
    assert (
        deleted.returncode == 0 and deleted.stdout.strip() == "deleted 1 finished process record(s)"
    )
    assert _query(folder, "SELECT Id FROM CMSF_Process__c") == []


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [(["send-smart-email", "Nope", "ADA"], 2, "error: no smart email mapping is named or has the Id 'Nope'"),
     (["send-smart-email", "Shipped", "ADA", "BO", "--test"], 2, "error: Run Test (--test) sends for one record"),
     (["send-smart-email", "Shipped", "LEAD"], 2, "is not a Contact record"),
     (["send-smart-email", "Shipped"], 2, "Missing argument 'RECORD_ID...'"),
     (["send-smart-email", "Shipped", "NOMAIL"], 3, "the record has no address in Email"),
     (["delete-process", "--count", "0"], 2, "error: --count must be between 1 and 10,000"),
     (["watch", "--every", "0"], 2, "Invalid value for '--every'")],
    ids=["unknown-mapping", "test-of-two", "other-object", "no-records", "no-address", "count-0", "every-0"],
)  # fmt: skip
def test_mistakes_end_with_their_exit_code_and_one_line(
    files: tuple[list[str], dict[str, str], Path], args: list[str], code: int, says: str
) -> None:
    options, ids, _ = files
    named = {"ADA": ids["ada"], "BO": ids["bo"], "LEAD": ids["lead"], "NOMAIL": ids["nomail"]}
    result = run_cmsf(*options, *(named.get(a, a) for a in args))
    assert result.returncode == code, (result.stdout, result.stderr)
    assert says in result.stdout + result.stderr
    assert no_traceback(result)


def test_a_rate_limited_send_waits_and_exits_4(
    files: tuple[list[str], dict[str, str], Path],
) -> None:
    options, ids, folder = files
    result = run_cmsf(*options, "send-smart-email", "Shipped", ids["ada"], fault="cm-tx-storm")
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "deferred: " in result.stdout and "rate limited until" in result.stdout
    (item,) = _query(folder, "SELECT Status__c, Error__c FROM CMSF_Queue_Item__c")
    assert item["Status__c"] == "Pending" and "429" in item["Error__c"]
    assert _messages(folder, ids) == []
    status = run_cmsf(*options, "status")
    assert status.returncode == 0 and "1 send(s) waiting to go" in status.stdout


def test_watch_sends_what_a_flow_queued_and_stops_after_its_polls(
    files: tuple[list[str], dict[str, str], Path],
) -> None:
    options, ids, folder = files
    org = _org(folder)
    try:
        org.insert("CMSF_Queue_Item__c", [{"Type__c": "Smart Email", "Record_Id__c": ids["bo"],
                                           "Smart_Email_Mapping__c": ids["mapping"]}])  # fmt: skip
    finally:
        org.close()
    result = run_cmsf(*options, "watch", "--every", "1", "--polls", "2")
    assert result.returncode == 0, result.stderr
    assert "poll 1: 1 sent" in result.stdout and "poll 2: nothing due" in result.stdout
    assert "2 poll(s): 1 sent" in result.stdout
    assert [m["Recipient"] for m in _messages(folder, ids)] == ["bo@tx.example"]


def test_watch_stops_cleanly_on_sigterm(files: tuple[list[str], dict[str, str], Path]) -> None:
    options, _, _ = files
    with subprocess.Popen(
        [CMSF, *options, "watch", "--every", "3600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    ) as watcher:  # fmt: skip
        assert watcher.stdout is not None
        assert "watching the smart email queue every 3600s" in watcher.stdout.readline()
        assert watcher.stdout.readline().startswith("poll 1: ")
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=120)
    assert watcher.returncode == 0, err
    assert "stopped (SIGTERM)" in out and "1 poll(s)" in out and "Traceback" not in err


def test_watch_refuses_an_integration_that_is_not_connected(
    files: tuple[list[str], dict[str, str], Path],
) -> None:
    options, _, _ = files
    assert run_cmsf(*options, "disconnect").returncode == 0
    result = run_cmsf(*options, "watch", "--polls", "1")
    assert result.returncode == 2 and "not connected" in result.stderr and no_traceback(result)
