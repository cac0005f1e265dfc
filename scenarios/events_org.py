"""Timeline events of a Salesforce org's people and admins.

Users come and go (``sf_user_added``, ``sf_user_deactivated``), the sync user and the
clients' security owners change as the settings screens change them, sales reps convert
Leads (merges are ``sf_duplicates_merged`` of :mod:`scenarios.events_push`), and admins
remove the triggers and validation rules they deployed. People are named by their email address; a Salesforce user by the name given
with ``as:`` (or its username).
"""

from __future__ import annotations

from typing import Any

from cmsf_core import operations
from cmsf_core.errors import ConfigError
from scenarios.errors import ScenarioStepError
from scenarios.events import EVENTS
from scenarios.play import Play
from scenarios.registry import ALIAS_ARG, EMAIL_ARG, OBJECT_ARG, TEXT_ARG, arg_schema

__all__ = ["person", "user_id"]

USER_ARG: dict[str, Any] = {
    "oneOf": [ALIAS_ARG, EMAIL_ARG],
    "x-message": "must be a user's name given with 'as' or their username",
}


def user_id(play: Play, name: str) -> str:
    """The Id of the user named ``name`` with ``as:``, or with that username.

    Raises:
        ScenarioStepError: If there is no such user.
    """
    found = play.refs.get(name)
    if found is not None and found[0] == "user":
        return found[1]
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    rows = play.org.query(f"SELECT Id FROM User WHERE Username = '{escaped}'")
    if not rows:
        known = sorted(a for a, (k, _) in play.refs.items() if k == "user")
        raise ScenarioStepError(f"no user is called {name!r}; known: {', '.join(known) or 'none'}")
    return str(rows[0]["Id"])


def person(play: Play, sobject: str, email: str) -> str:
    """The Id of the one Contact or (unconverted) Lead with this email.

    Raises:
        ScenarioStepError: If there is none, or more than one.
    """
    escaped = email.lower().replace("\\", "\\\\").replace("'", "\\'")
    extra = " AND IsConverted = false" if sobject == "Lead" else ""
    rows = play.org.query(f"SELECT Id FROM {sobject} WHERE Email = '{escaped}'{extra} ORDER BY Id")
    if len(rows) != 1:
        what = "no" if not rows else f"{len(rows)}"
        raise ScenarioStepError(f"{what} {sobject} record(s) with the email {email}; need one")
    return str(rows[0]["Id"])


# ---------------------------------------------------------------------- users


@EVENTS.register(
    "sf_user_added",
    "An admin creates an active Salesforce user ('as' names them for later steps).",
    arg_schema(
        ("username",),
        username=EMAIL_ARG,
        last_name=TEXT_ARG,
        profile={"enum": ["Standard User", "System Administrator"]},
    ),
)
def sf_user_added(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Create the user; ``as`` names it."""
    created = play.org.control.add_user(
        args["username"],
        last_name=args.get("last_name", "User"),
        profile=args.get("profile", "Standard User"),
    )
    if alias:
        play.name(alias, created, "user")
    return f"user {alias or args['username']} created ({created[:15]})"


@EVENTS.register(
    "sf_user_deactivated",
    "An admin deactivates a Salesforce user (their sessions end; they can own nothing new).",
    arg_schema(("user",), user=USER_ARG),
)
def sf_user_deactivated(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Deactivate the user."""
    play.org.control.set_user_active(user_id(play, args["user"]), False)
    return f"user {args['user']} deactivated"


@EVENTS.register(
    "sync_user_changed",
    "An admin makes another (active) user the sync user on the settings screen.",
    arg_schema(("user",), user=USER_ARG),
)
def sync_user_changed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Change the sync user through the product's operation (audited like the screen)."""
    operations.change_sync_user(
        play.engine.gateway(), play.clock, user_id(play, args["user"]), changed_by="scenario"
    )
    return f"sync user is now {args['user']}"


@EVENTS.register(
    "security_owner_set",
    "An admin makes a user the security owner of a client (owner of its new records).",
    arg_schema(("client", "user"), client=ALIAS_ARG, user=USER_ARG),
)
def security_owner_set(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Set the client's security owner through the product's operation (audited like the
    screen); the client must have been synced."""
    try:
        operations.set_security_owner(
            play.engine.gateway(),
            play.clock,
            play.ref(args["client"], "client"),
            user_id(play, args["user"]),
            changed_by="scenario",
        )
    except ConfigError as exc:
        raise ScenarioStepError(f"{args['client']}: {exc}") from exc
    return f"{args['user']} owns what is created for {args['client']}"


# ---------------------------------------------------------------------- people


@EVENTS.register(
    "lead_converted",
    "A sales rep converts the Lead with this email into a Contact (and an Account).",
    arg_schema(("email",), email=EMAIL_ARG),
)
def lead_converted(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Convert the one unconverted Lead with the email."""
    converted = play.org.convert_lead(person(play, "Lead", args["email"]))
    return f"lead {args['email']} converted to contact {converted['contactId'][:15]}"


# ---------------------------------------------------------------------- automation


@EVENTS.register(
    "sf_trigger_removed",
    "An admin removes a trigger by name (of one object, or of any).",
    arg_schema(("name",), name=TEXT_ARG, object=OBJECT_ARG),
)
def sf_trigger_removed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Remove the trigger."""
    if not play.org.control.remove_trigger(args["name"], args.get("object")):
        raise ScenarioStepError(f"no trigger is called {args['name']!r}")
    return f"trigger {args['name']} removed"


@EVENTS.register(
    "sf_validation_rule_removed",
    "An admin deactivates a validation rule of an object by name.",
    arg_schema(("object", "name"), object=OBJECT_ARG, name=TEXT_ARG),
)
def sf_validation_rule_removed(play: Play, args: dict[str, Any], alias: str | None) -> str:
    """Deactivate the rule."""
    if not play.org.control.remove_validation_rule(args["object"], args["name"]):
        raise ScenarioStepError(f"{args['object']} has no validation rule {args['name']!r}")
    return f"validation rule {args['name']} on {args['object']} removed"
