"""``cmsf import list|show|run|create`` (and ``cmsf imports``): the import wizard for admins.

Thin commands over :mod:`cmsf_core.imports`: they read and make ``CMSF_Import__c``
records through the sync user, and run imports through the engine (as their owners).
``run`` exits like ``cmsf sync``: 0 completed, 3 when an import failed or had failed rows,
4 stopped (API budget, rate limit, sandbox), 1 failed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import click
from rich.console import Console

from cmsf_core.cli.base import console, emit_json, global_options, opened, table
from cmsf_core.errors import ConfigError
from cmsf_core.exit_codes import for_run_status
from cmsf_core.imports.records import ImportView, find_import
from cmsf_core.imports.session import ImportReport
from cmsf_core.jobs.imports import ImportSelection

__all__ = ["import_group", "imports_alias", "print_imports", "report_json"]

COUNT_COLUMNS = ("rows read", "imported", "updated", "failed", "removed", "duplicates",
                 "kept out", "salesforce calls", "campaign monitor calls")  # fmt: skip


@click.group(name="import")
def import_group() -> None:
    """The import wizard: reports, list views and SOQL into Campaign Monitor lists.

    Each import runs as its owner (it reads only what they can see), on demand or on a
    schedule (Hourly, Daily) that 'cmsf sync' honours.

    \b
    Examples:
      cmsf import list
      cmsf import create --name "Web leads" --list Newsletter --list-view 00B5g00000AbCdE --schedule Hourly
      cmsf import run "Web leads" --dry-run
      cmsf import run --due
    """


def _list(ctx: click.Context, as_json: bool) -> None:
    with opened(ctx) as engine:
        views = engine.engine.imports()
    if as_json:
        emit_json([vars(v) for v in views])
        return
    grid = table(
        "import", "id", "owner", "source", "list", "schedule", "last run", "status",
        "rows", "imported", "failed", "removed", "next run",
    )  # fmt: skip
    for v in views:
        grid.add_row(
            v.name,
            v.id,
            v.owner,
            v.source_type,
            v.list,
            v.schedule,
            v.last_run or "never",
            (v.problem and "cannot run") or (v.in_progress and "in progress") or v.status or "",
            f"{v.rows_read:,}",
            f"{v.imported + v.updated:,}",
            f"{v.failed:,}",
            f"{v.removed:,}",
            v.next_run or "-",
        )
    console().print(grid if views else "No imports.")


def _state(view: ImportView) -> str:
    if view.problem:
        return "cannot run"
    if view.in_progress:
        return "in progress"
    return view.status or ""


@import_group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the imports as JSON.")
@global_options()
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List imports: owner, source, list, schedule, last run and its counts, next run.

    \b
    Examples:
      cmsf import list
      cmsf import list --json
    """
    _list(ctx, as_json)


@click.command(name="imports")
@click.option("--json", "as_json", is_flag=True, help="Print the imports as JSON.")
@global_options()
@click.pass_context
def imports_alias(ctx: click.Context, as_json: bool) -> None:
    """List imports (the same as 'cmsf import list').

    \b
    Examples:
      cmsf imports
    """
    _list(ctx, as_json)


