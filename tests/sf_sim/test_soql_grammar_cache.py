"""The SOQL grammar's LALR tables are cached between processes, safely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import logging
import lark
lark.logger.setLevel(logging.DEBUG)
from sf_sim.soql.parser import parse
query = parse("SELECT Id, Email FROM Contact WHERE Email LIKE '%@example.com' LIMIT 5")
print(type(query).__name__)
"""


def _probe(cache_home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _cache_files(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "cmsf").glob("soql-lalr-*.cache"))


def test_the_second_process_loads_the_tables_the_first_one_saved(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    assert first.stdout.strip() == "Query"
    assert "Saving grammar to cache" in first.stderr
    [cache] = _cache_files(tmp_path)
    assert (tmp_path / "cmsf").stat().st_mode & 0o777 == 0o700  # the user's own folder
    second = _probe(tmp_path)
    assert second.stdout.strip() == "Query"
    assert "Loading grammar from cache" in second.stderr
    assert "Saving grammar to cache" not in second.stderr
    assert _cache_files(tmp_path) == [cache]


def test_a_damaged_cache_is_rebuilt_and_parsing_still_works(tmp_path: Path) -> None:
    _probe(tmp_path)
    [cache] = _cache_files(tmp_path)
    cache.write_bytes(b"not a cache\n" + os.urandom(64))
    again = _probe(tmp_path)
    assert again.stdout.strip() == "Query"
    assert "Saving grammar to cache" in again.stderr  # rebuilt over the damaged file
    assert "Loading grammar from cache" in _probe(tmp_path).stderr


def test_no_cache_folder_means_no_cache_not_a_failure(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("the cache folder's parent is a file")
    done = _probe(blocked)
    assert done.stdout.strip() == "Query"
    assert "cache" not in done.stderr.lower()
