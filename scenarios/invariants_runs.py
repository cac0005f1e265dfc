"""Invariants about the runs: their status, the messages raised, what was written where.

Also :func:`same_state_as`, which plays another scenario (or this one again) from scratch
and requires the org to end in the same canonical state (:func:`scenarios.compare.org_state`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cmsf_core.clock import parse_instant
from scenarios.compare import org_state
from scenarios.invariants import INVARIANTS, Mismatch
from scenarios.play import Play, RunRecord
from scenarios.registry import ALIAS_ARG, RUN_ARG, TEXT_ARG, arg_schema
from scenarios.spec import parse_duration
from sf_sim import Org

__all__ = ["LOGIN_PATHS", "message_codes", "select_runs", "sf_writes"]

RUN_STATUSES = ["completed", "completed_with_errors", "stopped", "waiting", "failed", "refused"]
CODES = {"type": "array", "items": {"type": "string", "pattern": r"^CMSF-[A-Z-]+$"}}
LOGIN_PATHS = ("/services/oauth2/token", "/services/Soap/u/", "/services/Soap/c/")
AT_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\+?([0-9]+[smhd])+$",
    "x-message": "must be an offset such as +2h",
}


def select_runs(play: Play, which: str | int) -> list[RunRecord] | None:
    """The runs ``first``, ``last``, ``each``/``all`` or number N (None if there is no such run)."""
    if which in ("each", "all"):
        return list(play.runs)
    if which == "first":
        return play.runs[:1] or None
    if which == "last":
        return play.runs[-1:] or None
    index = int(which)
    return [play.runs[index - 1]] if 0 < index <= len(play.runs) else None


def message_codes(play: Play, severity: str | None = None) -> list[str]:
    """Support codes raised during the scenario: run reports and the orgs' message records."""
    codes: set[str] = set()
    for run in play.runs:
        if run.report is not None:
            codes |= {
                m.code for m in run.report.messages if severity is None or m.severity == severity
            }
    where = f" WHERE Severity__c = '{severity}'" if severity else ""
    for org in play.orgs:
        for row in org.query(f"SELECT Support_Code__c FROM CMSF_Maintenance_Message__c{where}"):
            if row.get("Support_Code__c"):
                codes.add(str(row["Support_Code__c"]))
    return sorted(codes)


