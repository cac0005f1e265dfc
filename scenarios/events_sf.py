"""Timeline events on the Salesforce side, and injected platform faults on both sides.

Salesforce events are what admins, other apps and the platform do to an org: configure a
list's create rule, spend API calls, expire sessions, lock rows, restrict fields, add
validation rules and triggers (declared as data), delete records by hand, refresh a
sandbox. The same functions apply the ``world:`` org tweaks before the timeline starts.
Injected faults live in :mod:`scenarios.events_faults`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.play import Play
from scenarios.registry import (
    ALIAS_ARG,
    COUNT_ARG,
    DURATION_ARG,
    OBJECT_ARG,
    TEXT_ARG,
    arg_schema,
)
from scenarios.spec import parse_duration
from sf_sim import TriggerContext
from sf_sim.async_apex import ApexContext

__all__ = [
    "CONDITION_ARG",
    "RESTRICT_ARGS",
    "TRIGGER_ARGS",
    "VALIDATION_ARGS",
    "TriggerException",
    "apply_org_tweaks",
    "matches",
]

FIELD_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z][A-Za-z0-9_]{0,79}$",
    "x-message": "must be a field API name such as Email or Website",
}
CONDITION_ARG = arg_schema(
    ("field",),
    field=FIELD_ARG,
    equals={"type": ["string", "number", "boolean", "null"]},
    is_blank={"type": "boolean"},
)
TRIGGER_EVENTS = [f"{t} {e}" for t in ("before", "after") for e in ("insert", "update", "delete")]
VALIDATION_ARGS = arg_schema(
    ("object", "message"),
    object=OBJECT_ARG,
    name=TEXT_ARG,
    message=TEXT_ARG,
    field=FIELD_ARG,
    when=CONDITION_ARG,
)
TRIGGER_ARGS = arg_schema(
    ("object", "events", "action"),
    object=OBJECT_ARG,
    name=TEXT_ARG,
    events={"type": "array", "items": {"enum": TRIGGER_EVENTS}, "minItems": 1},
    action={
        "enum": [
            "add_error",
            "query_per_record",
            "throw",
            "enqueue_queueable",
            "enqueue_batch",
            "work",
        ]
    },
    message=TEXT_ARG,
    when=CONDITION_ARG,
    cpu_ms_per_record={"type": "integer", "minimum": 0, "maximum": 100_000},
    heap_per_record={"type": "integer", "minimum": 0, "maximum": 100_000_000},
)
RESTRICT_ARGS = arg_schema(
    ("object", "field"),
    object=OBJECT_ARG,
    field=FIELD_ARG,
    access={"enum": ["read_only", "hidden"]},
)


class TriggerException(Exception):
    """What a scenario trigger with ``action: throw`` raises (an unhandled Apex exception)."""


def matches(condition: dict[str, Any] | None, record: dict[str, Any] | None) -> bool:
    """Whether a record meets a ``when:`` condition (no condition: every record)."""
    if not condition:
        return True
    if record is None:
        return False
    value = record.get(condition["field"])
    if "equals" in condition and value != condition["equals"]:
        return False
    return not ("is_blank" in condition and (value in (None, "")) != condition["is_blank"])


def _no_op(ctx: ApexContext) -> None:
    """The work of a queueable a scenario trigger enqueues (its cost is the enqueueing)."""


def _no_op_scope(ctx: ApexContext, scope: list[Any]) -> None:
    """The work of a batch job a scenario trigger starts, per scope."""


def _step_error(action: Callable[[], Any], what: str) -> Any:
    try:
        return action()
    except ValueError as exc:
        raise ScenarioStepError(f"{what}: {exc}") from None


# ---------------------------------------------------------------------- admins and users


@EVENTS.register(
    "create_rule_set",
    "An admin sets a list's create rule (Contact, Lead or None) and its field mappings.",
    arg_schema(
        ("list", "rule"),
        list=ALIAS_ARG,
        rule={"enum": ["Contact", "Lead", "None"]},
        lead_company=TEXT_ARG,
        mappings={
            "type": "array",
            "items": arg_schema(("cm_field", "sf_field"), cm_field=TEXT_ARG, sf_field=FIELD_ARG),
        },
    ),
)
def create_rule_set(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Update the list's ``CMSF_List__c`` record (it must have been synced already)."""
    list_id = play.ref(args["list"], "list")
    rows = play.org.query(f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{list_id}'")
    if not rows:
        raise ScenarioStepError(f"{args['list']} is not in Salesforce yet: run a sync first")
    record_id = rows[0]["Id"]
    changes: dict[str, Any] = {"Create_Rule__c": args["rule"]}
    if "lead_company" in args:
        changes["Lead_Company__c"] = args["lead_company"]
    play.org.update("CMSF_List__c", record_id, changes)
    target = "Lead" if args["rule"] == "Lead" else "Contact"
    mappings = [
        {
            "Name": f"{m['cm_field']} to {m['sf_field']}"[:80],
            "List__c": record_id,
            "Object__c": target,
            "CM_Field__c": m["cm_field"],
            "Salesforce_Field__c": m["sf_field"],
            "Direction__c": "Campaign Monitor To Salesforce",
        }
        for m in args.get("mappings", [])
    ]
    if mappings:
        failed = [r for r in play.org.insert("CMSF_Field_Mapping__c", mappings) if not r.success]
        if failed:
            raise ScenarioStepError(f"the org refused a field mapping: {failed[0].errors[0]}")
    return f"{args['list']} creates {args['rule']} records ({len(mappings)} field mapping(s))"


@EVENTS.register(
    "sf_records_deleted",
    "Someone deletes records by hand in Salesforce (to the recycle bin).",
    arg_schema(("object",), object=OBJECT_ARG, where=TEXT_ARG, limit=COUNT_ARG),
)
def sf_records_deleted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Delete the records matching ``where`` (at most ``limit``, in Id order)."""
    where = f" WHERE {play.expand(args['where'])}" if "where" in args else ""
    limit = f" LIMIT {args['limit']}" if "limit" in args else ""
    rows = play.org.query(f"SELECT Id FROM {args['object']}{where} ORDER BY Id{limit}")
    results = play.org.delete([r["Id"] for r in rows]) if rows else []
    return f"{sum(1 for r in results if r.success)} {args['object']} record(s) deleted by hand"


@EVENTS.register(
    "sf_api_used_by_other_apps",
    "Other apps and users spend the org's daily API calls (up to a share of the limit).",
    arg_schema(
        share={"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        calls={"type": "integer", "minimum": 1, "maximum": 10_000_000},
    ),
)
def sf_api_used_by_other_apps(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Charge API calls to the org's rolling 24-hour usage."""
    limits = play.org.limits
    if "share" in args:
        calls = max(0, int(limits.daily_limit * args["share"]) - limits.used())
    elif "calls" in args:
        calls = min(int(args["calls"]), limits.remaining())
    else:
        raise ScenarioStepError("give 'share' (of the daily limit) or 'calls'")
    if calls:
        limits.charge(calls)
    return f"other apps used {calls} API calls; org usage {limits.used()}/{limits.daily_limit}"


@EVENTS.register("sf_sessions_expired", "Every Salesforce session ends (password reset, logout).")
def sf_sessions_expired(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Revoke every session of the org."""
    play.org.control.expire_sessions()
    return "Salesforce sessions expired"


@EVENTS.register(
    "sf_row_locks",
    "Another process holds row locks on an object (UNABLE_TO_LOCK_ROW) for attempts or a while.",
    arg_schema(("object",), object=OBJECT_ARG, attempts=COUNT_ARG, duration=DURATION_ARG),
)
def sf_row_locks(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Lock every record of an object for ``attempts`` writes or for ``duration``."""
    if "attempts" not in args and "duration" not in args:
        raise ScenarioStepError("give 'attempts' or 'duration'")
    until = play.clock.now() + parse_duration(args["duration"]) if "duration" in args else None
    _step_error(
        lambda: play.org.control.lock(
            object_name=args["object"], attempts=args.get("attempts"), until=until
        ),
        "sf_row_locks",
    )
    return f"{args['object']} rows locked"


@EVENTS.register(
    "sf_field_restricted",
    "An admin removes the sync user's edit (read_only) or read (hidden) access to a field.",
    RESTRICT_ARGS,
)
def sf_field_restricted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Apply field-level security to the running user."""
    play.org.object(args["object"])
    if args.get("access", "read_only") == "hidden":
        play.org.control.hide_field(args["object"], args["field"])
    else:
        play.org.control.make_read_only(args["object"], args["field"])
    return (
        f"{args['object']}.{args['field']} is {args.get('access', 'read_only')} for the sync user"
    )


@EVENTS.register(
    "sf_validation_rule_added",
    "An admin adds a validation rule: records meeting 'when' fail with the message.",
    VALIDATION_ARGS,
)
def sf_validation_rule_added(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Register a validation rule on the org."""
    condition = args.get("when")

    def rule(new: dict[str, Any], old: dict[str, Any] | None) -> str | None:
        """The message when the record meets the condition."""
        merged = {**(old or {}), **new}
        return str(args["message"]) if matches(condition, merged) else None

    _step_error(
        lambda: play.org.control.add_validation_rule(
            args["object"],
            args.get("name", "Scenario_Rule"),
            rule,
            field_name=args.get("field"),
        ),
        "sf_validation_rule_added",
    )
    return f"validation rule on {args['object']}: {args['message']}"


@EVENTS.register(
    "sf_trigger_added",
    "A trigger is deployed: it adds errors, runs a query per record (SOQL limit), throws, "
    "enqueues async Apex (a queueable per record, or a batch job) or only works (its declared "
    "CPU time and heap per record count against the transaction's limits).",
    TRIGGER_ARGS,
)
def sf_trigger_added(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Register a trigger whose behaviour is declared as data."""
    condition, action = args.get("when"), args["action"]
    message = str(args.get("message", "Blocked by a trigger"))
    sobject = args["object"]
    job_class = f"{args.get('name') or sobject + 'Trigger'}Job".replace(" ", "_")[:40]

    def trigger(ctx: TriggerContext) -> None:
        """Apply the declared action to the records meeting the condition."""
        records = ctx.new or [r for r in ctx.old if r is not None]
        chosen = [i for i, r in enumerate(records) if matches(condition, r)]
        if action == "add_error":
            for index in chosen:
                ctx.add_error(index, message)
        elif action == "query_per_record":
            for _ in chosen:
                ctx.org.query(f"SELECT Id FROM {sobject} LIMIT 1")
        elif action == "enqueue_queueable":
            for _ in chosen:  # one job per record: the queueable limit is 50 a transaction
                ctx.org.apex.enqueue_job(job_class, _no_op)
        elif action == "enqueue_batch":
            if chosen:  # one batch job per trigger call: five run, the rest wait Holding
                ctx.org.apex.execute_batch(job_class, execute=_no_op_scope)
        elif action == "throw" and chosen:
            raise TriggerException(message)

    _step_error(
        lambda: play.org.control.add_trigger(
            sobject,
            args["events"],
            trigger,
            name=args.get("name"),
            cpu_ms_per_record=int(args.get("cpu_ms_per_record", 0)),
            heap_per_record=int(args.get("heap_per_record", 0)),
        ),
        "sf_trigger_added",
    )
    return f"trigger on {sobject} ({', '.join(args['events'])}): {action}"


@EVENTS.register(
    "sandbox_refreshed",
    "The org is copied into a sandbox and the engine now runs there (optionally after a reset).",
    arg_schema(
        name={"type": "string", "pattern": r"^[A-Za-z0-9]{1,10}$"},
        post_copy={"enum": ["none", "reset_settings"]},
        journal={"enum": ["new", "kept"]},
    ),
)
def sandbox_refreshed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Refresh a sandbox from the production org and point the engine at it.

    ``journal: kept`` keeps the runner's journal of production (a runner whose
    configuration now names the sandbox); by default the runner starts a new one.
    """
    sandbox = play.production_org.refresh_sandbox(args.get("name", "uat"))
    play.point_engine_at(sandbox, keep_journal=args.get("journal") == "kept")
    if args.get("post_copy", "none") == "reset_settings":
        play.engine.reset_settings()
        return f"sandbox {sandbox.org_id[:15]} refreshed; settings reset"
    return f"sandbox {sandbox.org_id[:15]} refreshed; the engine runs against it"


def apply_org_tweaks(play: Play, org: dict[str, Any]) -> list[str]:
    """Apply a world's org tweaks before the timeline; return what was done."""
    done = []
    if "session_idle" in org:
        play.org.sessions.idle_timeout = parse_duration(org["session_idle"])
        done.append(f"sessions expire after {org['session_idle']} idle")
    if "storage_limit_mb" in org:
        play.org.control.storage_limit_mb = int(org["storage_limit_mb"])
        done.append(f"data storage limit {org['storage_limit_mb']} MB")
    for key, name in (
        ("restricted_fields", "sf_field_restricted"),
        ("validation_rules", "sf_validation_rule_added"),
        ("triggers", "sf_trigger_added"),
    ):
        entry = EVENTS.get(name)
        assert entry is not None
        for args in org.get(key, []):
            done.append(entry.fn(play, dict(args), None))
    return done
