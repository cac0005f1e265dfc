"""Benchmark of the Salesforce -> Campaign Monitor push: reads per quiet run, writes per change.

``python -m cmsf_core.push_bench`` builds orgs of 10,000 and 100,000 Contacts (a tenth of
them from the web, every one with a title) beside a small Campaign Monitor account, maps
``Title`` to a list's custom field, adds a rule for web Contacts, and runs:

1. a first sync (the push learns every Contact's baseline: one read per 2,000);
2. a sync that applies the new rule (the web Contacts are added to the list);
3. a quiet sync;
4. a sync after 1% of the Contacts changed (half of them a mapped field of a subscribed
   Contact, a quarter their email address, a quarter an opt-out);
5. a quiet sync again.

For each it prints the Salesforce calls made by the push's jobs (``change_capture``,
``subscriber_rules``, ``push``), the Campaign Monitor write requests, and, for the sync
after changes, write requests per changed record. These are counts and ratios, never
timings asserted anywhere; the wall time is shown for orientation only.

Usage: ``python -m cmsf_core.push_bench [--sizes 10000,100000] [--seed N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass

from cmsf_core.clock import VirtualClock
from cmsf_core.runtime import RunReport
from scenarios.world import World, WorldSpec, build_world, engine_for

__all__ = ["PushMeasurement", "main", "measure"]

PUSH_JOBS = ("change_capture", "subscriber_rules", "push")
WEB_SHARE = 10
CHANGED_SHARE = 100


@dataclass
class PushMeasurement:
    """One sync of one org size."""

    contacts: int
    label: str
    push_sf_calls: int
    cm_writes: int
    changed: int
    seconds: float
    pushed: dict[str, int]

    @property
    def writes_per_change(self) -> float | None:
        """Campaign Monitor write requests per changed record (None without changes)."""
        return self.cm_writes / self.changed if self.changed else None


def _world(contacts: int, seed: int) -> World:
    spec = WorldSpec(
        seed=seed,
        clients=1,
        lists_per_client=2,
        subscribers_per_list=50,
        campaigns_per_client=0,
        other_contacts=0,
    )
    world = build_world(spec, clock=VirtualClock())
    rows = [
        {
            "LastName": f"Person {n}",
            "FirstName": "Bench",
            "Email": f"person{n}@bench.example",
            "Title": f"title {n}",
            "LeadSource": "Web" if n % WEB_SHARE == 0 else "Other",
        }
        for n in range(contacts)
    ]
    for start in range(0, len(rows), 2000):
        results = world.org.insert("Contact", rows[start : start + 2000])
        if not all(r.success for r in results):
            raise RuntimeError("the org refused a benchmark Contact")
    return world


def _push_calls(engine: object, report: RunReport) -> int:
    calls = engine.journal.calls(report.run.run_id)  # type: ignore[attr-defined]
    return sum(calls.get(job, {}).get("salesforce", 0) for job in PUSH_JOBS)


def measure(contacts: int, seed: int = 7) -> list[PushMeasurement]:
    """Run the five syncs on an org of ``contacts`` Contacts."""
    world = _world(contacts, seed)
    clock = world.clock
    assert isinstance(clock, VirtualClock)
    engine = engine_for(world)
    engine.connect()
    engine.change_settings({"opt_out_sync": True})
    out: list[PushMeasurement] = []

    def run(label: str, changed: int = 0) -> None:
        clock.advance(hours=1)
        started = time.perf_counter()
        report = engine.sync()
        if report.status != "completed":
            raise RuntimeError(f"{label}: {report.status} ({report.reason})")
        out.append(
            PushMeasurement(
                contacts,
                label,
                _push_calls(engine, report),
                report.calls.get("campaign_monitor_writes", 0),
                changed,
                time.perf_counter() - started,
                dict(report.stats.pushed),
            )
        )

    run("first sync (baselines)")
    list_sf = world.org.query(
        f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{world.summary['lists'][0]}'"
    )[0]["Id"]
    world.org.insert(
        "CMSF_Field_Mapping__c",
        [{"Name": "Title", "List__c": list_sf, "Object__c": "Contact", "Salesforce_Field__c": "Title",
          "CM_Field__c": "website", "Direction__c": "Salesforce To Campaign Monitor"}],
    )  # fmt: skip
    world.org.insert(
        "CMSF_Subscriber_Rule__c",
        [{"Name": "Web", "List__c": list_sf, "Object__c": "Contact",
          "Criteria__c": "LeadSource = 'Web'", "Active__c": True}],
    )  # fmt: skip
    run("rule applied")
    run("quiet")
    changed = contacts // CHANGED_SHARE
    client = world.org.client()
    web = [r["Id"] for r in world.org.query("SELECT Id FROM Contact WHERE LeadSource = 'Web'")]
    titles, emails, opt_outs = (
        web[: changed // 2],
        web[changed // 2 : changed * 3 // 4],
        web[changed * 3 // 4 : changed],
    )
    updates = [{"Id": i, "Title": "changed"} for i in titles]
    updates += [{"Id": i, "Email": f"moved.{i.lower()}@bench.example"} for i in emails]
    updates += [{"Id": i, "HasOptedOutOfEmail": True} for i in opt_outs]
    for start in range(0, len(updates), 200):
        clock.advance(seconds=1)  # separate saves: no bulk change
        client.restful(
            "composite/sobjects",
            method="PATCH",
            json={
                "allOrNone": True,
                "records": [
                    {"attributes": {"type": "Contact"}, **u} for u in updates[start : start + 200]
                ],
            },
        )
    run("after 1% changed", changed=len(updates))
    run("quiet again")
    world.close()
    return out


def main() -> None:
    """Print the measurements as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="Contacts per org, comma separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="Print the measurements as JSON")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.json:
        rows = [
            {**asdict(m), "writes_per_change": m.writes_per_change}
            for size in sizes
            for m in measure(size, args.seed)
        ]
        print(json.dumps(rows, indent=1))
        return
    print(
        f"{'contacts':>9} {'sync':<24} {'push SF calls':>13} {'CM writes':>9} "
        f"{'changed':>8} {'writes/change':>13} {'seconds':>8}"
    )
    for size in sizes:
        for m in measure(size, args.seed):
            per = f"{m.writes_per_change:.3f}" if m.writes_per_change is not None else ""
            print(
                f"{m.contacts:>9,} {m.label:<24} {m.push_sf_calls:>13,} {m.cm_writes:>9,} "
                f"{m.changed:>8,} {per:>13} {m.seconds:>8.1f}"
            )
            detail = ", ".join(f"{k} {v:,}" for k, v in sorted(m.pushed.items()))
            if detail:
                print(f"{'':>9} {'':<24} {detail}")


if __name__ == "__main__":
    main()
