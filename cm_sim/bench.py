"""Benchmark: ``python -m cm_sim.bench [--subscribers N] [--imports N]``.

Reports, through the in-process httpx transport (the path a test or the engine uses):

* seeding time for the subscriber list (bulk insert),
* requests/second and rows/second of a full paged read (``active.json``, pagesize 1000),
* 1,000-row imports/second and rows/second,
* peak Python memory (tracemalloc) of one more full paged read plus one import.

Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from cm_sim.activation import Account
from cm_sim.seed import SeedSizes, seed_account

__all__ = ["main", "run"]


def run(subscribers: int = 100_000, imports: int = 20) -> dict[str, float]:
    """Run the benchmark and return its figures."""
    account = Account(seed=42)
    t0 = time.perf_counter()
    summary = seed_account(account, SeedSizes(clients=1, lists_per_client=1, subscribers_per_list=subscribers,
                                              campaigns_per_client=0, all_active=True))  # fmt: skip
    seed_s = time.perf_counter() - t0
    list_id = summary["lists"][0]
    account.set_rate_limit(None)
    rows = requests = 0
    with account.client() as http:
        t0 = time.perf_counter()
        page, pages = 1, 1
        while page <= pages:
            body = http.get(
                f"/lists/{list_id}/active.json", params={"page": page, "pagesize": 1000}
            ).json()
            rows += body["RecordsOnThisPage"]
            pages = body["NumberOfPages"]
            requests += 1
            page += 1
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(imports):
            batch = [{"EmailAddress": f"import{i}.{j}@bench.example", "Name": f"Row {j}", "ConsentToTrack": "Yes",
                      "CustomFields": [{"Key": "age", "Value": str(20 + j % 50)}]} for j in range(1000)]  # fmt: skip
            response = http.post(
                f"/subscribers/{list_id}/import.json",
                json={"Subscribers": batch, "Resubscribe": False},
            )
            response.raise_for_status()
        import_s = time.perf_counter() - t0
        tracemalloc.start()
        page, pages = 1, 1
        while page <= pages:
            pages = http.get(
                f"/lists/{list_id}/active.json", params={"page": page, "pagesize": 1000}
            ).json()["NumberOfPages"]
            page += 1
        batch = [
            {"EmailAddress": f"peak.{j}@bench.example", "ConsentToTrack": "Yes"}
            for j in range(1000)
        ]
        http.post(f"/subscribers/{list_id}/import.json", json={"Subscribers": batch})
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "subscribers": float(subscribers), "seed_seconds": seed_s, "read_requests": float(requests),
        "read_rows": float(rows), "read_requests_per_s": requests / read_s, "read_rows_per_s": rows / read_s,
        "imports": float(imports), "imports_per_s": imports / import_s, "import_rows_per_s": 1000 * imports / import_s,
        "peak_mib": peak / 2**20,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m cm_sim.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--subscribers", type=int, default=100_000, help="subscribers in the list (default 100000)"
    )
    parser.add_argument(
        "--imports", type=int, default=20, help="1,000-row imports to time (default 20)"
    )
    args = parser.parse_args(argv)
    r = run(args.subscribers, args.imports)
    print(f"seeded {int(r['subscribers']):,} subscribers in {r['seed_seconds']:.1f} s")
    print(f"paged read: {int(r['read_requests'])} requests, {int(r['read_rows']):,} rows, "
          f"{r['read_requests_per_s']:.1f} requests/s, {r['read_rows_per_s']:,.0f} rows/s")  # fmt: skip
    print(f"imports: {int(r['imports'])} x 1,000 rows, {r['imports_per_s']:.2f} imports/s, "
          f"{r['import_rows_per_s']:,.0f} rows/s")  # fmt: skip
    print(f"peak memory (tracemalloc, full read + one import): {r['peak_mib']:.1f} MiB")


if __name__ == "__main__":
    main()
