"""Named figures: numbers a scenario bounds with ``min``, ``max`` or ``equals``.

Each figure is ``fn(play, args) -> float`` registered in :data:`FIGURES`. Figures over
runs take ``run`` (``all`` by default: summed over every run; ``first``, ``last`` or a run
number). They measure what the engine did, from its run reports and the simulators'
request logs, never from the wall clock.
"""

from __future__ import annotations

from typing import Any

from cmsf_core.clock import parse_instant
from scenarios.invariants_runs import LOGIN_PATHS, select_runs
from scenarios.play import Play, RunRecord
from scenarios.registry import OBJECT_ARG, RUN_ARG, Registry, arg_schema

__all__ = ["BOUND_KEYS", "FIGURES", "FigureFn"]

FigureFn = Any
"""``(play, args) -> float``."""

FIGURES: Registry[FigureFn] = Registry("figure")

BOUND_KEYS = ("min", "max", "equals")
RUNS_ONLY = arg_schema(run=RUN_ARG)
RUNS_AND_OBJECT = arg_schema(run=RUN_ARG, object=OBJECT_ARG)


def _runs(play: Play, args: dict[str, Any]) -> list[RunRecord]:
    return select_runs(play, args.get("run", "all")) or []


def _calls(play: Play, args: dict[str, Any], platform: str) -> float:
    return float(sum(r.calls.get(platform, 0) for r in _runs(play, args)))


def _stat(play: Play, args: dict[str, Any], counter: str) -> float:
    total = 0
    for run in _runs(play, args):
        if run.report is None:
            continue
        values = getattr(run.report.stats, counter)
        total += values.get(args["object"], 0) if "object" in args else sum(values.values())
    return float(total)


@FIGURES.register("salesforce_calls", "Salesforce API calls made by the engine.", RUNS_ONLY)
def salesforce_calls(play: Play, args: dict[str, Any]) -> float:
    """Sum of the runs' Salesforce calls."""
    return _calls(play, args, "salesforce")


@FIGURES.register(
    "campaign_monitor_writes",
    "Campaign Monitor requests that write (not GET), from the engine's run reports.",
    RUNS_ONLY,
)
def campaign_monitor_writes(play: Play, args: dict[str, Any]) -> float:
    """Sum of the runs' Campaign Monitor write requests."""
    return _calls(play, args, "campaign_monitor_writes")


@FIGURES.register(
    "pushed",
    "What the Salesforce to Campaign Monitor push did (kind: added, updated, renamed, "
    "unsubscribed, refused, changes queued, ...).",
    arg_schema(("kind",), run=RUN_ARG, kind={"type": "string", "minLength": 1, "maxLength": 40}),
)
def pushed(play: Play, args: dict[str, Any]) -> float:
    """Sum of one of the runs' push counts."""
    return float(
        sum(r.report.stats.pushed.get(args["kind"], 0) for r in _runs(play, args) if r.report)
    )


@FIGURES.register(
    "campaign_monitor_calls", "Campaign Monitor API calls made by the engine.", RUNS_ONLY
)
def campaign_monitor_calls(play: Play, args: dict[str, Any]) -> float:
    """Sum of the runs' Campaign Monitor calls (retries included)."""
    return _calls(play, args, "campaign_monitor")


@FIGURES.register(
    "records_written", "Records written to Salesforce (all objects or one).", RUNS_AND_OBJECT
)
def records_written(play: Play, args: dict[str, Any]) -> float:
    """Sum of the runs' written counters."""
    return _stat(play, args, "written")


@FIGURES.register(
    "records_failed", "Records Salesforce refused (all objects or one).", RUNS_AND_OBJECT
)
def records_failed(play: Play, args: dict[str, Any]) -> float:
    """Sum of the runs' failed counters."""
    return _stat(play, args, "failed")


@FIGURES.register(
    "records_deleted",
    "Records the engine deleted in Salesforce (all objects or one).",
    RUNS_AND_OBJECT,
)
def records_deleted(play: Play, args: dict[str, Any]) -> float:
    """Sum of the runs' deleted counters."""
    return _stat(play, args, "deleted")


@FIGURES.register(
    "messages",
    "Distinct maintenance messages raised by the runs (optionally of one severity).",
    arg_schema(run=RUN_ARG, severity={"enum": ["Info", "Warning", "Error"]}),
)
def messages(play: Play, args: dict[str, Any]) -> float:
    """Count the runs' messages."""
    return float(
        sum(
            1
            for run in _runs(play, args)
            if run.report is not None
            for m in run.report.messages
            if "severity" not in args or m.severity == args["severity"]
        )
    )


@FIGURES.register(
    "runs",
    "Number of sync runs (optionally with one status).",
    arg_schema(
        status={"enum": ["completed", "completed_with_errors", "stopped", "failed", "refused"]}
    ),
)
def runs(play: Play, args: dict[str, Any]) -> float:
    """Count runs."""
    return float(sum(1 for r in play.runs if "status" not in args or r.status == args["status"]))


@FIGURES.register(
    "run_minutes",
    "Virtual minutes the runs took (back-off waits and slow answers move the clock).",
    RUNS_ONLY,
)
def run_minutes(play: Play, args: dict[str, Any]) -> float:
    """Sum of the runs' durations in virtual minutes."""
    return sum((r.finished - r.started).total_seconds() for r in _runs(play, args)) / 60


@FIGURES.register(
    "salesforce_logins",
    "Logins to Salesforce during runs (one per run, more when a session expired mid-run).",
    RUNS_ONLY,
)
def salesforce_logins(play: Play, args: dict[str, Any]) -> float:
    """Count login requests (SOAP or OAuth token) in the runs' request logs."""
    return float(
        sum(
            1
            for run in _runs(play, args)
            for _, platform, _, path in run.requests
            if platform == "salesforce" and path.startswith(LOGIN_PATHS)
        )
    )


@FIGURES.register(
    "org_api_usage",
    "Share (0-1) of the org's daily API limit used in the last 24 hours, by everyone.",
)
def org_api_usage(play: Play, args: dict[str, Any]) -> float:
    """The org's rolling usage over its limit."""
    limits = play.org.limits
    return round(limits.used() / limits.daily_limit, 4) if limits.daily_limit else 0.0


@FIGURES.register("cm_write_requests", "Requests other than reads that reached Campaign Monitor.")
def cm_write_requests(play: Play, args: dict[str, Any]) -> float:
    """Count non-GET requests in the account's request log since the start."""
    return float(
        sum(
            1
            for e in play.account.request_log()
            if e["method"] not in ("GET", "HEAD") and parse_instant(e["at"]) >= play.start
        )
    )


def _writes(play: Play, args: dict[str, Any], api: str) -> float:
    wanted = args.get("object")
    return float(
        sum(
            1
            for run in _runs(play, args)
            for sobject, used in run.write_requests
            if used == api and (wanted is None or sobject.lower() == str(wanted).lower())
        )
    )


@FIGURES.register(
    "bulk_api_jobs",
    "Bulk API 2.0 ingest jobs the runs created in Salesforce (all objects or one).",
    RUNS_AND_OBJECT,
)
def bulk_api_jobs(play: Play, args: dict[str, Any]) -> float:
    """Count ingest jobs created, from the org's request log (the object each job writes)."""
    return _writes(play, args, "bulk")


@FIGURES.register(
    "collections_calls",
    "sObject Collections write calls (up to 200 records each) the runs made (all objects or one).",
    RUNS_AND_OBJECT,
)
def collections_calls(play: Play, args: dict[str, Any]) -> float:
    """Count collection saves and deletes, from the org's request log."""
    return _writes(play, args, "collections")
