"""``cmsf sync``: run (or resume) the primary sync, with progress bars and a summary.

The exit code follows the run's status (:func:`cmsf_core.exit_codes.for_run_status`):
0 completed, 3 completed with errors, 4 stopped (resumes next run), 5 waiting for a Bulk API
job (the next run collects it), 1 failed.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cmsf_core.cli.base import console, emit_json, global_options, opened, options, table
from cmsf_core.cli.imports import print_imports, print_report
from cmsf_core.cli.imports import report_json as import_report_json
from cmsf_core.distributed.config import load_runtime, redact
from cmsf_core.exit_codes import for_run_status
from cmsf_core.jobs import JOBS
from cmsf_core.jobs.imports import ImportSelection
from cmsf_core.runtime import RunReport

__all__ = ["report_json", "sync"]

STATUS_STYLE = {
    "completed": "green",
    "completed_with_errors": "yellow",
    "stopped": "yellow",
    "waiting": "yellow",
    "failed": "red",
}


@click.command()
@click.option("--full", is_flag=True, help="Clear the synced data and re-import everything.")
@click.option("--quiet", is_flag=True, help="No progress bars, summary only.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@click.option(
    "--if-due",
    is_flag=True,
    help="Only run when the frequency setting says a sync is due (for cron; Never = off); "
    "when only imports are due, run just those.",
)
@click.option(
    "--runtime",
    type=click.Choice(["local", "celery"]),
    default=None,
    help="Where the jobs run: this process (local, the default) or Celery workers "
    "(CMSF_BROKER_URL, CMSF_DATABASE_URL; also [runtime] kind, CMSF_RUNTIME).",
)
@global_options()
@click.pass_context
def sync(
    ctx: click.Context, full: bool, quiet: bool, as_json: bool, if_due: bool, runtime: str | None
) -> None:
    """Run the primary sync (Campaign Monitor to Salesforce), resuming an interrupted run.

    Exit code: 0 completed, 3 completed with errors, 4 stopped (API budget, rate limit,
    sandbox safety, storage full; the next run resumes), 5 waiting (Salesforce still runs a
    Bulk API job; the next run collects it), 1 failed, 2 usage or configuration error,
    130 interrupted.

    \b
    Examples:
      cmsf sync
      cmsf sync --full      # the settings screen's "Full Campaign Monitor Sync"
      */5 * * * * cd /srv/cmsf && .venv/bin/cmsf sync --if-due --quiet   # crontab
      cmsf sync --runtime celery   # scopes on 'cmsf worker' processes (README: Beyond one machine)
    """
    out = console()
    bars = Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        disable=quiet or as_json,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def progress(job: str, done: int, total: int | None) -> None:
        if job not in tasks:
            tasks[job] = bars.add_task(JOBS[job].title, total=total)
        bars.update(tasks[job], completed=done, total=total)

    runtime_config = load_runtime(options(ctx)["config"], kind=runtime)
    with bars, opened(ctx, progress) as engine:
        engine.engine.use_runtime(runtime_config)
        if if_due:
            due, why = engine.engine.due()
            if not due:
                imports = engine.engine.imports_due()
                if imports:  # imports keep their own schedules, even with the sync off
                    alone = engine.engine.run_imports(ImportSelection())
                    if as_json:
                        emit_json({**import_report_json(alone), "sync": why})
                    else:
                        out.print(f"sync not due ({why}); due imports: {', '.join(imports)}")
                        print_report(out, alone)
                    done = alone.status == "nothing"
                    sys.exit(0 if done else int(for_run_status(alone.status)))
                if as_json:
                    emit_json({"status": "not_due", "reason": why, "exit_code": 0})
                elif not quiet:
                    out.print(f"not due: {why}")
                return
        if not as_json:
            where = engine.connection.describe()
            if runtime_config.kind == "celery":
                where += (
                    f", on Celery workers ({redact(runtime_config.broker_url)}, journal "
                    f"{redact(runtime_config.database_url)})"
                )
            out.print(f"[bold]cmsf sync[/bold] on {where}")
        report = engine.engine.sync(full=full)
        run_calls = engine.engine.journal.run_calls(report.run.run_id)
        job_calls = engine.engine.journal.calls(report.run.run_id)
    if as_json:
        emit_json(report_json(report, run_calls, job_calls))
    else:
        print_summary(out, report, run_calls)
    sys.exit(int(for_run_status(report.status)))


def report_json(
    report: RunReport,
    run_calls: dict[str, int] | None = None,
    job_calls: dict[str, dict[str, int]] | None = None,
) -> dict[str, Any]:
    """A run report as JSON-ready values (what ``cmsf sync --json`` prints).

    Args:
        report: The run's report.
        run_calls: Calls of the whole run per platform (every resume); this invocation's
            when not given.
        job_calls: Calls of the whole run per job and platform (``runtime`` is the calls
            made outside jobs), as the journal counts them; left out when not given.
    """
    return {
        "run_id": report.run.run_id,
        "status": report.status,
        "exit_code": int(for_run_status(report.status)),
        "resumed": report.run.resumed,
        "full": report.run.full,
        "reason": report.reason,
        "calls": report.calls,
        "run_calls": run_calls if run_calls is not None else report.calls,
        **({"job_calls": job_calls} if job_calls is not None else {}),
        "read": dict(report.stats.read),
        "written": dict(report.stats.written),
        "deleted": dict(report.stats.deleted),
        "failed": dict(report.stats.failed),
        "pushed": dict(report.stats.pushed),
        "write_calls": dict(report.write_calls),
        "bulk_bytes": dict(report.bulk_bytes),
        "read_floor": report.read_floor,
        "imports": {name: dict(counts) for name, counts in report.stats.imports.items()},
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


def print_summary(out: Console, report: RunReport, run_calls: dict[str, int]) -> None:
    """The run's summary: status, distinct records per object, API calls, messages."""
    style = STATUS_STYLE.get(report.status, "white")
    label = report.status.replace("_", " ")
    resumed = " (resumed)" if report.run.resumed else ""
    out.print(f"\nRun [{style}]{label}[/{style}]{resumed}")
    if report.reason:
        out.print(f"  {report.reason}")
    if report.status == "stopped":
        out.print("  The next 'cmsf sync' resumes where this run stopped.")
    if report.status == "waiting":
        out.print(
            "  The next 'cmsf sync' collects the Bulk API job's results first and writes "
            "nothing twice."
        )
    records = table("object", "read", "written", "deleted", "failed", title="Records")
    stats = report.stats
    names = sorted(set(stats.read) | set(stats.written) | set(stats.deleted) | set(stats.failed))
    for name in names:
        records.add_row(
            name,
            *(
                f"{counter[name]:,}" if counter.get(name) else ""
                for counter in (stats.read, stats.written, stats.deleted, stats.failed)
            ),
        )
    out.print(records)
    if report.stats.pushed:
        pushed = table("Salesforce to Campaign Monitor", "count", title="Pushed")
        for name, count in sorted(report.stats.pushed.items()):
            pushed.add_row(name, f"{count:,}")
        out.print(pushed)
    print_imports(out, report.stats.imports)
    columns = ["platform", "calls"] + (["whole run"] if report.run.resumed else [])
    calls = table(*columns, title="API calls")
    for platform, count in sorted(report.calls.items()):
        row = [platform.replace("_", " "), f"{count:,}"]
        if report.run.resumed:
            row.append(f"{run_calls.get(platform, 0):,}")
        calls.add_row(*row)
    out.print(calls)
    if report.messages:
        messages = table(
            "severity", "job", "code", "summary", "times", title="Maintenance messages"
        )
        for m in report.messages:
            messages.add_row(m.severity, m.job, m.code, m.summary, str(m.occurrences))
        out.print(messages)
        out.print("Guidance for each code: cmsf messages")
    else:
        out.print("No maintenance messages.")
