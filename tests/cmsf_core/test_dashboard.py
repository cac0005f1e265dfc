"""``cmsf dashboard`` as a real process, driven in Debian's headless chromium (Playwright).

The page must render the Sync Settings and Maintenance views, and the Sync Now and Full
Sync buttons must start real runs in the background whose results then show on the page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmsf_core.dashboard.charts import runs_chart
from cmsf_core.overview import RunView
from tests.cmsf_core.cli_support import CMSF, clean_env

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def dashboard(cmsf_home: Path) -> Iterator[str]:
    """A dashboard process on a free port over a fresh embedded default; yields its URL."""
    process = subprocess.Popen(
        [CMSF, "dashboard", "--port", "0", "--home", str(cmsf_home)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("dashboard at http://127.0.0.1:"), line + process.stderr.read()
    try:
        yield line.split()[2]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_runs_chart_scales_bars_to_the_busiest_run() -> None:
    runs = [
        RunView("b", "2026-01-05T11:00:00+00:00", None, "failed", "failed", False, False, 1.0,
                "outage", {"salesforce": 50, "campaign_monitor": 10}),
        RunView("a", "2026-01-05T10:00:00+00:00", None, "completed", "completed", True, False,
                2.0, None, {"salesforce": 200, "campaign_monitor": 100}),
    ]  # fmt: skip
    chart = runs_chart(runs)
    assert [bar.status for bar in chart.bars] == ["completed", "failed"]  # oldest first
    assert chart.bars[0].sf_height == pytest.approx(4 * chart.bars[1].sf_height)
    assert chart.ticks[-1][1] == "200"


def test_the_server_answers_only_localhost_and_posts_with_its_token(dashboard: str) -> None:
    with urllib.request.urlopen(dashboard + "api/status") as response:
        assert json.loads(response.read())["sync"]["connected"] is True
    with urllib.request.urlopen(dashboard) as response:
        page = response.read().decode()
    assert 'id="apex"' in page and "no stale ApexToken jobs" in page
    assert 'id="storage"' in page and "records of about 2 KB" in page
    spoofed = urllib.request.Request(dashboard, headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(spoofed)
    assert refused.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as forged:
        urllib.request.urlopen(urllib.request.Request(dashboard + "sync", data=b"full=1"))
    assert forged.value.code == 403


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_sync_now_and_full_sync_run_and_show_their_result(dashboard: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(dashboard)
            assert "Connected to" in page.inner_text("#connection")
            assert page.inner_text("#no-runs").startswith("No runs yet")
            assert page.locator("#clients-table tbody tr").count() == 0
            assert page.locator("#budget-gauge").count() == 1

            page.click("#sync-now")
            page.wait_for_selector("#run-state.busy", timeout=120_000)
            page.wait_for_selector("#run-state.idle", timeout=400_000)
            assert "exit code 0: completed" in page.inner_text("#run-state")
            assert page.locator("#runs-table tbody tr").count() == 1
            assert page.locator("#runs-chart g.run.completed").count() == 1
            assert page.locator("#clients-table tbody tr").count() == 2
            assert "Completed" in page.inner_text("#last-sync")

            page.on("dialog", lambda dialog: dialog.accept())
            page.click("#full-sync")
            page.wait_for_selector("#run-state.busy", timeout=120_000)
            page.wait_for_selector("#run-state.idle", timeout=400_000)
            assert page.locator("#runs-table tbody tr").count() == 2
            first_row = page.inner_text("#runs-table tbody tr:first-child")
            assert "full" in first_row and "completed" in first_row

            page.click("text=Maintenance")
            page.wait_for_selector("#audit-table")
            audit = page.inner_text("#audit-table")
            assert "Connect" in audit and "cmsf (embedded default)" in audit
            assert "No maintenance messages" in page.inner_text("#messages")
        finally:
            browser.close()
