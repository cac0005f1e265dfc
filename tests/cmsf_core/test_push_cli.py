"""The push as a user meets it: ``cmsf sync``, ``cmsf status``, ``cmsf set-bulk-actions``.

Each command runs as the installed console script in a subprocess over a copy of the
embedded default; the test edits the org's file in between, as an admin would edit the
org.
"""

from __future__ import annotations

import json
from pathlib import Path

from cm_sim import Account
from sf_sim import Org
from tests.cmsf_core.cli_support import no_traceback, run_cmsf


def _cmsf(home: Path, *args: str) -> dict[str, object] | str:
    result = run_cmsf("--home", str(home), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert no_traceback(result)
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_sync_status_and_bulk_actions_show_and_steer_the_push(cmsf_home: Path) -> None:
    first = _cmsf(cmsf_home, "sync", "--json")
    assert isinstance(first, dict)
    assert first["calls"]["campaign_monitor_writes"] == 0  # type: ignore[index]
    assert first["jobs"]["push"] == "completed"  # type: ignore[index]

    switched = _cmsf(cmsf_home, "set-bulk-actions", "ALL_ACTIONS", "--disable")
    assert "disable_triggers=true" in str(switched)
    org = Org(cmsf_home / "org.db")
    try:
        list_row = org.query("SELECT Id, CM_Id__c FROM CMSF_List__c ORDER BY CM_Id__c LIMIT 1")[0]
        org.insert(
            "CMSF_Subscriber_Rule__c",
            [{"Name": "Web", "List__c": list_row["Id"], "Object__c": "Contact",
              "Criteria__c": "LeadSource = 'Web'", "Active__c": True}],
        )  # fmt: skip
        contact = org.create(
            "Contact", {"LastName": "Cli", "Email": "cli@web.example", "LeadSource": "Web"}
        )
        org.insert("CMSF_Queue_Item__c", [{"Type__c": "Record Change", "Record_Id__c": contact}])
    finally:
        org.close()

    status = _cmsf(cmsf_home, "status", "--json")
    assert isinstance(status, dict)
    assert status["queue"]["pending"] == 1 and status["queue"]["oldest"]  # type: ignore[index]
    assert "1 record change(s) waiting to be pushed" in str(_cmsf(cmsf_home, "status"))

    held = _cmsf(cmsf_home, "sync", "--json")
    assert isinstance(held, dict)
    assert held["calls"]["campaign_monitor_writes"] == 0  # type: ignore[index]
    assert held["jobs"]["push"] == "skipped"  # type: ignore[index]

    _cmsf(cmsf_home, "set-bulk-actions", "ALL_ACTIONS", "--enable")
    pushed = _cmsf(cmsf_home, "sync")
    assert "Salesforce to Campaign Monitor" in str(pushed) and "campaign monitor writes" in str(
        pushed
    )
    account = Account(cmsf_home / "account.db")
    try:
        with account.client() as http:
            found = http.get(
                f"/subscribers/{list_row['CM_Id__c']}.json", params={"email": "cli@web.example"}
            )
        assert found.status_code == 200 and found.json()["State"] == "Active"
    finally:
        account.close()
    after = _cmsf(cmsf_home, "status", "--json")
    assert isinstance(after, dict)
    assert after["queue"] == {"pending": 0, "oldest": None, "sends": 0}


def test_set_bulk_actions_refuses_what_it_does_not_know(cmsf_home: Path) -> None:
    missing = run_cmsf("--home", str(cmsf_home), "set-bulk-actions", "ALL_ACTIONS")
    assert missing.returncode == 2 and "--disable or --enable" in missing.stderr
    unknown = run_cmsf("--home", str(cmsf_home), "set-bulk-actions", "SOME_ACTIONS", "--disable")
    assert unknown.returncode == 2 and no_traceback(unknown)
    shown = json.loads(run_cmsf("--home", str(cmsf_home), "settings", "show", "--json").stdout)
    assert shown["disable_triggers"] is False and shown["disable_bulk_triggers"] is False
    done = run_cmsf("--home", str(cmsf_home), "set-bulk-actions", "bulk_actions", "--disable")
    assert done.returncode == 0
    shown = json.loads(run_cmsf("--home", str(cmsf_home), "settings", "show", "--json").stdout)
    assert shown["disable_bulk_triggers"] is True
