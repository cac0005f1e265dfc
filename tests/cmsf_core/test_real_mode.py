"""Real mode: cmsf reaches sf-sim and cm-sim servers over HTTPS with credentials from the environment."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cmsf_core.cli import main
from cmsf_core.clock import SystemClock
from scenarios.compare import compare
from scenarios.served import serve_world
from scenarios.world import WorldSpec, build_world, engine_for, open_world


def test_cmsf_syncs_served_simulators_like_real_platforms(tmp_path: Path) -> None:
    org_db, account_db = tmp_path / "org.db", tmp_path / "account.db"
    world = build_world(
        WorldSpec(
            seed=9, clients=1, lists_per_client=2, subscribers_per_list=20, campaigns_per_client=1
        ),
        clock=SystemClock(),
        org_path=org_db,
        account_path=account_db,
    )
    world.close()
    journal = tmp_path / "journal.db"
    with serve_world(org_db, account_db, tmp_path) as served:
        env = served.environment()
        runner = CliRunner()
        connected = runner.invoke(
            main, ["--journal", str(journal), "connect", "--test-account"], env=env
        )
        assert connected.exit_code == 0, connected.output
        synced = runner.invoke(main, ["--journal", str(journal), "sync", "--json"], env=env)
        assert synced.exit_code == 0, synced.output
        report = json.loads(synced.stdout)
        assert report["status"] == "completed" and report["written"]["CMSF_List_Member__c"] == 40
        assert "session" not in synced.output.lower() or served.session_id not in synced.output
        bad_env = {**env, "CMSF_CM_API_KEY": "not-the-key"}
        bad = runner.invoke(
            main, ["--journal", str(tmp_path / "j2.db"), "sync", "--json"], env=bad_env
        )
        assert bad.exit_code == 1  # a failed run (not 2, which is a usage mistake)
        failed = json.loads(bad.stdout)
        assert failed["status"] == "failed" and [m["code"] for m in failed["messages"]] == [
            "CMSF-CM-AUTH"
        ]
        assert "not-the-key" not in bad.output
    reopened = open_world(org_db, account_db, clock=SystemClock())
    try:
        assert compare(reopened, engine_for(reopened).settings()) == []
    finally:
        reopened.close()
