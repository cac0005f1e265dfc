"""Invariants about what Campaign Monitor shows after the Salesforce -> Campaign Monitor push.

They read through Campaign Monitor's API, as a user's tools would, so they also hold for
live scenarios: :func:`cm_subscriber` (state, name, custom fields and mobile number of
subscribers of a list) and :func:`journey_sent` (who a journey emailed).
"""

from __future__ import annotations

from typing import Any

from scenarios.invariants import INVARIANTS, Mismatch
from scenarios.play import Play
from scenarios.registry import ALIAS_ARG, EMAIL_ARG, EMAILS_ARG, TEXT_ARG, arg_schema

__all__ = ["cm_subscriber", "journey_sent"]

CM_STATES = ["Active", "Unconfirmed", "Unsubscribed", "Bounced", "Deleted", "absent"]


def _emails(play: Play, args: dict[str, Any]) -> list[str]:
    if "email" in args:
        return [str(args["email"]).lower()]
    return play.emails(args["emails"])


@INVARIANTS.register(
    "cm_subscriber",
    "Campaign Monitor shows these subscribers of a list: state, and optionally name, fields, mobile.",
    arg_schema(
        ("list",),
        list=ALIAS_ARG,
        email=EMAIL_ARG,
        emails=EMAILS_ARG,
        state={"enum": CM_STATES},
        name=TEXT_ARG,
        fields={
            "type": "object",
            "additionalProperties": {"type": ["string", "array"], "items": {"type": "string"}},
        },
        mobile={"type": "string", "maxLength": 20},
    ),
    live=True,
)
def cm_subscriber(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read ``subscribers/{list}.json?email=`` for each address."""
    list_id = play.ref(args["list"], "list")
    out = []
    with play.account.client() as http:
        for email in _emails(play, args):
            reply = http.get(
                f"/subscribers/{list_id}.json",
                params={"email": email, "includesmspreference": "true"},
            )
            found = reply.json() if reply.status_code == 200 else None
            where = f"{email} in {args['list']}"
            state = found["State"] if found else "absent"
            if "state" in args and state != args["state"]:
                out.append(Mismatch(args["state"], state, where))
                continue
            if found is None:
                continue
            if "name" in args and found.get("Name") != args["name"]:
                out.append(Mismatch(args["name"], found.get("Name"), f"name of {where}"))
            have: dict[str, list[str]] = {}
            for item in found.get("CustomFields") or []:
                have.setdefault(str(item["Key"]).lower(), []).append(str(item["Value"]))
            for key, wanted in (args.get("fields") or {}).items():
                values = sorted(wanted) if isinstance(wanted, list) else [wanted]
                if sorted(have.get(key.lower(), [])) != values:
                    out.append(Mismatch(values, have.get(key.lower(), []), f"{key} of {where}"))
            if "mobile" in args and (found.get("MobileNumber") or "") != args["mobile"]:
                out.append(
                    Mismatch(args["mobile"], found.get("MobileNumber"), f"mobile of {where}")
                )
    return out


@INVARIANTS.register(
    "journey_sent",
    "A journey's first email went to these addresses (or, with sent false, did not).",
    arg_schema(
        ("journey",),
        journey=ALIAS_ARG,
        email=EMAIL_ARG,
        emails=EMAILS_ARG,
        sent={"type": "boolean"},
    ),
    live=True,
)
def journey_sent(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read the journey's first email's recipients through the API."""
    journey = play.ref(args["journey"], "journey")
    with play.account.client() as http:
        emails = http.get(f"/journeys/{journey}.json").json().get("Emails") or []
        if not emails:
            return [Mismatch("a journey email", "none", args["journey"])]
        page = http.get(f"/journeys/email/{emails[0]['EmailID']}/recipients.json").json()
    sent = {str(r["EmailAddress"]).lower() for r in page.get("Results") or []}
    wanted = bool(args.get("sent", True))
    return [
        Mismatch("sent" if wanted else "not sent", "sent" if e in sent else "not sent", e)
        for e in _emails(play, args)
        if (e in sent) != wanted
    ]
