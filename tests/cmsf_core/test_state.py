from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmsf_core.shadow import Shadow, ShadowRow, digest
from cmsf_core.state import Journal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_unfinished_run_is_resumed_with_its_signpost(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    first = journal.open_run(T0)
    journal.close()
    reopened = Journal(tmp_path / "journal.db")
    again = reopened.open_run(T0 + timedelta(minutes=30))
    assert again.run_id == first.run_id
    assert again.signpost == first.signpost
    assert again.resumed


def test_finished_run_is_not_resumed() -> None:
    journal = Journal()
    first = journal.open_run(T0)
    journal.finish_run(first.run_id, "completed", T0 + timedelta(minutes=5))
    second = journal.open_run(T0 + timedelta(hours=1))
    assert second.run_id != first.run_id
    assert not second.resumed
    assert [r.run_id for r in journal.runs()] == [second.run_id, first.run_id]


def test_scopes_and_jobs_are_tracked_per_run() -> None:
    journal = Journal()
    run = journal.open_run(T0)
    journal.start_job(run.run_id, "subscribers", T0)
    journal.mark_scope_done(run.run_id, "subscribers", "list-1")
    assert journal.scope_done(run.run_id, "subscribers", "list-1")
    assert not journal.scope_done(run.run_id, "subscribers", "list-2")
    journal.add_job_counts(run.run_id, "subscribers", read=10, written=4, failures=1)
    journal.finish_job(run.run_id, "subscribers", "completed", T0)
    (row,) = journal.job_runs(run.run_id)
    assert (row["status"], row["records_read"], row["records_written"], row["failures"]) == (
        "completed",
        10,
        4,
        1,
    )


def test_bookmarks_hold_json_and_clear_by_prefix() -> None:
    journal = Journal()
    journal.set_bookmark("subscribers", "list-1:Active", {"date": "2026-01-05 09:00"})
    journal.set_bookmark("subscribers", "list-2:Active", "x")
    assert journal.bookmark("subscribers", "list-1:Active") == {"date": "2026-01-05 09:00"}
    journal.clear_bookmarks("subscribers", "list-1")
    assert journal.bookmark("subscribers", "list-1:Active") is None
    assert journal.bookmark("subscribers", "list-2:Active") == "x"


def test_transaction_rolls_back_bookmark_and_shadow_together() -> None:
    journal = Journal()
    shadow = Shadow(journal)
    with pytest.raises(RuntimeError), journal.transaction():
        journal.set_bookmark("job", "k", 1)
        shadow.record("Obj", [ShadowRow("a", "id1", "d1")])
        raise RuntimeError("crash between writes")
    assert journal.bookmark("job", "k") is None
    assert shadow.count("Obj") == 0


def test_api_calls_add_up_per_job_and_platform() -> None:
    journal = Journal()
    journal.add_calls("r", "config", "salesforce", 3)
    journal.add_calls("r", "config", "salesforce", 2)
    journal.add_calls("r", "config", "campaign_monitor", 7)
    assert journal.calls("r") == {"config": {"salesforce": 5, "campaign_monitor": 7}}


def test_shadow_reports_only_changed_rows_and_never_goes_back_in_time() -> None:
    shadow = Shadow(Journal())
    shadow.record("M", [ShadowRow("k1", "id1", digest({"s": "Active"}), "2026-01-05 10:00")])
    rows = [
        ("k1", digest({"s": "Active"}), "2026-01-05 10:00"),  # unchanged
        ("k1", digest({"s": "Bounced"}), "2026-01-05 09:00"),  # older state
        ("k2", digest({"s": "Active"}), "2026-01-05 10:00"),  # new
    ]
    assert shadow.changed("M", rows) == [rows[2]]
    newer = [("k1", digest({"s": "Unsubscribed"}), "2026-01-05 10:01")]
    assert shadow.changed("M", newer) == newer

    # the rows read already are taken as given: the same answer, the journal not asked
    known = shadow.get("M", ["k1", "k2"])
    reads: list[object] = []
    store_get = shadow.store.get
    shadow.store.get = lambda *args: reads.append(args) or store_get(*args)  # type: ignore[method-assign]
    assert shadow.changed("M", rows, known) == [rows[2]]
    assert shadow.changed("M", newer, known) == newer
    assert reads == []
    assert shadow.changed("M", rows, {}) == rows  # nothing known: every row is new
    assert shadow.changed("M", rows) == [rows[2]] and len(reads) == 1


def test_digest_ignores_key_order() -> None:
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})


def test_a_live_runner_holds_the_journal(tmp_path: Path) -> None:
    import os
    import socket

    from cmsf_core.errors import ConfigError

    journal = Journal(tmp_path / "journal.db")
    journal.db.table("runner_lock").insert(
        {"id": 1, "pid": os.getppid(), "host": socket.gethostname(), "since": T0.isoformat()},
        pk="id",
    )
    with pytest.raises(ConfigError, match="another cmsf run"):
        journal.acquire(T0)


def test_a_dead_runners_lock_is_taken_over(tmp_path: Path) -> None:
    import socket

    journal = Journal(tmp_path / "journal.db")
    journal.db.table("runner_lock").insert(
        {"id": 1, "pid": 2**22 + 12345, "host": socket.gethostname(), "since": T0.isoformat()},
        pk="id",
    )
    journal.acquire(T0)
    journal.release()
    assert journal.db.execute("SELECT count(*) FROM runner_lock").fetchone()[0] == 0
