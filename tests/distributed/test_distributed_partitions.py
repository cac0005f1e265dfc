"""List partitions with real processes: one client, one big list, read by several workers.

The world has one client with one list, so without partitions every subscribers task is
one task per client and extra workers have nothing to do. With ``CMSF_PARTITION_SIZE``
small, each state's read is split by change date into parts that run as tasks of their
own; the end state must still equal the local runtime's (``scenarios.compare.org_state``).
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from scenarios.world import WorldSpec
from tests.distributed.harness import SETUP, Cluster, cluster, copy_world, make_world, org_snapshot

pytestmark = pytest.mark.distributed

BIG = WorldSpec(seed=23, clients=1, lists_per_client=1, subscribers_per_list=1200,
                campaigns_per_client=1, days=10)  # fmt: skip
"""One client, one list: only partitions can spread its subscribers over workers."""

PART = "200"
"""``CMSF_PARTITION_SIZE`` of these tests (the list's Active read is ~5 parts)."""


def _twins(tmp_path: Path) -> tuple[dict[str, list[tuple[str, ...]]], Path, Path]:
    """The local runtime's end state of the big world, and an unsynced copy of it."""
    org, account = make_world(tmp_path / "seed", BIG, age_days=30)
    twin = copy_world(org, account, tmp_path / "dist")
    org, account = copy_world(org, account, tmp_path / "local")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    for args in (*SETUP, ["sync", "--quiet"]):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "cmsf"), "--org-db", str(org), "--account-db",
             str(account), *args],
            env=env, cwd=tmp_path / "local", capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    return org_snapshot(org), *twin


def _groups(database: str, job: str = "subscribers") -> list[dict[str, Any]]:
    import psycopg

    with psycopg.connect(database) as conn:
        try:
            rows = conn.execute(
                "SELECT grp, scopes, status, attempts, claimed_by, ran_by FROM dist_groups "
                "WHERE job = %s",
                [job],
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    keys = ("grp", "scopes", "status", "attempts", "claimed_by", "ran_by")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _bookmarks(database: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT key, value FROM bookmarks WHERE job = 'subscribers'")
        return {str(k): json.loads(v) for k, v in rows.fetchall()}


def _parts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for g in groups if "|" in str(g["grp"])]


def _sync(c: Cluster) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "cmsf"), "sync", "--runtime", "celery", "--json"],
        env=c.env, cwd=c.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finished(sync: subprocess.Popen[str], c: Cluster) -> dict[str, Any]:
    out, err = sync.communicate(timeout=600)
    assert sync.returncode == 0, (out[-3000:], err[-3000:], c.logs()[-5000:])
    report: dict[str, Any] = json.loads(out)
    assert report["status"] == "completed"
    return report


def test_one_big_list_split_over_four_workers_ends_in_the_local_state(
    tmp_path: Path, broker, database: str
) -> None:
    reference, org, account = _twins(tmp_path)
    with cluster(tmp_path / "dist", org, account, broker.url, database,
                 CMSF_PARTITION_SIZE=PART) as c:  # fmt: skip
        c.connect()
        for _ in range(4):
            c.start_worker()
        report = _finished(_sync(c), c)
        assert report["written"]["CMSF_List_Member__c"] > 0
        groups = _groups(database)
        parts = _parts(groups)
        # the Active read (~60 % of 1,200) is cut into parts of ~200, each a task
        assert len(parts) >= 3, [g["grp"] for g in groups]
        assert all(g["status"] == "completed" for g in groups)
        assert len({g["ran_by"] for g in parts}) >= 2  # the parts spread over workers
        marks = _bookmarks(database)
        assert not [k for k in marks if "#" in k]  # the parts' own marks are merged away
        split = {json.loads(g["scopes"])[0]["part_of"] for g in parts}
        assert all(marks.get(key) for key in split)  # the list's bookmark moved
        # the campaign's opens (~700 events) are read in parts too
        tracking = _parts(_groups(database, "tracking_history"))
        assert len(tracking) >= 3 and all(g["status"] == "completed" for g in tracking)
        # a second run reads from those bookmarks: nothing to write
        again = c.cmsf("sync", "--runtime", "celery", "--json")
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert json.loads(again.stdout)["written"].get("CMSF_List_Member__c", 0) == 0
    assert reference["CMSF_List_Member__c"]
    assert org_snapshot(org) == reference


