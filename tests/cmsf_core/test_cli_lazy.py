"""``cmsf`` imports the scenario command (simulators, catalogue) and the dashboard (Flask)
only when they are named: every ``cmsf sync`` would otherwise pay for importing them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scenarios.cli", "scenarios.catalogue", "flask", "cmsf_core.cli.dashboard")


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_the_command_line_loads_without_the_scenario_and_dashboard_modules() -> None:
    code = f"import sys, cmsf_core.cli\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_sync_help_loads_neither() -> None:
    code = (
        "import sys\n"
        "from cmsf_core.cli import main\n"
        "try:\n"
        "    main(['sync', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert "Run the primary sync" in result.stdout
    assert result.stdout.strip().endswith("LOADED:")


@pytest.mark.parametrize(
    ("command", "text"),
    [("scenario", "Regression scenarios"), ("dashboard", "dashboard")],
)
def test_a_lazy_command_loads_when_named(command: str, text: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core.cli", command, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert text in result.stdout


def test_top_level_help_lists_the_lazy_commands_with_their_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ")}
    assert "Regression scenarios" in lines["scenario"]
    assert "dashboard" in lines["dashboard"].lower() and len(lines["dashboard"].split()) > 2


def test_an_unknown_command_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core.cli", "scenarios"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "No such command" in result.stderr and "Traceback" not in result.stderr
