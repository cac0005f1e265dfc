"""Commands of the settings screens: connection, settings and maintenance operations.

Thin commands over :class:`~cmsf_core.engine.Engine`. Wherever a command takes a client
or list id it also takes a unique name (resolved against Campaign Monitor with
:func:`cmsf_core.overview.resolve`; ``cmsf clients`` and ``cmsf lists`` show both).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import click

from cmsf_core.cli.base import console, emit_json, fail, global_options, opened, table
from cmsf_core.errors import ConfigError
from cmsf_core.operations import BULK_ACTION_SETTINGS
from cmsf_core.overview import all_clients, all_lists, resolve

if TYPE_CHECKING:
    from cmsf_core.engine import Engine

__all__ = [
    "clear_history",
    "connect",
    "create_list",
    "disconnect",
    "import_subscriber",
    "reconnect",
    "reset_settings",
    "security_owner",
    "set_bulk_actions",
    "settings",
    "sync_user",
]


@click.command()
@click.option(
    "--client",
    "clients",
    multiple=True,
    help="Client id or unique name to select (repeat); all when omitted.",
)
@click.option(
    "--test-account/--live-account",
    default=None,
    help="Whether the account is a test account (sandboxes may sync only with test accounts).",
)
@global_options()
@click.pass_context
def connect(ctx: click.Context, clients: tuple[str, ...], test_account: bool | None) -> None:
    """Connect the org to the Campaign Monitor account.

    \b
    Examples:
      cmsf connect
      cmsf connect --client 4a397ccaaa55eb4e6aa1221e1e2d7122 --test-account
      cmsf connect --client "Acme Corp"
    """
    with opened(ctx) as engine:
        chosen = _client_ids(engine.engine, clients)
        settings = engine.engine.connect(
            clients=chosen or ("*",), test_account=test_account, changed_by="cmsf connect"
        )
    click.echo(
        f"connected (clients: {', '.join(settings.client_selection)}; "
        f"test account: {'yes' if settings.cm_test_account else 'no'})"
    )


def _client_ids(engine: Engine, refs: tuple[str, ...]) -> tuple[str, ...]:
    """Resolve client ids or names against the account (``*`` stays ``*``)."""
    if not refs:
        return ()
    cm = engine.campaign_monitor()
    try:
        known = all_clients(cm)
    finally:
        cm.close()
    return tuple(ref if ref == "*" else resolve("client", ref, known) for ref in refs)


@click.command()
@click.option(
    "--client",
    "clients",
    multiple=True,
    required=True,
    help="Client id or unique name to keep selected (repeat).",
)
@global_options()
@click.pass_context
def reconnect(ctx: click.Context, clients: tuple[str, ...]) -> None:
    """Keep the connection but select these clients (the others' data goes next sync).

    \b
    Example:
      cmsf reconnect --client c1 --client "Beta Ltd"
    """
    with opened(ctx) as engine:
        chosen = _client_ids(engine.engine, clients)
        engine.engine.reconnect(chosen)
    click.echo(f"reconnected with clients: {', '.join(chosen)}")


@click.command()
@click.option(
    "--client",
    "client",
    help="Disconnect only this client (id or unique name); its synced data goes next sync.",
)
@global_options()
@click.pass_context
def disconnect(ctx: click.Context, client: str | None) -> None:
    """Stop syncing (data already in Salesforce stays), or stop syncing one client.

    \b
    Examples:
      cmsf disconnect
      cmsf disconnect --client "Beta Ltd"
    """
    with opened(ctx) as engine:
        if client is None:
            engine.engine.disconnect()
            click.echo("disconnected")
            return
        (client_id,) = _client_ids(engine.engine, (client,))
        settings = engine.engine.disconnect_client(client_id)
    click.echo(
        f"client {client_id} disconnected (its data leaves Salesforce at the next sync); "
        f"still selected: {', '.join(settings.client_selection)}"
    )


@click.command("sync-user")
@click.argument("user")
@global_options()
@click.pass_context
def sync_user(ctx: click.Context, user: str) -> None:
    """Make USER (a username or user Id) the Salesforce sync user.

    Syncs then run as that user (on a real org through the JWT bearer flow when cmsf logs
    in as someone else: CMSF_SF_CONSUMER_KEY and CMSF_SF_PRIVATE_KEY_FILE), and records of
    clients without a security owner are owned by them. The user gets CMSF_Full_Access
    if they lack it. Audit-logged.

    \b
    Examples:
      cmsf sync-user integration@acme.com
      cmsf sync-user 0055g00000A1b2cAAA
    """
    with opened(ctx) as engine:
        changed = engine.engine.change_sync_user(user)
    extra = "; assigned CMSF_Full_Access" if changed["assigned_permission_set"] else ""
    click.echo(f"the sync user is now {changed['Username']} ({changed['Id']}){extra}")


@click.command("security-owner")
@click.argument("client_ref", metavar="CLIENT")
@click.argument("user", required=False)
@click.option("--clear", is_flag=True, help="Go back to the sync user as the owner.")
@global_options()
@click.pass_context
def security_owner(ctx: click.Context, client_ref: str, user: str | None, clear: bool) -> None:
    """Set the Salesforce owner of the records created for CLIENT (USER: username or Id).

    Records created from then on are owned by USER (useful with sharing rules); without
    one they are owned by the sync user. Audit-logged.

    \b
    Examples:
      cmsf security-owner "Acme Corp" marketing@acme.com
      cmsf security-owner "Acme Corp" --clear
    """
    if (user is None) == (not clear):
        raise click.UsageError("give USER, or --clear")
    with opened(ctx) as engine:
        (client_id,) = _client_ids(engine.engine, (client_ref,))
        owner = engine.engine.set_security_owner(client_id, None if clear else user)
    click.echo(
        f"records of client {client_id} are now owned by "
        + (f"{user} ({owner})" if owner else "the sync user")
    )


@click.command("reset-settings")
@click.confirmation_option(prompt="Reset every setting to its default and disconnect?")
@global_options()
@click.pass_context
def reset_settings(ctx: click.Context) -> None:
    """Reset every setting to its default, disconnected (after a sandbox refresh).

    \b
    Example:
      cmsf reset-settings --yes
    """
    with opened(ctx) as engine:
        engine.engine.reset_settings()
    click.echo("settings reset; connect again with 'cmsf connect'")


@click.group()
def settings() -> None:
    """Show or change the integration's settings (stored in the org).

    \b
    Examples:
      cmsf settings show --json
      cmsf settings set frequency=daily opt_out_sync=true
    """


@settings.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@global_options()
@click.pass_context
def settings_show(ctx: click.Context, as_json: bool) -> None:
    """Print every setting.

    \b
    Examples:
      cmsf settings show
      cmsf settings show --json
    """
    with opened(ctx) as engine:
        values = engine.engine.settings().as_dict()
    if as_json:
        emit_json(values)
        return
    grid = table("setting", "value")
    for name, value in values.items():
        grid.add_row(name, value if isinstance(value, str) else json.dumps(value))
    console().print(grid)


@settings.command("set")
@click.argument("assignments", nargs=-1, required=True)
@global_options()
@click.pass_context
def settings_set(ctx: click.Context, assignments: tuple[str, ...]) -> None:
    """Change settings, NAME=VALUE each (validated; nothing changes if one is invalid).

    \b
    Examples:
      cmsf settings set opt_out_sync=true tracking_retention_days=90
      cmsf settings set tracking_activity_types=Open,Click frequency=Daily
    """
    changes: dict[str, str] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"expected NAME=VALUE, got {item!r}", ConfigError.exit_code)
        changes[name.strip()] = value.strip()
    with opened(ctx) as engine:
        changed = engine.engine.change_settings(changes, changed_by="cmsf settings set")
    click.echo(f"changed: {', '.join(changed)}" if changed else "nothing changed")


@click.command("set-bulk-actions")
@click.argument(
    "action_type",
    metavar="ALL_ACTIONS|BULK_ACTIONS",
    type=click.Choice(["ALL_ACTIONS", "BULK_ACTIONS"], case_sensitive=False),
)
@click.option(
    "--disable/--enable",
    "disable",
    default=None,
    help="Turn the triggers off (--disable) or back on (--enable); one is required.",
)
@global_options()
@click.pass_context
def set_bulk_actions(ctx: click.Context, action_type: str, disable: bool | None) -> None:
    """Turn Salesforce record-change triggers off or on (the product's setBulkActions).

    ALL_ACTIONS: no Contact or Lead change is pushed to Campaign Monitor while disabled
    (setting disable_triggers), for example during a data load. BULK_ACTIONS: only the
    first record of a bulk change is pushed (setting disable_bulk_triggers).

    \b
    Examples:
      cmsf set-bulk-actions ALL_ACTIONS --disable   # before a data load
      cmsf set-bulk-actions ALL_ACTIONS --enable    # after it
      cmsf set-bulk-actions BULK_ACTIONS --disable
    """
    if disable is None:
        raise click.UsageError("give --disable or --enable")
    with opened(ctx) as engine:
        changed = engine.engine.set_bulk_actions(action_type, disable)
    setting = BULK_ACTION_SETTINGS[action_type.upper()]
    state = "disabled" if disable else "enabled"
    click.echo(
        f"{action_type.upper()} {state} ({setting}={'true' if disable else 'false'})"
        + ("" if changed else "; it already was")
    )


@click.command("clear-history")
@click.option("--since", help="Only activity on or after this date or instant (2026-01-31).")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=1000,
    show_default=True,
    help="Records deleted per batch.",
)
@click.confirmation_option(prompt="Delete the email tracking history stored in Salesforce?")
@global_options()
@click.pass_context
def clear_history(ctx: click.Context, since: str | None, batch_size: int) -> None:
    """Delete the email tracking history in Salesforce (not in Campaign Monitor).

    The product's clearCampaignHistory(deleteFrom, batchSize). Audit-logged.

    \b
    Examples:
      cmsf clear-history --yes
      cmsf clear-history --since 2026-01-01 --batch-size 500 --yes
    """
    with opened(ctx) as engine:
        after = _since(since) if since else None
        deleted = engine.engine.clear_campaign_history(after, batch_size)
    click.echo(f"deleted {deleted} tracking history record(s)")


def _since(text: str) -> datetime:
    """A date (midnight UTC) or an instant with its offset.

    Raises:
        ConfigError: For anything else.
    """
    from cmsf_core.clock import ClockError, parse_instant

    value = text.strip()
    try:
        if len(value) == 10:
            return parse_instant(f"{value}T00:00:00+00:00")
        return parse_instant(value)
    except ClockError as exc:
        raise ConfigError(
            f"--since {text!r}: give a date (2026-01-31) or an instant with its offset "
            "(2026-01-31T09:00:00+01:00)"
        ) from exc


@click.command("import-subscriber")
@click.argument("list_ref", metavar="LIST")
@click.argument("email")
@global_options()
@click.pass_context
def import_subscriber(ctx: click.Context, list_ref: str, email: str) -> None:
    """Refresh one subscriber's membership in Salesforce now, without waiting for the sync.

    LIST is a list id or a unique list name ('cmsf lists' shows both).

    \b
    Examples:
      cmsf import-subscriber 7f26b548a6494704da7c82bfe8d7fd95 pat@example.com
      cmsf import-subscriber Newsletter pat@example.com
    """
    with opened(ctx) as engine:
        cm = engine.engine.campaign_monitor()
        try:
            list_id = resolve("list", list_ref, all_lists(cm))
        finally:
            cm.close()
        record_id = engine.engine.import_subscriber(list_id, email)
    click.echo(f"membership {record_id} refreshed")


@click.command("create-list")
@click.argument("client_ref", metavar="CLIENT")
@click.argument("name")
@global_options()
@click.pass_context
def create_list(ctx: click.Context, client_ref: str, name: str) -> None:
    """Create a subscriber list in Campaign Monitor (and its record in Salesforce).

    CLIENT is a client id or a unique client name ('cmsf clients' shows both).

    \b
    Examples:
      cmsf create-list 4a397ccaaa55eb4e6aa1221e1e2d7122 "Webinar attendees"
      cmsf create-list "Acme Corp" "Webinar attendees"
    """
    with opened(ctx) as engine:
        (client_id,) = _client_ids(engine.engine, (client_ref,))
        list_id = engine.engine.create_list(client_id, name)
    click.echo(f"created list {list_id}")
