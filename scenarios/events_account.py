"""Timeline events that edit a Campaign Monitor account, and the integration's own settings.

A Campaign Monitor user edits a subscriber's name or custom fields, renames a list or
changes its options, or moves a client to another time zone — each through the API
call the web app makes (``PUT /subscribers``, ``PUT /lists``, ``PUT /clients/.../setbasics``),
so the simulator's own rules apply. ``connect`` is the admin connecting the org: again to
the same account, or to a *second* account of the world (``world: {second_account: ...}``)
whose clients, lists and campaigns are named ``second_client1``, ``second_list1``, ...;
``client_selection_changed`` and ``settings_changed`` are the admin's other screens.
"""

from __future__ import annotations

from typing import Any

import httpx

from cm_sim.times import timezones
from cmsf_core.errors import ConfigError
from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.play import Play
from scenarios.registry import ALIAS_ARG, BOOL_ARG, EMAIL_ARG, TEXT_ARG, arg_schema

__all__ = ["SECOND_PREFIX", "add_second_account"]

SECOND_PREFIX = "second_"
"""Names of the second account's clients, lists and campaigns start with this."""
FIELD_VALUE: dict[str, Any] = {
    "oneOf": [
        {"type": ["string", "number"]},
        {"type": "array", "items": {"type": ["string", "number"]}, "maxItems": 50},
    ],
    "x-message": "must be a value, or a list of values for a multi-select field",
}


def add_second_account(play: Play, *, test_account: bool) -> str:
    """Seed the world's second account and name its things ``second_client1``...

    Returns:
        What was done, for the timeline.
    """
    from scenarios.world import second_account

    account, summary = second_account(play.world, test_account=test_account)
    play.accounts.append(account)
    for kind, key in (("client", "clients"), ("list", "lists"), ("campaign", "campaigns")):
        for index, value in enumerate(summary.get(key, []), start=1):
            play.refs[f"{SECOND_PREFIX}{kind}{index}"] = (kind, str(value))
    kind = "test" if test_account else "live"
    return f"a second ({kind}) Campaign Monitor account with {len(summary['clients'])} client(s)"


def _api(play: Play, method: str, path: str, **kwargs: Any) -> Any:
    """Call the current account's API as its web app does; a refusal fails the step."""
    with play.account.client() as http:
        response: httpx.Response = http.request(method, path, **kwargs)
    if response.status_code >= 400:
        try:
            body = response.json()
            detail = f"Code {body.get('Code')}: {body.get('Message')}"
        except ValueError:
            detail = response.text[:200]
        raise ScenarioStepError(f"Campaign Monitor refused {method} {path}: {detail}")
    return response.json() if response.content else None


