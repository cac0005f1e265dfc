"""The transactional benchmark runs as a user runs it and reports what the README quotes."""

from __future__ import annotations

import json
import subprocess
import sys


def test_tx_bench_reports_calls_per_send_and_a_quiet_run() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core.tx_bench", "--sizes", "120", "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sends, quiet = json.loads(result.stdout)
    assert (sends["label"], sends["sent"], sends["tasks"], sends["process_done"]) == (
        "sends", 120, 120, True,
    )  # fmt: skip
    assert sends["cm_writes_per_send"] == 1.0
    # about ten calls per batch of 50 (three batches), whatever the fields and parents read
    assert sends["job_sf_calls"] <= 4 + 11 * 3
    assert (quiet["sent"], quiet["cm_writes"], quiet["job_sf_calls"]) == (0, 0, 2)


def test_tx_bench_refuses_sizes_it_cannot_run() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core.tx_bench", "--sizes", "ten"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "whole numbers" in result.stderr
