"""``cmsf`` as a user runs it: the installed console script in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CMSF = str(Path(sys.executable).with_name("cmsf"))


def cmsf(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CMSF, "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home.parent)},
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / ".cmsf"


def test_sync_if_due_honours_the_frequency(home: Path) -> None:
    off = cmsf(home, "settings", "set", "frequency=Never")
    assert off.returncode == 0, off.stderr
    skipped = cmsf(home, "sync", "--if-due")
    assert skipped.returncode == 0, skipped.stderr
    assert "not due: the sync is turned off (frequency Never)" in skipped.stdout
    assert "no runs yet" in cmsf(home, "status").stdout  # cron ran nothing

    assert cmsf(home, "settings", "set", "frequency=Hourly").returncode == 0
    first = cmsf(home, "sync", "--if-due", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["status"] == "completed"

    again = cmsf(home, "sync", "--if-due", "--json")
    assert again.returncode == 0, again.stderr
    answer = json.loads(again.stdout)
    assert answer["status"] == "not_due" and answer["reason"].startswith("next sync at ")

    manual = cmsf(home, "sync", "--json")  # 'Sync now' runs whatever the schedule says
    assert json.loads(manual.stdout)["status"] == "completed"
