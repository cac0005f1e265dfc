"""The push's and the import wizard's ledgers in PostgreSQL, with real processes: a run
coordinated from another folder (another machine: a new, empty journal file) pushes and
imports nothing twice and misses nothing, as the local runtime's runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from scenarios.served import ServedWorld, serve_world
from tests.distributed.harness import SETUP, cluster, copy_world, make_world, org_snapshot

pytestmark = pytest.mark.distributed

BIN = Path(sys.executable).parent
WEB = "LeadSource = 'Web'"
DATE = re.compile(r"^\d{4}-\d\d-\d\dT")


def _sf(served: ServedWorld) -> Salesforce:
    session = requests.Session()
    session.trust_env = False  # the served org's CA, whatever the environment names
    session.verify = served.sf_ca_file
    return Salesforce(
        instance_url=served.instance_url, session_id=served.session_id, session=session
    )


def _rule_and_import(sf: Salesforce) -> None:
    """Two Web visitors, a subscriber rule for them on one list, an import of them on another."""
    for name in ("Ada", "Bo"):
        sf.Contact.create(
            {"FirstName": name, "LastName": name, "Email": f"{name.lower()}@web.example",
             "LeadSource": "Web"}
        )  # fmt: skip
    lists = sf.query("SELECT Id FROM CMSF_List__c ORDER BY CM_Id__c")["records"]
    sf.CMSF_Subscriber_Rule__c.create(
        {"Name": "Web visitors", "List__c": lists[0]["Id"], "Object__c": "Contact",
         "Criteria__c": WEB, "Active__c": True, "Unsubscribe_When_Not_Met__c": True}
    )  # fmt: skip
    sf.CMSF_Import__c.create(
        {"Name": "Web import", "List__c": lists[1]["Id"], "Source_Type__c": "SOQL",
         "Source__c": f"SELECT Email, FirstName, LastName FROM Contact WHERE {WEB}",
         "Schedule__c": "Hourly", "Replace_Subscribers__c": False}
    )  # fmt: skip


def _changes(sf: Salesforce) -> None:
    """Bo stops meeting the rule (unsubscribed); Cy starts (added)."""
    bo = sf.query("SELECT Id FROM Contact WHERE Email = 'bo@web.example'")["records"][0]
    sf.Contact.update(bo["Id"], {"LeadSource": "Phone Inquiry"})
    sf.Contact.create(
        {"FirstName": "Cy", "LastName": "Cy", "Email": "cy@web.example", "LeadSource": "Web"}
    )


STEPS: tuple[Callable[[Salesforce], None] | None, ...] = (None, _rule_and_import, _changes)


def _sync(env: dict[str, str], folder: Path, *args: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(BIN / "cmsf"), "sync", "--json", *args], env=env, cwd=folder,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["status"] == "completed", report
    return report


def _next_second() -> None:
    """Wait past the current whole second of the served org's (system) clock.

    ``SystemModstamp`` has whole seconds, so change capture reads up to the start of the
    run's second and leaves that second's changes to the next run (a record saved in it
    may not be committed yet). Edits made an instant before a sync could fall in its
    first second: one twin would push them in this run, the other in the next.
    """
    time.sleep(1.05 - time.time() % 1)


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    """What a run pushed and imported (the summary's per-import table), and the Campaign
    Monitor calls of the push and import jobs."""
    jobs = ("subscriber_rules", "push", "imports", "import_replace")
    calls = report.get("job_calls", {})
    return {  # zero counts left out (the local summary lists some, the celery one not)
        "pushed": {kind: n for kind, n in report["pushed"].items() if n},
        "imports": report["imports"],
        "cm_writes": {
            job: {k: v for k, v in calls.get(job, {}).items() if k.startswith("campaign")}
            for job in jobs
        },
    }


def _state(org: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The org's synced state; the dates of the people the test added are when the push
    (at the twin's own wall-clock time) subscribed them, so they are left out."""
    state = org_snapshot(org)
    state["CMSF_List_Member__c"] = [
        tuple("<when>" if isinstance(v, str) and DATE.match(v) else v for v in row)
        if "@web.example" in str(row[0])
        else row
        for row in state["CMSF_List_Member__c"]
    ]
    return state


def test_a_run_coordinated_from_another_folder_pushes_and_imports_nothing_twice(
    tmp_path: Path, broker, database: str
) -> None:
    org, account = make_world(tmp_path / "seed")
    dist_org, dist_account = copy_world(org, account, tmp_path / "dist")
    org, account = copy_world(org, account, tmp_path / "local")
    local: list[dict[str, Any]] = []
    with serve_world(org, account, tmp_path / "local") as served:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
        env.update(served.environment())
        for args in SETUP:
            done = subprocess.run([str(BIN / "cmsf"), *args], env=env, cwd=tmp_path / "local",
                                  capture_output=True, text=True, timeout=600)  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
        for step in STEPS:
            if step is not None:
                step(_sf(served))
                _next_second()
            local.append(_sync(env, tmp_path / "local"))
    reference = _state(org)
    dist: list[dict[str, Any]] = []
    with cluster(tmp_path / "dist", dist_org, dist_account, broker.url, database) as c:
        c.connect()
        c.start_worker()
        for number, step in enumerate(STEPS):
            if step is not None:
                step(_sf(c.served))
                _next_second()
            # the last run is coordinated from another folder: a new, empty journal file
            folder = c.folder if number < len(STEPS) - 1 else tmp_path / "elsewhere"
            dist.append(_sync(c.env, folder, "--runtime", "celery"))
        assert (tmp_path / "elsewhere" / ".cmsf" / "journal.db").exists()
    assert local[1]["pushed"] and local[2]["pushed"]  # the rule pushed, then changes came
    assert any(counts for counts in local[1]["imports"].values())  # the import ran
    assert any(counts for counts in dist[1]["imports"].values())  # and the summary says so
    assert [_figures(r) for r in dist] == [_figures(r) for r in local]
    assert _state(dist_org) == reference
