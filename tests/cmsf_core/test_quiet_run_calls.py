"""A quiet run's Salesforce calls are counted, so that no job's reads creep back in.

An hourly sync that finds nothing to do still spends calls of the org's daily API
allowance (24 runs a day). Each job's reads of a quiet run are batched or skipped where
they can be; these tests pin the count the org sees (its request log, every request), on
a small world with every optional job on.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.world import World

QUIET_RUN_CALLS = 29
"""Salesforce requests of a quiet run of this world (two clients, four linked campaigns,
every job on). It was 35 before the campaign members job read its campaigns' new activity
in one batch (4 -> 1), the relink job its Contacts and Leads (2 -> 1), the email opt-out
job who is due among Contacts and Leads (2 -> 1), and the run reused the settings the
engine read to choose its login (2 -> 1)."""


def _requests(world: World) -> list[str]:
    # the SOAP login is no API call (it does not count against the daily allowance)
    return [
        f"{e.method} {e.path}"
        for e in world.org.control.request_log
        if not e.path.startswith("/services/Soap/")
    ]


def test_a_quiet_run_makes_no_more_salesforce_calls_than_pinned(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    assert engine.sync().status == "completed"
    clock.advance(timedelta(hours=1))
    assert engine.sync().status == "completed"  # reads back the first run's own writes
    clock.advance(timedelta(hours=1))
    world.org.control.request_log.clear()
    quiet = engine.sync()
    assert quiet.status == "completed"
    assert not sum(quiet.stats.written.values())
    seen = _requests(world)
    by_job = engine.journal.calls(quiet.run.run_id)
    assert len(seen) <= QUIET_RUN_CALLS, (len(seen), Counter(seen), by_job)
    # the run's own count (its report, and the journal's per job) is what the org saw
    assert quiet.calls["salesforce"] == len(seen)
    assert sum(c.get("salesforce", 0) for c in by_job.values()) == len(seen)


def test_a_batch_of_reads_counts_one_call_toward_the_read_floor(
    world: World, engine: Engine
) -> None:
    from sf_sim.dml import WriteContext

    contacts = [{"LastName": f"Many{i}"} for i in range(2001)]
    world.org.dml.insert("Contact", contacts, WriteContext(system=True, triggers=False))
    gateway = engine.gateway()
    results = gateway.query_batch(
        [
            # its totalSize is a count over one page's limit, not rows to page through
            ("SELECT COUNT() FROM Contact", False),
            ("SELECT Id FROM Contact LIMIT 5", False),
        ]
    )
    assert results[0].total > 2000 and list(results[1].records())
    assert gateway.calls == 1 and gateway.read_floor == 1
