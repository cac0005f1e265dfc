"""A Bulk API job a worker opened in a busy org ends the celery run ``waiting`` (exit 5), as
the local runtime's run does; the next run collects the job and writes nothing twice.

The served org's bulk queue is held by another app's job (``busy_bulk_sim.py``, the
``bulk-queue-busy`` scenario's ``sf_bulk_queue_busy`` event) until the test releases it;
the worker waits two seconds at most (``short_bulk_wait_worker.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from scenarios.world import WorldSpec
from tests.distributed.harness import SETUP, cluster, copy_world, make_world, org_snapshot

pytestmark = pytest.mark.distributed

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent
BUSY = WorldSpec(seed=141, clients=1, lists_per_client=1, subscribers_per_list=260,
                 campaigns_per_client=0)  # fmt: skip
"""The scenario's world: one list whose 260 memberships go through Bulk API 2.0."""
LIMITS = ("settings", "set", 'governor_limits={"bulk_threshold": 200, "bulk_wait_minutes": 15}')
MEMBER = "CMSF_List_Member__c"


def _sync(env: dict[str, str], folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [str(BIN / "cmsf"), "sync", "--json", *args], env=env, cwd=folder,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        raise AssertionError(done.stdout[-3000:] + done.stderr[-3000:]) from None


def _ingest_jobs(served: Any) -> list[dict[str, Any]]:
    """The org's Bulk API 2.0 ingest jobs (``GET jobs/ingest``), as any client lists them."""
    answer = httpx.get(
        f"{served.instance_url}/services/data/v59.0/jobs/ingest",
        headers={"Authorization": f"Bearer {served.session_id}"},
        verify=served.sf_ca_file,
        timeout=60,
    )
    answer.raise_for_status()
    return list(answer.json()["records"])


def test_a_job_still_queued_ends_the_celery_run_waiting_and_the_next_collects_it(
    tmp_path: Path, broker, database: str
) -> None:
    org, account = make_world(tmp_path / "seed", BUSY)
    dist_org, dist_account = copy_world(org, account, tmp_path / "dist")
    org, account = copy_world(org, account, tmp_path / "local")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    local = ["--org-db", str(org), "--account-db", str(account)]
    for args in (*SETUP, LIMITS):
        done = subprocess.run([str(BIN / "cmsf"), *local, *args], env=env, cwd=tmp_path / "local",
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    code, report = _sync(env, tmp_path / "local", *local)
    assert (code, report["status"]) == (0, "completed"), report
    reference = org_snapshot(org)

    release = tmp_path / "release-bulk-queue"
    busy = (
        f"import runpy, sys; sys.argv.insert(1, {str(release)!r}); "
        f"runpy.run_path({str(HERE / 'busy_bulk_sim.py')!r}, run_name='__main__')"
    )
    with cluster(tmp_path / "dist", dist_org, dist_account, broker.url, database,
                 sf_program=busy) as c:  # fmt: skip
        c.connect()
        assert c.cmsf(*LIMITS).returncode == 0
        c.start_script(HERE / "short_bulk_wait_worker.py")
        code, first = _sync(c.env, c.folder, "--runtime", "celery")
        assert (code, first["status"]) == (5, "waiting"), first
        codes = [m["code"] for m in first["messages"]]
        assert "CMSF-SF-BULK-WAIT" in codes, first["messages"]
        status = json.loads(c.cmsf("status", "--json", CMSF_RUNTIME="celery").stdout)
        assert [(j["sobject"], j["operation"]) for j in status["bulk_jobs"]] == [(MEMBER, "upsert")]
        queued = [j for j in _ingest_jobs(c.served) if j["object"] == MEMBER]
        assert [j["state"] for j in queued] == ["UploadComplete"]

        release.touch()  # the other app's load is over
        code, second = _sync(c.env, c.folder, "--runtime", "celery")
        assert (code, second["status"]) == (0, "completed"), second
        assert second["run_id"] == first["run_id"]  # the waiting run, resumed
        assert "CMSF-SF-BULK-WAIT" not in [m["code"] for m in second["messages"]]
        ended = [j for j in _ingest_jobs(c.served) if j["object"] == MEMBER]
        assert [(j["id"], j["state"]) for j in ended] == [(queued[0]["id"], "JobComplete")]
        status = json.loads(c.cmsf("status", "--json", CMSF_RUNTIME="celery").stdout)
        assert status["bulk_jobs"] == []
    assert reference[MEMBER]
    assert org_snapshot(dist_org) == reference
