"""The ``cmsf`` command line, through click's CliRunner, on an embedded default in a temp folder."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from cmsf_core.cli import main
from cmsf_core.cli.base import COLLECTOR_THRESHOLDS


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / ".cmsf"


def cmsf(
    home: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), *args], env=env or {}, input=input)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """An embedded default after its first sync (built once: seeding takes a few seconds)."""
    home = tmp_path_factory.mktemp("cli") / ".cmsf"
    result = cmsf(home, "sync", "--json")
    assert result.exit_code == 0, result.output
    return home, json.loads(result.stdout)


def test_first_sync_creates_the_embedded_default_and_syncs_it(
    synced: tuple[Path, dict[str, object]],
) -> None:
    home, report = synced
    assert (
        (home / "org.db").exists()
        and (home / "account.db").exists()
        and (home / "journal.db").exists()
    )
    assert report["status"] == "completed"
    written = report["written"]
    assert isinstance(written, dict) and written["CMSF_List_Member__c"] == 2400
    assert report["messages"] == []


def test_summary_shows_records_calls_and_messages(
    tmp_path: Path, synced: tuple[Path, dict[str, object]]
) -> None:
    home, _ = synced
    result = cmsf(home, "sync", "--quiet")
    assert result.exit_code == 0, result.output
    assert "Run completed" in result.output
    assert "API calls" in result.output and "salesforce" in result.output
    assert "No maintenance messages." in result.output


def test_status_lists_runs(synced: tuple[Path, dict[str, object]]) -> None:
    home, _ = synced
    result = cmsf(home, "status")
    assert result.exit_code == 0
    assert "completed" in result.output


def test_settings_set_validates_and_reports_changes(synced: tuple[Path, dict[str, object]]) -> None:
    home, _ = synced
    bad = cmsf(home, "settings", "set", "tracking_retention_days=-3")
    assert bad.exit_code == 2
    assert "whole number from 0 to 3650" in bad.output
    assert "Traceback" not in bad.output
    malformed = cmsf(home, "settings", "set", "no-equals-sign")
    assert malformed.exit_code == 2 and "NAME=VALUE" in malformed.output
    good = cmsf(home, "settings", "set", "tracking_retention_days=90")
    assert good.exit_code == 0 and "tracking_retention_days" in good.output
    shown = cmsf(home, "settings", "show")
    assert "tracking_retention_days" in shown.output and "90" in shown.output


def test_connect_refuses_a_client_that_is_not_in_the_account(
    synced: tuple[Path, dict[str, object]],
) -> None:
    home, _ = synced
    result = cmsf(home, "connect", "--client", "not-a-client")
    assert result.exit_code == 2
    assert "no client has the id or name" in result.output and "cmsf clients" in result.output


def test_missing_simulator_files_are_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--org-db", str(tmp_path / "o.db"), "--account-db", str(tmp_path / "a.db"), "sync"],
        env={},
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_half_given_simulator_files_are_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--org-db", str(tmp_path / "o.db"), "sync"], env={})
    assert result.exit_code == 2 and "both --org-db and --account-db" in result.output


def test_real_mode_with_incomplete_credentials_is_explained(tmp_path: Path) -> None:
    result = cmsf(tmp_path / "h", "sync", env={"CMSF_SF_USERNAME": "ops@acme.com"})
    assert result.exit_code == 2 and "username and password" in result.output


def test_reset_settings_disconnects_and_sync_then_says_to_connect(tmp_path: Path) -> None:
    home = tmp_path / ".cmsf"
    assert cmsf(home, "sync", "--quiet").exit_code == 0
    assert cmsf(home, "reset-settings", "--yes").exit_code == 0
    result = cmsf(home, "sync")
    assert result.exit_code == 2 and "cmsf connect" in result.output


def test_every_command_has_help_with_an_example() -> None:
    context = click.Context(main)
    names = main.list_commands(context)
    assert {"sync", "dashboard", "scenario"} <= set(names)
    for name in names:
        command = main.get_command(context, name)
        assert command is not None, name
        text = CliRunner().invoke(main, [name, "--help"]).output
        assert command.help and ("Example" in text or name in {"settings", "scenario"}), name


@pytest.fixture
def thresholds() -> Iterator[None]:
    """The cycle collector as it was before the test (``cmsf`` changes it for its process)."""
    before, enabled = gc.get_threshold(), gc.isenabled()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if enabled:
            gc.enable()


@pytest.mark.usefixtures("thresholds")
def test_cmsf_collects_cycles_less_often_and_keeps_higher_thresholds(home: Path) -> None:
    gc.set_threshold(700, 10, 10)  # Python's default
    assert cmsf(home, "--help").exit_code == 0
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS
    assert COLLECTOR_THRESHOLDS[0] > 700

    gc.set_threshold(50_000, 5, 100)  # a process that set its own: the higher ones stay
    assert cmsf(home, "--help").exit_code == 0
    assert gc.get_threshold() == (50_000, COLLECTOR_THRESHOLDS[1], 100)

    gc.disable()
    assert cmsf(home, "--help").exit_code == 0
    assert not gc.isenabled()  # turned off stays off
