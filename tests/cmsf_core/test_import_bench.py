"""The import benchmark runs as a user runs it and reports the counts the README quotes."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_bench_makes_the_minimum_of_calls_on_both_platforms() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core.import_bench", "--sizes", "2500", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["rows"] == row["imported"] == 2500
    # three Campaign Monitor imports of up to 1,000; the ListView lookup, the describe and
    # two query pages of up to 2,000 rows
    assert (row["cm_import_calls"], row["cm_import_minimum"]) == (3, 3)
    assert (row["sf_calls"], row["sf_minimum"]) == (4, 4)
    assert row["peak_mib"] > 0
