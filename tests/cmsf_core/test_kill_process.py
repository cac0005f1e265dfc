"""``kill -9`` a real ``cmsf sync`` process at random moments; rerunning ends as an unbroken run.

The simulators are served in their own processes (``sf-sim serve --db``, ``cm-sim serve
--db``) and ``cmsf`` reaches them over HTTPS with ``CMSF_*`` variables, as it reaches real
platforms. For a first sync, an incremental sync and a full sync, one copy of the world
runs the sync unbroken (the reference); another copy has the same command killed with
SIGKILL again and again — each time at a seeded random moment once the run has started:
after a random number of the attempt's jobs have finished (0, 1 or 2, read from its
JSON-lines log) plus a random fraction of a second, so kills land inside jobs and between
them — and then rerun until it completes. Both copies must end in the same org state
(:func:`scenarios.compare.org_state`) and match the account.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cmsf_core.clock import SystemClock
from cmsf_core.state import Journal
from scenarios.compare import compare, org_state
from scenarios.served import serve_world
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for, open_world

CMSF = str(Path(sys.executable).with_name("cmsf"))
SPEC = WorldSpec(
    seed=21, clients=1, lists_per_client=2, subscribers_per_list=12, campaigns_per_client=1
)
KILLS = 8
"""Kills per sync (three syncs: 24 in all)."""
FILES = ("org.db", "account.db", "journal.db")


def _environment(served_env: dict[str, str], home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), **served_env}


def _cmsf(stage: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run cmsf to its end on ``stage``'s journal."""
    return subprocess.run(
        [CMSF, "--journal", str(stage / "journal.db"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=stage,
    )


def _copy(source: Path, target: Path) -> Path:
    """Copy a stage's databases (with their WAL files) into a new stage."""
    target.mkdir(parents=True)
    for name in FILES:
        for path in source.glob(f"{name}*"):
            shutil.copy2(path, target / path.name)
    return target


def _new_world(stage: Path) -> None:
    """Seed a world into ``stage``, connect it and turn every optional job on (in process)."""
    stage.mkdir(parents=True)
    build_world(
        SPEC, clock=SystemClock(), org_path=stage / "org.db", account_path=stage / "account.db"
    ).close()
    with _opened(stage) as world:
        engine = engine_for(world, journal=Journal(stage / "journal.db"))
        engine.connect(test_account=True)
        engine.change_settings(EVERY_OPTION, changed_by="test")


@contextmanager
def _opened(stage: Path) -> Iterator[World]:
    world = open_world(stage / "org.db", stage / "account.db", clock=SystemClock())
    try:
        yield world
    finally:
        world.close()


def _sync(stage: Path, *, full: bool = False) -> None:
    """An unbroken sync of ``stage`` (the engine in this process, on the stage's files)."""
    with _opened(stage) as world:
        journal = Journal(stage / "journal.db")
        try:
            report = engine_for(world, journal=journal).sync(full=full)
        finally:
            journal.close()
    assert report.status == "completed", report.reason


def _events(log: Path, event: str) -> int:
    """How many ``event`` lines the attempt's JSON-lines log holds so far."""
    if not log.exists():
        return 0
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return sum(1 for line in lines if f'"event": "{event}"' in line)


def _kill_and_rerun(stage: Path, rng: random.Random, *args: str) -> list[str]:
    """Kill ``cmsf sync`` at KILLS random moments, then rerun it to completion.

    Returns:
        Where each kill landed (jobs the attempt had finished, seconds since its start).
    """
    moments: list[str] = []
    with serve_world(stage / "org.db", stage / "account.db", stage) as served:
        env = _environment(served.environment(), stage)
        for attempt in range(KILLS):
            log = stage / f"attempt-{attempt}.jsonl"
            jobs, extra = rng.randint(0, 2), rng.uniform(0.0, 0.4)
            process = subprocess.Popen(
                [CMSF, "--journal", str(stage / "journal.db"), "--log-file", str(log),
                 "sync", "--quiet", *args],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=stage,
            )  # fmt: skip
            started = time.monotonic()
            while process.poll() is None and (
                not _events(log, "run_started") or _events(log, "job_finished") < jobs
            ):
                time.sleep(0.01)
            time.sleep(extra)
            if process.poll() is not None:
                break  # it completed before this kill: nothing left to interrupt
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            done_jobs = _events(log, "job_finished")
            moments.append(f"after {done_jobs} job(s), {time.monotonic() - started:.2f}s")
        done = _cmsf(stage, env, "sync", "--json", *args)
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["status"] == "completed"
    return moments


def _state(stage: Path) -> dict[str, Any]:
    with _opened(stage) as world:
        assert compare(world, engine_for(world).settings()) == []
        return org_state(world)


def _change_the_account(stage: Path) -> None:
    """Changes between two syncs: unsubscribes, a bounce, newcomers, a suppression."""
    with _opened(stage) as world:
        account = world.account
        with account.client() as http:
            client = http.get("/clients.json").json()[0]["ClientID"]
            lists = [row["ListID"] for row in http.get(f"/clients/{client}/lists.json").json()]
            active = [
                row["EmailAddress"]
                for row in http.get(f"/lists/{lists[0]}/active.json").json()["Results"]
            ]
        account.change_state(lists[0], active[0], "Unsubscribed")
        account.change_state(lists[0], active[1], "Bounced")
        for index in range(5):
            account.add_subscriber_at(lists[1], f"late{index}@kill.example", f"Late {index}")
        account.suppress_at(client, "blocked@kill.example", "Suppressed Manually")


def _check(start: Path, root: Path, seed: int, *args: str) -> list[str]:
    reference = _copy(start, root / "reference")
    _sync(reference, full="--full" in args)
    killed = _copy(start, root / "killed")
    moments = _kill_and_rerun(killed, random.Random(seed), *args)
    assert _state(killed) == _state(reference)
    return moments


def test_a_first_sync_killed_again_and_again_ends_as_an_unbroken_one(tmp_path: Path) -> None:
    _new_world(tmp_path / "start")
    moments = _check(tmp_path / "start", tmp_path, 1)
    assert len(moments) == KILLS, moments


def test_an_incremental_sync_killed_again_and_again_ends_as_an_unbroken_one(
    tmp_path: Path,
) -> None:
    _new_world(tmp_path / "start")
    _sync(tmp_path / "start")
    _change_the_account(tmp_path / "start")
    moments = _check(tmp_path / "start", tmp_path, 2)
    assert len(moments) == KILLS, moments


def test_a_full_sync_killed_again_and_again_ends_as_an_unbroken_one(tmp_path: Path) -> None:
    _new_world(tmp_path / "start")
    _sync(tmp_path / "start")
    moments = _check(tmp_path / "start", tmp_path, 3, "--full")
    assert len(moments) == KILLS, moments


BULK_SPEC = WorldSpec(
    seed=23, clients=1, lists_per_client=2, subscribers_per_list=300, campaigns_per_client=1
)
BULK_LIMITS = {"governor_limits": {"subscribers": 250, "bulk_threshold": 200}}
"""Memberships written by Bulk API jobs left running while the next lists are read."""


def _open_jobs(journal: Path) -> set[str]:
    """Bulk API jobs the journal's ledger holds open (submitted, not collected)."""
    if not journal.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5) as db:
            return {row[0] for row in db.execute("SELECT job_id FROM bulk_jobs")}
    except sqlite3.OperationalError:
        return set()  # the table is not there yet


def test_a_first_sync_killed_with_bulk_jobs_in_flight_ends_as_an_unbroken_one(
    tmp_path: Path,
) -> None:
    start = tmp_path / "start"
    start.mkdir()
    build_world(
        BULK_SPEC, clock=SystemClock(), org_path=start / "org.db", account_path=start / "account.db"
    ).close()
    with _opened(start) as world:
        engine = engine_for(world, journal=Journal(start / "journal.db"))
        engine.connect(test_account=True)
        engine.change_settings({**EVERY_OPTION, **BULK_LIMITS})
    reference = _copy(start, tmp_path / "reference")
    _sync(reference)
    killed = _copy(start, tmp_path / "killed")
    journal = killed / "journal.db"
    rng = random.Random(4)
    in_flight = 0
    with serve_world(killed / "org.db", killed / "account.db", killed) as served:
        env = _environment(served.environment(), killed)
        for attempt in range(3):
            before = _open_jobs(journal)
            process = subprocess.Popen(
                [CMSF, "--journal", str(journal), "--log-file", str(killed / f"bulk-{attempt}.jsonl"),
                 "sync", "--quiet"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=killed,
            )  # fmt: skip
            # Kill once this attempt submitted a Bulk API job (the ledger records it before
            # its upload) and a moment passed: the job is closed, not collected yet.
            while process.poll() is None and not _open_jobs(journal) - before:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
            if process.poll() is not None:
                break
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            in_flight += bool(_open_jobs(journal) - before)
        done = _cmsf(killed, env, "sync", "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["status"] == "completed"
    assert in_flight >= 1  # at least one kill left a submitted job for the next run
    assert not _open_jobs(journal)  # every one was collected
    assert _state(killed) == _state(reference)
