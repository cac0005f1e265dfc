from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cmsf_core.serving import LoopbackServer
from sf_sim import Org
from sf_sim.cli import main


@pytest.mark.parametrize("command", ["serve", "demo"], ids=["serve", "demo"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Example: sf-sim" in result.output


def test_serve_prints_url_session_and_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LoopbackServer, "serve_forever", lambda self: self._server.server_close())
    db, ca = tmp_path / "org.sqlite", tmp_path / "ca.pem"
    result = CliRunner().invoke(
        main, ["serve", "--port", "0", "--db", str(db), "--ca-file", str(ca)]
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)
    assert lines["instance URL"].strip().startswith("https://localhost:")
    assert lines["trust CA file"].strip() == str(ca) and ca.exists()
    session_id = lines["session id"].strip()
    org = Org(db)
    assert org.sessions.authenticate(session_id) == org.running_user_id


def test_serve_plain_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LoopbackServer, "serve_forever", lambda self: self._server.server_close())
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--http"])
    assert (
        result.exit_code == 0
        and "http://127.0.0.1:" in result.output
        and "CA file" not in result.output
    )


def test_serve_refuses_a_bad_port() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_demo_prints_a_summary() -> None:
    result = CliRunner().invoke(main, ["demo", "--contacts", "300"])
    assert result.exit_code == 0, result.output
    assert "Contacts (300 in the org, 300 read via query_all" in result.output
    assert "Over HTTPS at https://localhost:" in result.output


def test_serve_with_a_bad_db_path_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--port", "0", "--db", str(tmp_path / "no" / "such" / "org.sqlite")]
    )
    assert result.exit_code == 1 and "cannot open the org database" in result.output
    assert "Traceback" not in result.output


def test_serve_credentials_are_new_at_every_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LoopbackServer, "serve_forever", lambda self: self._server.server_close())
    db = tmp_path / "org.sqlite"
    starts = []
    for _ in range(2):
        result = CliRunner().invoke(main, ["serve", "--port", "0", "--http", "--db", str(db)])
        assert result.exit_code == 0, result.output
        starts.append(
            dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)
        )
    assert starts[0]["session id"] != starts[1]["session id"]
    assert starts[0]["password"] != starts[1]["password"]
    org = Org(db)
    user = org.sessions.check_password(
        org.admin_username, starts[1]["password"].strip() + starts[1]["security token"].strip()
    )
    assert user == org.running_user_id
    stale = starts[0]["password"].strip() + starts[0]["security token"].strip()
    assert org.sessions.check_password(org.admin_username, stale) is None
    org.close()


def test_served_org_file_keeps_no_raw_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LoopbackServer, "serve_forever", lambda self: self._server.server_close())
    db = tmp_path / "org.sqlite"
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--http", "--db", str(db)])
    assert result.exit_code == 0, result.output
    printed = dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)
    secrets = [printed[k].strip() for k in ("password", "security token", "session id")]
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert all(secret.encode() not in data for secret in secrets)
    org = Org(db)  # the hashes are there: the printed credentials still log in
    assert org.sessions.check_password(org.admin_username, secrets[0] + secrets[1])
    assert org.sessions.authenticate(secrets[2]) == org.running_user_id
    org.close()


def test_serve_keeps_fixed_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LoopbackServer, "serve_forever", lambda self: self._server.server_close())
    result = CliRunner().invoke(
        main,
        ["serve", "--port", "0", "--http", "--password", "pw-fixed", "--security-token", "TOK"],
    )
    assert result.exit_code == 0, result.output
    assert "password:      pw-fixed" in result.output


def test_a_served_org_collects_cycles_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    from cmsf_core.collector import COLLECTOR_THRESHOLDS
    from tests.serve_support import thresholds_while_serving

    assert thresholds_while_serving(main, monkeypatch) == [COLLECTOR_THRESHOLDS]
