"""Timeline events of the org's own platform trouble: bulk queue, Apex queue, licenses, storage.

What the org does to itself, apart from anything the sync does: other apps' Bulk API jobs
fill the org's bulk queue; other apps' batch jobs fill the five Apex slots and the flex
queue behind them; jobs get stuck (batch jobs holding their slot, stale ``ApexToken``
jobs sitting Queued) until Salesforce Support removes them; an admin moves the sync user
to a platform license; other data fills the org's storage. Scenario worlds' orgs move
their Apex queue on the virtual clock (``org.apex.clocked``), so jobs end when their time
comes and held ones move up, as on the platform.
"""

from __future__ import annotations

from typing import Any

from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.events_sf import FIELD_ARG
from scenarios.play import Play
from scenarios.registry import COUNT_ARG, DURATION_ARG, OBJECT_ARG, TEXT_ARG, arg_schema
from scenarios.spec import parse_duration
from sf_sim.async_apex import ApexContext, AsyncException
from sf_sim.control_accounts import LICENSES

__all__ = ["JOB_KINDS"]

JOB_KINDS = {"batch": "BatchApex", "apex_token": "ApexToken"}
"""Kinds of stuck job a scenario injects, by their name in a scenario."""
SHARE: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
CLASS_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z][A-Za-z0-9_]{0,39}$",
    "x-message": "must be an Apex class name such as NightlyRollup",
}


def _no_op_scope(ctx: ApexContext, scope: list[Any]) -> None:
    """The work of another app's batch job (its cost is the time it holds a slot)."""


# ---------------------------------------------------------------------- Bulk API queue


@EVENTS.register(
    "sf_bulk_queue_busy",
    "Other apps' Bulk API jobs hold the org's bulk queue, each for 'duration', so the sync's "
    "jobs wait behind them.",
    arg_schema(
        ("duration",),
        duration=DURATION_ARG,
        jobs=COUNT_ARG,
        seconds_per_batch={"type": "number", "minimum": 0, "maximum": 86_400},
    ),
)
def sf_bulk_queue_busy(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Queue other apps' ingest jobs (and, optionally, make every batch slow)."""
    duration = parse_duration(args["duration"])
    jobs = int(args.get("jobs", 1))
    for _ in range(jobs):
        play.org.bulk.add_foreign_job(duration)
    done = f"{jobs} other Bulk API job(s) of {args['duration']} each hold the bulk queue"
    if "seconds_per_batch" in args:
        play.org.bulk.queue.seconds_per_batch = float(args["seconds_per_batch"])
        done += f"; each batch of 10,000 records takes {args['seconds_per_batch']}s"
    return done


# ---------------------------------------------------------------------- Apex queue


@EVENTS.register(
    "apex_batch_jobs_submitted",
    "Other apps submit batch jobs that run for 'duration' each: five run, the rest wait "
    "Holding in the flex queue (100 at most; more are refused).",
    arg_schema(("count",), count=COUNT_ARG, duration=DURATION_ARG, name=CLASS_ARG),
)
def apex_batch_jobs_submitted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """``Database.executeBatch`` ``count`` times; say how many run, hold and were refused."""
    seconds = parse_duration(args.get("duration", "1m")).total_seconds()
    name = str(args.get("name", "OtherAppBatch"))
    refused = 0
    for index in range(int(args["count"])):
        try:
            play.org.apex.execute_batch(
                f"{name}{index + 1}"[:40], execute=_no_op_scope, duration=seconds
            )
        except AsyncException:
            refused += 1
    play.org.tick()
    holding = len(play.org.apex.flex_queue())
    return (
        f"{int(args['count']) - refused} batch job(s) submitted ({holding} Holding in the flex "
        f"queue)" + (f"; {refused} refused: the flex queue is full" if refused else "")
    )


@EVENTS.register(
    "apex_jobs_stuck",
    "Jobs get stuck: batch jobs that hold their slot forever, or ApexToken jobs that sit "
    "Queued (the FAQ's stale tokens).",
    arg_schema(("count",), count=COUNT_ARG, kind={"enum": sorted(JOB_KINDS)}, name=CLASS_ARG),
)
def apex_jobs_stuck(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Inject ``count`` stuck jobs of ``kind`` (``batch`` by default)."""
    kind = str(args.get("kind", "batch"))
    job_type = JOB_KINDS[kind]
    status = "Queued" if job_type == "ApexToken" else "Processing"
    name = str(args.get("name", "StuckToken" if job_type == "ApexToken" else "StuckBatch"))
    for _ in range(int(args["count"])):
        play.org.apex.inject_stuck(name, job_type=job_type, status=status)
    return f"{args['count']} {job_type} job(s) stuck {status}"


@EVENTS.register(
    "apex_jobs_cleared",
    "Salesforce Support aborts the stuck jobs (of one kind, or all), and the queue moves again.",
    arg_schema(kind={"enum": sorted(JOB_KINDS)}),
)
def apex_jobs_cleared(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Abort every stuck job (of ``kind``)."""
    job_type = JOB_KINDS[str(args["kind"])] if "kind" in args else None
    stuck = play.org.apex.stuck_jobs(job_type)
    for job_id in stuck:
        play.org.apex.abort(job_id)
    play.org.tick()
    return f"{len(stuck)} stuck job(s) aborted by Salesforce Support"


# ---------------------------------------------------------------------- licenses and storage


@EVENTS.register(
    "sf_license_changed",
    "An admin gives the sync user another user license (a Salesforce Platform license has no "
    "Leads or Campaigns).",
    arg_schema(("license",), license={"enum": sorted(LICENSES)}),
)
def sf_license_changed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Apply the license to the running user's object permissions."""
    play.org.control.apply_license(str(args["license"]))
    hidden = LICENSES[str(args["license"])]
    return f"the sync user has a {args['license']} license" + (
        f" (no {', '.join(hidden)})" if hidden else ""
    )


@EVENTS.register(
    "sf_storage_filled",
    "Other data fills the org's data storage until it is this share full (the sync's records "
    "included), or frees it again with share 0.",
    arg_schema(("share",), share={"type": "number", "minimum": 0, "maximum": 1}, note=TEXT_ARG),
)
def sf_storage_filled(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Set the storage other data uses so the org is ``share`` full."""
    control = play.org.control
    limit = control.storage_limit_mb * 1024 * 1024
    records = control.storage_used_bytes() - int(control.other_storage_mb * 1024 * 1024)
    wanted = float(args["share"]) * limit
    if args["share"] and wanted < records:
        raise ScenarioStepError(
            f"the org's records alone use {records / limit:.0%} of its storage; "
            f"give a share above that"
        )
    control.other_storage_mb = max(0.0, (wanted - records) / 1024 / 1024) if args["share"] else 0.0
    used = control.storage_used_bytes()
    return f"data storage {used / limit:.0%} full ({used / 1024 / 1024:.1f} of {limit // 1024 // 1024} MB)"


@EVENTS.register(
    "sf_field_access_restored",
    "An admin gives the sync user read and edit access to a field again.",
    arg_schema(("object", "field"), object=OBJECT_ARG, field=FIELD_ARG),
)
def sf_field_access_restored(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Undo ``sf_field_restricted`` for one field."""
    play.org.object(args["object"])
    key = (str(args["object"]).lower(), str(args["field"]).lower())
    play.org.control.hidden_fields.discard(key)
    play.org.control.read_only_fields.discard(key)
    return f"{args['object']}.{args['field']} is readable and editable for the sync user again"
