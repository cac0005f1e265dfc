"""Operations of the settings guide: sync user, security owner, one client out, clear history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmsf_core.engine import Engine
from cmsf_core.errors import ConfigError
from scenarios.world import World
from tests.cmsf_core.cli_support import no_traceback, run_cmsf


def test_the_sync_runs_as_the_new_sync_user(world: World, engine: Engine) -> None:
    user_id = world.org.control.add_user("sync@acme.example.com", last_name="Sync")
    changed = engine.change_sync_user("sync@acme.example.com")
    assert changed["Id"] == user_id and changed["assigned_permission_set"] is True
    assert engine.sync().status == "completed"
    creators = {
        r["CreatedById"] for r in world.org.query("SELECT CreatedById FROM CMSF_List_Member__c")
    }
    assert creators == {user_id}
    owners = {r["OwnerId"] for r in world.org.query("SELECT OwnerId FROM CMSF_List_Member__c")}
    assert owners == {user_id}  # no security owner: records belong to the sync user
    audit = world.org.query("SELECT Setting__c, New_Value__c FROM CMSF_Audit_Log__c")
    assert any(r["Setting__c"] == "sync_user_id" and user_id in r["New_Value__c"] for r in audit)


def test_a_sync_user_cmsf_cannot_log_in_as_is_refused(world: World, engine: Engine) -> None:
    world.org.control.add_user("other@acme.example.com")
    engine.change_sync_user("other@acme.example.com")
    engine.as_user = None  # a real org without JWT bearer credentials
    with pytest.raises(ConfigError, match="JWT bearer"):
        engine.sync()


@pytest.mark.parametrize(
    "user",
    ["nobody@acme.example.com", "0050000000000AAAAA", "x' OR Name != '", ""],
    ids=["unknown", "unknown-id", "hostile", "empty"],
)
def test_a_bad_sync_user_is_refused(engine: Engine, user: str) -> None:
    with pytest.raises(ConfigError):
        engine.change_sync_user(user)


def test_security_owner_owns_new_records_and_can_be_cleared(world: World, engine: Engine) -> None:
    engine.sync()
    client = world.org.query("SELECT CM_Id__c FROM CMSF_Client__c ORDER BY Name LIMIT 1")[0]
    owner = world.org.control.add_user("owner@acme.example.com")
    assert engine.set_security_owner(client["CM_Id__c"], "owner@acme.example.com") == owner
    assert engine.set_security_owner(client["CM_Id__c"], None) is None
    with pytest.raises(ConfigError, match="not synced"):
        engine.set_security_owner("nope", "owner@acme.example.com")


def test_disconnecting_one_client_removes_its_data_next_sync(world: World, engine: Engine) -> None:
    engine.sync()
    clients = [r["CM_Id__c"] for r in world.org.query("SELECT CM_Id__c FROM CMSF_Client__c")]
    gone, kept = sorted(clients)
    settings = engine.disconnect_client(gone)
    assert settings.client_selection == (kept,)
    engine.sync()
    selected = world.org.query("SELECT CM_Id__c FROM CMSF_Client__c WHERE Selected__c = true")
    assert [r["CM_Id__c"] for r in selected] == [kept]
    with pytest.raises(ConfigError, match="only selected client"):
        engine.disconnect_client(kept)


def test_clear_history_from_a_date_in_batches(world: World, engine: Engine) -> None:
    engine.sync()
    rows = world.org.query("SELECT Activity_Date__c FROM CMSF_Email_Activity__c")
    dates = sorted(r["Activity_Date__c"] for r in rows)
    middle = dates[len(dates) // 2]
    from cmsf_core.clock import parse_instant

    since = parse_instant(middle.replace("+0000", "+00:00"))
    expected = sum(1 for d in dates if d >= middle)
    assert engine.clear_campaign_history(since, batch_size=7) == expected
    assert world.org.count("CMSF_Email_Activity__c") == len(dates) - expected
    with pytest.raises(ConfigError, match="batch-size"):
        engine.clear_campaign_history(None, batch_size=0)


def test_the_clients_table_shows_when_each_client_last_synced(cmsf_home: Path) -> None:
    before = run_cmsf("--home", str(cmsf_home), "clients", "--json")
    assert before.returncode == 0, before.stderr
    assert all(c["last_synced"] is None for c in json.loads(before.stdout))
    assert run_cmsf("--home", str(cmsf_home), "sync", "--quiet").returncode == 0
    after = json.loads(run_cmsf("--home", str(cmsf_home), "clients", "--json").stdout)
    assert after and all(c["last_synced"] for c in after)


def test_operations_run_from_the_command_line(cmsf_home: Path) -> None:
    home = ["--home", str(cmsf_home)]
    assert run_cmsf(*home, "sync", "--quiet").returncode == 0
    clients = json.loads(run_cmsf(*home, "clients", "--json").stdout)
    first = clients[0]
    owner = run_cmsf(*home, "security-owner", first["name"], "admin@acme.example.com")
    assert owner.returncode == 0, owner.stderr
    shown = json.loads(run_cmsf(*home, "clients", "--json").stdout)
    assert "admin@acme.example.com" in str(shown[0]["security_owner"])
    out = run_cmsf(*home, "disconnect", "--client", first["id"])
    assert out.returncode == 0 and "disconnected" in out.stdout, out.stderr
    status = json.loads(run_cmsf(*home, "status", "--json").stdout)
    assert status["client_selection"] == [c["id"] for c in clients[1:]]
    cleared = run_cmsf(
        *home, "clear-history", "--since", "2000-01-01", "--batch-size", "50", "--yes"
    )
    assert cleared.returncode == 0 and "deleted" in cleared.stdout, cleared.stderr
    user = run_cmsf(*home, "sync-user", "admin@acme.example.com")
    assert user.returncode == 0 and "sync user is now admin@acme.example.com" in user.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["sync-user", "ghost@nowhere.example"], "no active Salesforce user"),
        (["security-owner", "No Such Client", "x@y.z"], "no client has the id or name"),
        (["security-owner", "x"], "give USER, or --clear"),
        (["clear-history", "--since", "yesterday-ish", "--yes"], "--since"),
        (["clear-history", "--batch-size", "0", "--yes"], "--batch-size"),
        (["disconnect", "--client", "nope"], "no client has the id or name"),
    ],
    ids=["unknown-user", "unknown-client", "no-owner", "bad-since", "bad-batch", "bad-client"],
)
def test_operation_mistakes_are_one_line(cmsf_home: Path, args: list[str], fragment: str) -> None:
    result = run_cmsf("--home", str(cmsf_home), *args)
    assert result.returncode == 2 and fragment in result.stderr, result.stderr
    assert no_traceback(result)
