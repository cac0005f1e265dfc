"""The distributed runtime with real processes: served simulators, Redis, PostgreSQL, workers.

Each test builds the same small world twice: one copy synced by the local runtime (``cmsf
sync``), the other by ``cmsf sync --runtime celery`` with ``cmsf worker`` processes; both
must end in the same org state (``scenarios.compare.org_state``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.distributed.harness import (
    SETUP,
    Cluster,
    cluster,
    copy_world,
    make_world,
    org_snapshot,
)

pytestmark = pytest.mark.distributed


def _twins(tmp_path: Path) -> tuple[dict[str, list[tuple[str, ...]]], Path, Path]:
    """The local runtime's end state of a new world, and an unsynced copy of that world."""
    org, account = make_world(tmp_path / "seed")
    twin = copy_world(org, account, tmp_path / "dist")
    org, account = copy_world(org, account, tmp_path / "local")
    env_folder = tmp_path / "local"
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    for args in (*SETUP, ["sync", "--quiet"]):
        done = subprocess.run(
            [str(bin_dir / "cmsf"), "--org-db", str(org), "--account-db", str(account), *args],
            env=env, cwd=env_folder, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    return org_snapshot(org), *twin


def test_two_workers_end_in_the_local_runtimes_state(tmp_path: Path, broker, database: str) -> None:
    reference, org, account = _twins(tmp_path)
    with cluster(tmp_path / "dist", org, account, broker.url, database) as c:
        c.connect()
        c.start_worker()
        c.start_worker()
        done = c.cmsf("sync", "--runtime", "celery", "--json")
        assert done.returncode == 0, _why(done, c.logs())
        report = json.loads(done.stdout)
        assert report["status"] == "completed"
        assert report["written"]["CMSF_List_Member__c"] > 0
        assert "postgresql" not in done.stderr
        logs = c.logs()
        # status, doctor and the dashboard read the runs from the celery runtime's journal
        status = c.cmsf("status", "--json", CMSF_RUNTIME="celery")
        assert status.returncode == 0, status.stderr[-2000:]
        assert json.loads(status.stdout)["runs"][0]["run_id"] == report["run_id"]
        assert json.loads(c.cmsf("status", "--json").stdout)["runs"] == []  # the local journal
        doctor = json.loads(c.cmsf("doctor", "--json", CMSF_RUNTIME="celery").stdout)
        journal_check = next(check for check in doctor["checks"] if check["name"] == "journal")
        assert journal_check["detail"] == "bound to this org and this connection"
        assert _dashboard_runs(c) == [report["run_id"]]
    assert reference["CampaignMember"] and reference["CMSF_List_Member__c"]
    assert org_snapshot(org) == reference
    assert logs.count("succeeded") > 0


def _why(done: subprocess.CompletedProcess[str], logs: str) -> str:
    """What went wrong with a ``cmsf sync --json``: its jobs and messages, else its output."""
    try:
        report = json.loads(done.stdout)
        return json.dumps({k: report.get(k) for k in ("status", "reason", "jobs", "messages")})
    except ValueError:
        return f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}\n{logs[-5000:]}"