def test_partition_size_zero_keeps_the_list_in_one_task(
    tmp_path: Path, broker, database: str
) -> None:
    org, account = make_world(tmp_path / "dist", BIG)
    with cluster(tmp_path / "dist", org, account, broker.url, database,
                 CMSF_PARTITION_SIZE="0") as c:  # fmt: skip
        c.connect()
        c.start_worker()
        c.start_worker()
        _finished(_sync(c), c)
        groups = _groups(database)
        assert groups and not _parts(groups)


def test_a_worker_killed_mid_partition_loses_nothing_and_writes_nothing_twice(
    tmp_path: Path, broker, database: str
) -> None:
    reference, org, account = _twins(tmp_path)
    with cluster(tmp_path / "dist", org, account, broker.url, database,
                 CMSF_PARTITION_SIZE=PART) as c:  # fmt: skip
        c.connect()
        workers = [c.start_worker() for _ in range(3)]
        sync = _sync(c)
        killed = None
        deadline = time.monotonic() + 240
        while killed is None and time.monotonic() < deadline and sync.poll() is None:
            for part in _parts(_groups(database)):
                holder = str(part["claimed_by"] or "")
                if part["status"] != "running" or ":" not in holder:
                    continue
                pid = int(holder.rsplit(":", 1)[1])
                try:
                    group = os.getpgid(pid)
                except ProcessLookupError:
                    continue
                victim = next((w for w in workers if w.pid == group), None)
                if victim is not None:
                    os.killpg(victim.pid, signal.SIGKILL)  # mid-partition, no goodbye
                    killed = part
                    break
            time.sleep(0.02)
        assert killed is not None, "no partition was seen running"
        c.start_worker()
        _finished(sync, c)
        again = next(g for g in _groups(database) if g["grp"] == killed["grp"])
        assert again["status"] == "completed" and int(again["attempts"]) >= 2
    assert org_snapshot(org) == reference  # nothing lost, no record twice (rows compared whole)


def test_a_coordinator_killed_mid_partition_resumes_with_its_plan(
    tmp_path: Path, broker, database: str
) -> None:
    org, account = make_world(tmp_path / "dist", BIG)
    with cluster(tmp_path / "dist", org, account, broker.url, database,
                 CMSF_PARTITION_SIZE=PART) as c:  # fmt: skip
        c.connect()
        for _ in range(2):
            c.start_worker()
        sync = _sync(c)
        planned: dict[str, str] = {}
        deadline = time.monotonic() + 240
        while not planned and time.monotonic() < deadline and sync.poll() is None:
            parts = _parts(_groups(database))
            states = {str(p["status"]) for p in parts}
            if "completed" in states and states - {"completed"}:
                sync.kill()  # the coordinator dies with some parts done, others not
                planned = {str(p["grp"]): str(p["scopes"]) for p in parts}
            time.sleep(0.02)
        assert planned, "no run was seen between two parts"
        sync.wait()
        with _cm(c) as http:  # the list grows before the run resumes: a new plan would differ
            client = http.get("clients.json").json()[0]["ClientID"]
            list_id = http.get(f"clients/{client}/lists.json").json()[0]["ListID"]
            joined = [{"EmailAddress": f"joined.{i}@example.com", "Name": f"Joined {i}",
                       "ConsentToTrack": "Yes"} for i in range(300)]  # fmt: skip
            done = http.post(f"subscribers/{list_id}/import.json",
                             json={"Subscribers": joined, "Resubscribe": True})  # fmt: skip
            assert done.status_code == 200, done.text
        refused = 0
        while True:  # the dead coordinator's lease lasts CMSF_LEASE_SECONDS unrenewed
            again = c.cmsf("sync", "--runtime", "celery", "--json")
            if again.returncode == 0 or refused > 60:
                break
            assert "lease" in again.stdout + again.stderr, again.stdout + again.stderr
            refused += 1
            time.sleep(0.5)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:] + c.logs()[-3000:]
        report = json.loads(again.stdout)
        assert report["status"] == "completed" and report["resumed"], report
        after = {str(g["grp"]): str(g["scopes"]) for g in _parts(_groups(database))}
        assert after == planned  # the same parts, no others: the plan was not made again
        assert all(g["status"] == "completed" for g in _groups(database))
        assert not [k for k in _bookmarks(database) if "#" in k]  # parts merged
        _finished(_sync(c), c)  # as locally, the next run reads what changed after the pages
        expected = _members(c, list_id)
    rows = [
        row for row in org_snapshot(org)["CMSF_List_Member__c"] if row[0].startswith(f"{list_id}:")
    ]
    synced = {row[0].split(":", 1)[1]: row[1] for row in rows}
    assert len(synced) == len(rows)  # no membership twice
    assert synced == expected  # every membership, each in its current state (the joined too)
    assert sum(1 for e in synced if e.startswith("joined.")) == 300


