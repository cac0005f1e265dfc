"""Benchmark of the primary sync: per-process CPU and memory, syncs to disk, calls against the floor.

``python -m cmsf_core.bench`` builds worlds of 10,000 and 100,000 subscribers (with sent
campaigns and their activity, and an org whose Contacts and Leads share half the
addresses), serves each with ``sf-sim serve`` and ``cm-sim serve`` processes, and runs a
first sync, a second and a quiet third sync with ``cmsf sync --json`` in a process of its own,
reaching the simulators over HTTPS as it would real platforms. For each sync it prints,
per process (engine, sf_sim, cm_sim):

- **CPU seconds** (user + system, from the kernel: ``wait4`` for the engine, ``/proc`` for
  the simulators). CPU time is what a loaded machine does not distort; wall time is
  printed too, as a figure of this machine at that moment;
- **peak RSS** (the kernel's high-water mark: ``ru_maxrss`` for the engine, ``VmHWM``
  reset before each sync for the simulators). Nothing is traced in Python, so measuring
  memory costs the processes nothing (tracemalloc would make the engine several times
  slower; it is not used);
- the engine's **fsync/fdatasync** calls (counted by ``strace`` when it is installed and
  ``--no-strace`` is not given; ``-`` otherwise);
- **API calls** to each platform against their **floor**: Campaign Monitor, one call per
  page of 1,000 per paged read plus one per detail read; Salesforce, every distinct read
  the sync made, once, at the platform's largest page of 2,000 records (a read repeated,
  or paged smaller, is above the floor), plus the writes the platform's limits need for
  the records written: one Bulk API 2.0 job (create, upload, close, poll, results: five
  calls) per 100 MB of CSV per object above ``bulk_threshold``, else one sObject
  Collections call per 200 records (one at least per object written).

Usage: ``python -m cmsf_core.bench [--sizes 10000,100000] [--seed N] [--no-strace]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cmsf_core.clock import SystemClock, VirtualClock
from cmsf_core.connection import CampaignMonitorCredentials, Connection, SalesforceCredentials
from cmsf_core.platforms import open_engine
from cmsf_core.salesforce import COLLECTION_SIZE
from cmsf_core.salesforce_bulk import JOB_BYTES
from cmsf_core.settings import DEFAULT_LIMITS

__all__ = ["Measurement", "ProcessFigures", "main", "measure", "salesforce_floor"]

PAGE = 1000
QUERY_PAGE = 2000
BULK_JOB_CALLS = 5
"""Calls of one Bulk API 2.0 ingest job at the least: create, upload, close, poll, results."""
SYNCS = ("first sync", "second sync", "quiet third sync")
"""The syncs measured, one after the other. The second reads back what the first wrote
(the People it created, links it changed: the change capture and campaign members see them
changed since their bookmarks); the third finds nothing new: what an hourly run costs."""
WORLD_AGE = timedelta(days=1)
"""How long before the benchmark's syncs the world's records were saved."""
FIXED_READS = 6
"""Settings, limits, organization, and the directory of clients, lists and campaigns."""


@dataclass
class ProcessFigures:
    """What one process spent during one sync."""

    cpu_seconds: float
    peak_rss_mib: float


@dataclass
class Measurement:
    """One sync of one world size."""

    subscribers: int
    label: str
    wall_seconds: float
    report: dict[str, Any]
    processes: dict[str, ProcessFigures]
    syncs: int | None
    floor: dict[str, int] = field(default_factory=dict)

    @property
    def calls(self) -> dict[str, int]:
        """API calls per platform made by the sync."""
        return {k: int(v) for k, v in (self.report.get("calls") or {}).items()}

    @property
    def salesforce_calls_by_job(self) -> dict[str, int]:
        """Salesforce calls of the sync per job (``runtime``: outside jobs), most first."""
        jobs = self.report.get("job_calls") or {}
        counts = {job: int(c.get("salesforce", 0)) for job, c in jobs.items()}
        return dict(sorted(((j, n) for j, n in counts.items() if n), key=lambda x: (-x[1], x[0])))

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of every process together."""
        return sum(p.cpu_seconds for p in self.processes.values())

    def ratio(self, platform: str) -> float:
        """Actual calls over the floor for ``platform``."""
        return self.calls.get(platform, 0) / max(1, self.floor.get(platform, 0))


# ---------------------------------------------------------------------- processes


def _ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK"))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _ticks()


def _reset_peak(pid: int) -> None:
    """Reset a process's peak RSS to its current RSS (Linux ``clear_refs`` 5)."""
    with contextlib.suppress(OSError):  # not permitted: the peak covers the whole life
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _strace() -> str | None:
    return shutil.which("strace")


def _sync_count(path: Path) -> int:
    """fsync + fdatasync calls in an ``strace -c`` summary."""
    total = 0
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[-1] in {"fsync", "fdatasync"}:
            # columns: % time, seconds, usecs/call, calls, [errors], syscall
            total += int(parts[3])
    return total


