"""Invariants of what an admin sees of the org's own trouble: ``cmsf doctor`` and ``cmsf status``.

Both are run then and there against the play's engine, as the admin would run them:
:func:`doctor_check` runs the doctor (:func:`cmsf_core.doctor.run_doctor`) and checks one
check's status and words; :func:`status_shows` reads the Sync Settings screen
(:func:`cmsf_core.overview.sync_view`) and checks one of its lines (the Apex queue, the
data storage, the Bulk API jobs waiting, the last run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmsf_core.connection import Connection
from cmsf_core.doctor import run_doctor
from cmsf_core.overview import SyncView, sync_view
from scenarios.invariants import INVARIANTS, Mismatch
from scenarios.play import Play
from scenarios.registry import TEXT_ARG, arg_schema

__all__ = ["STATUS_LINES"]

DOCTOR_CHECKS = [
    "login",
    "API budget",
    "permission queries",
    "data model",
    "object and field access",
    "sync user",
    "apex queue",
    "data storage",
    "journal",
    "bulk API jobs",
    "Campaign Monitor",
    "sandbox safety",
]
STATUS_LINES = ["apex", "storage", "bulk_jobs", "last_sync"]
"""Lines of the Sync Settings screen an invariant can read."""


@INVARIANTS.register(
    "doctor_check",
    "'cmsf doctor' run now: a check has this status (pass, warn, fail) and says a text.",
    arg_schema(
        ("check",),
        check={"enum": DOCTOR_CHECKS},
        status={"enum": ["pass", "warn", "fail"]},
        says=TEXT_ARG,
    ),
)
def doctor_check(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Run the doctor and compare one check (its detail and fix are searched for ``says``)."""
    report = run_doctor(play.engine)
    found = [c for c in report.checks if c.name == args["check"]]
    if not found:
        return [Mismatch(f"a check {args['check']!r}", [c.name for c in report.checks])]
    check = found[0]
    out = []
    if "status" in args and check.status != args["status"]:
        out.append(Mismatch(args["status"], f"{check.status}: {check.detail}", check.name))
    if "says" in args and args["says"] not in f"{check.detail} {check.fix}":
        out.append(
            Mismatch(f"saying {args['says']!r}", f"{check.detail} | {check.fix}", check.name)
        )
    return out


def _line(view: SyncView, name: str) -> str:
    """One line of the screen as ``cmsf status`` prints its facts."""
    if name == "apex":
        return "" if view.apex is None else f"{view.apex.summary} {view.apex.advice}".strip()
    if name == "storage":
        s = view.storage
        if s is None:
            return ""
        return (
            f"{s.used_mb} of {s.max_mb} MB used ({s.share:.0%}); the sync's records "
            f"{s.synced_records} records; {s.advice}"
        )
    if name == "bulk_jobs":
        return " ".join(f"{j.job_id} {j.operation} {j.sobject}" for j in view.bulk_jobs)
    return f"{view.last_sync_status or 'never'}"


@INVARIANTS.register(
    "status_shows",
    "'cmsf status' read now: a line of the Sync Settings screen says a text (or says nothing).",
    arg_schema(("line",), line={"enum": STATUS_LINES}, says=TEXT_ARG, empty={"type": "boolean"}),
)
def status_shows(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read the screen and compare one line."""
    connection = Connection(
        mode="simulated",
        journal=Path("journal.db"),
        org_db=Path("org.db"),
        account_db=Path("account.db"),
    )
    text = _line(sync_view(play.engine, connection, runs=1), args["line"])
    out = []
    if "says" in args and args["says"] not in text:
        out.append(Mismatch(f"saying {args['says']!r}", text or "(nothing)", args["line"]))
    if "empty" in args and bool(text) != (not args["empty"]):
        out.append(
            Mismatch("nothing" if args["empty"] else "something", text or "(nothing)", args["line"])
        )
    return out


@INVARIANTS.register(
    "bulk_jobs",
    "The org holds this many Bulk API ingest jobs the sync created (of one object, in one state).",
    arg_schema(
        ("count",),
        count={"type": "integer", "minimum": 0, "maximum": 100_000},
        object=TEXT_ARG,
        state={
            "enum": ["Open", "UploadComplete", "InProgress", "JobComplete", "Failed", "Aborted"]
        },
    ),
)
def bulk_jobs(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Count the org's ingest jobs other than other apps' (see ``sf_bulk_queue_busy``)."""
    jobs = [
        job
        for job in play.org.bulk.jobs.values()
        if job.kind == "ingest"
        and not job.foreign
        and ("object" not in args or job.object.lower() == str(args["object"]).lower())
        and ("state" not in args or job.state == args["state"])
    ]
    if len(jobs) != args["count"]:
        states = sorted(f"{job.object} {job.state}" for job in jobs)
        return [Mismatch(args["count"], len(jobs), ", ".join(states[:10]) or "no job")]
    return []
