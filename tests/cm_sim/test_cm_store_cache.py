"""An account file's connection keeps a bounded page cache (:data:`cm_sim.store.CACHE_KIB`)."""

from __future__ import annotations

from pathlib import Path

from cm_sim.store import CACHE_KIB, Store


def test_a_file_store_caches_more_than_sqlites_default(tmp_path: Path) -> None:
    store = Store(tmp_path / "account.db")
    try:
        size = int(store.conn.execute("PRAGMA cache_size").fetchone()[0])
    finally:
        store.close()
    assert size == -CACHE_KIB  # negative: KiB, not pages
    assert CACHE_KIB > 2000  # SQLite's default is 2,000 KiB: the setting must change it


def test_an_in_memory_store_keeps_the_default(tmp_path: Path) -> None:
    store = Store()
    try:
        assert int(store.conn.execute("PRAGMA cache_size").fetchone()[0]) == -2000
    finally:
        store.close()