@import_group.command(name="show")
@click.argument("ref", metavar="IMPORT")
@click.option("--json", "as_json", is_flag=True, help="Print the import as JSON.")
@global_options()
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one import: its source, mappings, options, schedule and last outcome.

    IMPORT is an import's Id or unique name ('cmsf import list' shows both).

    \b
    Examples:
      cmsf import show "Web leads"
      cmsf import show a065g000000001HAAQ --json
    """
    with opened(ctx) as engine:
        view = find_import(engine.engine.imports(), ref)
    if as_json:
        emit_json(vars(view))
        return
    _print_view(console(), view)


def _print_view(out: Console, v: ImportView) -> None:
    grid = table("field", "value", title=f"Import {v.name}")
    options = [n for n, on in (("resubscribe", v.resubscribe), ("replace subscribers on list",
               v.replace), ("trigger journeys", v.journeys)) if on]  # fmt: skip
    for label, value in (
        ("id", v.id),
        ("owner (runs as)", v.owner),
        ("list", v.list),
        ("source", f"{v.source_type}: {v.source}"),
        ("mappings", json.dumps(v.mappings) if v.mappings else "(defaults: Email, name)"),
        ("options", ", ".join(options) or "none"),
        ("schedule", v.schedule),
        ("next run", v.next_run or "-"),
        ("last run", v.last_run or "never"),
        ("status", v.status or ""),
        ("in progress", v.in_progress or ""),
        ("rows read / imported / updated", f"{v.rows_read:,} / {v.imported:,} / {v.updated:,}"),
        ("failed / removed", f"{v.failed:,} / {v.removed:,}"),
        ("Salesforce calls", f"{v.salesforce_calls:,}"),
        ("last error", v.error or ""),
        ("cannot run", v.problem or ""),
    ):
        grid.add_row(label, str(value))
    out.print(grid)
    if v.failures:
        out.print("Failed rows:\n" + v.failures)


@import_group.command(name="run")
@click.argument("refs", metavar="[IMPORT]...", nargs=-1)
@click.option("--due", is_flag=True, help="Run the imports whose schedule is due (for cron).")
@click.option("--dry-run", is_flag=True, help="Read and convert as the owner; send nothing.")
@click.option("--quiet", is_flag=True, help="No progress, summary only.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@global_options()
@click.pass_context
def run(
    ctx: click.Context, refs: tuple[str, ...], due: bool, dry_run: bool, quiet: bool, as_json: bool
) -> None:
    """Run imports now, as their owners (by Id or name), or the due ones with --due.

    Exit code: 0 completed, 3 an import failed or had failed rows, 4 stopped (API
    budget, rate limit, sandbox safety), 1 failed, 2 usage or configuration error.

    \b
    Examples:
      cmsf import run "Web leads"
      cmsf import run "Web leads" --dry-run
      */5 * * * * cd /srv/cmsf && .venv/bin/cmsf import run --due --quiet   # crontab
    """
    if bool(refs) == due:
        raise ConfigError("give the imports to run (Id or name), or --due, not both")
    out = console()

    def progress(job: str, done: int, total: int | None) -> None:
        if not (quiet or as_json) and total is None:
            out.print(f"[dim]{job}: {done:,} rows read[/dim]")

    with opened(ctx, progress) as engine:
        ids = None
        if refs:
            views = engine.engine.imports()
            ids = tuple(dict.fromkeys(find_import(views, ref).id for ref in refs))
        report = engine.engine.run_imports(ImportSelection(ids=ids, dry_run=dry_run))
    if as_json:
        emit_json(report_json(report))
    else:
        print_report(out, report)
    if report.status != "nothing":
        sys.exit(int(for_run_status(report.status)))


def report_json(report: ImportReport) -> dict[str, Any]:
    """An import report as JSON-ready values (``cmsf import run --json``)."""
    return {
        "status": report.status,
        "exit_code": 0 if report.status == "nothing" else int(for_run_status(report.status)),
        "dry_run": report.dry_run,
        "reason": report.reason,
        "calls": report.calls,
        "imports": {
            import_id: {
                "status": outcome.status,
                "error": outcome.error,
                "counts": dict(outcome.counts),
                "failures": outcome.lines,
            }
            for import_id, outcome in report.outcomes.items()
        },
        "counts": {name: dict(c) for name, c in report.counts.items()},
        "messages": [
            {"severity": m.severity, "code": m.code, "summary": m.summary} for m in report.messages
        ],
    }


def print_imports(out: Console, counts: dict[str, Counter[str]], title: str = "Imports") -> None:
    """One row per import: rows read, imported, updated, failed, removed, API calls."""
    if not counts:
        return
    present = [c for c in COUNT_COLUMNS if any(k.get(c) for k in counts.values())]
    grid = table("import", *present, title=title)
    for name, numbers in sorted(counts.items()):
        grid.add_row(name, *(f"{numbers.get(c, 0):,}" for c in present))
    out.print(grid)


def print_report(out: Console, report: ImportReport) -> None:
    """What ``cmsf import run`` prints."""
    if report.status == "nothing":
        out.print("No import is due." if not report.outcomes else "Nothing to run.")
        return
    label = "dry run (nothing sent)" if report.dry_run else report.status.replace("_", " ")
    out.print(f"\nImports {label}")
    if report.reason:
        out.print(f"  {report.reason}")
    if report.dry_run:
        for import_id, outcome in report.outcomes.items():
            numbers = ", ".join(f"{k} {v:,}" for k, v in sorted(outcome.counts.items()) if v)
            out.print(f"  {import_id}: {outcome.status}: {numbers or 'no rows'}")
            if outcome.error:
                out.print(f"    {outcome.error}")
            for line in outcome.lines[:10]:
                out.print(f"    {line}")
    else:
        print_imports(out, report.counts)
        for outcome in report.outcomes.values():
            if outcome.error:
                out.print(f"  {outcome.status}: {outcome.error}")
    calls = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(report.calls.items()))
    out.print(f"API calls: {calls}")
    for m in report.messages:
        out.print(f"{m.severity} {m.code}: {m.summary}")


@import_group.command(name="create")
@click.option("--name", required=True, help="The import's name.")
@click.option("--list", "list_ref", required=True, help="Campaign Monitor list (id or name).")
@click.option("--report", help="Source: a report Id (00O...).")
@click.option("--list-view", help="Source: a Contact or Lead list view Id (00B...).")
@click.option("--soql", help="Source: a SOQL query.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Map a source column to a Campaign Monitor field (repeat).")  # fmt: skip
@click.option("--mappings", help='All mappings as JSON, e.g. {"Email": "EmailAddress"}.')
@click.option("--owner", help="The user it runs as (username or Id; default: you).")
@click.option(
    "--schedule",
    type=click.Choice(["None", "Hourly", "Daily"], case_sensitive=False),
    default="None",
    show_default=True,
    help="When 'cmsf sync' runs it.",
)
@click.option("--resubscribe", is_flag=True, help="Re-add unsubscribed, bounced, deleted rows.")
@click.option("--replace", is_flag=True, help="Remove list subscribers not in the source.")
@click.option("--journeys", is_flag=True, help="Start journeys for imported subscribers.")
@global_options()
@click.pass_context
def create(
    ctx: click.Context,
    name: str,
    list_ref: str,
    report: str | None,
    list_view: str | None,
    soql: str | None,
    maps: tuple[str, ...],
    mappings: str | None,
    owner: str | None,
    schedule: str,
    resubscribe: bool,
    replace: bool,
    journeys: bool,
) -> None:
    """Create an import (checked before it is saved); prints its Id.

    \b
    Examples:
      cmsf import create --name "Web leads" --list Newsletter --report 00O5g000004AbCd \\
          --map EMAIL=EmailAddress --map TITLE=Plan --schedule Daily
      cmsf import create --name VIPs --list Newsletter \\
          --soql "SELECT Email, FirstName, LastName FROM Contact WHERE Rating = 'Hot'" \\
          --owner pat@acme.com --replace
    """
    sources = [
        (k, v) for k, v in (("Report", report), ("ListView", list_view), ("SOQL", soql)) if v
    ]
    if len(sources) != 1:
        raise ConfigError("give exactly one source: --report, --list-view or --soql")
    if maps and mappings:
        raise ConfigError("give --map or --mappings, not both")
    text = mappings
    if maps:
        pairs = {}
        for item in maps:
            column, sep, target = item.partition("=")
            if not sep or not column.strip() or not target.strip():
                raise ConfigError(f"--map {item!r}: write COLUMN=FIELD, e.g. Email=EmailAddress")
            pairs[column.strip()] = target.strip()
        text = json.dumps(pairs)
    with opened(ctx) as engine:
        import_id = engine.engine.create_import(
            name=name,
            list_ref=list_ref,
            source_type=sources[0][0],
            source=sources[0][1] or "",
            mappings=text,
            owner=owner,
            schedule=schedule,
            resubscribe=resubscribe,
            replace=replace,
            journeys=journeys,
        )
    click.echo(f"created import {import_id}")
