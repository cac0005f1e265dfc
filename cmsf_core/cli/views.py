"""Read-only commands an admin acts on: ``status``, ``messages``, ``clients``, ``lists``.

Each prints a table a person reads (full local timestamps, nothing cut) or, with
``--json``, the same facts for a script (instants in ISO 8601 UTC). The facts come
from :mod:`cmsf_core.overview`, which the dashboard shows too.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from cmsf_core.cli.base import console, emit_json, global_options, opened, table
from cmsf_core.formatting import duration, local_time, percent
from cmsf_core.overview import (
    ClientView,
    RunView,
    SyncView,
    account_clients,
    account_lists,
    message_views,
    parse_since,
    sync_view,
)

__all__ = ["clients", "lists", "messages", "print_runs", "status"]


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def print_runs(out: Console, runs: list[RunView], *, title: str = "Recent runs") -> None:
    """The runs table: local start, duration, status, full, calls per platform, reason."""
    grid = table(
        "started", "duration", "status", "full", "SF calls", "CM calls", "reason", title=title
    )
    for run in runs:
        grid.add_row(
            local_time(run.started_at),
            duration(run.duration_seconds),
            run.state,
            "full" if run.full else "",
            f"{run.calls.get('salesforce', 0):,}",
            f"{run.calls.get('campaign_monitor', 0):,}",
            run.reason or "",
        )
    out.print(grid if runs else "Recent runs: no runs yet ('cmsf sync' starts the first).")


def _clients_table(rows: list[ClientView], *, title: str | None = None) -> Table:
    grid = table(
        "client", "id", "selected", "active", "security owner", "lists", "active subscribers",
        "last synced", title=title,
    )  # fmt: skip
    for c in rows:
        grid.add_row(
            c.name,
            c.id,
            _yes(c.selected),
            _yes(c.active),
            c.security_owner or "-",
            "-" if c.lists is None else f"{c.lists:,}",
            "-" if c.active_subscribers is None else f"{c.active_subscribers:,}",
            local_time(c.last_synced),
        )
    return grid


def _print_status(out: Console, view: SyncView) -> None:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    if view.connected:
        kind = "test account" if view.test_account else "live account"
        selection = (
            "all clients" if "*" in view.client_selection else ", ".join(view.client_selection)
        )
        connection = (
            f"connected to {view.account_name or 'Campaign Monitor'} ({kind}); org "
            f"{view.org_id or '-'}; clients: {selection}"
        )
    else:
        connection = "not connected ('cmsf connect' connects the org to the account)"
    facts.add_row("Where", view.target)
    facts.add_row("Connection", connection)
    if view.sync_user is None:
        user = "not set: the sync runs as the user cmsf logs in as"
    else:
        name = view.sync_user.get("name") or view.sync_user["id"]
        active = view.sync_user.get("active")
        user = f"{name} ({view.sync_user.get('username') or view.sync_user['id']})" + (
            "" if active in (None, True) else " - INACTIVE: change the sync user"
        )
    facts.add_row("Sync user", user)
    facts.add_row(
        "Frequency", view.frequency + (" (the sync is off)" if view.frequency == "Never" else "")
    )
    last = "never"
    if view.last_sync:
        last = (
            f"{local_time(view.last_sync)}; {view.last_sync_status or '-'}; took "
            f"{duration(view.last_sync_seconds)}"
        )
    facts.add_row("Last sync", last)
    facts.add_row("Next run", local_time(view.next_run, empty="not scheduled"))
    if view.queue is not None:
        queue = (
            "empty"
            if not view.queue.pending
            else f"{view.queue.pending:,} record change(s) waiting to be pushed to Campaign "
            f"Monitor; the oldest since {local_time(view.queue.oldest)}"
        )
        facts.add_row("Queue", queue)
        sends = view.queue.sends
        facts.add_row(
            "Smart emails", f"{sends:,} send(s) waiting to go" if sends else "none waiting"
        )
    if view.api is not None:
        api = view.api
        facts.add_row(
            "API today",
            f"{api.used:,} of {api.max:,} Salesforce calls used ({percent(api.share)}); a run may "
            f"spend {percent(api.run_share)}, syncs stop at {percent(api.org_ceiling)} of the org",
        )
    if view.storage is not None:
        store = view.storage
        facts.add_row(
            "Data storage",
            f"{store.used_mb:,} of {store.max_mb:,} MB used ({percent(store.share)}); the sync's "
            f"records about {store.synced_mb:,.1f} MB ({store.synced_records:,} records of about "
            f"2 KB)"
            + (
                f" - above {store.warn_percent}%: {store.advice}"
                if store.advice
                else f"; runs warn at {store.warn_percent}%"
            ),
        )
    if view.apex is not None:
        facts.add_row(
            "Apex jobs",
            view.apex.summary + (f" - {view.apex.advice}" if view.apex.advice else ""),
        )
    if view.bulk_jobs:
        facts.add_row(
            "Bulk API jobs",
            f"{len(view.bulk_jobs)} waiting for Salesforce, collected by the next run: "
            + ", ".join(f"{j.job_id} ({j.operation} {j.sobject})" for j in view.bulk_jobs[:5]),
        )
    out.print(facts)
    out.print()
    if view.clients:
        out.print(_clients_table(view.clients, title="Campaign Monitor clients"))
    else:
        out.print("No clients synced yet ('cmsf clients' lists the account's clients).")
    out.print()
    print_runs(out, view.runs)


@click.command()
@click.option("--limit", default=10, show_default=True, help="How many runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
@global_options()
@click.pass_context
def status(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Show the Sync Settings screen: connection, sync user, schedule, queue, clients, recent runs.

    Interrupted runs show as "interrupted (resumes next run)"; times are local.

    \b
    Examples:
      cmsf status
      cmsf status --limit 3 --json
    """
    if not 1 <= limit <= 1000:
        raise click.BadParameter("must be from 1 to 1000", param_hint="--limit")
    with opened(ctx) as engine:
        view = sync_view(engine.engine, engine.connection, runs=limit)
    if as_json:
        emit_json(view.to_json())
    else:
        _print_status(console(), view)


