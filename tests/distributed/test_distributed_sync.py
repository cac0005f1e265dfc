"""The distributed runtime with real processes: served simulators, Redis, PostgreSQL, workers.

Each test builds the same small world twice: one copy synced by the local runtime (``cmsf
sync``), the other by ``cmsf sync --runtime celery`` with ``cmsf worker`` processes; both
must end in the same org state (``scenarios.compare.org_state``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.distributed.harness import cluster, copy_world, make_world, org_snapshot

pytestmark = pytest.mark.distributed


def _twins(tmp_path: Path) -> tuple[dict[str, list[tuple[str, ...]]], Path, Path]:
    """The local runtime's end state of a new world, and an unsynced copy of that world."""
    org, account = make_world(tmp_path / "seed")
    twin = copy_world(org, account, tmp_path / "dist")
    org, account = copy_world(org, account, tmp_path / "local")
    env_folder = tmp_path / "local"
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    for args in (["connect"], ["sync", "--quiet"]):
        done = subprocess.run(
            [str(bin_dir / "cmsf"), "--org-db", str(org), "--account-db", str(account), *args],
            env=env, cwd=env_folder, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    return org_snapshot(org), *twin


def test_two_workers_end_in_the_local_runtimes_state(
    tmp_path: Path, broker, database: str
) -> None:
    reference, org, account = _twins(tmp_path)
    with cluster(tmp_path / "dist", org, account, broker.url, database) as c:
        assert c.cmsf("connect").returncode == 0
        c.start_worker()
        c.start_worker()
        done = c.cmsf("sync", "--runtime", "celery", "--json")
        assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:], c.logs()[-5000:])
        report = json.loads(done.stdout)
        assert report["status"] == "completed"
        assert report["written"]["CMSF_List_Member__c"] > 0
        assert "postgresql" not in done.stderr
        logs = c.logs()
    assert org_snapshot(org) == reference
    assert logs.count("succeeded") > 0
