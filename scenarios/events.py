"""Timeline events on the Campaign Monitor side and the integration's own settings.

Each event is a function ``fn(play, args, alias) -> outcome`` registered in
:data:`EVENTS` with a schema for its ``with:`` arguments. Events act through the
simulators' control APIs (what a subscriber, a spam filter or a Campaign Monitor user
does) or through the engine's operations (what a Salesforce admin does on the settings
screens). Edits of the account and the integration's own settings live in
:mod:`scenarios.events_account`, Salesforce-side events in :mod:`scenarios.events_sf` and
:mod:`scenarios.events_org`, injected faults in :mod:`scenarios.events_faults`.
"""

from __future__ import annotations

from typing import Any

from cm_sim import ActivityModel
from cmsf_core.errors import ConfigError
from cmsf_core.settings import INTERNAL_SETTINGS, UNSUPPORTED_SETTINGS, Settings
from scenarios.errors import ScenarioStepError
from scenarios.play import Play
from scenarios.registry import (
    ALIAS_ARG,
    BOOL_ARG,
    COUNT_ARG,
    EMAIL_ARG,
    EMAILS_ARG,
    TEXT_ARG,
    Registry,
    arg_schema,
)

__all__ = ["EVENTS", "EventFn", "validate_settings"]

EventFn = Any
"""``(play, args, alias) -> str``: applies the event and says what it did."""

EVENTS: Registry[EventFn] = Registry("event")

SUBSCRIBER_STATES = {"Active", "Unconfirmed"}
SHARE = {"type": "number", "minimum": 0, "maximum": 1}
ACTIVITY_ARG: dict[str, Any] = {
    "oneOf": [
        BOOL_ARG,
        arg_schema(
            open_rate=SHARE,
            reopen_rate=SHARE,
            click_rate=SHARE,
            unsubscribe_rate=SHARE,
            spam_rate=SHARE,
            soft_bounce_rate=SHARE,
            hard_bounce_rate=SHARE,
            spread_hours={"type": "number", "exclusiveMinimum": 0, "maximum": 720},
        ),
    ],
    "x-message": "must be true, false or rates such as {open_rate: 1, click_rate: 0.5}",
}
LISTS_ARGS: dict[str, Any] = {
    "list": ALIAS_ARG,
    "lists": {"type": "array", "items": ALIAS_ARG, "minItems": 1},
}


