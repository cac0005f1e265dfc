"""Named invariants: what must be true of the org, the account and the runs.

Each invariant is ``fn(play, args) -> list[Mismatch]`` registered in :data:`INVARIANTS`;
an empty list means it holds. A mismatch says what was expected and what was found, in
values a person can compare. Reads of the org go through the simulator's backend (no API
call is charged), except :func:`org_matches_account`, which compares through both APIs as
a user's tools would. Run-related invariants live in :mod:`scenarios.invariants_runs`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from scenarios.compare import compare
from scenarios.play import Play
from scenarios.registry import (
    ALIAS_ARG,
    EMAIL_ARG,
    EMAILS_ARG,
    OBJECT_ARG,
    TEXT_ARG,
    Registry,
    arg_schema,
)

__all__ = ["INVARIANTS", "InvariantFn", "Mismatch", "soql_list"]

InvariantFn = Any
"""``(play, args) -> list[Mismatch]``."""

INVARIANTS: Registry[InvariantFn] = Registry("invariant")

DIFFERENCE_KINDS = [
    "list",
    "member",
    "member details",
    "opt-out",
    "campaign",
    "campaign link",
    "campaign member",
    "activity",
    "suppression",
    "smart email",
]
SHOWN = 15


@dataclass(frozen=True)
class Mismatch:
    """What an invariant expected and what it found instead.

    Attributes:
        expected: The expected value (plain JSON-like data).
        found: What was found.
        subject: What it is about (an email, an object), if more than the invariant.
    """

    expected: Any
    found: Any
    subject: str = ""


def soql_list(values: list[str]) -> str:
    """``'a','b'`` for a SOQL ``IN`` clause (quotes and backslashes escaped)."""
    return ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)


def _emails(play: Play, args: dict[str, Any]) -> list[str]:
    if "email" in args:
        return [str(args["email"]).lower()]
    return play.emails(args["emails"])


def _shown(items: list[str]) -> list[str]:
    return items[:SHOWN] + ([f"... and {len(items) - SHOWN} more"] if len(items) > SHOWN else [])


@INVARIANTS.register(
    "org_matches_account",
    "Salesforce shows what Campaign Monitor shows (lists, members, campaigns, activity...).",
    arg_schema(ignore={"type": "array", "items": {"enum": DIFFERENCE_KINDS}}),
    live=True,
)
def org_matches_account(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Compare org and account through both APIs; every difference is a mismatch."""
    ignored = set(args.get("ignore", []))
    diffs = [d for d in compare(play.world, play.settings()) if d.kind not in ignored]
    if not diffs:
        return []
    return [
        Mismatch("no differences", _shown([str(d) for d in diffs]), f"{len(diffs)} difference(s)")
    ]


