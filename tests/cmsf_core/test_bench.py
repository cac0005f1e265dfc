"""``python -m cmsf_core.bench`` runs the way a user runs it (figures are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmsf_core.bench", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_bench_measures_every_process_against_the_floor() -> None:
    done = _bench("--sizes", "200", "--no-strace", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [r["sync"] for r in rows] == ["first sync", "second sync", "quiet third sync"]
    first, _, quiet = rows
    assert all(r["status"] == "completed" for r in rows)
    assert set(first["processes"]) == {"engine", "sf_sim", "cm_sim"}
    for figures in first["processes"].values():
        assert figures["cpu_seconds"] > 0 and figures["peak_rss_mib"] > 0
    for platform in ("salesforce", "campaign_monitor"):
        assert 0 < first["floor"][platform] <= first["calls"][platform]
    assert sum(first["written"].values()) > 200 and not sum((quiet["written"] or {}).values())
    assert first["engine_fsyncs"] is None  # --no-strace
    for row in rows:  # every call of the run is some job's (or the runtime's own)
        by_job = row["salesforce_calls_by_job"]
        assert by_job and sum(by_job.values()) == row["calls"]["salesforce"]
    assert "subscribers" in first["salesforce_calls_by_job"]


@pytest.mark.parametrize(
    ("sizes", "message"),
    [("abc", "not a number"), ("0", "outside"), (",", "at least one")],
    ids=["not-a-number", "too-small", "empty"],
)
def test_bench_refuses_bad_sizes_in_one_line(sizes: str, message: str) -> None:
    done = _bench("--sizes", sizes)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
