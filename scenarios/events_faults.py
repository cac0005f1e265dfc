"""Injected faults: Campaign Monitor trouble over a stretch of time, and faults inside a run.

``cm_outage``, ``cm_rate_limit_storm``, ``cm_timeouts``, ``cm_answers_lost`` and
``cm_slow_responses`` make Campaign Monitor misbehave from the event's time on (for a while
or a number of requests). ``fault_in_run`` arms a fault that the next run meets at its k-th call to
either platform — an expired session, a lock, a 5xx, a timeout — fired by the request
hooks of :mod:`scenarios.faults`.
"""

from __future__ import annotations

import re
from typing import Any

from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.faults import CM_FAULTS, PLATFORMS, SF_FAULTS, ArmedFault
from scenarios.play import Play
from scenarios.registry import COUNT_ARG, DURATION_ARG, OBJECT_ARG, arg_schema
from scenarios.spec import parse_duration

__all__ = ["PATH_ARG"]

PATH_ARG: dict[str, Any] = {"type": "string", "format": "regex", "maxLength": 200}


# ---------------------------------------------------------------------- Campaign Monitor


@EVENTS.register(
    "cm_outage",
    "Campaign Monitor answers 5xx for a while (all paths, or those matching 'path').",
    arg_schema(
        ("duration",), duration=DURATION_ARG, status={"enum": [500, 502, 503, 504]}, path=PATH_ARG
    ),
)
def cm_outage(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Start an outage that ends after ``duration``."""
    until = play.clock.now() + parse_duration(args["duration"])
    play.account.start_outage(args.get("path", ".*"), status=args.get("status", 503), until=until)
    return f"Campaign Monitor down ({args.get('status', 503)}) for {args['duration']}"


@EVENTS.register(
    "cm_rate_limit_storm",
    "Campaign Monitor answers 429 for a while or for a number of requests.",
    arg_schema(duration=DURATION_ARG, count=COUNT_ARG, path=PATH_ARG),
)
def cm_rate_limit_storm(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Start a 429 storm."""
    if "duration" not in args and "count" not in args:
        raise ScenarioStepError("give 'duration' or 'count'")
    until = play.clock.now() + parse_duration(args["duration"]) if "duration" in args else None
    play.account.rate_limit_storm(args.get("path", ".*"), count=args.get("count"), until=until)
    span = args.get("duration") or f"{args['count']} requests"
    return f"Campaign Monitor rate-limits (429) for {span}"


@EVENTS.register(
    "cm_timeouts",
    "Campaign Monitor requests time out (the next 'count' matching requests).",
    arg_schema(count=COUNT_ARG, path=PATH_ARG),
)
def cm_timeouts(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """The next requests time out."""
    play.account.time_out(args.get("path", ".*"), count=args.get("count", 1))
    return f"next {args.get('count', 1)} Campaign Monitor request(s) time out"


@EVENTS.register(
    "cm_answers_lost",
    "Campaign Monitor applies the next matching requests but their answers never arrive.",
    arg_schema(count=COUNT_ARG, path=PATH_ARG),
)
def cm_answers_lost(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """The next requests are applied, then time out for the client."""
    play.account.lose_answers(args.get("path", ".*"), count=args.get("count", 1))
    return f"the answers of the next {args.get('count', 1)} Campaign Monitor request(s) are lost"


@EVENTS.register(
    "cm_slow_responses",
    "Campaign Monitor answers slowly: each matching request takes 'seconds' of virtual time.",
    arg_schema(
        ("seconds",),
        seconds={"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        count=COUNT_ARG,
        path=PATH_ARG,
    ),
)
def cm_slow_responses(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Slow down matching requests."""
    play.account.slow_down(args["seconds"], args.get("path", ".*"), count=args.get("count"))
    return f"Campaign Monitor answers take {args['seconds']}s"


# ---------------------------------------------------------------------- faults in a run


@EVENTS.register(
    "fault_in_run",
    "The next run meets a fault at its k-th call to a platform (or the k-th after a matching "
    "call): an expired session, a lock, a 5xx, a timeout.",
    arg_schema(
        ("platform", "at_call", "fault"),
        platform={"enum": sorted(PLATFORMS)},
        at_call={"type": "integer", "minimum": 1, "maximum": 100_000},
        fault={"enum": sorted(set(SF_FAULTS) | set(CM_FAULTS))},
        count=COUNT_ARG,
        status={"enum": [500, 502, 503, 504]},
        object=OBJECT_ARG,
        after={"type": "string", "format": "regex", "minLength": 1, "maxLength": 200},
    ),
)
def fault_in_run(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Arm the fault for the next run."""
    platform, kind = args["platform"], args["fault"]
    if kind not in PLATFORMS[platform]:
        raise ScenarioStepError(
            f"{platform} faults are {', '.join(PLATFORMS[platform])}, not {kind!r}"
        )
    if kind == "row_lock" and "object" not in args:
        raise ScenarioStepError("a row_lock needs the object whose rows are locked")
    status = int(args.get("status", 503))
    if platform == "salesforce" and status not in (500, 503):
        raise ScenarioStepError("Salesforce server errors are 500 or 503")
    after = re.compile(args["after"]) if "after" in args else None
    fault = ArmedFault(
        platform,
        int(args["at_call"]),
        kind,
        int(args.get("count", 1)),
        status,
        args.get("object"),
        after,
    )
    play.faults.arm(fault)
    return f"armed: {fault.describe()}"
