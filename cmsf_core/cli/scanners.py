"""``cmsf scanners``: unsubscribes that look like spam-filter link scanners (read-only).

The facts come from :mod:`cmsf_core.scanner_report`, which the dashboard shows too.
"""

from __future__ import annotations

import click
from rich.console import Console

from cmsf_core.cli.base import console, emit_json, global_options, opened, table
from cmsf_core.formatting import local_time
from cmsf_core.scanner_report import ScannerReport, scanner_report

__all__ = ["scanners"]


@click.command()
@click.option(
    "--days", type=click.IntRange(1, 3650), default=None, help="Only the last N days (1-3650)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@global_options()
@click.pass_context
def scanners(ctx: click.Context, days: int | None, as_json: bool) -> None:
    """Show unsubscribes that look like spam-filter link scanners, by domain, campaign and list.

    Also the lists without two-click unsubscribe, the setting that stops scanners.

    \b
    Examples:
      cmsf scanners
      cmsf scanners --days 30 --json
    """
    with opened(ctx) as engine:
        core = engine.engine
        report = scanner_report(core.gateway(), core.settings(), now=core.clock.now(), days=days)
    if as_json:
        emit_json(report.as_dict())
    else:
        print_scanners(console(), report)


def print_scanners(out: Console, report: ScannerReport) -> None:
    """The findings by campaign and domain, then the lists without two-click unsubscribe."""
    protection = "on" if report.protection else "off"
    out.print(f"Link scanners (score >= {report.threshold}; scanner_protection {protection})")
    if report.domains:
        grid = table("campaign", "domain", "unsubscribes", "after delivery", "first", "lists")
        for d in report.domains:
            after = (
                "-"
                if d.minutes_after_delivery is None
                else f"<= {d.minutes_after_delivery + 1} min"
            )
            grid.add_row(
                d.campaign,
                d.domain,
                f"{d.count:,}",
                after,
                local_time(d.first),
                ", ".join(sorted(d.lists)),
            )
        out.print(grid)
    else:
        out.print("No unsubscribe looks like a link scanner.")
    out.print()
    if not report.without_two_click:
        out.print("Every list uses two-click unsubscribe.")
        return
    lists = table(
        "list", "unsubscribe", "scanner unsubscribes", "still unsubscribed", "resubscribed",
        title="Lists without two-click unsubscribe",
    )  # fmt: skip
    for f in report.without_two_click:
        lists.add_row(
            f.name,
            f.confirmation,
            f"{f.suspected:,}",
            f"{f.still_unsubscribed:,}",
            f"{f.resubscribed:,}",
        )
    out.print(lists)
