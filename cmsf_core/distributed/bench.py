"""Benchmark of the celery runtime: 1, 2 and 4 workers on the same world, against the local runtime.

``python -m cmsf_core.distributed.bench`` builds one agency world (``--clients`` clients,
each with lists, subscribers, sent campaigns and their activity), starts a real Redis and
PostgreSQL (:mod:`cmsf_core.distributed.services`), and for the local runtime and for each
worker count syncs a fresh copy of the world, served by ``sf-sim serve`` and ``cm-sim
serve`` processes, with ``cmsf sync --json`` (``--runtime celery`` and that many ``cmsf
worker`` processes). For each it prints:

- **wall** seconds of the sync, and the **speed-up** over one worker (a ratio: a figure of
  this machine at that moment, which other loads distort; the calls and tasks are exact);
- **API calls** per platform, as the run's report counts them (every process together);
- **tasks** run and how many **workers** ran at least one;
- whether the org ends **equal** to the local runtime's (``scenarios.compare.org_state``).

With ``--big-list N`` the world is instead one client with one list of N subscribers: the
case only *list partitions* spread over workers (without them the client's scopes are one
task); ``--partition-size`` (``CMSF_PARTITION_SIZE`` of the celery syncs; 0 turns them off)
sets how many subscribers a part reads, and the figures count the **parts** run.

With ``--kills N`` each celery sync is also the issue's acceptance run: while it goes on, a
random worker is SIGKILLed at a random moment N times (each replaced by a new one), and
the end state must still equal the local runtime's, with no record written twice (rows are
compared whole, so a duplicate is a difference) and the shared API budget respected (the
run's Salesforce calls within its share).

Usage: ``python -m cmsf_core.distributed.bench [--clients 8] [--workers 1,2,4] [--kills N]
[--subscribers 100] [--big-list N [--partition-size N]] [--seed N] [--json]``. Exit code 1 when an end state differs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis

from cmsf_core.clock import SystemClock, VirtualClock
from cmsf_core.distributed.services import start_postgres, start_redis, unavailable

__all__ = ["Figures", "main", "measure"]

BIN = Path(sys.executable).parent
WORLD_AGE_DAYS = 30
"""How long ago the benchmark's world is built (its activity is complete by then)."""


@dataclass
class Figures:
    """One sync of the benchmark."""

    runtime: str
    workers: int
    wall_seconds: float
    status: str
    salesforce_calls: int
    campaign_monitor_calls: int
    tasks: int = 0
    partitions: int = 0
    busy_workers: int = 0
    kills: int = 0
    redelivered: int = 0
    equal_to_local: bool = True
    within_budget: bool = True
    speedup: float = 1.0
    notes: list[str] = field(default_factory=list)


def _cmsf(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 3600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "cmsf"), *args], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def _setup(env: dict[str, str], cwd: Path) -> None:
    from scenarios.world import EVERY_OPTION

    for args in (["connect"], ["settings", "set", *(f"{k}=true" for k in EVERY_OPTION)]):
        done = _cmsf(args, env, cwd)
        if done.returncode != 0:
            raise RuntimeError(f"cmsf {args[0]} failed: {done.stderr[-500:]}")


def _snapshot(org: Path) -> dict[str, list[tuple[Any, ...]]]:
    from scenarios.compare import org_state
    from scenarios.world import open_world

    world = open_world(org, org.parent / "account.db", clock=SystemClock())
    try:
        return org_state(world)
    finally:
        world.close()


