"""The push benchmark runs as a user runs it and reports what the README quotes."""

from __future__ import annotations

import json
import subprocess
import sys


def test_push_bench_reports_reads_per_quiet_run_and_writes_per_change() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core.push_bench", "--sizes", "1000", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = {row["label"]: row for row in json.loads(result.stdout)}
    assert list(rows) == [
        "first sync (baselines)", "rule applied", "quiet", "after 1% changed", "quiet again",
    ]  # fmt: skip
    assert rows["rule applied"]["pushed"]["added"] == 100  # every tenth Contact is from the web
    for quiet in ("quiet", "quiet again"):
        assert rows[quiet]["cm_writes"] == 0 and rows[quiet]["push_sf_calls"] <= 2
    changed = rows["after 1% changed"]
    assert changed["changed"] == 10 and 0 < changed["writes_per_change"] <= 1
