"""Documentation checks: coverage lists match route tables, commands have help, modules say what they are for."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import cm_sim.urls
import sf_sim.urls
from cm_sim.coverage import COVERAGE as CM_COVERAGE
from cmsf_core.cli import main as cmsf_cli
from sf_sim.coverage import COVERAGE as SF_COVERAGE

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cmsf_core", "sf_sim", "cm_sim", "scenarios")


def test_every_sf_sim_route_is_in_its_coverage_list() -> None:
    routes = {(r.method, r.handler.__name__) for r in sf_sim.urls.ROUTES}
    assert routes == set(SF_COVERAGE)


def test_every_cm_sim_route_is_in_its_coverage_list() -> None:
    routes = {(m, h.__name__) for m, _, h in [*cm_sim.urls.ROUTES, *cm_sim.urls.OAUTH_ROUTES]}
    assert routes == set(CM_COVERAGE)


@pytest.mark.parametrize("simulator", ["sf_sim", "cm_sim"], ids=["sf_sim", "cm_sim"])
def test_readme_coverage_table_lists_every_route(simulator: str) -> None:
    """The README's table is the route table: a route added, moved or dropped shows here."""
    from importlib import import_module

    expected = subprocess.run(
        [sys.executable, "-m", f"{simulator}.coverage"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert expected == import_module(f"{simulator}.coverage").table()
    readme = _readme()
    start, end = f"<!-- {simulator} coverage -->\n", f"<!-- /{simulator} coverage -->"
    assert start in readme and end in readme, f"no coverage table for {simulator} in README"
    shown = readme.split(start, 1)[1].split(end, 1)[0]
    assert shown == expected, f"regenerate it: python -m {simulator}.coverage"
    routes = len(import_module(f"{simulator}.urls").ROUTES)
    routes += len(getattr(import_module(f"{simulator}.urls"), "OAUTH_ROUTES", []))
    assert shown.count("\n| ") == routes  # one row per route (the header row opens the block)


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    context = click.Context(group)
    for name in group.list_commands(context):  # lazy commands too (cmsf's scenario, dashboard)
        command = group.get_command(context, name)
        assert command is not None, name
        out.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            out.extend(_commands(command, f"{prefix}{name} "))
    return out


def _cli_groups() -> list[tuple[str, click.Group]]:
    from cm_sim.cli import main as cm_cli
    from sf_sim.cli import main as sf_cli

    return [("cmsf", cmsf_cli), ("sf-sim", sf_cli), ("cm-sim", cm_cli)]


@pytest.mark.parametrize("program", ["cmsf", "sf-sim", "cm-sim"], ids=["cmsf", "sf-sim", "cm-sim"])
def test_every_command_has_help(program: str) -> None:
    group = dict(_cli_groups())[program]
    assert group.help
    for name, command in _commands(group):
        assert command.help and command.help.strip(), f"{program} {name} has no help"


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_every_module_says_what_it_is_for() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for p in _modules()
        if not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert missing == []


JOB_HOOKS = {"enabled", "start", "execute", "finish"}
"""Job hooks are documented once, on cmsf_core.jobs.base.Job."""


def _undocumented(path: Path) -> list[str]:
    out = []
    tree = ast.parse(path.read_text())
    for node in tree.body:
        public = isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
        if public and not ast.get_docstring(node):
            out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        is_job = any(isinstance(b, ast.Name) and b.id.endswith("Job") for b in node.bases)
        for member in node.body:
            if not isinstance(member, ast.FunctionDef) or member.name.startswith("_"):
                continue
            setter = any(
                isinstance(d, ast.Attribute) and d.attr == "setter" for d in member.decorator_list
            )
            if setter or (is_job and member.name in JOB_HOOKS) or ast.get_docstring(member):
                continue
            out.append(f"{path.relative_to(ROOT)}:{member.lineno} {node.name}.{member.name}")
    return out


def test_every_public_function_class_and_method_has_a_docstring() -> None:
    missing = [item for path in _modules() for item in _undocumented(path)]
    assert missing == []


MACHINE_PATHS = tuple("/" + part for part in ("work/", "tmp/bash_jobs", "farm/"))
"""Prefixes of this machine's working folders (spelled in parts so this file does not match)."""


def test_no_machine_paths_in_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        for needle in MACHINE_PATHS:
            if needle in text:
                offenders.append(f"{name}: {needle}")
    assert offenders == []


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _leaf_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    return [
        (name, cmd) for name, cmd in _commands(group, prefix) if not isinstance(cmd, click.Group)
    ]


def test_readme_command_table_matches_cmsf_help() -> None:
    from cmsf_core.cli.base import GLOBAL_OPTIONS

    rows = [line for line in _readme().splitlines() if line.startswith("| `cmsf ")]
    problems = []
    for name, command in _leaf_commands(cmsf_cli):
        usage = f"`cmsf {name}"
        row = next((r for r in rows if f"{usage}`" in r or f"{usage} " in r), None)
        if row is None:
            problems.append(f"cmsf {name}: no row in the README's command table")
            continue
        for param in command.params:
            if not isinstance(param, click.Option) or param.name in GLOBAL_OPTIONS:
                continue
            if param.name == "help" or param.hidden:
                continue
            flags = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
            if flags and not any(flag in row for flag in flags):
                problems.append(f"cmsf {name}: option {flags[0]} missing from its README row")
    for option in ("--home", "--org-db", "--account-db", "--config", "--journal", "--log-file"):
        if f"`{option}" not in _readme():
            problems.append(f"global option {option} is not in the README")
    assert problems == []


def test_readme_lists_every_exit_code() -> None:
    from cmsf_core.exit_codes import ExitCode

    text = _readme()
    assert all(f"| {int(code)} |" in text for code in ExitCode)
    help_text = CliRunner().invoke(cmsf_cli, ["--help"]).output
    assert all(str(int(code)) in help_text for code in ExitCode)


def test_readme_lists_every_cmsf_variable() -> None:
    from dataclasses import fields

    from cmsf_core.connection import CampaignMonitorCredentials, SalesforceCredentials

    names = [f"CMSF_SF_{f.name.upper()}" for f in fields(SalesforceCredentials)]
    names += [f"CMSF_CM_{f.name.upper()}" for f in fields(CampaignMonitorCredentials)]
    names.append("CMSF_LOG")
    text = _readme()
    assert [n for n in names if f"`{n}`" not in text] == []