def _cm(c: Cluster) -> httpx.Client:
    served = c.served
    return httpx.Client(
        base_url=served.cm_base_url.rstrip("/") + "/",
        auth=(served.cm_api_key, "x"),
        verify=ssl.create_default_context(cafile=served.cm_ca_file),
        timeout=60,
    )


def _members(c: Cluster, list_id: str) -> dict[str, str]:
    """Every membership of the list in Campaign Monitor: email -> state."""
    states: dict[str, str] = {}
    with _cm(c) as http:
        for endpoint in ("active", "unconfirmed", "unsubscribed", "bounced", "deleted"):
            page, pages = 1, 1
            while page <= pages:
                body = http.get(f"lists/{list_id}/{endpoint}.json",
                                params={"page": page, "pagesize": 1000}).json()  # fmt: skip
                for row in body["Results"]:
                    states[str(row["EmailAddress"]).lower()] = str(row["State"])
                pages, page = int(body["NumberOfPages"]), page + 1
    return states


def test_a_list_changing_between_partition_reads_loses_nothing(
    tmp_path: Path, broker, database: str
) -> None:
    org, account = make_world(tmp_path / "dist", BIG)
    with cluster(tmp_path / "dist", org, account, broker.url, database,
                 CMSF_PARTITION_SIZE=PART) as c:  # fmt: skip
        c.connect()
        for _ in range(2):  # workers whose page reads are slow, so the parts overlap the edits
            c.start_script(Path(__file__).with_name("slow_part_worker.py"))
        with _cm(c) as http:
            client = http.get("clients.json").json()[0]["ClientID"]
            list_id = http.get(f"clients/{client}/lists.json").json()[0]["ListID"]
            oldest = http.get(f"lists/{list_id}/active.json",
                              params={"orderfield": "date", "pagesize": 10}).json()  # fmt: skip
            middle = http.get(f"lists/{list_id}/active.json",
                              params={"orderfield": "date", "pagesize": 10, "page": 30}).json()  # fmt: skip
        leaving = [str(r["EmailAddress"]) for r in oldest["Results"][:3] + middle["Results"][:2]]
        sync = _sync(c)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not any(
            g["status"] == "running" for g in _parts(_groups(database))
        ):
            time.sleep(0.02)
        with _cm(c) as http:  # while the parts read: rows leave the Active read (every later
            for email in leaving:  # row moves up one) and a subscriber joins
                done = http.post(f"subscribers/{list_id}/unsubscribe.json",
                                 json={"EmailAddress": email})  # fmt: skip
                assert done.status_code == 200, done.text
            done = http.post(f"subscribers/{list_id}.json", json={
                "EmailAddress": "joined.mid.run@example.com", "Name": "Joined Midrun",
                "Resubscribe": True, "ConsentToTrack": "Yes"})  # fmt: skip
            assert done.status_code == 201, done.text
        unread = [g for g in _parts(_groups(database)) if g["status"] != "completed"]
        assert unread, "every part had finished before the list changed"
        _finished(sync, c)
        # as locally, the next run picks up what changed after its pages were read
        _finished(_sync(c), c)
        expected = _members(c, list_id)
    assert expected["joined.mid.run@example.com"] == "Active"
    assert all(expected[e.lower()] == "Unsubscribed" for e in leaving)
    synced = {
        row[0].split(":", 1)[1]: row[1]
        for row in org_snapshot(org)["CMSF_List_Member__c"]
        if row[0].startswith(f"{list_id}:")
    }
    assert synced == expected  # every membership, each in its current state
