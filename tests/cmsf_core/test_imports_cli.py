"""The import wizard as an admin meets it: ``cmsf import ...`` and ``cmsf imports``.

The commands run as the installed console script in a subprocess over simulator files
(``--org-db``, ``--account-db``, ``--journal``) of a small world synced once; the test
edits the org's file in between (Contacts, a list view, a rep, the sharing default), as
an admin would in Salesforce. Usage mistakes are also checked in process (CliRunner).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cmsf_core.cli import main
from sf_sim import Org
from tests.cmsf_core.cli_support import clean_env, no_traceback, run_cmsf
from tests.cmsf_core.import_support import SPEC, _template


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    """Global options naming a fresh copy of a small synced world's files."""
    source, _, _ = _template(SPEC)
    for name in ("org.db", "account.db", "journal.db"):
        shutil.copy(source / name, tmp_path / name)
    return ["--org-db", str(tmp_path / "org.db"), "--account-db", str(tmp_path / "account.db"),
            "--journal", str(tmp_path / "journal.db")]  # fmt: skip


def _cmsf(files: list[str], *args: str, code: int = 0) -> Any:
    result = run_cmsf(*files, *args)
    assert result.returncode == code, result.stdout + result.stderr
    assert no_traceback(result)
    return json.loads(result.stdout) if "--json" in args else result.stdout + result.stderr


def _org(files: list[str]) -> Org:
    return Org(Path(files[1]))


def _list_id(files: list[str]) -> str:
    org = _org(files)
    try:
        rows = org.query("SELECT CM_Id__c FROM CMSF_List__c ORDER BY CM_Id__c LIMIT 1")
        return str(rows[0]["CM_Id__c"])
    finally:
        org.close()


def test_create_list_show_dry_run_run_and_due(files: list[str]) -> None:
    list_id = _list_id(files)
    org = _org(files)
    try:
        org.insert("Contact", [{"LastName": f"Cli {n}", "Email": f"cli{n}@cli.example",
                                "Title": "Gold"} for n in range(4)])  # fmt: skip
        view = org.list_views.create(
            "Contact", "CLI people", columns=["Email", "FirstName", "LastName", "Title"],
            conditions=[{"field": "Email", "operator": "like", "values": ["%@cli.example"]}],
        )  # fmt: skip
    finally:
        org.close()
    created = _cmsf(
        files, "import", "create", "--name", "CLI people", "--list", list_id,
        "--list-view", view, "--map", "Email=EmailAddress", "--map", "Title=website",
        "--schedule", "hourly", "--replace", "--journeys", "--resubscribe",
    )  # fmt: skip
    assert "created import a0" in created
    listed = _cmsf(files, "imports", "--json")
    assert [(i["name"], i["schedule"], i["replace"], i["journeys"], i["resubscribe"])
            for i in listed] == [("CLI people", "Hourly", True, True, True)]  # fmt: skip
    assert listed[0]["mappings"] == {"Email": "EmailAddress", "Title": "website"}
    shown = _cmsf(files, "import", "show", "CLI people")
    assert "ListView: " + view in shown and "replace subscribers on list" in shown

    dry = _cmsf(files, "import", "run", "cli people", "--dry-run", "--json")
    (outcome,) = dry["imports"].values()
    assert dry["dry_run"] is True and outcome["counts"]["would import"] == 4
    assert outcome["counts"]["would remove"] > 0
    assert _cmsf(files, "import", "list", "--json")[0]["status"] is None  # nothing recorded

    done = _cmsf(files, "import", "run", "CLI people", "--json")
    assert done["status"] == "completed" and done["exit_code"] == 0
    assert done["counts"]["CLI people"]["rows read"] == 4
    assert done["counts"]["CLI people"]["removed"] == outcome["counts"]["would remove"]
    table = _cmsf(files, "import", "list")
    assert "CLI people" in table and "Completed" in table
    assert "No import is due." in _cmsf(files, "import", "run", "--due")


