"""Benchmark of the primary sync: API calls against their minimum, time and peak memory.

``python -m cmsf_core.bench`` builds worlds of 10,000 and 100,000 subscribers (with sent
campaigns and their activity, and an org whose Contacts and Leads share half the
addresses), runs a first sync and a quiet second sync on each, and prints:

- API calls to each platform, and the minimum the page and batch sizes allow for the data
  moved (Campaign Monitor: one call per page of 1,000 per paged read, plus one per
  detail read; Salesforce: six calls per Bulk 2.0 batch of records written, plus one per
  2,000 records read), with their ratio;
- wall time of each sync (on this machine; a figure, never an assertion);
- peak Python memory of the engine during the sync (tracemalloc in this process; the
  simulators run as ``sf-sim serve`` and ``cm-sim serve`` processes and are reached over
  HTTPS), which must not grow with the account: pages are streamed and batches bounded.

Usage: ``python -m cmsf_core.bench [--sizes 10000,100000] [--seed N]``.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmsf_core.clock import SystemClock
from cmsf_core.connection import CampaignMonitorCredentials, Connection, SalesforceCredentials
from cmsf_core.platforms import open_engine
from cmsf_core.runtime import RunReport
from cmsf_core.settings import DEFAULT_LIMITS

__all__ = ["Measurement", "main", "measure"]

PAGE = 1000
COLLECTION = 200
BULK_JOB_CALLS = 6


@dataclass
class Measurement:
    """One sync of one world size."""

    subscribers: int
    label: str
    seconds: float
    peak_mib: float
    report: RunReport
    minimum: dict[str, int]

    def ratio(self, platform: str) -> float:
        """Actual calls over the minimum for ``platform``."""
        return self.report.calls.get(platform, 0) / max(1, self.minimum[platform])


def _pages(rows: int) -> int:
    return max(1, math.ceil(rows / PAGE))


def _writes(records: int) -> int:
    if records == 0:
        return 0
    if records > DEFAULT_LIMITS["bulk_threshold"]:
        return BULK_JOB_CALLS * math.ceil(records / DEFAULT_LIMITS["subscribers"])
    return math.ceil(records / COLLECTION)


def minimum_calls(world: Any, report: RunReport, *, first: bool = True) -> dict[str, int]:
    """The fewest calls that could move what ``report`` moved, given page and batch sizes.

    For a first sync every paged read is read whole; for a later sync each date-filtered
    read is one page at least, and activity that did not move needs no read at all.
    """
    http = world.account.client()
    cm = 2  # clients, administrators
    for client in http.get("/clients.json").json():
        cid = client["ClientID"]
        cm += 4  # details, lists, people, smart emails
        for lst in http.get(f"/clients/{cid}/lists.json").json():
            lid = lst["ListID"]
            cm += 3  # details, custom fields, stats
            for endpoint in ("active", "unconfirmed", "unsubscribed", "bounced", "deleted"):
                total = http.get(f"/lists/{lid}/{endpoint}.json", params={"pagesize": 10}).json()
                cm += _pages(int(total["TotalNumberOfRecords"])) if first else 1
        campaigns = http.get(f"/clients/{cid}/campaigns.json", params={"pagesize": 10}).json()
        cm += _pages(int(campaigns["TotalNumberOfRecords"]))
        for row in campaigns["Results"]:
            cm += 1  # summary
            if not first:
                continue  # counters that did not move need no activity read
            for endpoint in ("recipients", "opens", "clicks", "bounces", "unsubscribes", "spam"):
                body = http.get(
                    f"/campaigns/{row['CampaignID']}/{endpoint}.json", params={"pagesize": 10}
                ).json()
                cm += _pages(int(body["TotalNumberOfRecords"]))
        smart = http.get("/transactional/smartEmail", params={"clientID": cid}).json()
        cm += len(smart)
    sf = 4  # settings, limits, organization, directory
    for count in report.stats.written.values():
        sf += _writes(count)
    if first:
        sf += math.ceil(world.org.count("Contact") / 2000) + math.ceil(
            world.org.count("Lead") / 2000
        )
    return {"campaign_monitor": cm, "salesforce": sf}


def measure(subscribers: int, *, seed: int = 7) -> list[Measurement]:
    """Build a world of ``subscribers``, serve it, and measure a first and a quiet second sync.

    The simulators run as ``sf-sim serve`` and ``cm-sim serve`` processes and the engine
    reaches them over HTTPS, as it would real platforms, so the peak memory measured here
    (tracemalloc, this process only) is the engine's own.
    """
    from scenarios.served import serve_world
    from scenarios.world import EVERY_OPTION, WorldSpec, build_world, open_world

    lists = 2
    spec = WorldSpec(
        seed=seed,
        kind="direct",
        clients=1,
        lists_per_client=lists,
        subscribers_per_list=subscribers // lists,
        campaigns_per_client=2,
        days=30,
        other_contacts=0,
    )
    out = []
    with tempfile.TemporaryDirectory(prefix="cmsf-bench-") as tmp:
        work = Path(tmp)
        org_db, account_db = work / "org.db", work / "account.db"
        build_world(spec, clock=SystemClock(), org_path=org_db, account_path=account_db).close()
        reports = []
        with serve_world(org_db, account_db, work) as served:
            os.environ["REQUESTS_CA_BUNDLE"] = served.sf_ca_file
            connection = Connection(
                mode="real",
                journal=work / "journal.db",
                salesforce=SalesforceCredentials(
                    instance_url=served.instance_url, session_id=served.session_id
                ),
                campaign_monitor=CampaignMonitorCredentials(
                    api_key=served.cm_api_key,
                    base_url=served.cm_base_url,
                    ca_file=served.cm_ca_file,
                ),
            )
            opened = open_engine(connection, clock=SystemClock())
            opened.engine.connect(test_account=True)
            opened.engine.change_settings(EVERY_OPTION)
            for label in ("first sync", "quiet second sync"):
                tracemalloc.start()
                started = time.perf_counter()
                report = opened.engine.sync()
                seconds = time.perf_counter() - started
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                reports.append((label, report, seconds, peak))
            opened.close()
        world = open_world(org_db, account_db, clock=SystemClock())
        for label, report, seconds, peak in reports:
            out.append(
                Measurement(
                    subscribers=subscribers,
                    label=label,
                    seconds=seconds,
                    peak_mib=peak / 1024 / 1024,
                    report=report,
                    minimum=minimum_calls(world, report, first=label == "first sync"),
                )
            )
        world.close()
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated subscriber counts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    header = (
        f"{'subscribers':>11}  {'sync':<18} {'status':<10} {'SF calls':>8} {'SF min':>7} {'ratio':>6} "
        f"{'CM calls':>8} {'CM min':>7} {'ratio':>6} {'records written':>15} {'seconds':>8} {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in sizes:
        for m in measure(size, seed=args.seed):
            written = sum(m.report.stats.written.values())
            print(
                f"{m.subscribers:>11,}  {m.label:<18} {m.report.status:<10} "
                f"{m.report.calls['salesforce']:>8,} {m.minimum['salesforce']:>7,} {m.ratio('salesforce'):>6.2f} "
                f"{m.report.calls['campaign_monitor']:>8,} {m.minimum['campaign_monitor']:>7,} "
                f"{m.ratio('campaign_monitor'):>6.2f} {written:>15,} {m.seconds:>8.1f} {m.peak_mib:>8.1f}"
            )


if __name__ == "__main__":
    main()
