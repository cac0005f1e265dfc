"""The cm-sim CLI (CliRunner and one real server process), file persistence, seeding, the benchmark."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cm_sim import Account
from cm_sim.bench import run as run_bench
from cm_sim.cli import main
from cm_sim.seed import SeedSizes, seed_account
from cmsf_core.clock import VirtualClock


def test_file_account_reopens_with_everything(tmp_path: Path) -> None:
    db = tmp_path / "account.db"
    first = Account(db, seed=3, kind="direct", test_account=True)
    client = first.create_client("Acme")
    lst = first.create_list(client, "News")
    first.add_subscriber_at(lst, "a@example.com")
    key, snapshot = first.api_key, first.snapshot()
    first.close()
    again = Account(db)
    assert (again.api_key, again.kind, again.test_account, again.seed) == (key, "direct", True, 3)
    assert again.snapshot() == snapshot
    with again.client() as http:
        assert http.get(f"/lists/{lst}/active.json").json()["TotalNumberOfRecords"] == 1
    newer = again.create_list(client, "Second")
    assert newer != lst
    again.close()


def test_reopening_with_another_kind_is_refused(tmp_path: Path) -> None:
    Account(tmp_path / "a.db", kind="agency").close()
    with pytest.raises(ValueError):
        Account(tmp_path / "a.db", kind="direct")


def test_reset_empties_the_account_but_keeps_the_key(account: Account, client_id: str) -> None:
    key = account.api_key
    account.reset()
    assert (account.api_key, account.clients_to_api()) == (key, [])


def test_seeded_account_has_every_state_and_activity(cm_clock: VirtualClock) -> None:
    account = Account(clock=cm_clock, seed=11)
    summary = seed_account(
        account,
        SeedSizes(clients=2, lists_per_client=1, subscribers_per_list=400, campaigns_per_client=1),
    )
    assert (len(summary["clients"]), len(summary["lists"]), len(summary["campaigns"])) == (2, 2, 2)
    with account.client() as http:
        for state in ("active", "unconfirmed", "unsubscribed", "bounced", "deleted"):
            assert (
                http.get(f"/lists/{summary['lists'][0]}/{state}.json").json()[
                    "TotalNumberOfRecords"
                ]
                > 0
            ), state
        assert (
            http.get(f"/campaigns/{summary['campaigns'][0]}/opens.json").json()[
                "TotalNumberOfRecords"
            ]
            > 0
        )
    other = Account(clock=VirtualClock(), seed=11)
    seed_account(
        other,
        SeedSizes(clients=2, lists_per_client=1, subscribers_per_list=400, campaigns_per_client=1),
    )
    assert other.snapshot() == account.snapshot()


def test_bench_reports_counts() -> None:
    figures = run_bench(subscribers=2500, imports=2)
    assert (figures["read_requests"], figures["read_rows"], figures["imports"]) == (3, 2500, 2)
    assert figures["peak_mib"] > 0


def test_cli_help_has_examples() -> None:
    runner = CliRunner()
    for args in ([], ["serve"], ["seed"], ["info"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example: cm-sim" in result.output


def test_cli_seed_then_info(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "world.db"
    result = runner.invoke(
        main, ["seed", "--db", str(db), "--seed", "4", "--subscribers", "50", "--test-account"]
    )
    assert result.exit_code == 0, result.output
    assert "2 clients, 4 lists, 4 campaigns" in result.output
    info = runner.invoke(main, ["info", "--db", str(db)])
    assert info.exit_code == 0
    assert "agency account, test account: True" in info.output
    assert "subscribers: 200" in info.output
    again = runner.invoke(main, ["seed", "--db", str(db)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_cli_info_on_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["info", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2


def test_cm_sim_serve_process_smoke(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "cm-sim"
    db = tmp_path / "served.db"
    proc = subprocess.Popen(
        [str(script), "serve", "--port", "0", "--http", "--seed", "5", "--subscribers", "20", "--db", str(db),
         "--api-key", "smoke-key"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        lines: list[str] = []
        while len(lines) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line:
                lines.append(line.strip())
        assert lines[0].startswith("cm-sim serving http://127.0.0.1:")
        assert lines[1] == "API key: smoke-key"
        base = lines[0].split()[-1]
        clients = httpx.get(f"{base}/clients.json", auth=("smoke-key", "x"), timeout=10).json()
        assert len(clients) == 2
        assert httpx.get(f"{base}/clients.json", auth=("nope", "x"), timeout=10).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    reopened = Account(db)
    assert (reopened.api_key, len(reopened.clients_to_api())) == ("smoke-key", 2)
    reopened.close()


def test_cli_reports_unusable_files_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    result = CliRunner().invoke(main, ["info", "--db", str(bad)])
    assert result.exit_code == 1
    assert "cannot open account file" in result.output
    assert "Traceback" not in result.output


def test_cli_seed_into_missing_directory_is_clean(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["seed", "--db", str(tmp_path / "no" / "such" / "dir.db")])
    assert result.exit_code == 1
    assert "cannot open account file" in result.output


def test_a_served_account_collects_cycles_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    from cmsf_core.collector import COLLECTOR_THRESHOLDS
    from tests.serve_support import thresholds_while_serving

    assert thresholds_while_serving(main, monkeypatch) == [COLLECTOR_THRESHOLDS]
