"""``python -m cmsf_core.distributed.bench`` run as a user runs it (a small world, CI-sized)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cmsf_core.distributed.services import unavailable

pytestmark = pytest.mark.distributed


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmsf_core.distributed.bench", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_benchmark_compares_workers_with_the_local_runtime_and_survives_a_kill() -> None:
    reason = unavailable()
    if reason:
        pytest.skip(f"distributed lane: {reason}")
    done = _bench("--clients", "2", "--subscribers", "10", "--workers", "2", "--kills", "1",
                  "--json")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [(r["runtime"], r["workers"]) for r in rows] == [("local", 0), ("celery", 2)]
    local, celery = rows
    assert local["status"] == celery["status"] == "completed"
    assert celery["equal_to_local"] and celery["within_budget"]
    assert celery["kills"] == 1 and celery["tasks"] > 0 and celery["busy_workers"] >= 1
    assert celery["salesforce_calls"] > 0 and celery["campaign_monitor_calls"] > 0


def test_the_benchmark_splits_one_big_list_over_workers() -> None:
    reason = unavailable()
    if reason:
        pytest.skip(f"distributed lane: {reason}")
    done = _bench("--big-list", "800", "--partition-size", "150", "--workers", "2", "--json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    local, celery = rows
    assert local["status"] == celery["status"] == "completed"
    assert celery["equal_to_local"] and celery["within_budget"]
    assert celery["partitions"] >= 2 and celery["busy_workers"] == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--workers", "0"], "must be positive"),
        (["--workers", "one,two"], "comma-separated whole numbers"),
        (["--kills", "-1"], "--kills >= 0"),
        (["--clients", "x"], "invalid int value"),
        (["--big-list", "-5"], "--big-list must be 0"),
        (["--partition-size", "20"], "--partition-size must be 0 (off) or at least 100"),
        (["--partition-size", "many"], "invalid int value"),
    ],
)
def test_bad_options_are_refused_with_the_reason(args: list[str], says: str) -> None:
    done = _bench(*args)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr
