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
    _old_file(path)
    org = Org(path)
    org.insert("Contact", [{"LastName": f"Old {n}"} for n in range(3)])
    assert org.count("Contact") == 3
    org.close()
    assert _page_size(path) == 4096


def _old_file(path: Path) -> None:
    with sqlite3.connect(path) as made_before:  # a file made before the setting
        made_before.execute("PRAGMA page_size=4096")
        made_before.execute("PRAGMA journal_mode=WAL")
        made_before.execute("CREATE TABLE _sf_meta (key TEXT PRIMARY KEY, value TEXT)")


def test_sandbox_copies_of_a_file_org_whatever_its_pages(tmp_path: Path) -> None:
    """SQLite's backup refuses to copy into an in-memory or WAL database of another page
    size: a copy takes its source's."""
    new, old = tmp_path / "new.db", tmp_path / "old.db"
    _old_file(old)
    for source_path, pages in ((new, PAGE_BYTES), (old, 4096)):
        source = Org(source_path)
        source.insert("Contact", [{"LastName": "Copied"}])
        in_memory = source.refresh_sandbox("uat")
        on_file = source.refresh_sandbox("qa", path=tmp_path / f"qa-{pages}.db")
        for sandbox in (in_memory, on_file):
            assert sandbox.store.page_size == pages
            assert [r["LastName"] for r in sandbox.query("SELECT LastName FROM Contact")] == [
                "Copied"
            ]
            sandbox.close()
        source.close()
        assert _page_size(tmp_path / f"qa-{pages}.db") == pages


def test_an_in_memory_org_keeps_sqlites_pages_and_copies_to_a_new_file() -> None:
    source = Org()
    source.insert("Contact", [{"LastName": "Memory"}])
    assert source.store.page_size == 4096
    copy = source.refresh_sandbox("dev")
    assert copy.store.page_size == 4096
    assert copy.count("Contact") == 1