@INVARIANTS.register(
    "maintenance_messages",
    "Maintenance messages raised: exactly these codes, including or excluding some, or none.",
    arg_schema(
        exactly=CODES,
        includes=CODES,
        excludes=CODES,
        none={"const": True},
        severity={"enum": ["Info", "Warning", "Error"]},
    ),
    shorthand="exactly",
    live=True,
)
def maintenance_messages(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Compare the support codes raised with the expected ones."""
    codes = message_codes(play, args.get("severity"))
    if args.get("none") and codes:
        return [Mismatch("no messages", codes)]
    if "exactly" in args and codes != sorted(set(args["exactly"])):
        return [Mismatch(sorted(set(args["exactly"])), codes)]
    missing = sorted(set(args.get("includes", [])) - set(codes))
    if missing:
        return [Mismatch(f"including {', '.join(missing)}", codes)]
    unwanted = sorted(set(args.get("excludes", [])) & set(codes))
    if unwanted:
        return [Mismatch(f"none of {', '.join(unwanted)}", codes)]
    return []


@INVARIANTS.register(
    "run_messages",
    "The messages a run raised: codes (exactly, including, excluding, none) and their text.",
    arg_schema(
        run=RUN_ARG,
        exactly=CODES,
        includes=CODES,
        excludes=CODES,
        none={"const": True},
        code={"type": "string", "pattern": r"^CMSF-[A-Z-]+$"},
        text={"type": "string", "minLength": 1, "maxLength": 1000},
    ),
    shorthand="exactly",
)
def run_messages(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Check the messages of the run(s) chosen (``last`` by default), one run at a time.

    ``text`` must appear in the summary or the details of a message (of ``code`` when
    given) of each chosen run.
    """
    runs = select_runs(play, args.get("run", "last"))
    if runs is None:
        return [Mismatch(f"run {args.get('run', 'last')}", f"{len(play.runs)} run(s)")]
    out = []
    for run in runs:
        messages = run.report.messages if run.report is not None else []
        codes = sorted({m.code for m in messages})
        where = f"run {run.number}"
        if args.get("none") and codes:
            out.append(Mismatch("no messages", codes, where))
        if "exactly" in args and codes != sorted(set(args["exactly"])):
            out.append(Mismatch(sorted(set(args["exactly"])), codes, where))
        missing = sorted(set(args.get("includes", [])) - set(codes))
        if missing:
            out.append(Mismatch(f"including {', '.join(missing)}", codes, where))
        unwanted = sorted(set(args.get("excludes", [])) & set(codes))
        if unwanted:
            out.append(Mismatch(f"none of {', '.join(unwanted)}", codes, where))
        if "text" in args:
            chosen = [m for m in messages if "code" not in args or m.code == args["code"]]
            texts = [" ".join([m.summary, m.detail, *m.details]) for m in chosen]
            if not any(args["text"] in t for t in texts):
                shown = [f"{m.code}: {m.summary}" for m in chosen][:5]
                out.append(Mismatch(f"a message saying {args['text']!r}", shown or "none", where))
    return out


def _since(play: Play, args: dict[str, Any]) -> datetime:
    return play.start + parse_duration(args["since"]) if "since" in args else play.start


@INVARIANTS.register(
    "nothing_written_to_campaign_monitor",
    "No request other than reads reached Campaign Monitor (since an offset, or at all).",
    arg_schema(since=AT_ARG),
)
def nothing_written_to_campaign_monitor(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Scan the account's request log for writes."""
    since = _since(play, args)
    writes = [
        f"{e['method']} {e['path']} at {play.offset_text(parse_instant(e['at']))}"
        for e in play.account.request_log()
        if e["method"] not in ("GET", "HEAD") and parse_instant(e["at"]) >= since
    ]
    return [Mismatch("no writes", writes[:15], f"{len(writes)} write(s)")] if writes else []


def sf_writes(org: Org, since: datetime) -> list[tuple[datetime, str]]:
    """``(time, "METHOD path")`` of every write request to ``org`` since ``since`` (no logins)."""
    out = []
    for entry in list(org.control.request_log):
        if entry.method in ("GET", "HEAD") or entry.path.startswith(LOGIN_PATHS):
            continue
        when = parse_instant(entry.at)
        if when >= since:
            out.append((when, f"{entry.method} {entry.path}"))
    return out


@INVARIANTS.register(
    "nothing_written_to_salesforce",
    "No write request reached the production org (or the current one) since an offset.",
    arg_schema(org={"enum": ["production", "current"]}, since=AT_ARG),
)
def nothing_written_to_salesforce(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Scan the org's request log for writes (logins do not count)."""
    org = play.org if args.get("org") == "current" else play.production_org
    writes = [
        f"{text} at {play.offset_text(when)}" for when, text in sf_writes(org, _since(play, args))
    ]
    return [Mismatch("no writes", writes[:15], f"{len(writes)} write(s)")] if writes else []


@INVARIANTS.register(
    "run_status",
    "The status of runs: the last (default), first, each or number N; or the exact sequence.",
    arg_schema(
        status={
            "oneOf": [
                {"enum": RUN_STATUSES},
                {"type": "array", "items": {"enum": RUN_STATUSES}, "minItems": 1},
            ],
            "x-message": f"must be one of {', '.join(RUN_STATUSES)} or a list of them",
        },
        sequence={"type": "array", "items": {"enum": RUN_STATUSES}, "minItems": 1},
        run=RUN_ARG,
    ),
    shorthand="status",
    live=True,
)
def run_status(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Check run statuses (``sequence`` lists every run's status in order)."""
    if "sequence" in args:
        found = [r.status for r in play.runs]
        return [] if found == args["sequence"] else [Mismatch(args["sequence"], found)]
    wanted = args.get("status", "completed")
    allowed = set(wanted) if isinstance(wanted, list) else {wanted}
    runs = select_runs(play, args.get("run", "last"))
    if runs is None:
        return [Mismatch(f"run {args.get('run', 'last')}", f"{len(play.runs)} run(s)")]
    return [
        Mismatch(wanted, f"{r.status}{f' ({r.reason})' if r.reason else ''}", f"run {r.number}")
        for r in runs
        if r.status not in allowed
    ]


@INVARIANTS.register(
    "journal_holds_no_addresses",
    "The runner's journal (its whole database image, free pages too) holds no subscriber address.",
)
def journal_holds_no_addresses(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Search the journal's bytes for every address of the world's accounts and its local part.

    Local parts made only of hex digits are skipped (digests are made of those).
    """
    image = bytes(play.journal.db.conn.serialize())
    found = []
    for account in play.accounts:
        for address in account.email_addresses():
            local = address.split("@", 1)[0]
            needles = [address.encode(), address.lower().encode()]
            if set(local.lower()) - set("0123456789abcdef"):
                needles.append(local.encode())
            if any(needle in image for needle in needles):
                found.append(address)
    return (
        [Mismatch("no address", sorted(found)[:15], f"{len(found)} address(es)")] if found else []
    )


@INVARIANTS.register(
    "call",
    "A check written in the scenario's hook module: fn(play, **with) -> mismatches or a bool.",
    arg_schema(
        ("function",),
        function={
            "type": "string",
            "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
            "x-message": "must name a function of the scenario's hook module",
        },
        **{"with": {"type": "object"}},
    ),
    shorthand="function",
)
def call(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Run a hook function; ``None``/``True`` hold, ``False`` or mismatches do not."""
    outcome = play.hook(args["function"])(play, **args.get("with", {}))
    if outcome is None or outcome is True:
        return []
    if outcome is False:
        return [Mismatch(True, False, args["function"])]
    return [m if isinstance(m, Mismatch) else Mismatch(*m) for m in outcome]


@INVARIANTS.register(
    "same_state_as",
    "The org ends in the same state as after another scenario (or this one played again).",
    arg_schema(("scenario",), scenario=ALIAS_ARG, note=TEXT_ARG),
    shorthand="scenario",
)
def same_state_as(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Play the other scenario from scratch (expectations off) and compare org states."""
    from scenarios.catalogue import find_scenario
    from scenarios.errors import UnknownScenarioError
    from scenarios.runner import play_scenario

    if args["scenario"] in ("self", play.scenario.name):
        other = play.scenario
    else:
        try:
            other = find_scenario(args["scenario"], near=play.scenario.path.parent)
        except UnknownScenarioError:
            other = find_scenario(args["scenario"])  # the bundled catalogue
    mine = org_state(play.world)
    replay = play_scenario(other)
    try:
        theirs = org_state(replay.world)
    finally:
        replay.close()
    out = []
    for sobject in sorted(set(mine) | set(theirs)):
        a, b = set(mine.get(sobject, [])), set(theirs.get(sobject, []))
        if a != b:
            only_here = sorted(a - b)[:5]
            only_there = sorted(b - a)[:5]
            out.append(
                Mismatch(
                    f"{len(b)} rows as in {other.name} (e.g. {only_there})",
                    f"{len(a)} rows (e.g. {only_here})",
                    sobject,
                )
            )
    return out
