"""The HTML report: charts and tables, escaped text, and a real headless browser renders it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scenarios.report import render_report, write_report
from scenarios.result import Failure, RunSummary, ScenarioResult, TimelineEntry

CHROMIUM = shutil.which("chromium")


def sample_result(purpose: str = "A sample scenario for the report.") -> ScenarioResult:
    run = RunSummary(
        number=1, kind="primary_sync", started="+1h", finished="+1h2m", started_s=3600,
        finished_s=3720, status="stopped", reason="rate limited", calls={"salesforce": 6,
        "campaign_monitor": 6}, written={}, failed={}, deleted={}, jobs=[], org="production",
    )  # fmt: skip
    return ScenarioResult(
        name="sample",
        purpose=purpose,
        path="scenarios/sample.yaml",
        seed=3,
        start="2026-01-05T09:00:00+00:00",
        duration="+2h",
        passed=False,
        failures=[Failure("invariant", "run_status", "completed", "stopped", "+2h", "run 1", 9)],
        timeline=[
            TimelineEntry("+30m", "+30m", "event", "cm_rate_limit_storm", "429 for 30m", 5),
            TimelineEntry("+1h", "+1h", "run", "primary_sync", "stopped", 6, "+1h2m", "stopped"),
            TimelineEntry("+2h", "+2h", "check", "org_matches_account", "held", 7),
        ],
        runs=[run],
        api_series={"salesforce": [[60, 6]], "campaign_monitor": [[60, 4], [61, 2]]},
        messages=[
            {
                "run": 1,
                "severity": "Warning",
                "job": "runtime",
                "code": "CMSF-CM-RATE",
                "summary": "rate limited",
                "occurrences": 1,
            }
        ],
        differences=[{"kind": "member", "key": "l:a@x.example", "expected": True, "found": None}],
    )


def test_report_has_both_charts_and_every_table() -> None:
    page = render_report(sample_result())
    for marker in (
        '<svg id="timeline-chart"',
        '<svg id="api-chart"',
        '<table id="failures"',
        '<table id="runs"',
        '<table id="timeline"',
        '<table id="comparison"',
        '<table id="messages"',
        'class="run"',
        'class="series"',
    ):
        assert marker in page, marker
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_report_escapes_text_from_the_scenario() -> None:
    page = render_report(sample_result(purpose="Shows <script>alert(1)</script> safely."))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_write_report_creates_the_folder_with_page_and_json(tmp_path: Path) -> None:
    page = write_report(sample_result(), tmp_path / "out" / "sample")
    assert page == tmp_path / "out" / "sample" / "index.html"
    assert (page.parent / "result.json").read_text(encoding="utf-8").startswith("{")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_headless_chromium_renders_the_charts_and_tables(tmp_path: Path) -> None:
    page = write_report(sample_result(), tmp_path / "report")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert '<svg id="timeline-chart"' in dom and '<svg id="api-chart"' in dom
    assert dom.count('class="run"') == 1 and dom.count('class="series"') == 2
    assert '<table id="runs">' in dom and "CMSF-CM-RATE" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1000,900", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
