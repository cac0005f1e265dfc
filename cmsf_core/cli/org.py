"""Commands that prepare, check and clear an org: ``setup``, ``doctor``, ``uninstall``.

Thin commands over :mod:`cmsf_core.setup`, :mod:`cmsf_core.doctor` and
:mod:`cmsf_core.uninstall`.
"""

from __future__ import annotations

import sys

import click

from cmsf_core.cli.base import console, emit_json, global_options, opened, table
from cmsf_core.doctor import FAIL, WARN, run_doctor
from cmsf_core.exit_codes import ExitCode
from cmsf_core.setup import setup_org
from cmsf_core.uninstall import uninstall as uninstall_org

__all__ = ["doctor", "setup", "uninstall"]


@click.command()
@global_options()
@click.pass_context
def setup(ctx: click.Context) -> None:
    """Deploy the data model to the org and assign CMSF_Full_Access to the sync user.

    Deploys the custom objects, fields and permission sets (Full, Standard, Limited)
    through the Metadata API, all or nothing, and waits for the deploy. Run it again
    after an upgrade; on an org that has everything it changes nothing.

    \b
    Examples:
      cmsf --config cmsf.toml setup
      CMSF_SF_LOGIN_URL=https://acme.my.salesforce.com cmsf setup
    """
    with opened(ctx) as engine:
        report = setup_org(engine.engine.gateway(), engine.engine.clock)
    if report.deploy_id:
        missing = (
            len(report.missing_objects)
            + len(report.missing_fields)
            + len(report.missing_permission_sets)
        )
        click.echo(
            f"deployed the data model ({report.deployed} components, deploy {report.deploy_id}; "
            f"{missing} object(s), field(s) or permission set(s) were missing"
            + (
                f", {len(report.changed_fields)} field(s) were older"
                if report.changed_fields
                else ""
            )
            + ")"
        )
        for changed in report.changed_fields[:10]:
            click.echo(f"  updated {changed}")
    else:
        click.echo("the data model is already deployed: nothing to deploy")
    if report.assigned:
        click.echo(f"assigned CMSF_Full_Access to the sync user {report.user_id}")
    else:
        click.echo(f"the sync user {report.user_id} already has CMSF_Full_Access")
    if not report.changed:
        click.echo("nothing changed")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@global_options()
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check the org, the sync user, Campaign Monitor and the journal; say how to fix each.

    Exits 1 if any check fails (warnings do not), so it can gate a deployment.

    \b
    Examples:
      cmsf doctor
      cmsf --config cmsf.toml doctor --json
    """
    with opened(ctx) as engine:
        report = run_doctor(engine.engine)
    if as_json:
        emit_json(report.to_json())
    else:
        grid = table("check", "status", "detail", "fix")
        for check in report.checks:
            mark = {FAIL: "FAIL", WARN: "warn"}.get(check.status, "ok")
            grid.add_row(check.name, mark, check.detail, check.fix)
        console().print(grid)
        counts = report.to_json()["counts"]
        click.echo(f"{counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed")
    if report.failed:
        sys.exit(int(ExitCode.FAILED))


@click.command()
@click.option(
    "--metadata",
    is_flag=True,
    help="Also delete the data model (objects, fields, permission sets) from the org.",
)
@click.confirmation_option(
    prompt="Delete every Campaign Monitor for Salesforce record from the org (Campaign Monitor keeps its data)?"
)
@global_options()
@click.pass_context
def uninstall(ctx: click.Context, metadata: bool) -> None:
    """Remove the project's data from the org, and with --metadata its data model.

    Every record of the project's custom objects goes (settings, audit log and maintenance
    messages too) and its permission sets are unassigned; Contacts, Leads, Campaigns and
    Campaign Members stay, and Campaign Monitor keeps everything. 'cmsf setup' installs
    it again.

    \b
    Examples:
      cmsf uninstall --yes
      cmsf uninstall --metadata --yes
    """
    with opened(ctx) as engine:
        report = uninstall_org(engine.engine.gateway(), engine.engine.clock, metadata=metadata)
    total = sum(report.records.values())
    click.echo(
        f"deleted {total:,} record(s) of {len(report.records)} object(s); "
        f"removed {report.assignments} permission set assignment(s)"
    )
    if report.metadata_deploy:
        click.echo(f"deleted the data model (deploy {report.metadata_deploy})")
