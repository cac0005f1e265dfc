"""``python -m cmsf_core.scanners_bench``: run as a user runs it, on a small world."""

from __future__ import annotations

import subprocess
import sys


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmsf_core.scanners_bench", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_bench_prints_precision_and_recall_and_meets_the_done_criterion() -> None:
    done = bench("--subscribers", "400", "--campaigns", "1", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "world: 400 subscribers, 1 campaigns, seed 11, threshold 60" in out
    assert "recall" in out and "false positives" in out and "precision" in out
    assert "done criterion (recall >= 95%, false positives < 1%): met" in out
    scanner_line = next(line for line in out.splitlines() if line.startswith("scanner unsub"))
    assert int(scanner_line.split()[2].replace(",", "")) > 0  # scanners were there to find


def test_check_fails_when_the_threshold_flags_people() -> None:
    flagged_everyone = bench(
        "--subscribers", "400", "--campaigns", "1", "--threshold", "1", "--check"
    )
    assert flagged_everyone.returncode == 1
    assert "NOT met" in flagged_everyone.stdout


def test_bad_arguments_are_usage_errors() -> None:
    for args in (["--threshold", "0"], ["--subscribers", "5"], ["--campaigns", "x"]):
        result = bench(*args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
