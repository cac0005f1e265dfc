"""QueryCursor: streaming pages, totalSize without loading, done."""

from __future__ import annotations

import tracemalloc

from conftest import OrgDb, World


def _fill(db: OrgDb, count: int) -> None:
    db.conn.executemany(
        'INSERT INTO "Contact" ("Id", "LastName", "IsDeleted") VALUES (?, ?, 0)',
        [(db.ids.next("003"), f"Name {n:06d}") for n in range(count)],
    )


def test_fetch_pages_until_done(db: OrgDb) -> None:
    _fill(db, 4500)
    cursor = db.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert cursor.total_size == 4500
    pages = []
    while not cursor.done:
        pages.append(cursor.fetch(2000))
    assert [len(p) for p in pages] == [2000, 2000, 500]
    assert pages[2][-1]["LastName"] == "Name 004499"
    assert cursor.fetch(2000) == []


def test_exact_multiple_ends_done(db: OrgDb) -> None:
    _fill(db, 4000)
    cursor = db.query("SELECT Id FROM Contact")
    cursor.fetch(2000)
    assert not cursor.done
    cursor.fetch(2000)
    assert cursor.done


def test_limit_caps_the_stream(db: OrgDb) -> None:
    _fill(db, 50)
    cursor = db.query("SELECT Id FROM Contact LIMIT 30")
    assert len(cursor.fetch(25)) == 25
    assert len(cursor.fetch(25)) == 5
    assert cursor.done


def test_empty_result_is_done_at_once(world: World) -> None:
    cursor = world.db.query("SELECT Id FROM Contact WHERE LastName = 'nobody'")
    assert cursor.total_size == 0
    assert cursor.done
    assert cursor.fetch(2000) == []


def test_fetch_of_zero_returns_nothing(world: World) -> None:
    cursor = world.db.query("SELECT Id FROM Contact")
    assert cursor.fetch(0) == []
    assert not cursor.done


def test_close_releases_the_cursor(world: World) -> None:
    cursor = world.db.query("SELECT Id FROM Contact")
    cursor.close()
    assert cursor.done
    assert cursor.fetch(10) == []


def test_large_result_is_streamed_not_loaded(db: OrgDb) -> None:
    _fill(db, 100_000)
    tracemalloc.start()
    cursor = db.query("SELECT Id, LastName FROM Contact")
    first = cursor.fetch(2000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert cursor.total_size == 100_000
    assert len(first) == 2000
    # 100,000 shaped records take tens of megabytes; one page is well under five.
    assert peak < 5_000_000


def test_cursors_are_independent(world: World) -> None:
    first = world.db.query("SELECT Id FROM Contact ORDER BY LastName")
    second = world.db.query("SELECT Id FROM Contact ORDER BY LastName DESC")
    a = first.fetch(1)
    b = second.fetch(1)
    assert a != b
    assert len(first.fetch(10)) == 4