def _run_engine(
    argv: list[str], env: dict[str, str], trace: Path | None
) -> tuple[dict[str, Any], ProcessFigures, int | None, float]:
    """Run ``cmsf`` as a process; its report, CPU and peak RSS, sync calls, wall seconds."""
    command = [sys.executable, "-m", "cmsf_core.cli", *argv]
    tracer = _strace() if trace is not None else None
    if tracer is not None and trace is not None:
        # seccomp-bpf: the traced process stops only at the syscalls counted, so strace adds
        # next to nothing to the CPU measured (which includes strace's own).
        command = [tracer, "-f", "-qq", "--seccomp-bpf", "-c", "-e", "trace=fsync,fdatasync"]
        command += ["-o", str(trace)]
        command += [sys.executable, "-m", "cmsf_core.cli", *argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # the child's own CPU and peak RSS
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, problems = out.read().decode("utf-8"), err.read().decode("utf-8", "replace")
    try:
        report = json.loads(text)
    except ValueError as exc:
        raise RuntimeError(
            f"cmsf sync gave no report (exit {process.returncode}): {problems[-6000:]}"
        ) from exc
    figures = ProcessFigures(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    syncs = _sync_count(trace) if tracer is not None and trace is not None else None
    return report, figures, syncs, wall


# ---------------------------------------------------------------------- floors


def _pages(rows: int, size: int = PAGE) -> int:
    return max(1, math.ceil(rows / size))


def salesforce_floor(report: dict[str, Any], *, contacts: int, leads: int, first: bool) -> int:
    """The fewest Salesforce calls that could read and write what ``report`` did.

    Reads: the engine's own count of its distinct reads at 2,000 records a page
    (``read_floor``: a read made twice counts once); for a report without it, the settings,
    limits, organization and directory reads plus, on a first sync, every Contact and Lead
    email once. Writes: per object, one Bulk API 2.0 job (five calls) per 100 MB of CSV when
    more records than ``bulk_threshold`` were written, else one call per 200 records.

    Args:
        report: ``cmsf sync --json`` output.
        contacts: Contacts with an email in the org.
        leads: Unconverted Leads with an email.
        first: A first sync (people are read once, whole).
    """
    if "read_floor" in report:
        calls = int(report["read_floor"])
    else:
        calls = FIXED_READS
        if first:
            calls += _pages(contacts, QUERY_PAGE) + _pages(leads, QUERY_PAGE)
    written = report.get("written") or {}
    bulk_bytes = report.get("bulk_bytes") or {}
    for sobject in set(written) | set(report.get("write_calls") or {}):
        count = int(written.get(sobject, 0))
        if count > DEFAULT_LIMITS["bulk_threshold"]:
            jobs = max(1, math.ceil(int(bulk_bytes.get(sobject, 0)) / JOB_BYTES))
            calls += BULK_JOB_CALLS * jobs
        else:
            calls += max(1, math.ceil(count / COLLECTION_SIZE))
    return calls


def campaign_monitor_floor(world: Any, *, first: bool) -> int:
    """The fewest Campaign Monitor calls that read the account (pages of 1,000).

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
                continue
            for endpoint in ("recipients", "opens", "clicks", "bounces", "unsubscribes", "spam"):
                body = http.get(
                    f"/campaigns/{row['CampaignID']}/{endpoint}.json", params={"pagesize": 10}
                ).json()
                cm += _pages(int(body["TotalNumberOfRecords"]))
        smart = http.get("/transactional/smartEmail", params={"clientID": cid}).json()
        cm += len(smart)
    return cm


# ---------------------------------------------------------------------- measuring


def measure(subscribers: int, *, seed: int = 7, trace: bool = True) -> list[Measurement]:
    """Build a world of ``subscribers``, serve it, and measure its three syncs (see SYNCS).

    Args:
        subscribers: Subscribers in the account (two lists).
        seed: The world's seed.
        trace: Count the engine's fsync calls with strace (when installed).
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
    out: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="cmsf-bench-") as tmp:
        work = Path(tmp)
        org_db, account_db, journal = work / "org.db", work / "account.db", work / "journal.db"
        # The world's records were saved a day before the integration connects, as a real
        # org's are: built "now", every record would fall inside the change capture's
        # overlap (two minutes) and the second sync would read the whole org again.
        built = VirtualClock(SystemClock().now() - WORLD_AGE)
        build_world(spec, clock=built, org_path=org_db, account_path=account_db).close()
        runs: list[tuple[str, dict[str, Any], dict[str, ProcessFigures], int | None, float]] = []
        with serve_world(org_db, account_db, work) as served:
            env = {**os.environ, **served.environment(), "CMSF_LOG": ""}
            env.pop("CMSF_LOG")
            saved = os.environ.get("REQUESTS_CA_BUNDLE")
            os.environ["REQUESTS_CA_BUNDLE"] = served.sf_ca_file
            try:
                opened = open_engine(
                    Connection(
                        mode="real",
                        journal=journal,
                        salesforce=SalesforceCredentials(
                            instance_url=served.instance_url, session_id=served.session_id
                        ),
                        campaign_monitor=CampaignMonitorCredentials(
                            api_key=served.cm_api_key,
                            base_url=served.cm_base_url,
                            ca_file=served.cm_ca_file,
                        ),
                    ),
                    clock=SystemClock(),
                )
                opened.engine.connect(test_account=True)
                opened.engine.change_settings(EVERY_OPTION)
                opened.close()
            finally:
                if saved is None:
                    os.environ.pop("REQUESTS_CA_BUNDLE", None)
                else:
                    os.environ["REQUESTS_CA_BUNDLE"] = saved
            sims = {"sf_sim": served.sf_pid, "cm_sim": served.cm_pid}
            for label in SYNCS:
                before = {}
                for name, pid in sims.items():
                    _reset_peak(pid)
                    before[name] = _cpu_seconds(pid)
                report, engine, syncs, wall = _run_engine(
                    ["--journal", str(journal), "sync", "--json", "--quiet"],
                    env,
                    work / f"strace-{len(runs)}.txt" if trace else None,
                )
                processes = {"engine": engine}
                for name, pid in sims.items():
                    processes[name] = ProcessFigures(
                        _cpu_seconds(pid) - before[name], _peak_mib(pid)
                    )
                runs.append((label, report, processes, syncs, wall))
        world = open_world(org_db, account_db, clock=SystemClock())
        try:
            contacts = world.org.count("Contact")
            leads = world.org.count("Lead")
            for label, report, processes, syncs, wall in runs:
                first = label == "first sync"
                out.append(
                    Measurement(
                        subscribers=subscribers,
                        label=label,
                        wall_seconds=wall,
                        report=report,
                        processes=processes,
                        syncs=syncs,
                        floor={
                            "salesforce": salesforce_floor(
                                report, contacts=contacts, leads=leads, first=first
                            ),
                            "campaign_monitor": campaign_monitor_floor(world, first=first),
                        },
                    )
                )
        finally:
            world.close()
    return out


def _sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            size = int(part.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"--sizes: {part.strip()!r} is not a number") from None
        if not 2 <= size <= 10_000_000:
            raise ValueError(f"--sizes: {size:,} is outside 2..10,000,000 subscribers")
        sizes.append(size)
    if not sizes:
        raise ValueError("--sizes: give at least one subscriber count")
    return sizes


def format_rows(rows: Sequence[Measurement]) -> list[str]:
    """The measurements as a Markdown table (what the README shows)."""
    lines = [
        "| subscribers | sync | SF calls (floor) | CM calls (floor) | records written "
        "| CPU s engine / sf_sim / cm_sim | peak RSS MiB engine / sf_sim / cm_sim "
        "| engine fsyncs | wall s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        p = m.processes
        written = sum(int(v) for v in (m.report.get("written") or {}).values())
        syncs = "-" if m.syncs is None else f"{m.syncs:,}"
        lines.append(
            f"| {m.subscribers:,} | {m.label} "
            f"| {m.calls.get('salesforce', 0):,} ({m.floor['salesforce']:,}) "
            f"| {m.calls.get('campaign_monitor', 0):,} ({m.floor['campaign_monitor']:,}) "
            f"| {written:,} "
            f"| {p['engine'].cpu_seconds:.1f} / {p['sf_sim'].cpu_seconds:.1f} / "
            f"{p['cm_sim'].cpu_seconds:.1f} "
            f"| {p['engine'].peak_rss_mib:.0f} / {p['sf_sim'].peak_rss_mib:.0f} / "
            f"{p['cm_sim'].peak_rss_mib:.0f} "
            f"| {syncs} | {m.wall_seconds:.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (``--json`` for the figures as JSON lines)."""
    parser = argparse.ArgumentParser(
        prog="python -m cmsf_core.bench", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated subscriber counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-strace", action="store_true", help="do not count the engine's fsync calls"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per sync")
    args = parser.parse_args(argv)
    try:
        sizes = _sizes(args.sizes)
    except ValueError as exc:
        parser.error(str(exc))
    if not args.json:
        print("\n".join(format_rows([])))
    for size in sizes:
        rows = measure(size, seed=args.seed, trace=not args.no_strace)
        for m in rows:
            if args.json:
                print(
                    json.dumps(
                        {
                            "subscribers": m.subscribers,
                            "sync": m.label,
                            "status": m.report.get("status"),
                            "calls": m.calls,
                            "floor": m.floor,
                            "written": m.report.get("written"),
                            "write_calls": m.report.get("write_calls"),
                            "salesforce_calls_by_job": m.salesforce_calls_by_job,
                            "processes": {
                                name: {"cpu_seconds": p.cpu_seconds, "peak_rss_mib": p.peak_rss_mib}
                                for name, p in m.processes.items()
                            },
                            "engine_fsyncs": m.syncs,
                            "wall_seconds": m.wall_seconds,
                        }
                    ),
                    flush=True,
                )
            else:
                print(format_rows([m])[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
