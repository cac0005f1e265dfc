"""Benchmark of transactional sends: API calls per send, at growing queue sizes.

``python -m cmsf_core.tx_bench`` builds, for each size N, an org of N Contacts of one
Account beside a small Campaign Monitor account, a smart email with two variables
(``FirstName`` and the parent field ``Account.Name``) and a mapping that records Tasks,
then queues a send for every Contact in one save (a Flow over a data load: one bulk
request) and runs:

1. a sync that sends them all (batches of ``smart_email_sends``);
2. a quiet sync (nothing left to send).

For each it prints the Salesforce and Campaign Monitor calls of the ``smart_email_sends``
job, Salesforce calls per 100 sends, Campaign Monitor write requests per send, Tasks
made and whether the process record is done. Counts and ratios, never timings asserted
anywhere; the wall time is shown for orientation only.

Usage: ``python -m cmsf_core.tx_bench [--sizes 1000,10000] [--seed N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass

from cmsf_core.clock import VirtualClock
from scenarios.world import World, WorldSpec, build_world, engine_for

__all__ = ["SendMeasurement", "main", "measure"]

JOB = "smart_email_sends"


@dataclass
class SendMeasurement:
    """One sync of one queue size."""

    queued: int
    label: str
    sent: int
    job_sf_calls: int
    job_cm_calls: int
    cm_writes: int
    tasks: int
    process_done: bool
    seconds: float

    @property
    def sf_calls_per_100(self) -> float | None:
        """Salesforce calls of the job per 100 sends (None when nothing was sent)."""
        return round(100 * self.job_sf_calls / self.sent, 2) if self.sent else None

    @property
    def cm_writes_per_send(self) -> float | None:
        """Campaign Monitor write requests per send (None when nothing was sent)."""
        return round(self.cm_writes / self.sent, 3) if self.sent else None


def _world(queued: int, seed: int, clock: VirtualClock) -> World:
    spec = WorldSpec(
        seed=seed, clients=1, lists_per_client=1, subscribers_per_list=10,
        campaigns_per_client=0, other_contacts=0,
    )  # fmt: skip
    world = build_world(spec, clock=clock)
    client = str(world.summary["clients"][0])
    world.account.create_smart_email(client, "Bench receipt", variables=["firstname", "company"])
    account = world.org.insert("Account", [{"Name": "Bench Ltd"}])[0].id
    rows = [
        {"LastName": f"Person {n}", "FirstName": f"P{n}", "Email": f"person{n}@tx-bench.example",
         "AccountId": account}
        for n in range(queued)
    ]  # fmt: skip
    for start in range(0, len(rows), 2000):
        results = world.org.insert("Contact", rows[start : start + 2000])
        if not all(r.success for r in results):
            raise RuntimeError("the org refused a benchmark Contact")
    return world


def measure(queued: int, seed: int = 7) -> list[SendMeasurement]:
    """Queue ``queued`` sends in one save and sync twice; what each sync's sends job cost."""
    clock = VirtualClock()
    world = _world(queued, seed, clock)
    try:
        engine = engine_for(world)
        engine.connect()
        clock.advance(minutes=5)
        assert engine.sync().status == "completed"  # the smart email reaches Salesforce
        org = world.org
        smart = org.query("SELECT Id FROM CMSF_Smart_Email__c WHERE Name = 'Bench receipt'")
        mapping = org.insert(
            "CMSF_Smart_Email_Mapping__c",
            [{"Name": "Bench", "Smart_Email__c": smart[0]["Id"], "Root_Object__c": "Contact",
              "Recipient_Field__c": "Email", "Create_Task__c": True,
              "Variable_Map__c": json.dumps({"firstname": "FirstName", "company": "Account.Name"})}],
        )[0].id  # fmt: skip
        people = org.query("SELECT Id FROM Contact WHERE Email LIKE '%@tx-bench.example'")
        items = [{"Type__c": "Smart Email", "Record_Id__c": p["Id"], "Smart_Email_Mapping__c": mapping}
                 for p in people]  # fmt: skip
        results = org.insert("CMSF_Queue_Item__c", items)  # one save: one bulk request
        if not all(r.success for r in results):
            raise RuntimeError("the org refused a benchmark queue item")
        out = []
        for label in ("sends", "quiet"):
            clock.advance(hours=1)
            before = world.account.api_call_count(method="POST")
            started = time.monotonic()
            report = engine.sync()
            seconds = time.monotonic() - started
            if report.status != "completed":
                raise RuntimeError(f"the {label} sync ended {report.status}: {report.reason}")
            job = engine.journal.calls(report.run.run_id).get(JOB, {})
            process = org.query("SELECT Status__c FROM CMSF_Process__c")
            out.append(
                SendMeasurement(
                    queued=queued,
                    label=label,
                    sent=int(report.stats.pushed.get("smart emails sent", 0)),
                    job_sf_calls=int(job.get("salesforce", 0)),
                    job_cm_calls=int(job.get("campaign_monitor", 0)),
                    cm_writes=world.account.api_call_count(method="POST") - before,
                    tasks=org.count("Task"),
                    process_done=[p["Status__c"] for p in process] == ["Done"],
                    seconds=round(seconds, 2),
                )
            )
        return out
    finally:
        world.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m cmsf_core.tx_bench", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="Queued sends, comma-separated.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON.")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    if not sizes or any(not 1 <= s <= 200_000 for s in sizes):
        parser.error("--sizes must be between 1 and 200,000")
    rows = [row for size in sizes for row in measure(size, args.seed)]
    if args.json:
        print(json.dumps([
            asdict(r) | {"sf_calls_per_100": r.sf_calls_per_100, "cm_writes_per_send": r.cm_writes_per_send}
            for r in rows
        ], indent=2))  # fmt: skip
        return 0
    print(f"{'queued':>8} {'sync':<6} {'sent':>7} {'SF calls':>9} {'per 100':>8} "
          f"{'CM calls':>9} {'CM writes/send':>15} {'Tasks':>7} {'process':>8} {'wall s':>7}")  # fmt: skip
    for r in rows:
        print(f"{r.queued:>8,} {r.label:<6} {r.sent:>7,} {r.job_sf_calls:>9,} "
              f"{(r.sf_calls_per_100 if r.sf_calls_per_100 is not None else '-')!s:>8} "
              f"{r.job_cm_calls:>9,} {(r.cm_writes_per_send if r.cm_writes_per_send is not None else '-')!s:>15} "
              f"{r.tasks:>7,} {'done' if r.process_done else '-':>8} {r.seconds:>7}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