def validate_settings(changes: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems with setting changes, as ``(setting name, message)`` pairs."""
    problems = []
    for name, value in changes.items():
        if name in INTERNAL_SETTINGS:
            problems.append((name, f"cannot be set: {INTERNAL_SETTINGS[name]}"))
            continue
        if name in UNSUPPORTED_SETTINGS:
            problems.append((name, f"is not supported: {UNSUPPORTED_SETTINGS[name]}"))
            continue
        try:
            Settings().changed(**{name: value})
        except ConfigError as exc:
            problems.append((name, str(exc)))
    return problems


def _lists(play: Play, args: dict[str, Any]) -> list[str]:
    names = [args["list"]] if "list" in args else list(args.get("lists", []))
    if not names:
        raise ScenarioStepError("name the list with 'list' (or several with 'lists')")
    return [play.ref(n, "list") for n in names]


def _each_member(play: Play, args: dict[str, Any], state: str, verb: str) -> str:
    emails = play.emails(args["emails"])
    lists = _lists(play, args)
    for list_id in lists:
        for email in emails:
            play.account.change_state(list_id, email, state)
    where = ", ".join(play.alias_of("list", lid) for lid in lists)
    return f"{len(emails)} subscriber(s) {verb} in {where}"


# ---------------------------------------------------------------------- subscribers


@EVENTS.register(
    "subscribers_added",
    "People subscribe to a list (optionally also existing in Salesforce as Contacts or Leads).",
    arg_schema(
        ("list",),
        list=ALIAS_ARG,
        emails={"type": "array", "items": EMAIL_ARG, "minItems": 1, "maxItems": 1000},
        count=COUNT_ARG,
        domain={"type": "string", "pattern": r"^[a-z0-9.-]+\.[a-z]{2,}$"},
        name=TEXT_ARG,
        state={"enum": sorted(SUBSCRIBER_STATES)},
        salesforce={"enum": ["contact", "lead", "none"]},
        fields={"type": "object", "additionalProperties": {"type": ["string", "number"]}},
    ),
)
def subscribers_added(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Add subscribers now; ``as`` names the group of their addresses."""
    list_id = play.ref(args["list"], "list")
    if "emails" in args:
        emails = [e.lower() for e in args["emails"]]
    elif "count" in args:
        prefix = alias or "new"
        emails = [f"{prefix}{i}@{args.get('domain', 'example.com')}" for i in range(args["count"])]
    else:
        raise ScenarioStepError("give 'emails' or 'count'")
    fields = [{"Key": k, "Value": str(v)} for k, v in sorted(args.get("fields", {}).items())]
    person = args.get("salesforce", "none")
    people = []
    for email in emails:
        local = email.split("@", 1)[0]
        name = args.get("name") or local.replace(".", " ").title()
        play.account.add_subscriber_at(
            list_id, email, name, state=args.get("state", "Active"), custom_fields=fields
        )
        if person == "contact":
            people.append(("Contact", {"LastName": name[:80], "Email": email}))
        elif person == "lead":
            people.append(("Lead", {"LastName": name[:80], "Email": email, "Company": "Prospect"}))
    for sobject in ("Contact", "Lead"):
        rows = [r for o, r in people if o == sobject]
        if rows:
            failed = [r for r in play.org.insert(sobject, rows) if not r.success]
            if failed:
                raise ScenarioStepError(f"the org refused a {sobject}: {failed[0].errors[0]}")
    if alias:
        play.groups[alias] = emails
    extra = f", each a {person} in Salesforce" if person != "none" else ""
    return f"{len(emails)} subscriber(s) added to {play.alias_of('list', list_id)}{extra}"


@EVENTS.register(
    "subscribers_unsubscribed",
    "Subscribers unsubscribe (the list's unsubscribe setting applies: all client lists or this "
    "one); with a campaign, by opening it and clicking its unsubscribe link.",
    arg_schema(("emails",), emails=EMAILS_ARG, campaign=ALIAS_ARG, **LISTS_ARGS),
)
def subscribers_unsubscribed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Unsubscribe ``emails`` from the list(s), or through a campaign's unsubscribe link."""
    if "campaign" not in args:
        return _each_member(play, args, "Unsubscribed", "unsubscribed")
    campaign_id = play.ref(args["campaign"], "campaign")
    emails = play.emails(args["emails"])
    for email in emails:
        play.account.unsubscribe_through_campaign(campaign_id, email)
    return f"{len(emails)} subscriber(s) clicked unsubscribe in {args['campaign']}"


@EVENTS.register(
    "subscribers_bounced",
    "Subscribers' addresses bounce hard and become Bounced.",
    arg_schema(("emails",), emails=EMAILS_ARG, **LISTS_ARGS),
)
def subscribers_bounced(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Move ``emails`` to Bounced."""
    return _each_member(play, args, "Bounced", "bounced")


@EVENTS.register(
    "subscribers_deleted",
    "A Campaign Monitor user deletes subscribers from a list.",
    arg_schema(("emails",), emails=EMAILS_ARG, **LISTS_ARGS),
)
def subscribers_deleted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Move ``emails`` to Deleted."""
    return _each_member(play, args, "Deleted", "deleted")


@EVENTS.register(
    "subscribers_resubscribed",
    "Unsubscribed or deleted subscribers become Active again.",
    arg_schema(("emails",), emails=EMAILS_ARG, **LISTS_ARGS),
)
def subscribers_resubscribed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Move ``emails`` back to Active."""
    return _each_member(play, args, "Active", "resubscribed")


@EVENTS.register(
    "subscriber_email_changed",
    "A Campaign Monitor user changes a subscriber's email address in a list.",
    arg_schema(
        ("list", "email", "new_email"), list=ALIAS_ARG, email=EMAIL_ARG, new_email=EMAIL_ARG
    ),
)
def subscriber_email_changed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Change an address the way the subscriber edit screen (and its API) does."""
    list_id = play.ref(args["list"], "list")
    body = {"EmailAddress": args["new_email"], "ConsentToTrack": "Unchanged"}
    play.account.update_subscriber(list_id, args["email"], body)
    return f"{args['email']} is now {args['new_email']} in {args['list']}"


# ---------------------------------------------------------------------- campaigns


def _links(count: int) -> list[str]:
    return [f"https://example.com/offer/{i + 1}" for i in range(count)]


@EVENTS.register(
    "campaign_sent",
    "A campaign is sent to lists now, with generated activity (opens, clicks, bounces...).",
    arg_schema(
        name=TEXT_ARG,
        tags={"type": "array", "items": TEXT_ARG},
        links={"type": "integer", "minimum": 0, "maximum": 20},
        activity=ACTIVITY_ARG,
        **LISTS_ARGS,
    ),
)
def campaign_sent(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Send a campaign; ``as`` names it."""
    lists = _lists(play, args)
    activity = args.get("activity", True)
    model = ActivityModel(**activity) if isinstance(activity, dict) else ActivityModel()
    previous = play.account.activity_model
    play.account.use_activity_model(model if activity is not False else None)
    try:
        campaign_id = play.account.send_campaign_now(
            lists,
            name=args.get("name", alias or "Campaign"),
            links=_links(args.get("links", 2)),
            tags=list(args.get("tags", [])),
            with_activity=activity is not False,
        )
    finally:
        play.account.use_activity_model(previous)
    if alias:
        play.name(alias, campaign_id, "campaign")
    return f"campaign {alias or campaign_id} sent to {', '.join(play.alias_of('list', x) for x in lists)}"


@EVENTS.register(
    "spam_filter_scan",
    "A spam filter on a domain clicks every link of a campaign, unsubscribe and resubscribe too.",
    arg_schema(
        ("list", "domain"),
        list=ALIAS_ARG,
        domain={"type": "string", "pattern": r"^[a-z0-9.-]+\.[a-z]{2,}$"},
        two_click=BOOL_ARG,
        share=SHARE,
        name=TEXT_ARG,
        delay_seconds={"type": "integer", "minimum": 0, "maximum": 3600},
        resubscribe=SHARE,
        resubscribe_after_seconds={"type": "integer", "minimum": 1, "maximum": 86400},
    ),
)
def spam_filter_scan(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Send a campaign to ``list`` while a link scanner guards ``domain``.

    ``delay_seconds`` is how long after delivery it scans (5), ``resubscribe`` the share
    of scans that also click the resubscribe link of the success page (1), and
    ``resubscribe_after_seconds`` how long after the unsubscribe they do (2): minutes, and a
    run can fall between the unsubscribe and the resubscribe.
    """
    list_id = play.ref(args["list"], "list")
    two_click = bool(args.get("two_click", False))
    play.account.set_two_click_unsubscribe(list_id, two_click)
    play.account.register_link_scanner(
        args["domain"],
        args.get("share", 1.0),
        args.get("delay_seconds", 5),
        resubscribe_rate=args.get("resubscribe", 1.0),
        resubscribe_after_seconds=args.get("resubscribe_after_seconds", 2),
    )
    previous = play.account.activity_model
    play.account.use_activity_model(None)
    try:
        campaign_id = play.account.send_campaign_now(
            [list_id], name=args.get("name", alias or "Scanned campaign"), links=_links(2)
        )
    finally:
        play.account.use_activity_model(previous)
        play.account.clear_link_scanners()
    if alias:
        play.name(alias, campaign_id, "campaign")
    mode = "two-click" if two_click else "one-click"
    return f"link scanner on {args['domain']} scanned {alias or campaign_id} ({mode} unsubscribe)"


@EVENTS.register(
    "campaign_hidden",
    "A Campaign Monitor user hides a sent campaign (it disappears from the API).",
    arg_schema(("campaign",), campaign=ALIAS_ARG),
)
def campaign_hidden(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Hide a campaign."""
    play.account.hide_campaign(play.ref(args["campaign"], "campaign"))
    return f"{args['campaign']} hidden"


@EVENTS.register(
    "campaign_tagged",
    "A Campaign Monitor user adds tags to a campaign.",
    arg_schema(
        ("campaign", "tags"),
        campaign=ALIAS_ARG,
        tags={"type": "array", "items": TEXT_ARG, "minItems": 1},
    ),
)
def campaign_tagged(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Tag a campaign."""
    play.account.tag_campaign(play.ref(args["campaign"], "campaign"), *args["tags"])
    return f"{args['campaign']} tagged {', '.join(args['tags'])}"


# ---------------------------------------------------------------------- lists, suppression


@EVENTS.register(
    "list_created",
    "A Campaign Monitor user creates a list for a client.",
    arg_schema(
        ("client", "name"),
        client=ALIAS_ARG,
        name=TEXT_ARG,
        two_click=BOOL_ARG,
        unsubscribe_setting={"enum": ["AllClientLists", "OnlyThisList"]},
    ),
)
def list_created(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Create a list; ``as`` names it."""
    client_id = play.ref(args["client"], "client")
    list_id = play.account.create_list(
        client_id, args["name"], unsubscribe_setting=args.get("unsubscribe_setting", "OnlyThisList")
    )
    if args.get("two_click"):
        play.account.set_two_click_unsubscribe(list_id, True)
    if alias:
        play.name(alias, list_id, "list")
    return f"list {args['name']!r} created for {args['client']}"


@EVENTS.register(
    "list_deleted",
    "A Campaign Monitor user deletes a list.",
    arg_schema(("list",), list=ALIAS_ARG),
)
def list_deleted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Delete a list."""
    play.account.delete_list(play.ref(args["list"], "list"))
    return f"{args['list']} deleted"


@EVENTS.register(
    "client_deleted",
    "An agency deletes a client in Campaign Monitor (its lists and campaigns go with it).",
    arg_schema(("client",), client=ALIAS_ARG),
)
def client_deleted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Delete a client of the account."""
    play.account.delete_client(play.ref(args["client"], "client"))
    return f"{args['client']} deleted"


@EVENTS.register(
    "suppression_added",
    "Addresses are put on a client's suppression list.",
    arg_schema(("client", "emails"), client=ALIAS_ARG, emails=EMAILS_ARG, reason=TEXT_ARG),
)
def suppression_added(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Suppress addresses."""
    client_id = play.ref(args["client"], "client")
    emails = play.emails(args["emails"])
    for email in emails:
        play.account.suppress_at(client_id, email, args.get("reason", "Suppressed Manually"))
    if alias:
        play.groups[alias] = emails
    return f"{len(emails)} address(es) suppressed for {args['client']}"


@EVENTS.register(
    "suppression_removed",
    "Addresses are taken off a client's suppression list.",
    arg_schema(("client", "emails"), client=ALIAS_ARG, emails=EMAILS_ARG),
)
def suppression_removed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Unsuppress addresses."""
    client_id = play.ref(args["client"], "client")
    emails = play.emails(args["emails"])
    for email in emails:
        play.account.unsuppress_at(client_id, email)
    return f"{len(emails)} address(es) no longer suppressed for {args['client']}"
