"""``cmsf``: the command line of the sync engine (thin commands over cmsf_core).

Every command works on the embedded default (simulators in ``./.cmsf/``) unless told
otherwise with ``--org-db/--account-db``, ``--config`` or ``CMSF_*`` variables. Errors
a user can fix are printed as one line with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cmsf_core.clock import SystemClock
from cmsf_core.connection import DEFAULT_HOME, load_connection
from cmsf_core.errors import CmsfError, ConfigError
from cmsf_core.jobs import JOBS
from cmsf_core.platforms import OpenedEngine, open_engine
from cmsf_core.runtime import RunReport
from scenarios.cli import scenario

__all__ = ["main"]

STATUS_STYLE = {
    "completed": "green",
    "completed_with_errors": "yellow",
    "stopped": "yellow",
    "failed": "red",
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file for a real org and account.",
)
@click.option(
    "--org-db", type=click.Path(dir_okay=False, path_type=Path), help="Simulated org file (sf_sim)."
)
@click.option(
    "--account-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Simulated account file (cm_sim).",
)
@click.option(
    "--journal", type=click.Path(dir_okay=False, path_type=Path), help="The runner's journal file."
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_HOME,
    show_default=True,
    help="Folder of the embedded default.",
)
@click.pass_context
def main(
    ctx: click.Context,
    config: Path | None,
    org_db: Path | None,
    account_db: Path | None,
    journal: Path | None,
    home: Path,
) -> None:
    """Campaign Monitor for Salesforce: sync a Campaign Monitor account into a Salesforce org.

    With no configuration every command runs on the embedded default: a simulated org
    and a seeded simulated Campaign Monitor account in ./.cmsf/ (created on first use).

    \b
    Examples:
      cmsf sync                                  # full primary sync on the embedded default
      cmsf --org-db org.db --account-db acct.db sync
      CMSF_SF_USERNAME=... CMSF_SF_PASSWORD=... CMSF_CM_API_KEY=... cmsf sync
    """
    ctx.obj = {
        "config": config,
        "org_db": org_db,
        "account_db": account_db,
        "journal": journal,
        "home": home,
    }


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def _opened(
    ctx: click.Context, progress: Callable[[str, int, int | None], None] | None = None
) -> Iterator[OpenedEngine]:
    """Open the engine the global options describe; turn user errors into clean exits."""
    options = ctx.obj
    opened: OpenedEngine | None = None
    try:
        connection = load_connection(
            config=options["config"],
            org_db=options["org_db"],
            account_db=options["account_db"],
            journal=options["journal"],
            home=options["home"],
        )
        opened = open_engine(
            connection,
            clock=SystemClock(),
            progress=progress,
            on_seed=lambda note: Console(stderr=True).print(f"[dim]{note}[/dim]"),
        )
        yield opened
    except CmsfError as error:
        _fail(str(error), error.exit_code)
    finally:
        if opened is not None:
            opened.close()


@main.command()
@click.option("--full", is_flag=True, help="Clear the synced data and re-import everything.")
@click.option("--quiet", is_flag=True, help="No progress bars, summary only.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@click.option(
    "--if-due",
    is_flag=True,
    help="Only run when the frequency setting says a sync is due (for cron; Never = off).",
)
@click.pass_context
def sync(ctx: click.Context, full: bool, quiet: bool, as_json: bool, if_due: bool) -> None:
    """Run the primary sync (Campaign Monitor to Salesforce), resuming an interrupted run.

    \b
    Examples:
      cmsf sync
      cmsf sync --full      # the settings screen's "Full Campaign Monitor Sync"
      */5 * * * * cd /srv/cmsf && .venv/bin/cmsf sync --if-due --quiet   # crontab
    """
    console = Console()
    bars = Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or as_json,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def progress(job: str, done: int, total: int | None) -> None:
        if job not in tasks:
            tasks[job] = bars.add_task(JOBS[job].title, total=total)
        bars.update(tasks[job], completed=done, total=total)

    with bars, _opened(ctx, progress) as opened:
        if if_due:
            due, why = opened.engine.due()
            if not due:
                if as_json:
                    click.echo(json.dumps({"status": "not_due", "reason": why}, indent=2))
                elif not quiet:
                    console.print(f"not due: {why}", highlight=False)
                return
        if not as_json:
            console.print(
                f"[bold]cmsf sync[/bold] on {opened.connection.describe()}", highlight=False
            )
        report = opened.engine.sync(full=full)
    if as_json:
        click.echo(json.dumps(_report_json(report), indent=2, sort_keys=True))
    else:
        _print_summary(console, report)
    if report.status == "failed":
        sys.exit(2)


def _report_json(report: RunReport) -> dict[str, Any]:
    return {
        "run_id": report.run.run_id,
        "status": report.status,
        "resumed": report.run.resumed,
        "full": report.run.full,
        "reason": report.reason,
        "calls": report.calls,
        "read": dict(report.stats.read),
        "written": dict(report.stats.written),
        "deleted": dict(report.stats.deleted),
        "failed": dict(report.stats.failed),
        "jobs": {row["job"]: row["status"] for row in report.jobs},
        "messages": [
            {
                "severity": m.severity,
                "job": m.job,
                "code": m.code,
                "summary": m.summary,
                "occurrences": m.occurrences,
            }
            for m in report.messages
        ],
    }


def _print_summary(console: Console, report: RunReport) -> None:
    style = STATUS_STYLE.get(report.status, "white")
    label = report.status.replace("_", " ")
    resumed = " (resumed)" if report.run.resumed else ""
    console.print(f"\nRun [{style}]{label}[/{style}]{resumed}", highlight=False)
    if report.reason:
        console.print(f"  {report.reason}", highlight=False)
    records = Table(title="Records", show_edge=False)
    records.add_column("object")
    for column in ("read", "written", "deleted", "failed"):
        records.add_column(column, justify="right")
    stats = report.stats
    names = sorted(set(stats.read) | set(stats.written) | set(stats.deleted) | set(stats.failed))
    for name in names:
        records.add_row(
            name,
            *(
                str(counter.get(name, ""))
                for counter in (stats.read, stats.written, stats.deleted, stats.failed)
            ),
        )
    console.print(records)
    calls = Table(title="API calls", show_edge=False)
    calls.add_column("platform")
    calls.add_column("calls", justify="right")
    for platform, count in sorted(report.calls.items()):
        calls.add_row(platform.replace("_", " "), str(count))
    console.print(calls)
    if report.messages:
        messages = Table(title="Maintenance messages", show_edge=False)
        for column in ("severity", "job", "code", "summary", "times"):
            messages.add_column(column)
        for m in report.messages:
            messages.add_row(m.severity, m.job, m.code, m.summary, str(m.occurrences))
        console.print(messages)
    else:
        console.print("No maintenance messages.")


@main.command()
@click.option(
    "--client", "clients", multiple=True, help="Client id to select (repeat); all when omitted."
)
@click.option(
    "--test-account/--live-account",
    default=None,
    help="Whether the account is a test account (sandboxes may sync only with test accounts).",
)
@click.pass_context
def connect(ctx: click.Context, clients: tuple[str, ...], test_account: bool | None) -> None:
    """Connect the org to the Campaign Monitor account.

    \b
    Examples:
      cmsf connect
      cmsf connect --client 4a397ccaaa55eb4e6aa1221e1e2d7122 --test-account
    """
    with _opened(ctx) as opened:
        settings = opened.engine.connect(
            clients=clients or ("*",), test_account=test_account, changed_by="cmsf connect"
        )
    click.echo(
        f"connected (clients: {', '.join(settings.client_selection)}; test account: {settings.cm_test_account})"
    )


@main.command()
@click.option(
    "--client", "clients", multiple=True, required=True, help="Client id to keep selected (repeat)."
)
@click.pass_context
def reconnect(ctx: click.Context, clients: tuple[str, ...]) -> None:
    """Keep the connection but select these clients (the others' data goes next sync).

    \b
    Example:
      cmsf reconnect --client c1 --client c2
    """
    with _opened(ctx) as opened:
        opened.engine.reconnect(clients)
    click.echo(f"reconnected with clients: {', '.join(clients)}")


@main.command()
@click.pass_context
def disconnect(ctx: click.Context) -> None:
    """Stop syncing; data already in Salesforce stays.

    \b
    Example:
      cmsf disconnect
    """
    with _opened(ctx) as opened:
        opened.engine.disconnect()
    click.echo("disconnected")


@main.command("reset-settings")
@click.confirmation_option(prompt="Reset every setting to its default and disconnect?")
@click.pass_context
def reset_settings(ctx: click.Context) -> None:
    """Reset every setting to its default, disconnected (after a sandbox refresh).

    \b
    Example:
      cmsf reset-settings --yes
    """
    with _opened(ctx) as opened:
        opened.engine.reset_settings()
    click.echo("settings reset; connect again with 'cmsf connect'")


@main.group()
def settings() -> None:
    """Show or change the integration's settings (stored in the org)."""


@settings.command("show")
@click.pass_context
def settings_show(ctx: click.Context) -> None:
    """Print every setting.

    \b
    Example:
      cmsf settings show
    """
    with _opened(ctx) as opened:
        values = opened.engine.settings().as_dict()
    table = Table(show_edge=False)
    table.add_column("setting")
    table.add_column("value")
    for name, value in values.items():
        table.add_row(name, json.dumps(value) if not isinstance(value, str) else value)
    Console().print(table)


@settings.command("set")
@click.argument("assignments", nargs=-1, required=True)
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
            _fail(f"expected NAME=VALUE, got {item!r}", ConfigError.exit_code)
        changes[name.strip()] = value.strip()
    with _opened(ctx) as opened:
        changed = opened.engine.change_settings(changes, changed_by="cmsf settings set")
    click.echo(f"changed: {', '.join(changed)}" if changed else "nothing changed")


@main.command()
@click.option("--limit", default=10, show_default=True, help="How many runs to show.")
@click.pass_context
def status(ctx: click.Context, limit: int) -> None:
    """Show recent runs from the journal.

    \b
    Example:
      cmsf status --limit 5
    """
    with _opened(ctx) as opened:
        runs = opened.engine.journal.runs(limit)
        table = Table(show_edge=False)
        for column in ("started", "status", "full", "resumed", "SF calls", "CM calls"):
            table.add_column(column)
        for run in runs:
            calls = opened.engine.journal.calls(run.run_id)
            sf = sum(c.get("salesforce", 0) for c in calls.values())
            cm = sum(c.get("campaign_monitor", 0) for c in calls.values())
            table.add_row(
                run.started_at, run.status, str(run.full), str(run.resumed), str(sf), str(cm)
            )
    Console().print(table if runs else "no runs yet")


@main.command()
@click.option("--limit", default=20, show_default=True, help="How many messages to show.")
@click.pass_context
def messages(ctx: click.Context, limit: int) -> None:
    """Show the maintenance messages stored in the org, newest first.

    \b
    Example:
      cmsf messages --limit 5
    """
    with _opened(ctx) as opened:
        rows = list(
            opened.engine.gateway().query(
                "SELECT Occurred__c, Severity__c, Job__c, Support_Code__c, Summary__c, Occurrences__c "
                f"FROM CMSF_Maintenance_Message__c ORDER BY Occurred__c DESC LIMIT {max(1, limit)}"
            )
        )
    table = Table(show_edge=False)
    for column in ("occurred", "severity", "job", "code", "summary", "times"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.get("Occurred__c")),
            str(row.get("Severity__c")),
            str(row.get("Job__c")),
            str(row.get("Support_Code__c")),
            str(row.get("Summary__c")),
            str(int(row.get("Occurrences__c") or 1)),
        )
    Console().print(table if rows else "no maintenance messages")