@INVARIANTS.register(
    "org_differs_from_account",
    "At least one difference (of a kind) between org and account: shows a drift exists.",
    arg_schema(kind={"enum": DIFFERENCE_KINDS}),
    shorthand="kind",
    live=True,
)
def org_differs_from_account(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """The opposite check, for showing a drift before it is repaired."""
    kind = args.get("kind")
    diffs = [d for d in compare(play.world, play.settings()) if kind is None or d.kind == kind]
    return [] if diffs else [Mismatch(f"some {kind or 'difference'}s", "none")]


@INVARIANTS.register(
    "no_duplicate_members",
    "No list has two memberships for one email; no campaign has a person twice.",
    live=True,
)
def no_duplicate_members(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Count memberships per list and email, campaign members per campaign and person."""
    counts: Counter[str] = Counter()
    for row in play.org.query("SELECT List__c, Email__c FROM CMSF_List_Member__c"):
        counts[f"list {row['List__c']}: {str(row['Email__c']).lower()}"] += 1
    for row in play.org.query("SELECT CampaignId, ContactId, LeadId FROM CampaignMember"):
        counts[f"campaign {row['CampaignId']}: {row['ContactId'] or row['LeadId']}"] += 1
    twice = sorted(f"{key} x{n}" for key, n in counts.items() if n > 1)
    return [Mismatch("one record each", _shown(twice), "duplicates")] if twice else []


def _opt_out_flags(play: Play, emails: list[str]) -> dict[str, list[bool]]:
    flags: dict[str, list[bool]] = {e: [] for e in emails}
    for sobject in ("Contact", "Lead"):
        for row in play.org.query(
            f"SELECT Email, HasOptedOutOfEmail FROM {sobject} WHERE Email IN ({soql_list(emails)})"
        ):
            flags.setdefault(str(row["Email"]).lower(), []).append(bool(row["HasOptedOutOfEmail"]))
    return flags


def _opt_out(play: Play, args: dict[str, Any], wanted: bool) -> list[Mismatch]:
    out = []
    for email, flags in sorted(_opt_out_flags(play, _emails(play, args)).items()):
        if not flags:
            out.append(Mismatch("a Contact or Lead", "nobody with this email", email))
        elif any(flag != wanted for flag in flags):
            out.append(Mismatch(f"HasOptedOutOfEmail = {wanted}", flags, email))
    return out


@INVARIANTS.register(
    "opted_out",
    "These people's Contacts and Leads are opted out of email.",
    arg_schema(email=EMAIL_ARG, emails=EMAILS_ARG),
    shorthand="emails",
)
def opted_out(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Every Contact and Lead with these emails has HasOptedOutOfEmail set."""
    return _opt_out(play, args, True)


@INVARIANTS.register(
    "not_opted_out",
    "These people's Contacts and Leads are not opted out of email.",
    arg_schema(email=EMAIL_ARG, emails=EMAILS_ARG),
    shorthand="emails",
)
def not_opted_out(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """No Contact or Lead with these emails has HasOptedOutOfEmail set."""
    return _opt_out(play, args, False)


MEMBER_STATES = ["Active", "Unconfirmed", "Unsubscribed", "Bounced", "Deleted", "absent"]


@INVARIANTS.register(
    "member_state",
    "These people's memberships of a list show a state (absent: no membership record).",
    arg_schema(
        ("list", "state"),
        list=ALIAS_ARG,
        email=EMAIL_ARG,
        emails=EMAILS_ARG,
        state={"enum": MEMBER_STATES},
        linked_to={"enum": ["contact", "lead", "nobody"]},
    ),
)
def member_state(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read ``CMSF_List_Member__c`` by its key (list id and email)."""
    list_id = play.ref(args["list"], "list")
    emails = _emails(play, args)
    keys = [f"{list_id}:{e}" for e in emails]
    found = {
        str(r["CM_Id__c"]): r
        for r in play.org.query(
            "SELECT CM_Id__c, State__c, Contact__c, Lead__c FROM CMSF_List_Member__c "
            f"WHERE CM_Id__c IN ({soql_list(keys)})"
        )
    }
    out = []
    for email, key in zip(emails, keys, strict=True):
        row = found.get(key)
        state = row["State__c"] if row else "absent"
        if state != args["state"]:
            out.append(Mismatch(args["state"], state, f"{email} in {args['list']}"))
            continue
        link = args.get("linked_to")
        if row is not None and link is not None:
            actual = "contact" if row["Contact__c"] else "lead" if row["Lead__c"] else "nobody"
            if actual != link and not (link == "lead" and row["Lead__c"]):
                out.append(Mismatch(f"linked to a {link}", f"linked to {actual}", email))
    return out


def _salesforce_campaign(play: Play, alias: str) -> str | None:
    cm_id = play.ref(alias, "campaign")
    rows = play.org.query(
        f"SELECT Id FROM Campaign WHERE CMSF_Campaign_Monitor_Id__c = '{cm_id}' ORDER BY Id"
    )
    return str(rows[0]["Id"]) if rows else None


@INVARIANTS.register(
    "campaign_member_status",
    "These people are members of the campaign's linked Salesforce Campaign with a status.",
    arg_schema(
        ("campaign", "status"),
        campaign=ALIAS_ARG,
        email=EMAIL_ARG,
        emails=EMAILS_ARG,
        status=TEXT_ARG,
        responded={"type": "boolean"},
    ),
)
def campaign_member_status(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read the CampaignMembers of the linked Campaign by person email."""
    campaign = _salesforce_campaign(play, args["campaign"])
    if campaign is None:
        return [Mismatch("a linked Salesforce Campaign", "none", args["campaign"])]
    members: dict[str, dict[str, Any]] = {}
    for row in play.org.query(
        "SELECT Status, HasResponded, Contact.Email, Lead.Email FROM CampaignMember "
        f"WHERE CampaignId = '{campaign}'"
    ):
        person = (row.get("Contact") or {}).get("Email") or (row.get("Lead") or {}).get("Email")
        members[str(person).lower()] = row
    out = []
    for email in _emails(play, args):
        member = members.get(email)
        if member is None:
            out.append(Mismatch(args["status"], "not a member", email))
        elif member["Status"] != args["status"]:
            out.append(Mismatch(args["status"], member["Status"], email))
        elif "responded" in args and bool(member["HasResponded"]) != args["responded"]:
            out.append(Mismatch(f"responded = {args['responded']}", member["HasResponded"], email))
    return out


@INVARIANTS.register(
    "campaign_statuses",
    "The campaign's linked Salesforce Campaign has these member statuses (label: responded).",
    arg_schema(
        ("campaign", "statuses"),
        campaign=ALIAS_ARG,
        statuses={"type": "object", "additionalProperties": {"type": "boolean"}},
    ),
)
def campaign_statuses(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read CampaignMemberStatus rows of the linked Campaign."""
    campaign = _salesforce_campaign(play, args["campaign"])
    if campaign is None:
        return [Mismatch("a linked Salesforce Campaign", "none", args["campaign"])]
    have = {
        str(r["Label"]): bool(r["HasResponded"])
        for r in play.org.query(
            f"SELECT Label, HasResponded FROM CampaignMemberStatus WHERE CampaignId = '{campaign}'"
        )
    }
    out = []
    for label, responded in sorted(args["statuses"].items()):
        if label not in have:
            out.append(Mismatch(f"status {label!r}", sorted(have), label))
        elif have[label] != responded:
            out.append(Mismatch(f"responded = {responded}", have[label], label))
    return out


@INVARIANTS.register(
    "records",
    "How many records of an object (matching a SOQL condition) the org holds.",
    arg_schema(
        ("object",),
        object=OBJECT_ARG,
        where=TEXT_ARG,
        count={"type": "integer", "minimum": 0},
        min={"type": "integer", "minimum": 0},
        max={"type": "integer", "minimum": 0},
    ),
    live=True,
)
def records(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Count records with a backend query."""
    where = f" WHERE {play.expand(args['where'])}" if "where" in args else ""
    count = len(play.org.query(f"SELECT Id FROM {args['object']}{where}"))
    subject = f"{args['object']}{where}"
    if "count" in args and count != args["count"]:
        return [Mismatch(args["count"], count, subject)]
    if "min" in args and count < args["min"]:
        return [Mismatch(f">= {args['min']}", count, subject)]
    if "max" in args and count > args["max"]:
        return [Mismatch(f"<= {args['max']}", count, subject)]
    return []
