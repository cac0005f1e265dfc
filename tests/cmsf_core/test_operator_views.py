"""What the operator reads agrees: counts, calls, status, messages, clients, lists, logs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cm_sim import Account
from cmsf_core.cli import main
from cmsf_core.formatting import duration, local_time, percent
from cmsf_core.state import Journal
from sf_sim import Org


def cmsf(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), *args], env={"TZ": "UTC", **(env or {})})


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object], Path]:
    """A home after one logged first sync (with a refused record), its report and its log."""
    home = tmp_path_factory.mktemp("views") / ".cmsf"
    assert cmsf(home, "settings", "show").exit_code == 0  # seeds and connects
    log = home.parent / "cmsf.jsonl"
    result = cmsf(home, "sync", "--json", "--log-file", str(log))
    assert result.exit_code == 0, result.output
    return home, json.loads(result.stdout), log


def test_percentages_keep_their_precision() -> None:
    assert [percent(x) for x in (0, 0.005, 0.25, 0.125, 0.00001, 0.99999, 1)] == [
        "0%", "0.5%", "25%", "12.5%", "<0.01%", "99.99%", "100%",
    ]  # fmt: skip
    assert [duration(x) for x in (0.42, 12, 125, 3780)] == ["0.4s", "12s", "2m 5s", "1h 3m"]
    assert local_time("2026-01-05T10:00:00.000+0000") == "2026-01-05 10:00:00 UTC"


def test_written_counts_distinct_records_as_the_org_holds_them(
    synced: tuple[Path, dict[str, object], Path],
) -> None:
    home, report, _ = synced
    written = report["written"]
    assert isinstance(written, dict)
    org = Org(home / "org.db")
    try:
        for sobject in ("CMSF_List__c", "CMSF_Campaign__c", "CMSF_Client__c", "Campaign"):
            assert written[sobject] == org.count(sobject), sobject
    finally:
        org.close()


def test_calls_agree_in_summary_journal_status_and_log(
    synced: tuple[Path, dict[str, object], Path],
) -> None:
    home, report, log = synced
    calls = report["calls"]
    journal = Journal(home / "journal.db")
    try:
        assert journal.run_calls(str(report["run_id"])) == calls
    finally:
        journal.close()
    status = json.loads(cmsf(home, "status", "--json").stdout)
    first = next(r for r in status["runs"] if r["run_id"] == report["run_id"])
    assert first["calls"] == calls
    finished = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if '"run_finished"' in line and report["run_id"] in line
    ]
    assert finished[0]["calls"] == calls and finished[0]["written"] == report["written"]


def test_status_shows_the_sync_settings_screen(
    synced: tuple[Path, dict[str, object], Path],
) -> None:
    home, _, _ = synced
    result = cmsf(home, "status")
    assert result.exit_code == 0, result.output
    text = result.output
    for fact in (
        "Connection", "Sync user", "Frequency", "Last sync", "Next run", "API today",
        "Data storage", "Apex jobs",
    ):  # fmt: skip
        assert fact in text
    assert "no stale ApexToken jobs" in text and "records of about 2 KB" in text
    assert "Hourly" in text and "Completed" in text and "test account" in text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)  # full local timestamps
    assert "True" not in text and "False" not in text
    facts = json.loads(cmsf(home, "status", "--json").stdout)
    assert facts["connected"] is True and facts["frequency"] == "Hourly"
    assert len(facts["clients"]) == 2 and facts["clients"][0]["lists"] == 3
    assert facts["runs"][0]["state"] == "completed" and facts["runs"][0]["duration_seconds"] > 0
    assert 0 < facts["api"]["share"] < 1
    assert facts["storage"]["synced_records"] > 0 and facts["storage"]["max_mb"] > 0
    assert facts["apex"]["status"] == "pass" and facts["bulk_jobs"] == []


def test_log_has_events_and_no_credentials_or_subscriber_data(
    synced: tuple[Path, dict[str, object], Path],
) -> None:
    home, _, log = synced
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    events = {line["event"] for line in lines}
    assert {"run_started", "job_finished", "run_finished", "command_finished"} <= events
    jobs = {line["job"] for line in lines if line["event"] == "job_finished"}
    assert {"configuration", "subscribers", "tracking_history"} <= jobs
    text = log.read_text()
    account = Account(home / "account.db")
    try:
        assert account.api_key not in text
        emails = account.email_addresses()
    finally:
        account.close()
    assert emails and not any(email in text for email in emails)
    assert "@" not in text


def test_messages_filter_and_show_guidance(
    tmp_path: Path, synced: tuple[Path, dict[str, object], Path]
) -> None:
    home = tmp_path / ".cmsf"
    shutil.copytree(synced[0], home)
    assert cmsf(home, "settings", "set", "run_api_share=0.1%").exit_code == 0
    stopped = cmsf(home, "sync", "--full", "--quiet")
    assert stopped.exit_code == 4, stopped.output
    shown = cmsf(home, "messages", "--severity", "WARNING", "--since", "1h")
    assert shown.exit_code == 0 and "CMSF-API-RUN" in shown.output
    assert "It resumes where it stopped on the next run" in shown.output  # the guidance
    assert "(0.1% of 15,000 a day" in shown.output
    none = cmsf(home, "messages", "--severity", "error")
    assert "No maintenance messages match." in none.output
    as_json = json.loads(cmsf(home, "messages", "--code", "cmsf-api-run", "--json").stdout)
    assert [m["code"] for m in as_json] == ["CMSF-API-RUN"] and as_json[0]["guidance"]
    bad = cmsf(home, "messages", "--severity", "loud")
    assert bad.exit_code == 2 and "unknown severity loud" in bad.output
    since = cmsf(home, "messages", "--since", "last tuesday")
    assert since.exit_code == 2 and "give a duration" in since.output


def test_clients_and_lists_show_ids_names_and_counts(
    tmp_path: Path, synced: tuple[Path, dict[str, object], Path]
) -> None:
    home = tmp_path / ".cmsf"
    shutil.copytree(synced[0], home)
    clients = json.loads(cmsf(home, "clients", "--json").stdout)
    assert len(clients) == 2 and all(c["selected"] and c["synced"] for c in clients)
    assert sum(c["active_subscribers"] for c in clients) > 0
    first = clients[0]
    lists = json.loads(cmsf(home, "lists", "--client", first["name"].upper(), "--json").stdout)
    assert {row["client_id"] for row in lists} == {first["id"]} and len(lists) == 3
    assert all(
        row["synced_members"] and row["synced_members"] >= row["active_subscribers"]
        for row in lists
    )
    table = cmsf(home, "lists").output
    assert lists[0]["id"] in table and lists[0]["name"] in table
    # a unique name works wherever an id does
    reconnected = cmsf(home, "reconnect", "--client", first["name"])
    assert reconnected.exit_code == 0 and first["id"] in reconnected.output
    created = cmsf(home, "create-list", first["name"], "Webinar attendees")
    assert created.exit_code == 0, created.output
    unknown = cmsf(home, "lists", "--client", "Nobody Ltd")
    assert unknown.exit_code == 2 and "'cmsf clients' lists them" in unknown.output


def test_settings_show_json_and_choices_in_any_case(
    tmp_path: Path, synced: tuple[Path, dict[str, object], Path]
) -> None:
    home = tmp_path / ".cmsf"
    shutil.copytree(synced[0], home)
    assert cmsf(home, "settings", "set", "frequency=every 4 hours").exit_code == 0
    values = json.loads(cmsf(home, "settings", "show", "--json").stdout)
    assert values["frequency"] == "Every 4 Hours" and values["run_api_share"] == 0.25


def test_run_stats_count_each_record_once_and_refuse_direct_edits() -> None:
    from cmsf_core.jobs.context import RunStats

    stats = RunStats()
    stats.wrote("CMSF_List__c", ["a01A", "a01B", None])  # configuration upserts two lists
    stats.wrote("CMSF_List__c", ["a01A", "a01B"])  # list_stats updates the same two
    assert stats.written["CMSF_List__c"] == 2 and stats.written["Campaign"] == 0
    with pytest.raises(TypeError):
        stats.written["CMSF_List__c"] += 1  # type: ignore[index]
    stats.close()
    assert dict(stats.written) == {"CMSF_List__c": 2}