def test_sync_if_due_runs_due_imports_even_with_the_sync_off(files: list[str]) -> None:
    list_id = _list_id(files)
    _cmsf(files, "settings", "set", "frequency=Never")
    _cmsf(
        files, "import", "create", "--name", "Hourly", "--list", list_id, "--soql",
        "SELECT Email FROM Contact LIMIT 5", "--schedule", "Hourly",
    )  # fmt: skip
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    ran = _cmsf(files, "sync", "--if-due", "--json")
    assert ran["status"] == "completed" and "Never" in ran["sync"]
    assert ran["counts"]["Hourly"]["rows read"] == 5
    again = _cmsf(files, "sync", "--if-due", "--json")
    if again["status"] != "not_due":
        # Only a new clock hour makes an Hourly import due again (the runs straddled the top
        # of the hour); once run in that hour, it is not.
        assert datetime.now(UTC) >= hour + timedelta(hours=1), again
        again = _cmsf(files, "sync", "--if-due", "--json")
    assert again["status"] == "not_due"


def test_a_failed_import_exits_3_and_a_mistake_exits_2(files: list[str]) -> None:
    list_id = _list_id(files)
    _cmsf(files, "import", "create", "--name", "Broken", "--list", list_id, "--soql",
          "SELECT Nope__c FROM Contact")  # fmt: skip
    failed = _cmsf(files, "import", "run", "Broken", "--json", code=3)
    (outcome,) = failed["imports"].values()
    assert outcome["status"] == "Failed" and "Nope__c" in outcome["error"]
    assert "CMSF-IMPORT-FAILED" in [m["code"] for m in failed["messages"]]
    mistake = run_cmsf(*files, "import", "run", "Nope")
    assert mistake.returncode == 2 and mistake.stderr.startswith("error: no import has")
    assert no_traceback(mistake)


MISTAKES = [
    (("import", "run"), "give the imports"),
    (("import", "run", "Nope", "--due"), "not both"),
    (("import", "show", "Nope"), "no import has the id or name"),
    (("import", "create", "--name", "x", "--list", "{list}", "--soql", "SELECT Id FROM Contact",
      "--report", "00O000000000000"), "exactly one source"),
    (("import", "create", "--name", "x", "--list", "{list}", "--soql", "SELECT Id FROM Contact",
      "--map", "Email"), "COLUMN=FIELD"),
    (("import", "create", "--name", "x", "--list", "{list}", "--soql", "SELECT Id FROM Contact",
      "--map", "Email=EmailAddress", "--mappings", "{}"), "not both"),
    (("import", "create", "--name", "x", "--list", "No such list", "--soql",
      "SELECT Id FROM Contact"), "no list"),
    (("import", "create", "--name", "x", "--list", "{list}", "--report", "00B000000000000"),
     "report Id"),
    (("import", "create", "--name", "x", "--list", "{list}", "--list-view", "DROP TABLE"),
     "list view Id"),
    (("import", "create", "--name", "x", "--list", "{list}", "--soql", "SELECT Id FROM Contact",
      "--mappings", "{not json"), "not JSON"),
    (("import", "create", "--name", "x" * 81, "--list", "{list}", "--soql",
      "SELECT Id FROM Contact"), "1 to 80"),
    (("import", "create", "--name", "x", "--list", "{list}", "--soql", "SELECT Id FROM Contact",
      "--owner", "nobody@acme.example.com"), "no user"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "words"), MISTAKES, ids=[f"m{n}" for n in range(len(MISTAKES))])
def test_usage_mistakes_are_one_error_line_and_exit_2(
    files: list[str], args: tuple[str, ...], words: str
) -> None:
    list_id = _list_id(files)
    argv = [*files, *(a.replace("{list}", list_id) for a in args)]
    result = CliRunner().invoke(main, argv, env=clean_env())
    assert result.exit_code == 2, result.output
    assert "error: " in result.output and words in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
