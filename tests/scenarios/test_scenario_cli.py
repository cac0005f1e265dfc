"""``cmsf scenario``: list, validate and run, with clean errors and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenarios.catalogue import scenario_paths
from scenarios.cli import scenario
from tests.scenarios.conftest import tiny


@pytest.fixture
def cli() -> CliRunner:
    """A click runner (stderr kept apart)."""
    return CliRunner()


def test_list_shows_every_catalogue_scenario_with_its_purpose(cli: CliRunner) -> None:
    result = cli.invoke(scenario, ["list"])
    assert result.exit_code == 0
    assert "spam-filter-one-click\n    A spam filter clicks unsubscribe" in result.output
    assert "live-smoke [live]" in result.output
    assert result.output.count("\n    ") == len(scenario_paths())


def test_list_flags_malformed_files_and_fails(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: [\n", encoding="utf-8")
    result = cli.invoke(scenario, ["list", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "! broken.yaml: malformed (1 problem(s); see validate)" in result.output
    assert "Traceback" not in result.output


def test_run_prints_the_timeline_and_exits_0_when_it_passes(
    cli: CliRunner, scenario_file: Callable[..., Path]
) -> None:
    path = scenario_file(
        tiny("timeline:\n  - {at: +5m, run: primary_sync}\nexpect: [run_status: completed]\n")
    )
    result = cli.invoke(scenario, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("tiny-case: passed; runs: completed")
    assert "run primary_sync" in result.output


def test_run_of_a_failing_scenario_exits_1_with_the_diff(
    cli: CliRunner, scenario_file: Callable[..., Path]
) -> None:
    path = scenario_file(
        tiny("timeline:\n  - {at: +5m, run: primary_sync}\nexpect: [run_status: failed]\n")
    )
    result = cli.invoke(scenario, ["run", str(path)])
    assert result.exit_code == 1
    assert "FAIL run_status(status='failed')  [line 6, at +5m]" in result.output
    assert "expected: 'failed'" in result.output and "found:    'completed'" in result.output


def test_run_of_an_unknown_name_lists_the_known_ones(cli: CliRunner) -> None:
    result = cli.invoke(scenario, ["run", "no-such-scenario"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: no scenario is called 'no-such-scenario'; known")
    assert "first-connection" in result.output and "Traceback" not in result.output


def test_run_of_a_missing_file_is_a_clean_error(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(scenario, ["run", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert result.output == f"Error: no scenario file {tmp_path / 'missing.yaml'}\n"


def test_run_of_a_malformed_file_shows_file_and_line(
    cli: CliRunner, scenario_file: Callable[..., Path]
) -> None:
    path = scenario_file(tiny("timeline:\n  - {at: soon, run: primary_sync}\n"))
    result = cli.invoke(scenario, ["run", str(path)])
    assert result.exit_code == 2
    assert f"Error: {path}:5: timeline[0].at: 'soon' is not a time" in result.output
    assert "Traceback" not in result.output


def test_run_with_report_and_json_writes_both(
    cli: CliRunner, scenario_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = scenario_file(tiny("timeline:\n  - {at: +5m, run: primary_sync}\n"))
    result = cli.invoke(scenario, ["run", str(path), "--json", "--report", str(tmp_path / "r")])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["name"] == "tiny-case" and data["runs"][0]["status"] == "completed"
    assert (tmp_path / "r" / "index.html").is_file()


def test_validate_reports_each_problem_on_stderr(
    cli: CliRunner, scenario_file: Callable[..., Path]
) -> None:
    good = scenario_file(tiny("timeline: []\n"), name="good")
    bad = scenario_file(tiny("timeline: []\nexpect: [wishful_thinking]\n"), name="bad")
    result = cli.invoke(scenario, ["validate", str(good), str(bad)])
    assert result.exit_code == 2
    assert f"ok {good}" in result.stdout
    assert f"{bad}:5: expect[0]: unknown invariant 'wishful_thinking'" in result.stderr


@pytest.mark.parametrize("command", ["list", "run", "validate"], ids=["list", "run", "validate"])
def test_every_command_has_help_with_an_example(cli: CliRunner, command: str) -> None:
    result = cli.invoke(scenario, [command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "cmsf scenario " in result.output