@click.command()
@click.option("--limit", default=20, show_default=True, help="How many messages to show.")
@click.option(
    "--severity",
    "severities",
    multiple=True,
    help="Only this severity: Info, Warning or Error (repeat; any case).",
)
@click.option("--code", "codes", multiple=True, help="Only this support code (repeat).")
@click.option("--since", help="Only messages since: 30m, 24h, 7d, a date or an instant.")
@click.option("--json", "as_json", is_flag=True, help="Print the messages as JSON.")
@global_options()
@click.pass_context
def messages(
    ctx: click.Context,
    limit: int,
    severities: tuple[str, ...],
    codes: tuple[str, ...],
    since: str | None,
    as_json: bool,
) -> None:
    """Show the maintenance messages stored in the org, newest first, with guidance.

    Each message's support code says what happened and what to do about it.

    \b
    Examples:
      cmsf messages --limit 5
      cmsf messages --severity error --since 24h
      cmsf messages --code CMSF-REC-WRITE --json
    """
    with opened(ctx) as engine:
        after = parse_since(since, engine.engine.clock.now()) if since else None
        rows = message_views(
            engine.engine.gateway(),
            limit=limit,
            severities=severities,
            codes=codes,
            since=after,
        )
    if as_json:
        emit_json([vars(row) for row in rows])
        return
    out = console()
    if not rows:
        out.print("No maintenance messages" + (" match." if severities or codes or since else "."))
        return
    for row in rows:
        times = f" (x{row.occurrences})" if row.occurrences > 1 else ""
        out.print(
            f"[bold]{local_time(row.occurred)}[/bold]  {row.severity}  {row.code}  {row.job}{times}"
        )
        out.print(f"  {row.summary}")
        for line in row.detail.splitlines():
            out.print(f"    {line}")
        out.print(f"  [italic]{row.title}.[/italic] {row.guidance}")
        out.print()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the clients as JSON.")
@global_options()
@click.pass_context
def clients(ctx: click.Context, as_json: bool) -> None:
    """List the Campaign Monitor account's clients: names, ids, selection and counts.

    The ids (or unique names) are what 'connect --client', 'reconnect --client',
    'lists --client' and 'create-list' take.

    \b
    Example:
      cmsf clients
    """
    with opened(ctx) as engine:
        cm = engine.engine.campaign_monitor()
        try:
            rows = account_clients(engine.engine, cm)
        finally:
            cm.close()
    if as_json:
        emit_json([vars(row) for row in rows])
        return
    console().print(_clients_table(rows) if rows else "The account has no clients.")


@click.command()
@click.option("--client", help="Only this client's lists (id or unique name).")
@click.option("--json", "as_json", is_flag=True, help="Print the lists as JSON.")
@global_options()
@click.pass_context
def lists(ctx: click.Context, client: str | None, as_json: bool) -> None:
    """List subscriber lists: names, ids and counts in Campaign Monitor and in Salesforce.

    \b
    Examples:
      cmsf lists
      cmsf lists --client "Acme Corp" --json
    """
    with opened(ctx) as engine:
        cm = engine.engine.campaign_monitor()
        try:
            rows = account_lists(engine.engine, cm, client)
        finally:
            cm.close()
    if as_json:
        emit_json([vars(row) for row in rows])
        return
    grid = table(
        "client", "list", "id", "active", "unsubscribed", "bounced", "deleted", "in Salesforce"
    )
    for row in rows:
        grid.add_row(
            row.client_name,
            row.name,
            row.id,
            f"{row.active_subscribers:,}",
            f"{row.unsubscribed:,}",
            f"{row.bounced:,}",
            f"{row.deleted:,}",
            "not synced" if row.synced_members is None else f"{row.synced_members:,}",
        )
    console().print(grid if rows else "No lists.")