@main.command("clear-history")
@click.confirmation_option(prompt="Delete the email tracking history stored in Salesforce?")
@click.pass_context
def clear_history(ctx: click.Context) -> None:
    """Delete the email tracking history in Salesforce (not in Campaign Monitor).

    \b
    Example:
      cmsf clear-history --yes
    """
    with _opened(ctx) as opened:
        deleted = opened.engine.clear_campaign_history()
    click.echo(f"deleted {deleted} tracking history record(s)")


@main.command("import-subscriber")
@click.argument("list_id")
@click.argument("email")
@click.pass_context
def import_subscriber(ctx: click.Context, list_id: str, email: str) -> None:
    """Refresh one subscriber's membership in Salesforce now, without waiting for the sync.

    \b
    Example:
      cmsf import-subscriber 7f26b548a6494704da7c82bfe8d7fd95 pat@example.com
    """
    with _opened(ctx) as opened:
        record_id = opened.engine.import_subscriber(list_id, email)
    click.echo(f"membership {record_id} refreshed")


@main.command("create-list")
@click.argument("client_id")
@click.argument("name")
@click.pass_context
def create_list(ctx: click.Context, client_id: str, name: str) -> None:
    """Create a subscriber list in Campaign Monitor (and its record in Salesforce).

    \b
    Example:
      cmsf create-list 4a397ccaaa55eb4e6aa1221e1e2d7122 "Webinar attendees"
    """
    with _opened(ctx) as opened:
        list_id = opened.engine.create_list(client_id, name)
    click.echo(f"created list {list_id}")


main.add_command(scenario)