@EVENTS.register(
    "subscriber_edited",
    "A Campaign Monitor user edits a subscriber's name or custom fields (the date does not move).",
    arg_schema(
        ("list", "email"),
        list=ALIAS_ARG,
        email=EMAIL_ARG,
        name=TEXT_ARG,
        fields={"type": "object", "additionalProperties": FIELD_VALUE, "maxProperties": 50},
    ),
)
def subscriber_edited(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """``PUT /subscribers/{list}.json?email=``: the name and the fields given change."""
    if "name" not in args and "fields" not in args:
        raise ScenarioStepError("give the new 'name' or 'fields'")
    list_id = play.ref(args["list"], "list")
    body: dict[str, Any] = {"EmailAddress": args["email"], "ConsentToTrack": "Unchanged"}
    if "name" in args:
        body["Name"] = args["name"]
    fields = []
    for key, value in sorted(args.get("fields", {}).items()):
        values = value if isinstance(value, list) else [value]
        fields += [{"Key": key, "Value": str(v)} for v in values]
    if fields:
        body["CustomFields"] = fields
    _api(play, "PUT", f"/subscribers/{list_id}.json", params={"email": args["email"]}, json=body)
    what = [w for w in ("name", "fields") if w in args]
    return f"{args['email']} in {args['list']}: {' and '.join(what)} edited"


@EVENTS.register(
    "list_changed",
    "A Campaign Monitor user renames a list or changes its options (two-click, unsubscribe setting).",
    arg_schema(
        ("list",),
        list=ALIAS_ARG,
        name=TEXT_ARG,
        unsubscribe_setting={"enum": ["AllClientLists", "OnlyThisList"]},
        confirmed_opt_in=BOOL_ARG,
        two_click=BOOL_ARG,
    ),
)
def list_changed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """``PUT /lists/{id}.json`` with the list's details changed as asked.

    Two-click unsubscribe is a setting of the web app's unsubscribe page, not of the API,
    so it is changed through the simulator's control API.
    """
    if len(args) == 1:
        raise ScenarioStepError("give what changes: name, unsubscribe_setting, ...")
    list_id = play.ref(args["list"], "list")
    details = _api(play, "GET", f"/lists/{list_id}.json")
    body = {
        "Title": args.get("name", details["Title"]),
        "UnsubscribePage": details.get("UnsubscribePage") or "",
        "UnsubscribeSetting": args.get("unsubscribe_setting", details["UnsubscribeSetting"]),
        "ConfirmedOptIn": args.get("confirmed_opt_in", details["ConfirmedOptIn"]),
        "ConfirmationSuccessPage": details.get("ConfirmationSuccessPage") or "",
    }
    _api(play, "PUT", f"/lists/{list_id}.json", json=body)
    if "two_click" in args:
        play.account.set_two_click_unsubscribe(list_id, bool(args["two_click"]))
    changed = ", ".join(k for k in sorted(args) if k != "list")
    return f"{args['list']} changed: {changed}"


@EVENTS.register(
    "client_time_zone_changed",
    "A Campaign Monitor user moves a client to another time zone (its local times shift).",
    arg_schema(
        ("client", "time_zone"),
        client=ALIAS_ARG,
        time_zone={"type": "string", "pattern": r"^\(GMT", "maxLength": 100},
    ),
)
def client_time_zone_changed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """``PUT /clients/{id}/setbasics.json`` with the new zone (name and country kept)."""
    if args["time_zone"] not in timezones():
        raise ScenarioStepError(
            f"{args['time_zone']!r} is not a Campaign Monitor time zone "
            "(see GET /timezones.json, e.g. '(GMT-05:00) Bogota, Lima, Quito')"
        )
    client_id = play.ref(args["client"], "client")
    basics = _api(play, "GET", f"/clients/{client_id}.json")["BasicDetails"]
    body = {
        "CompanyName": basics["CompanyName"],
        "Country": basics["Country"],
        "TimeZone": args["time_zone"],
    }
    _api(play, "PUT", f"/clients/{client_id}/setbasics.json", json=body)
    return f"{args['client']} is now in {args['time_zone']}"


@EVENTS.register(
    "connect",
    "An admin connects the org (again, or to the world's second account) and selects clients.",
    arg_schema(
        account={"enum": ["first", "second"]},
        clients={
            "oneOf": [{"const": "*"}, {"type": "array", "items": ALIAS_ARG, "minItems": 1}],
            "x-message": "must be '*' or a list of clients such as [client1]",
        },
        test_account=BOOL_ARG,
        outcome={"enum": ["connected", "refused"]},
    ),
)
def connect(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Point the engine's Campaign Monitor credentials at the account, then connect.

    ``outcome: refused`` expects the product to refuse (a test-account claim the account
    contradicts, a client not in the account): the step then passes with the message the
    admin sees, and fails if the connection was made.
    """
    which = args.get("account", "first")
    if which == "second" and len(play.accounts) < 2:
        raise ScenarioStepError(
            "the world has no second account: add 'second_account: {test_account: true}' to world"
        )
    play.point_engine_at_account(play.accounts[0 if which == "first" else 1])
    clients = args.get("clients", "*")
    ids = ("*",) if clients == "*" else tuple(play.ref(c, "client") for c in clients)
    try:
        play.engine.connect(clients=ids, test_account=args.get("test_account"))
    except ConfigError as exc:
        if args.get("outcome") == "refused":
            return f"refused: {exc}"
        raise
    if args.get("outcome") == "refused":
        raise ScenarioStepError("connect was expected to be refused, but it connected")
    chosen = "all clients" if clients == "*" else ", ".join(clients)
    return f"connected to the {which} account ({chosen})"


# ---------------------------------------------------------------------- the integration


@EVENTS.register(
    "client_selection_changed",
    "An admin reconnects with another selection of clients (deselected clients' data goes).",
    arg_schema(
        ("clients",),
        clients={
            "oneOf": [{"const": "*"}, {"type": "array", "items": ALIAS_ARG, "minItems": 1}],
            "x-message": "must be '*' or a list of clients such as [client1]",
        },
    ),
    live=True,
)
def client_selection_changed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Reconnect with the chosen clients."""
    clients = args["clients"]
    ids = ("*",) if clients == "*" else tuple(play.ref(c, "client") for c in clients)
    play.engine.reconnect(ids)
    return f"clients selected: {'all' if clients == '*' else ', '.join(clients)}"


@EVENTS.register(
    "settings_changed",
    "An admin changes settings on the settings screens (names as in cmsf_core.settings).",
    {"type": "object", "minProperties": 1},
    live=True,
)
def settings_changed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Apply setting changes."""
    changed = play.engine.change_settings(dict(args), changed_by="scenario")
    return f"settings changed: {', '.join(changed) or 'none (same values)'}"


@EVENTS.register("time_passes", "Nothing happens; the clock moves to this step's time.", live=True)
def time_passes(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Nothing but time."""
    return "time passes"
