"""``cmsf scanners`` and the dashboard's scanner section: in Python, and run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from datetime import timedelta
from pathlib import Path

from cmsf_core.clock import SystemClock, VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.scanner_report import scanner_report
from scenarios.world import World, WorldSpec, build_world
from tests.cmsf_core.cli_support import CMSF, clean_env


def scanned_world(world: World, domain: str = "gateway.example", count: int = 4) -> str:
    """A scanner on ``domain`` (no resubscribe) scans a campaign to the first OnlyThisList list."""
    list_id = next(
        lid
        for lid in world.summary["lists"]
        if world.account.list_row(lid)["unsubscribe_setting"] == "OnlyThisList"
    )
    for i in range(count):
        world.account.add_subscriber_at(list_id, f"p{i}@{domain}")
    world.account.register_link_scanner(domain, resubscribe_rate=0.0)
    world.account.use_activity_model(None)
    world.account.send_campaign_now([list_id], name="Spring news", links=["https://a/1"])
    world.account.clear_link_scanners()
    return list_id


def test_report_groups_by_campaign_domain_and_list(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    scanned_world(world)
    clock.advance(hours=1)
    engine.sync()
    report = scanner_report(engine.gateway(), engine.settings(), now=clock.now())
    [finding] = report.domains
    assert (finding.campaign, finding.domain, finding.count) == (
        "Spring news",
        "gateway.example",
        4,
    )
    assert finding.minutes_after_delivery is not None and finding.minutes_after_delivery <= 1
    [scanned] = [f for f in report.lists if f.suspected]
    assert (scanned.still_unsubscribed, scanned.resubscribed) == (4, 0)
    assert scanned.confirmation == "One-click"
    assert scanned in report.without_two_click
    assert report.as_dict()["domains"][0]["unsubscribes"] == 4
    clock.advance(days=10)
    recent = scanner_report(engine.gateway(), engine.settings(), now=clock.now(), days=5)
    assert recent.domains == [] and recent.since is not None


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CMSF, *args], capture_output=True, text=True, timeout=300, env=clean_env()
    )


def dashboard_page(files: list[str], path: str) -> str:
    """Start ``cmsf dashboard`` as a process on ``files``, fetch one page, stop it."""
    process = subprocess.Popen(
        [CMSF, "dashboard", "--port", "0", *files],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("dashboard at http://127.0.0.1:"), line
        with urllib.request.urlopen(line.split()[2] + path, timeout=120) as response:
            return str(response.read().decode("utf-8"))
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cmsf_scanners_command_end_to_end(tmp_path: Path) -> None:
    org_db, account_db = tmp_path / "org.db", tmp_path / "account.db"
    # A world whose scan happened three hours ago, so the command's real clock sees it all.
    clock = VirtualClock(SystemClock().now() - timedelta(hours=3))
    spec = WorldSpec(seed=5, clients=1, lists_per_client=2, subscribers_per_list=10)
    world = build_world(spec, clock=clock, org_path=org_db, account_path=account_db)
    scanned_world(world, "scan.example", count=5)
    world.close()
    files = ["--org-db", str(org_db), "--account-db", str(account_db)]
    empty = run(*files, "scanners")
    assert empty.returncode == 0, empty.stderr
    assert "No unsubscribe looks like a link scanner." in empty.stdout
    assert run(*files, "connect", "--test-account").returncode == 0
    synced = run(*files, "sync", "--json")
    assert synced.returncode == 0, synced.stderr
    assert "CMSF-SCANNER" in [m["code"] for m in json.loads(synced.stdout)["messages"]]
    shown = run(*files, "scanners")
    assert shown.returncode == 0, shown.stderr
    assert "scan.example" in shown.stdout and "Spring news" in shown.stdout
    assert "Lists without two-click unsubscribe" in shown.stdout
    as_json = json.loads(run(*files, "scanners", "--json", "--days", "1").stdout)
    assert as_json["domains"][0]["domain"] == "scan.example"
    assert as_json["domains"][0]["unsubscribes"] == 5
    assert as_json["scanner_protection"] is False and as_json["scanner_threshold"] == 60
    page = dashboard_page(files, "maintenance")
    section = page.split('<section id="scanners">', 1)[1].split("</section>", 1)[0]
    assert "scan.example" in section and "Spring news" in section
    assert 'id="two-click-table"' in section and "One-click" in section
    bad = run(*files, "scanners", "--days", "0")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--days" in bad.stderr
