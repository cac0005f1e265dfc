"""Benchmark of the simulated org: ``python -m sf_sim.bench [--rows 100000]``.

Builds an org with ``--rows`` Contacts spread over accounts, then reports:

- store insert throughput (rows/second, one ``executemany`` per 10,000-row transaction);
- SOQL throughput through :func:`sf_sim.soql.run_query` (via the org) and through
  simple-salesforce ``query_all`` (REST paging at 2,000) for a selective query, a full
  scan with ``ORDER BY`` and a parent-relationship query;
- Bulk API 2.0 insert throughput through simple-salesforce;
- peak resident memory of the process.

Figures are printed, never asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable, Sequence

from simple_salesforce.bulk2 import SFBulk2Handler

from cmsf_core.clock import VirtualClock
from sf_sim.activation import Org
from sf_sim.dml import WriteContext

__all__ = ["main"]

QUERIES = {
    "selective": "SELECT Id, LastName, Email FROM Contact WHERE Email = 'c{n}@example.com'",
    "full scan ORDER BY": "SELECT Id, LastName, Email FROM Contact ORDER BY LastName, Id",
    "parent relationship": "SELECT Id, LastName, Account.Name, Owner.Name FROM Contact",
}


def _timed(action: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = action()
    return count, time.perf_counter() - start


def _rate(count: int, seconds: float) -> str:
    return (
        f"{count:>9,} rows in {seconds:7.3f} s = {count / seconds if seconds else 0:>11,.0f} rows/s"
    )


def build(rows: int) -> tuple[Org, float]:
    """An org with ``rows`` Contacts over ``rows // 100`` Accounts; returns it and the insert time."""
    org = Org(clock=VirtualClock())
    accounts = [{"Name": f"Account {i:05d}"} for i in range(max(rows // 100, 1))]
    account_ids = [r.id for r in org.dml.insert("Account", accounts, WriteContext())]
    contacts = [
        {
            "FirstName": f"First{i % 977}",
            "LastName": f"Last{(i * 7919) % rows:06d}",
            "Email": f"c{i}@example.com",
            "AccountId": account_ids[i % len(account_ids)],
        }
        for i in range(rows)
    ]
    start = time.perf_counter()
    for chunk in range(0, rows, 10_000):
        org.dml.insert("Contact", contacts[chunk : chunk + 10_000], WriteContext())
    return org, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(
        prog="python -m sf_sim.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--rows", type=int, default=100_000, help="Contacts in the org (default 100,000)"
    )
    parser.add_argument(
        "--bulk-rows", type=int, default=50_000, help="Rows of the Bulk API 2.0 insert"
    )
    parser.add_argument(
        "--repeat", type=int, default=200, help="Repetitions of the selective query"
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.bulk_rows < 1 or args.repeat < 1:
        parser.error("counts must be positive")
    print(f"sf_sim benchmark: {args.rows:,} Contacts, {args.bulk_rows:,}-row bulk insert")
    org, seconds = build(args.rows)
    print(f"store insert (dml, 10k per transaction): {_rate(args.rows, seconds)}")
    sf = org.client()
    for label, soql in QUERIES.items():
        if label == "selective":

            def engine(soql: str = soql) -> int:
                total = 0
                for n in range(args.repeat):
                    cursor = org.queries.run(soql.format(n=n * 37 % args.rows))
                    total += len(cursor.fetch(2000))
                return total

            def rest(soql: str = soql) -> int:
                return sum(
                    len(sf.query_all(soql.format(n=n * 37 % args.rows))["records"])
                    for n in range(args.repeat)
                )

            org.queries.run(soql.format(n=1)).fetch(1)  # warm the statement cache before timing
            count, engine_s = _timed(engine)
            _, rest_s = _timed(rest)
            print(
                f"{label:<20} run_query : {args.repeat} queries, {count} rows, {args.repeat / engine_s:,.0f} queries/s"
            )
            print(
                f"{label:<20} query_all : {args.repeat} queries, {args.repeat / rest_s:,.0f} queries/s (REST ratio {rest_s / engine_s:.1f}x)"
            )
            continue

        def engine_all(soql: str = soql) -> int:
            cursor = org.queries.run(soql)
            total = 0
            while not cursor.done:
                page = cursor.fetch(2000)
                if not page:
                    break
                total += len(page)
            return total

        count, engine_s = _timed(engine_all)
        rest_count, rest_s = _timed(lambda soql=soql: len(sf.query_all(soql)["records"]))  # type: ignore[misc]
        print(f"{label:<20} run_query : {_rate(count, engine_s)}")
        print(
            f"{label:<20} query_all : {_rate(rest_count, rest_s)} ({rest_count // 2000 + 1} pages, ratio {rest_s / engine_s:.1f}x)"
        )
    records = [
        {"LastName": f"Bulk{i}", "Email": f"bulk{i}@example.com"} for i in range(args.bulk_rows)
    ]
    bulk2 = SFBulk2Handler(sf.session_id, sf.bulk2_url, session=sf.session)

    def bulk_insert() -> int:
        results = bulk2.Contact.insert(records=records, wait=0)
        return sum(int(result["numberRecordsProcessed"]) for result in results)

    _, bulk_s = _timed(bulk_insert)
    print(f"bulk2 insert (simple-salesforce): {_rate(args.bulk_rows, bulk_s)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory (max RSS): {peak / 1024:,.0f} MiB")
    print(f"API calls counted: {org.limits.used():,} of {org.limits.daily_limit:,}")
    org.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