def _dashboard_runs(c: Cluster) -> list[str]:
    """The run ids ``cmsf dashboard`` (a real server process) shows, with the celery runtime."""
    import httpx

    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "cmsf"), "dashboard", "--port", "0"],
        env={**c.env, "CMSF_RUNTIME": "celery"}, cwd=c.folder, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = line.split("dashboard at ", 1)[1].split()[0]
        answer = httpx.get(f"{url.rstrip('/')}/api/status", timeout=60).json()
        return [run["run_id"] for run in answer["sync"]["runs"]]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _groups(database: str, job: str | None = None) -> list[dict[str, object]]:
    import psycopg

    with psycopg.connect(database) as conn:
        try:
            rows = conn.execute(
                "SELECT job, grp, status, attempts, claimed_by FROM dist_groups"
                + (" WHERE job = %s" if job else ""),
                [job] if job else [],
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []  # the run has not created the journal's tables yet
    keys = ("job", "grp", "status", "attempts", "claimed_by")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def test_a_worker_killed_mid_task_loses_nothing_and_writes_nothing_twice(
    tmp_path: Path, broker, database: str
) -> None:
    import signal
    import time

    reference, org, account = _twins(tmp_path)
    with cluster(tmp_path / "dist", org, account, broker.url, database) as c:
        c.connect()
        victim = c.start_worker()
        sync = subprocess.Popen(
            [str(Path(sys.executable).parent / "cmsf"), "sync", "--runtime", "celery", "--json"],
            env=c.env, cwd=c.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        killed_in = None
        deadline = time.monotonic() + 180
        while killed_in is None and time.monotonic() < deadline:
            running = [g for g in _groups(database) if g["status"] == "running"]
            for group in running:
                if group["job"] in {"subscribers", "tracking_history", "campaigns"}:
                    os.killpg(victim.pid, signal.SIGKILL)  # mid-task, no goodbye
                    killed_in = group
                    break
            time.sleep(0.05)
        assert killed_in is not None, "no task was seen running"
        c.start_worker()  # the survivor picks the task up once its claim and visibility expire
        out, err = sync.communicate(timeout=600)
        assert sync.returncode == 0, (out[-3000:], err[-3000:], c.logs()[-5000:])
        report = json.loads(out)
        assert report["status"] == "completed"
        retried = [
            g for g in _groups(database, str(killed_in["job"])) if g["grp"] == killed_in["grp"]
        ]
        assert retried[0]["status"] == "completed" and int(retried[0]["attempts"]) >= 2
    assert org_snapshot(org) == reference  # nothing lost, no record twice (rows are compared whole)


def test_a_poison_task_is_retried_a_bounded_number_of_times_then_reported(
    tmp_path: Path, broker, database: str
) -> None:
    org, account = make_world(tmp_path / "dist")
    import sqlite3

    with sqlite3.connect(account) as db:
        poisoned = db.execute("SELECT id FROM clients ORDER BY id LIMIT 1").fetchone()[0]
    with cluster(tmp_path / "dist", org, account, broker.url, database, CMSF_MAX_ATTEMPTS=2) as c:
        c.connect()
        script = Path(__file__).with_name("poison_worker.py")
        for _ in range(2):
            c.start_script(script, poisoned)
        done = c.cmsf("sync", "--runtime", "celery", "--json")
        assert done.returncode == 3, (done.stdout[-3000:], done.stderr[-3000:], c.logs()[-5000:])
        report = json.loads(done.stdout)
        assert report["status"] == "completed_with_errors"
        assert report["jobs"]["campaigns"] == "failed"
        assert report["jobs"]["tracking_history"] == "completed"  # the graph went on
        assert "CMSF-TASK-POISON" in {m["code"] for m in report["messages"]}
        poison = [g for g in _groups(database, "campaigns") if g["status"] == "poison"]
        assert [g["grp"] for g in poison] == [f"client:{poisoned}"]
        assert poison[0]["attempts"] == 3  # two deliveries ran, the third gave up
        others = [g for g in _groups(database, "campaigns") if g["status"] == "completed"]
        assert len(others) == 2
        assert c.logs().count(f"/campaigns/client:{poisoned} raised:") == 2


def test_a_broker_restart_mid_run_is_survived(tmp_path: Path, broker, database: str) -> None:
    import time

    reference, org, account = _twins(tmp_path)
    with cluster(tmp_path / "dist", org, account, broker.url, database) as c:
        c.connect()
        c.start_worker()
        c.start_worker()
        sync = subprocess.Popen(
            [str(Path(sys.executable).parent / "cmsf"), "sync", "--runtime", "celery", "--json"],
            env=c.env, cwd=c.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any(
            g["job"] == "subscribers" for g in _groups(database)
        ):
            time.sleep(0.05)
        broker.kill()  # the broker crashes mid-run ...
        time.sleep(1.0)
        broker.start()  # ... and comes back on the same port with its append-only file
        out, err = sync.communicate(timeout=600)
        assert sync.returncode == 0, (out[-3000:], err[-3000:], c.logs()[-5000:])
        assert json.loads(out)["status"] == "completed"
    assert org_snapshot(org) == reference


def test_workers_never_spend_more_than_the_runs_shared_api_budget(
    tmp_path: Path, broker, database: str
) -> None:
    org, account = make_world(tmp_path / "dist")
    with cluster(tmp_path / "dist", org, account, broker.url, database) as c:
        c.connect()
        assert c.cmsf("settings", "set", "run_api_share=1%").returncode == 0  # 150 of 15,000
        c.start_worker()
        c.start_worker()
        done = c.cmsf("sync", "--runtime", "celery", "--json")
        assert done.returncode == 4, (done.stdout[-3000:], done.stderr[-3000:], c.logs()[-5000:])
        report = json.loads(done.stdout)
        assert report["status"] == "stopped"
        assert "CMSF-API-RUN" in {m["code"] for m in report["messages"]}
        import redis

        spent = int(redis.Redis.from_url(broker.url).get(
            f"cmsf:budget:{report['run_id']}:salesforce") or 0)  # fmt: skip
        # every budgeted call of every process was reserved against 150 less the 5 kept to
        # record the stop; only those few recording calls may pass it
        assert 100 < spent <= 150
        assert report["run_calls"]["salesforce"] <= 150


def test_a_broker_outage_longer_than_allowed_fails_the_run_then_the_next_run_completes(
    tmp_path: Path, broker, database: str
) -> None:
    import time

    reference, org, account = _twins(tmp_path)
    with cluster(
        tmp_path / "dist", org, account, broker.url, database, CMSF_BROKER_OUTAGE_SECONDS=2
    ) as c:
        c.connect()
        c.start_worker()
        c.start_worker()
        sync = subprocess.Popen(
            [str(Path(sys.executable).parent / "cmsf"), "sync", "--runtime", "celery", "--json"],
            env=c.env, cwd=c.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any(
            g["job"] == "subscribers" and g["status"] == "running" for g in _groups(database)
        ):
            time.sleep(0.05)
        broker.kill()  # Redis goes away for longer than broker_outage_seconds
        out, err = sync.communicate(timeout=300)
        assert "Traceback" not in err, err[-3000:]
        report = json.loads(out)
        # never "completed" with work missing: the run fails, saying why
        assert report["status"] == "failed", (report["status"], report.get("reason"))
        assert sync.returncode not in {0, 3}
        assert "CMSF-BROKER-DOWN" in {m["code"] for m in report["messages"]}
        assert org_snapshot(org) != reference
        broker.start()  # back: the next run continues from the bookmarks and finishes the work
        done = c.cmsf("sync", "--runtime", "celery", "--json")
        assert done.returncode == 0, _why(done, c.logs())
        again = json.loads(done.stdout)
        assert again["status"] == "completed"
    assert org_snapshot(org) == reference


def test_two_workers_creating_the_same_person_make_one_contact(
    tmp_path: Path, broker, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    import httpx
    from simple_salesforce import Salesforce

    org, account = make_world(tmp_path / "dist")
    twin = "twin.person@example.org"
    with cluster(tmp_path / "dist", org, account, broker.url, database) as c:
        c.connect()
        script = Path(__file__).with_name("slow_create_worker.py")
        for _ in range(2):  # workers whose create rule waits, so both meet the new person
            c.start_script(script)
        first = c.cmsf("sync", "--runtime", "celery", "--json")
        assert first.returncode == 0, (first.stdout[-3000:], first.stderr[-3000:])
        served = c.served
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", served.sf_ca_file)  # as cmsf is given it
        sf = Salesforce(instance_url=served.instance_url, session_id=served.session_id)
        lists = sf.query_all("SELECT Id, CM_Id__c, Client__r.CM_Id__c FROM CMSF_List__c")
        one_per_client: dict[str, dict[str, str]] = {}
        for row in lists["records"]:
            one_per_client.setdefault(row["Client__r"]["CM_Id__c"], row)
        chosen = list(one_per_client.values())
        assert len(chosen) >= 2
        for row in chosen:  # the create rule on one list of every client ...
            sf.CMSF_List__c.update(row["Id"], {"Create_Rule__c": "Contact"})
        trust = ssl.create_default_context(cafile=served.cm_ca_file)
        with httpx.Client(base_url=served.cm_base_url, auth=(served.cm_api_key, "x"),
                          verify=trust) as cm:  # fmt: skip
            for row in chosen:  # ... and a new person who subscribes to each of them
                answer = cm.post(
                    f"subscribers/{row['CM_Id__c']}.json",
                    json={"EmailAddress": twin, "Name": "Twin Person", "ConsentToTrack": "Yes"},
                )
                assert answer.status_code == 201, answer.text
        again = c.cmsf("sync", "--runtime", "celery", "--json")
        assert again.returncode == 0, (again.stdout[-3000:], again.stderr[-3000:], c.logs()[-3000:])
        contacts = sf.query_all(f"SELECT Id FROM Contact WHERE Email = '{twin}'")["records"]
        members = sf.query_all(
            f"SELECT Contact__c FROM CMSF_List_Member__c WHERE Email__c = '{twin}'"
        )["records"]
    assert len(contacts) == 1  # one person, however many workers met them at once
    assert len(members) == len(chosen)
    assert {m["Contact__c"] for m in members} == {contacts[0]["Id"]}
