"""``cmsf scenario``: list the catalogue, validate scenario files, run one with a report.

The click group :data:`scenario` is mounted under the main ``cmsf`` command; it also runs
alone as ``python -m scenarios.cli``. Commands are thin: loading, running and reporting
live in :mod:`scenarios.loader`, :mod:`scenarios.runner` and :mod:`scenarios.report`.
Mistakes (an unknown name, a malformed file) end with a one-line ``Error:`` per problem
and exit code 2; a scenario whose expectations fail exits 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from cmsf_core.exit_codes import ExitCode
from scenarios.catalogue import CATALOGUE_DIR, find_scenario, scenario_paths
from scenarios.errors import ScenarioError, ScenarioFormatError
from scenarios.loader import load_scenario
from scenarios.runner import run_scenario

__all__ = ["scenario"]


class _ScenarioCliError(click.ClickException):
    """A user mistake: printed as ``Error: ...``, exit code 2."""

    exit_code = int(ExitCode.USAGE)


@click.group(name="scenario")
def scenario() -> None:
    """Regression scenarios: a world, a timeline in virtual time, expectations.

    \b
    Examples:
      cmsf scenario list
      cmsf scenario run spam-filter-one-click
      cmsf scenario run scenarios/cm-outage-recovery.yaml --report out/outage
      cmsf scenario validate my-scenarios/*.yaml
    """


@scenario.command(name="list")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of scenario files (default: the bundled catalogue).",
)
def list_scenarios(directory: Path | None) -> None:
    """List scenarios with their purpose.

    \b
    Examples:
      cmsf scenario list
      cmsf scenario list --dir my-scenarios
    """
    broken = 0
    for path in scenario_paths(directory or CATALOGUE_DIR):
        try:
            found = load_scenario(path)
        except ScenarioFormatError as exc:
            broken += 1
            click.echo(f"! {path.name}: malformed ({len(exc.problems)} problem(s); see validate)")
            continue
        flags = "".join(
            f" [{flag}]"
            for flag, on in (("live", found.live), ("known issue", bool(found.known_issue)))
            if on
        )
        click.echo(f"{found.name}{flags}")
        click.echo(f"    {found.purpose}")
    if broken:
        raise _ScenarioCliError(f"{broken} scenario file(s) are malformed")


@scenario.command(name="validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check scenario files without running them (every file of the catalogue by default).

    \b
    Examples:
      cmsf scenario validate
      cmsf scenario validate my-scenarios/new-case.yaml
    """
    problems = 0
    for path in paths or tuple(scenario_paths()):
        try:
            load_scenario(path)
        except ScenarioFormatError as exc:
            problems += len(exc.problems)
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        click.echo(f"ok {path}")
    if problems:
        raise _ScenarioCliError(f"{problems} problem(s) found")


@scenario.command(name="run")
@click.argument("name_or_path")
@click.option(
    "--report",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write an HTML report (index.html) and result.json into this folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def run(name_or_path: str, report: Path | None, as_json: bool) -> None:
    """Play one scenario by name or path; exit 1 if an expectation fails.

    \b
    Examples:
      cmsf scenario run first-connection
      cmsf scenario run sandbox-refresh --report reports/sandbox
      cmsf scenario run ./my-scenario.yaml --json
    """
    try:
        result = run_scenario(find_scenario(name_or_path), report_dir=report)
    except ScenarioError as exc:
        raise _ScenarioCliError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        click.echo(result.diff_text())
    if report is not None:
        click.echo(f"report: {report / 'index.html'}", err=True)
    if not result.passed:
        raise SystemExit(int(ExitCode.FAILED))


if __name__ == "__main__":  # pragma: no cover - python -m scenarios.cli
    scenario()
