"""Commands that prepare and check an org: ``setup`` and ``doctor``.

Thin commands over :mod:`cmsf_core.setup` and :mod:`cmsf_core.doctor`.
"""

from __future__ import annotations

import sys

import click

from cmsf_core.cli.base import console, emit_json, global_options, opened, table
from cmsf_core.doctor import FAIL, WARN, run_doctor
from cmsf_core.exit_codes import ExitCode
from cmsf_core.setup import setup_org

__all__ = ["doctor", "setup"]


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
            f"{missing} object(s), field(s) or permission set(s) were missing)"
        )
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