def _copy(seed: Path, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    for name in ("org.db", "account.db"):
        shutil.copy(seed / name, folder / name)
    return folder / "org.db", folder / "account.db"


def _database(server_url: str) -> str:
    import psycopg

    name = f"cmsf_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.replace("/postgres?", f"/{name}?")


def _tasks(database: str) -> tuple[int, int, int, int]:
    """Tasks, distinct workers that ran one, tasks delivered more than once, list parts."""
    import psycopg

    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT attempts, ran_by, grp FROM dist_groups").fetchall()
    return (
        len(rows),
        len({r[1] for r in rows if r[1]}),
        sum(1 for r in rows if r[0] > 1),
        sum(1 for r in rows if "|" in str(r[2])),  # runtime.group_scopes names parts so
    )


def _local(seed: Path, work: Path) -> tuple[Figures, dict[str, list[tuple[Any, ...]]]]:
    from scenarios.served import serve_world

    org, account = _copy(seed, work / "local")
    with serve_world(org, account, org.parent) as served:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
        env.update(served.environment())
        _setup(env, org.parent)
        started = time.monotonic()
        done = _cmsf(["sync", "--json", "--quiet"], env, org.parent)
        wall = time.monotonic() - started
    report = json.loads(done.stdout)
    calls = report.get("run_calls") or report.get("calls") or {}
    figures = Figures(
        runtime="local",
        workers=0,
        wall_seconds=round(wall, 2),
        status=str(report["status"]),
        salesforce_calls=int(calls.get("salesforce", 0)),
        campaign_monitor_calls=int(calls.get("campaign_monitor", 0)),
    )
    return figures, _snapshot(org)


def _celery(
    seed: Path,
    work: Path,
    workers: int,
    broker: Any,
    postgres_url: str,
    kills: int,
    rng: random.Random,
    partition_size: int | None = None,
) -> tuple[Figures, dict[str, list[tuple[Any, ...]]]]:
    from scenarios.served import serve_world

    org, account = _copy(seed, work / f"celery-{workers}")
    folder = org.parent
    database = _database(postgres_url)
    redis.Redis.from_url(broker.url).flushdb()  # a clean queue and budget for each sync
    processes: list[subprocess.Popen[str]] = []
    with serve_world(org, account, folder) as served, ExitStack() as stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
        env.update(served.environment())
        env.update(
            CMSF_BROKER_URL=broker.url,
            CMSF_DATABASE_URL=database,
            CMSF_VISIBILITY_TIMEOUT="10",
            CMSF_CLAIM_SECONDS="5",
            PYTHONUNBUFFERED="1",
        )
        if partition_size is not None:
            env["CMSF_PARTITION_SIZE"] = str(partition_size)
        _setup(env, folder)

        def start_worker() -> None:
            log = stack.enter_context(open(folder / f"worker-{len(processes)}.log", "w"))
            processes.append(
                subprocess.Popen(
                    [str(BIN / "cmsf"), "worker"],
                    env=env,
                    cwd=folder,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
            )

        for _ in range(workers):
            start_worker()
        started = time.monotonic()
        sync = subprocess.Popen(
            [str(BIN / "cmsf"), "sync", "--runtime", "celery", "--json", "--quiet"],
            env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        killed = 0
        try:
            while killed < kills and sync.poll() is None:
                time.sleep(rng.uniform(1.0, 6.0))
                alive = [p for p in processes if p.poll() is None]
                if sync.poll() is not None or not alive:
                    break
                victim = rng.choice(alive)
                os.killpg(victim.pid, signal.SIGKILL)  # at a random point, no goodbye
                victim.wait()
                killed += 1
                start_worker()
            out, _ = sync.communicate(timeout=3600)
            wall = time.monotonic() - started
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    report = json.loads(out)
    calls = report.get("run_calls") or report.get("calls") or {}
    tasks, busy, redelivered, parts = _tasks(database)
    figures = Figures(
        runtime="celery",
        workers=workers,
        wall_seconds=round(wall, 2),
        status=str(report["status"]),
        salesforce_calls=int(calls.get("salesforce", 0)),
        campaign_monitor_calls=int(calls.get("campaign_monitor", 0)),
        tasks=tasks,
        partitions=parts,
        busy_workers=busy,
        kills=killed,
        redelivered=redelivered,
    )
    return figures, _snapshot(org)


def measure(
    *,
    clients: int,
    subscribers: int,
    workers: list[int],
    kills: int = 0,
    seed: int = 17,
    budget: int = 15_000,
    big_list: int = 0,
    partition_size: int | None = None,
) -> list[Figures]:
    """Run the benchmark; return the local run's figures, then each worker count's.

    ``big_list`` > 0 replaces the agency world by one client with one list of that many
    subscribers; ``partition_size`` is the celery syncs' ``CMSF_PARTITION_SIZE``.

    Raises:
        RuntimeError: When Redis or PostgreSQL cannot run here.
    """
    from scenarios.world import WorldSpec, build_world

    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    rng = random.Random(seed)
    out: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="cmsf-dist-bench-") as tmp:
        work = Path(tmp)
        seed_dir = work / "seed"
        seed_dir.mkdir()
        spec = WorldSpec(
            seed=seed,
            clients=1 if big_list else clients,
            lists_per_client=1 if big_list else 2,
            subscribers_per_list=big_list or max(1, subscribers // 2),
            campaigns_per_client=1,
            days=10,
            api_limit=budget,
        )
        # built a month ago: the simulators serve on the system clock, and a campaign sent
        # in the last days still gains opens as minutes pass, so syncs made one after the
        # other would see different activity; a month on, every event has happened
        built = SystemClock().now() - timedelta(days=WORLD_AGE_DAYS)
        build_world(
            spec,
            clock=VirtualClock(built),
            org_path=seed_dir / "org.db",
            account_path=seed_dir / "account.db",
        ).close()
        broker = start_redis(work / "redis")
        postgres = start_postgres(work / "pg")
        try:
            local, reference = _local(seed_dir, work)
            out.append(local)
            for count in workers:
                figures, state = _celery(
                    seed_dir, work, count, broker, postgres.url, kills, rng, partition_size
                )
                figures.equal_to_local = state == reference
                if not figures.equal_to_local:
                    figures.notes.append(
                        "differs in: "
                        + ", ".join(k for k in reference if reference[k] != state.get(k))
                    )
                # the run's share of the org's daily calls (run_api_share, 25% by default)
                figures.within_budget = figures.salesforce_calls <= budget // 4
                out.append(figures)
        finally:
            broker.stop()
            postgres.stop()
    first = next((f for f in out if f.runtime == "celery"), None)
    for figures in out:
        if first is not None and figures.wall_seconds:
            figures.speedup = round(first.wall_seconds / figures.wall_seconds, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m cmsf_core.distributed.bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m cmsf_core.distributed.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--clients", type=int, default=8, help="clients of the agency world")
    parser.add_argument("--subscribers", type=int, default=100, help="subscribers per client")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument(
        "--kills", type=int, default=0, help="workers SIGKILLed at random during each sync"
    )
    parser.add_argument(
        "--big-list",
        type=int,
        default=0,
        metavar="N",
        help="instead: one client with one list of N subscribers (list partitions)",
    )
    parser.add_argument(
        "--partition-size",
        type=int,
        default=None,
        metavar="N",
        help="subscribers per list partition in the celery syncs (0: off; default: the runtime's)",
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--json", action="store_true", help="one JSON object per sync")
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in str(args.workers).split(",") if n.strip()]
    except ValueError:
        parser.error("--workers takes comma-separated whole numbers, e.g. 1,2,4")
    if not counts or min(counts) < 1 or args.clients < 1 or args.subscribers < 1 or args.kills < 0:
        parser.error("--workers, --clients and --subscribers must be positive, --kills >= 0")
    if args.big_list < 0:
        parser.error("--big-list must be 0 (an agency world) or a number of subscribers")
    if args.partition_size is not None:
        from cmsf_core.distributed.config import MIN_PARTITION

        if args.partition_size != 0 and args.partition_size < MIN_PARTITION:
            parser.error(f"--partition-size must be 0 (off) or at least {MIN_PARTITION}")
    try:
        results = measure(
            clients=args.clients,
            subscribers=args.subscribers,
            workers=counts,
            kills=args.kills,
            seed=args.seed,
            big_list=args.big_list,
            partition_size=args.partition_size,
        )
    except RuntimeError as exc:
        print(f"cannot run the benchmark here: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for figures in results:
            print(json.dumps(asdict(figures)))
    else:
        print(
            f"{'runtime':8} {'workers':>7} {'wall s':>8} {'speed-up':>8} {'SF calls':>8} "
            f"{'CM calls':>8} {'tasks':>6} {'parts':>5} {'busy':>5} {'kills':>5} {'redeliv.':>8} "
            f"{'= local':>7} {'budget':>6}"
        )
        for f in results:
            print(
                f"{f.runtime:8} {f.workers:>7} {f.wall_seconds:>8.2f} {f.speedup:>8.2f} "
                f"{f.salesforce_calls:>8} {f.campaign_monitor_calls:>8} {f.tasks:>6} "
                f"{f.partitions:>5} "
                f"{f.busy_workers:>5} {f.kills:>5} {f.redelivered:>8} "
                f"{'yes' if f.equal_to_local else 'NO':>7} {'ok' if f.within_budget else 'OVER':>6}"
                + (f"  ({'; '.join(f.notes)})" if f.notes else "")
            )
    return 0 if all(f.equal_to_local and f.within_budget for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
