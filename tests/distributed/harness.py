"""A world served by real simulator processes, synced by real ``cmsf worker`` processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cmsf_core.clock import SystemClock, VirtualClock
from scenarios.served import SF_PROGRAM, ServedWorld, serve_world
from scenarios.world import EVERY_OPTION, WorldSpec, build_world

BIN = Path(sys.executable).parent

SMALL = WorldSpec(seed=17, clients=3, lists_per_client=2, subscribers_per_list=25,
                  campaigns_per_client=1, days=10)  # fmt: skip
"""The lane's world: small, so CI stays fast; three clients so tasks run in parallel."""

SETUP = (["connect"], ["settings", "set", *(f"{name}=true" for name in EVERY_OPTION)])
"""How both twins are set up: connected, every optional job on (campaigns, members, ...)."""


def make_world(folder: Path, spec: WorldSpec = SMALL, *, age_days: int = 0) -> tuple[Path, Path]:
    """Build a world into two files (``age_days`` ago: the served simulators run on the
    system clock, and a campaign sent in the last days gains opens minute by minute, so
    twins synced one after the other differ unless its activity is over)."""
    folder.mkdir(parents=True, exist_ok=True)
    org, account = folder / "org.db", folder / "account.db"
    clock = VirtualClock(SystemClock().now() - timedelta(days=age_days)) if age_days else None
    build_world(spec, clock=clock or SystemClock(), org_path=org, account_path=account).close()
    return org, account


def copy_world(org: Path, account: Path, folder: Path) -> tuple[Path, Path]:
    """The same world in another folder (worlds are seeded relative to the time they are
    built, so twins are copies, not two builds)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(org, folder / "org.db")
    shutil.copy(account, folder / "account.db")
    return folder / "org.db", folder / "account.db"


@dataclass
class Cluster:
    """Served simulators, a broker, a database and worker processes."""

    served: ServedWorld
    env: dict[str, str]
    folder: Path
    workers: list[subprocess.Popen[str]] = field(default_factory=list)

    def cmsf(
        self, *args: str, timeout: float = 600, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmsf ARGS`` as a user would, in this cluster's environment."""
        return subprocess.run(
            [str(BIN / "cmsf"), *args], env={**self.env, **env}, cwd=self.folder,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def connect(self) -> None:
        """Connect and turn every optional job on, as the local twin is (:data:`SETUP`)."""
        for args in SETUP:
            done = self.cmsf(*args)
            assert done.returncode == 0, done.stdout + done.stderr

    def start_worker(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """Start a ``cmsf worker`` process."""
        log = open(self.folder / f"worker-{len(self.workers)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [str(BIN / "cmsf"), "worker", *args], env={**self.env, **env, "PYTHONUNBUFFERED": "1"},
            cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.workers.append(process)
        return process

    def start_script(self, script: Path, *args: str) -> subprocess.Popen[str]:
        """Start a test's variant of ``cmsf worker`` (a script that patches it, then runs it)."""
        log = open(self.folder / f"worker-{len(self.workers)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, str(script), *args], env={**self.env, "PYTHONUNBUFFERED": "1"},
            cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.workers.append(process)
        return process

    def logs(self) -> str:
        """Every worker's log."""
        return "\n".join(p.read_text() for p in sorted(self.folder.glob("worker-*.log")))

    def stop_workers(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL)."""
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.workers:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def cluster(
    folder: Path,
    org: Path,
    account: Path,
    broker_url: str,
    database_url: str,
    *,
    sf_program: str = SF_PROGRAM,
    **extra: Any,
) -> Iterator[Cluster]:
    """Serve the world and point cmsf at it, the broker and the database."""
    with serve_world(org, account, folder, sf_program=sf_program) as served:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
        env.update(served.environment())
        env.update(CMSF_BROKER_URL=broker_url, CMSF_DATABASE_URL=database_url,
                   CMSF_VISIBILITY_TIMEOUT="5", CMSF_CLAIM_SECONDS="3", CMSF_LEASE_SECONDS="10",
                   CMSF_WAIT_SECONDS="300")  # fmt: skip
        env.update({k: str(v) for k, v in extra.items()})
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        result = Cluster(served=served, env=env, folder=folder)
        try:
            yield result
        finally:
            result.stop_workers()


def org_snapshot(org: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The synced objects of a world's org file, canonically (scenarios.compare.org_state)."""
    from scenarios.compare import org_state
    from scenarios.world import open_world

    world = open_world(org, org.parent / "account.db", clock=SystemClock())
    try:
        return org_state(world)
    finally:
        world.close()
