"""Benchmark of the import wizard: calls per import and memory at 10,000 and 100,000 rows.

``python -m cmsf_core.import_bench`` builds orgs of 10,000 and 100,000 Contacts beside a
small Campaign Monitor account, saves a Contact list view of all of them and an import of it
into one list, and runs the import once (``cmsf import run``). For each size it prints:

- the Campaign Monitor import requests against the minimum (rows / 1,000);
- the Salesforce calls the import made reading its source as its owner against the page
  minimum (the ``ListView`` lookup, the describe, and one query page per 2,000 rows);
- the peak Python memory of the run (``tracemalloc``; the simulators run in the same
  process, so this bounds both) — flat when rows stream page by page;
- the wall time, for orientation only (nothing asserts a timing).

Usage: ``python -m cmsf_core.import_bench [--sizes 10000,100000] [--seed N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path

from cmsf_core.clock import VirtualClock
from cmsf_core.jobs.imports import ImportSelection
from cmsf_core.state import Journal
from scenarios.world import WorldSpec, build_world, engine_for

__all__ = ["ImportMeasurement", "main", "measure"]

PAGE = 2000
IMPORT_SIZE = 1000


@dataclass
class ImportMeasurement:
    """One import of one org size."""

    rows: int
    imported: int
    cm_import_calls: int
    cm_import_minimum: int
    sf_calls: int
    sf_minimum: int
    peak_mib: float
    seconds: float


def measure(rows: int, seed: int = 5) -> ImportMeasurement:
    """Import a list view of ``rows`` Contacts once and measure it."""
    spec = WorldSpec(seed=seed, clients=1, lists_per_client=1, subscribers_per_list=20,
                     campaigns_per_client=0, other_contacts=0)  # fmt: skip
    clock = VirtualClock()
    world = build_world(spec, clock=clock)
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal(Path(folder) / "journal.db")
        try:
            engine = engine_for(world, journal)
            engine.connect()
            clock.advance(hours=1)
            if engine.sync().status != "completed":
                raise RuntimeError("the first sync did not complete")
            records = [
                {"FirstName": "Bench", "LastName": f"Person {n}",
                 "Email": f"person{n}@bench.example", "Title": f"title {n % 50}"}
                for n in range(rows)
            ]  # fmt: skip
            for start in range(0, rows, PAGE):
                if not all(
                    r.success for r in world.org.insert("Contact", records[start : start + PAGE])
                ):
                    raise RuntimeError("the org refused a benchmark Contact")
            del records
            view = world.org.list_views.create(
                "Contact", "Bench", columns=["Email", "FirstName", "LastName", "Title"],
                conditions=[{"field": "Email", "operator": "like", "values": ["%@bench.example"]}],
            )  # fmt: skip
            list_sf = world.org.query("SELECT Id FROM CMSF_List__c LIMIT 1")[0]["Id"]
            import_id = world.org.create(
                "CMSF_Import__c",
                {"Name": "Bench", "List__c": list_sf, "Source_Type__c": "ListView",
                 "Source__c": view,
                 "Mappings__c": json.dumps({"Email": "EmailAddress", "Title": "website"})},
            )  # fmt: skip
            before = world.account.api_call_count("/import.json", "POST")
            tracemalloc.start()
            started = time.perf_counter()
            report = engine.run_imports(ImportSelection(ids=(import_id,)))
            seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            if report.status != "completed":
                raise RuntimeError(f"the import ended {report.status}: {report.reason}")
            counts = report.counts["Bench"]
            return ImportMeasurement(
                rows=int(counts["rows read"]),
                imported=int(counts["imported"] + counts["updated"]),
                cm_import_calls=world.account.api_call_count("/import.json", "POST") - before,
                cm_import_minimum=math.ceil(rows / IMPORT_SIZE),
                sf_calls=int(counts["salesforce calls"]),
                sf_minimum=2 + math.ceil(rows / PAGE),
                peak_mib=peak / 2**20,
                seconds=seconds,
            )
        finally:
            journal.close()
            world.close()


def main() -> None:
    """Print the measurements as a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="Contacts per org, comma separated")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print the measurements as JSON")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = [measure(size, args.seed) for size in sizes]
    if args.json:
        print(json.dumps([asdict(m) for m in results], indent=1))
        return
    print(
        f"{'rows':>8} {'imported':>9} {'CM imports (min)':>17} {'SF calls (min)':>15} "
        f"{'peak MiB':>9} {'seconds':>8}"
    )
    for m in results:
        print(
            f"{m.rows:>8,} {m.imported:>9,} {f'{m.cm_import_calls} ({m.cm_import_minimum})':>17} "
            f"{f'{m.sf_calls} ({m.sf_minimum})':>15} {m.peak_mib:>9.1f} {m.seconds:>8.1f}"
        )


if __name__ == "__main__":
    main()
