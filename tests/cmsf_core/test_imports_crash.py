"""An import killed between any two API calls, then run again, imports nothing twice.

The import reads a list view of 35 Contacts in batches of 10 (``imports`` governor limit)
with "replace subscribers on list". The run is killed before its k-th API call (every
third one, to either platform), or after Campaign Monitor applied an import but before its answer
arrived; the next run resumes it. Every import request that reached Campaign Monitor is
recorded: across the killed run and the rerun, each address is imported exactly once,
and the list ends as after an unbroken run.
"""

from __future__ import annotations

import json
from dataclasses import replace as with_changes

import pytest

from cmsf_core.engine import Engine
from cmsf_core.jobs.imports import ImportSelection
from tests.cmsf_core.import_support import SPEC, Imports, make_imports
from tests.cmsf_core.test_push_crash import Crash, Killer, Recorder, make_engine

ROWS = 35


def _setup() -> tuple[Imports, str]:
    imports = make_imports(
        {"governor_limits": {"imports": 10}}, spec=with_changes(SPEC, subscribers_per_list=6)
    )
    imports.contacts(ROWS, "crash")
    import_id = imports.create("ListView", imports.list_view("crash"), replace=True)
    return imports, import_id


def _engine(imports: Imports, killer: Killer, recorder: Recorder) -> Engine:
    """The push crash test's engine (the sync user owns the import: no other login)."""
    return make_engine(imports.world, imports.engine.journal, killer, recorder)


def _imported(sink: list[tuple[str, str, str, bytes]]) -> list[str]:
    """Every address an import request carried, in order."""
    out = []
    for method, path, _, body in sink:
        if method == "POST" and path.endswith("/import.json"):
            out += [s["EmailAddress"] for s in json.loads(body)["Subscribers"]]
    return out


def _unbroken() -> tuple[int, set[str], set[str]]:
    imports, import_id = _setup()
    try:
        sink: list[tuple[str, str, str, bytes]] = []
        killer = Killer(None)
        engine = _engine(imports, killer, Recorder(imports.account.transport(), sink))
        assert engine.run_imports(ImportSelection(ids=(import_id,))).status == "completed"
        return killer.calls, imports.emails("Active"), imports.emails("Deleted")
    finally:
        imports.close()


UNBROKEN = _unbroken()


@pytest.mark.parametrize("at", range(1, UNBROKEN[0] + 1, 3), ids=lambda k: f"kill-before-{k}")
def test_a_killed_import_resumes_without_importing_twice(at: int) -> None:
    _check(at=at, die_after=None)


def test_a_crash_after_campaign_monitor_applied_an_import_sends_it_once() -> None:
    _check(at=None, die_after="/import.json")


def _check(*, at: int | None, die_after: str | None) -> None:
    imports, import_id = _setup()
    try:
        sink: list[tuple[str, str, str, bytes]] = []
        recorder = Recorder(imports.account.transport(), sink)
        recorder.die_after = die_after
        with pytest.raises(Crash):
            _engine(imports, Killer(at), recorder).run_imports(ImportSelection(ids=(import_id,)))
        report = _engine(imports, Killer(None), recorder).run_imports(
            ImportSelection(ids=(import_id,))
        )
        assert report.status == "completed", report.reason
        addresses = _imported(sink)
        assert sorted(addresses) == sorted({f"crash{n}@example.org" for n in range(ROWS)})
        _, active, deleted = UNBROKEN
        assert imports.emails("Active") == active
        assert imports.emails("Deleted") == deleted
        record = imports.record(import_id)
        assert record["Last_Status__c"] == "Completed" and record["Rows_Read__c"] == ROWS
    finally:
        imports.close()
