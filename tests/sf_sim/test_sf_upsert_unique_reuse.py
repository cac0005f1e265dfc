"""An upsert inside a write transaction looks each external Id up once.

The match already read which live records carry each value; the uniqueness check reuses
that answer while no record changed (:meth:`sf_sim.store.Store.data_changes`), and looks
the values up again otherwise. Results must equal those of the path that looks twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sf_sim import Org
from sf_sim.control import TriggerContext
from sf_sim.dml import WriteContext

KEY = "CMSF_Subscriber_Key__c"


@contextmanager
def _lookups(org: Org) -> Iterator[list[str]]:
    """SQL statements that look the external Id up, while the block runs."""
    seen: list[str] = []
    org.store.conn.set_trace_callback(
        lambda sql: seen.append(sql) if f'"{KEY}" AS v' in sql else None
    )
    try:
        yield seen
    finally:
        org.store.conn.set_trace_callback(None)


def _upsert(org: Org, records: list[dict[str, Any]], *, grouped: bool) -> list[dict[str, Any]]:
    with org.store.grouped() if grouped else nullcontext():
        results = org.dml.upsert("Contact", KEY, records, WriteContext(source="csv"))
    return [
        {"success": r.success, "created": r.created, "errors": [e.error_code for e in r.errors]}
        for r in results
    ]


def _org(metadata_dir: Path) -> Org:
    org = Org(metadata=[metadata_dir])
    org.create("Contact", {"LastName": "Known", KEY: "k-0"})
    return org


def _records() -> list[dict[str, Any]]:
    return [
        {"LastName": "Known again", KEY: "K-0"},  # matches k-0 (case-insensitive): an update
        {"LastName": "New", KEY: "k-1"},
        {"LastName": "Twice", KEY: "k-2"},
        {"LastName": "Twice", KEY: "K-2"},  # the same value twice in one call: both fail
        {"LastName": "Keyless", KEY: ""},
    ]


def test_a_batch_upsert_looks_each_value_up_once_with_the_same_results(
    metadata_dir: Path,
) -> None:
    looked_twice = _org(metadata_dir)
    with _lookups(looked_twice) as outside:
        expected = _upsert(looked_twice, _records(), grouped=False)
    grouped = _org(metadata_dir)
    with _lookups(grouped) as inside:
        assert _upsert(grouped, _records(), grouped=True) == expected
    assert expected[0] == {"success": True, "created": False, "errors": []}
    assert expected[1] == {"success": True, "created": True, "errors": []}
    assert [r["errors"] for r in expected[2:]] == [
        ["DUPLICATE_EXTERNAL_ID"],
        ["DUPLICATE_EXTERNAL_ID"],
        ["MISSING_ARGUMENT"],
    ]
    # Outside a transaction: the match, then a check for the insert and one for the update.
    assert len(outside) == 3
    # In a Bulk API batch: the match; the update's check follows the insert, so it looks again.
    assert len(inside) == 2
    assert grouped.query(f"SELECT LastName, {KEY} FROM Contact ORDER BY {KEY}") == (
        looked_twice.query(f"SELECT LastName, {KEY} FROM Contact ORDER BY {KEY}")
    )


def test_inserts_only_are_looked_up_once(metadata_dir: Path) -> None:
    org = _org(metadata_dir)
    records = [{"LastName": f"N{n}", KEY: f"key-{n}"} for n in range(700)]
    with _lookups(org) as seen:
        results = _upsert(org, records, grouped=True)
    assert all(r["success"] and r["created"] for r in results)
    assert len(seen) == 2  # the match, in two chunks of at most 500 values; no second look
    assert org.count("Contact") == 701


def _clashing_trigger(org: Org) -> Callable[[TriggerContext], None]:
    done: list[bool] = []

    def before_insert(ctx: TriggerContext) -> None:
        if done:
            return
        done.append(True)  # another record takes k-1 after the match read it was free
        org.dml.insert("Contact", [{"LastName": "Sneaked in", KEY: "k-1"}], WriteContext())

    return before_insert


def test_a_record_written_after_the_match_is_still_a_clash(metadata_dir: Path) -> None:
    outcomes = []
    for grouped in (False, True):
        org = _org(metadata_dir)
        org.control.add_trigger("Contact", "before insert", _clashing_trigger(org))
        with _lookups(org) as seen:
            outcomes.append(_upsert(org, [{"LastName": "New", KEY: "k-1"}], grouped=grouped))
        assert len(seen) >= 2  # the record changed: the check looked again
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0]["errors"] == ["DUPLICATE_VALUE"]


def test_records_of_several_shapes_in_one_call(metadata_dir: Path) -> None:
    org = _org(metadata_dir)
    records: list[dict[str, Any]] = [
        {"LastName": "Lower key", KEY.lower(): "k-0"},  # the field spelled in lower case
        {KEY.upper(): "k-5", "LastName": "Upper key first"},
        {"LastName": "Third shape", KEY: "k-6", "Email": "third@example.com"},
        {"LastName": "No key at all"},
    ]
    results = _upsert(org, records, grouped=True)
    assert [(r["success"], r["created"], r["errors"]) for r in results] == [
        (True, False, []),
        (True, True, []),
        (True, True, []),
        (False, None, ["MISSING_ARGUMENT"]),
    ]
    rows = org.query(f"SELECT LastName, Email, {KEY} FROM Contact ORDER BY {KEY}")
    assert [(r["LastName"], r["Email"], r[KEY]) for r in rows] == [
        ("Lower key", None, "k-0"),
        ("Upper key first", None, "k-5"),
        ("Third shape", "third@example.com", "k-6"),
    ]


def test_an_upsert_on_id_leaves_the_id_out_of_what_it_writes(metadata_dir: Path) -> None:
    org = _org(metadata_dir)
    known = org.query("SELECT Id FROM Contact")[0]["Id"]
    results = org.dml.upsert(
        "Contact", "Id", [{"id": known, "LastName": "Renamed"}, {"LastName": "Fresh"}]
    )
    assert [(r.success, r.created) for r in results] == [(True, False), (True, True)]
    assert results[0].id == known
    names = sorted(r["LastName"] for r in org.query("SELECT LastName FROM Contact"))
    assert names == ["Fresh", "Renamed"]
