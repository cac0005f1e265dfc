"""``python -m scenarios.bench``: how fast the catalogue plays, in one process.

Plays every catalogue scenario (known issues included) one after the other and reports,
per scenario, the virtual time covered, the wall time taken and their ratio, the sync
runs and API calls, then totals and the process's peak memory. Figures, not assertions:
the test suite never times anything.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass

from scenarios.catalogue import scenario_paths
from scenarios.loader import load_scenario
from scenarios.runner import run_scenario
from scenarios.spec import parse_duration

__all__ = ["BenchRow", "bench", "main"]


@dataclass(frozen=True)
class BenchRow:
    """One scenario's figures."""

    name: str
    passed: bool
    virtual_seconds: float
    wall_seconds: float
    runs: int
    api_calls: int

    @property
    def speedup(self) -> float:
        """Virtual seconds played per wall second."""
        return self.virtual_seconds / self.wall_seconds if self.wall_seconds else 0.0


def bench() -> list[BenchRow]:
    """Play the catalogue and measure each scenario."""
    rows = []
    for path in scenario_paths():
        scenario = load_scenario(path)
        started = time.perf_counter()
        result = run_scenario(scenario)
        wall = time.perf_counter() - started
        rows.append(
            BenchRow(
                name=scenario.name,
                passed=result.passed,
                virtual_seconds=parse_duration(result.duration).total_seconds(),
                wall_seconds=wall,
                runs=len(result.runs),
                api_calls=sum(
                    r.calls.get("salesforce", 0) + r.calls.get("campaign_monitor", 0)
                    for r in result.runs
                ),
            )
        )
    return rows


def main() -> None:
    """Print the figures as a table."""
    rows = bench()
    print(
        f"{'scenario':<36} {'ok':<3} {'virtual h':>9} {'wall s':>7} {'x faster':>9} {'runs':>4} {'calls':>6}"
    )
    for row in rows:
        print(
            f"{row.name:<36} {'yes' if row.passed else 'no':<3} {row.virtual_seconds / 3600:>9.1f} "
            f"{row.wall_seconds:>7.2f} {row.speedup:>9,.0f} {row.runs:>4} {row.api_calls:>6}"
        )
    wall = sum(r.wall_seconds for r in rows)
    runs = sum(r.runs for r in rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n{len(rows)} scenarios, {runs} sync runs, "
        f"{sum(r.api_calls for r in rows):,} API calls in {wall:.1f} s wall "
        f"({runs / wall:.1f} runs/s, {sum(r.virtual_seconds for r in rows) / 3600 / wall:,.0f} "
        f"virtual hours per wall second); peak memory {peak:,.0f} MB"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
