"""Real mode: cmsf reaches sf-sim and cm-sim servers over HTTPS with credentials from the environment."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from click.testing import CliRunner

from cmsf_core.cli import main
from cmsf_core.clock import SystemClock
from scenarios.compare import compare
from scenarios.served import serve_world
from scenarios.world import WorldSpec, build_world, engine_for, open_world
from tests.cmsf_core.cli_support import (
    CMSF,
    clean_env,
    interruptible,
    no_traceback,
    run_cmsf,
    running_job_done,
)


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


def test_ctrl_c_during_a_served_sync_exits_130_and_the_next_run_ends_equal(
    tmp_path: Path,
) -> None:
    # Lists of several pages: over HTTPS their pages are read ahead while the job works.
    org_db, account_db = tmp_path / "org.db", tmp_path / "account.db"
    build_world(
        WorldSpec(
            seed=11,
            clients=1,
            lists_per_client=2,
            subscribers_per_list=2500,
            campaigns_per_client=1,
        ),
        clock=SystemClock(),
        org_path=org_db,
        account_path=account_db,
    ).close()
    journal = tmp_path / "journal.db"
    with serve_world(org_db, account_db, tmp_path) as served:
        env = clean_env(**served.environment())
        connected = run_cmsf("--journal", str(journal), "connect", "--test-account", env=env)
        assert connected.returncode == 0, connected.stdout + connected.stderr
        process = subprocess.Popen(
            [CMSF, "--journal", str(journal), "sync", "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=interruptible,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not running_job_done(journal) and time.monotonic() < deadline:
            assert process.poll() is None, "the sync ended before it could be interrupted"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, out + err
        assert "Traceback" not in out + err
        again = run_cmsf("--journal", str(journal), "sync", "--json", env=env)
        assert again.returncode == 0 and no_traceback(again), again.stdout + again.stderr
        report = json.loads(again.stdout)
        assert report["status"] == "completed" and report["resumed"], report["reason"]
    reopened = open_world(org_db, account_db, clock=SystemClock())
    try:
        assert compare(reopened, engine_for(reopened).settings()) == []
    finally:
        reopened.close()
