"""The page size of an org file: :data:`sf_sim.store.PAGE_BYTES` for a new one, kept for an old one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sf_sim import Org
from sf_sim.store import PAGE_BYTES


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_org_file_gets_the_larger_pages_and_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "org.db"
    org = Org(path)
    org.insert("Contact", [{"LastName": "Page"}])
    org.close()
    assert PAGE_BYTES != 4096  # SQLite's default: the setting must do something
    assert _page_size(path) == PAGE_BYTES
    reopened = Org(path)
    assert [row["LastName"] for row in reopened.query("SELECT LastName FROM Contact")] == ["Page"]
    reopened.close()
    assert _page_size(path) == PAGE_BYTES


def test_an_org_file_made_with_other_pages_keeps_them_and_works(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as made_before:  # a file made before the setting
        made_before.execute("PRAGMA page_size=4096")
        made_before.execute("PRAGMA journal_mode=WAL")
        made_before.execute("CREATE TABLE _sf_meta (key TEXT PRIMARY KEY, value TEXT)")
    org = Org(path)
    org.insert("Contact", [{"LastName": f"Old {n}"} for n in range(3)])
    assert org.count("Contact") == 3
    org.close()
    assert _page_size(path) == 4096
