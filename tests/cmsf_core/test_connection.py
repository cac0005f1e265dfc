from __future__ import annotations

from pathlib import Path

import pytest

from cmsf_core.connection import load_connection
from cmsf_core.errors import ConfigError


def test_no_configuration_means_the_embedded_default(tmp_path: Path) -> None:
    conn = load_connection(env={}, home=tmp_path / ".cmsf")
    assert conn.mode == "simulated" and conn.embedded
    assert conn.org_db == tmp_path / ".cmsf" / "org.db"
    assert conn.account_db == tmp_path / ".cmsf" / "account.db"


def test_explicit_simulator_files_win(tmp_path: Path) -> None:
    conn = load_connection(
        env={"CMSF_CM_API_KEY": "k"}, org_db=tmp_path / "o.db", account_db=tmp_path / "a.db"
    )
    assert conn.mode == "simulated" and not conn.embedded
    assert conn.journal == tmp_path / "journal.db"


def test_half_given_simulator_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both --org-db and --account-db"):
        load_connection(env={}, org_db=tmp_path / "o.db")


def test_real_connection_from_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "cmsf.toml"
    config.write_text(
        '[salesforce]\nusername = "ops@acme.com"\ndomain = "test"\n[campaign_monitor]\n'
    )
    env = {
        "CMSF_SF_PASSWORD": "pw-secret",
        "CMSF_SF_SECURITY_TOKEN": "tok",
        "CMSF_CM_API_KEY": "key-secret",
    }
    conn = load_connection(config=config, env=env)
    assert conn.mode == "real"
    assert conn.salesforce is not None and conn.salesforce.username == "ops@acme.com"
    assert conn.salesforce.domain == "test"
    text = conn.describe() + repr(conn)
    assert (
        "pw-secret" not in text and "key-secret" not in text and "tok" not in repr(conn.salesforce)
    )


@pytest.mark.parametrize(
    ("content", "env", "fragment"),
    [
        ("[salesforce\n", {}, "not valid TOML"),
        ('[salesforce]\ncolour = "blue"\n', {}, "unknown key"),
        ('[salesforse]\nusername = "u"\n', {}, "unknown table"),
        ('[runner]\njournal = "j.db"\nlog = "x"\n', {}, r"\[runner\]: unknown key"),
        ('[runner]\njournal = "j.db"\n', {}, "names no Salesforce org"),
        ("", {}, "names no Salesforce org"),
        ("", {"CMSF_SF_USERNAM": "u"}, "did you mean CMSF_SF_USERNAME"),
        (
            "",
            {"CMSF_SF_USERNAME": "u", "CMSF_SF_PASSWORD": "p", "CMSF_SF_LOGIN_URL": "localhost"},
            "login_url must be an https:// URL",
        ),
        ("", {"CMSF_SF_USERNAME": "u", "CMSF_SF_PRIVATE_KEY_FILE": "k.pem"}, "JWT bearer"),
        ('salesforce = "x"\n', {}, "must be a table"),
        ("", {"CMSF_SF_USERNAME": "u"}, "username and password"),
        ("", {"CMSF_SF_USERNAME": "u", "CMSF_SF_PASSWORD": "p"}, "api_key"),
        ("", {"CMSF_SF_SESSION_ID": "s", "CMSF_CM_API_KEY": "k"}, "instance_url and session_id"),
        (
            "",
            {
                "CMSF_SF_USERNAME": "u",
                "CMSF_SF_PASSWORD": "p",
                "CMSF_SF_CONSUMER_KEY": "c",
                "CMSF_CM_API_KEY": "k",
            },
            "consumer_key and consumer_secret",
        ),
    ],
    ids=[
        "toml",
        "unknown-key",
        "unknown-table",
        "unknown-runner-key",
        "runner-only",
        "empty-file",
        "unknown-variable",
        "bad-login-url",
        "jwt-without-consumer-key",
        "not-table",
        "no-password",
        "no-cm-key",
        "half-session",
        "half-oauth",
    ],
)
def test_bad_configuration_is_explained(
    tmp_path: Path, content: str, env: dict[str, str], fragment: str
) -> None:
    config = tmp_path / "cmsf.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=fragment):
        load_connection(config=config, env=env)


def test_missing_config_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_connection(config=tmp_path / "nope.toml", env={})


def test_login_url_and_ca_file_are_read_from_the_environment(tmp_path: Path) -> None:
    env = {
        "CMSF_SF_USERNAME": "ops@acme.com",
        "CMSF_SF_PASSWORD": "pw",
        "CMSF_SF_LOGIN_URL": "https://127.0.0.1:8443/",
        "CMSF_SF_CA_FILE": str(tmp_path / "sf-ca.pem"),
        "CMSF_CM_API_KEY": "k",
        "CMSF_CM_CA_FILE": str(tmp_path / "cm-ca.pem"),
    }
    conn = load_connection(env=env)
    assert conn.salesforce is not None and conn.campaign_monitor is not None
    assert conn.salesforce.login_host == "https://127.0.0.1:8443"
    assert conn.salesforce.ca_file == str(tmp_path / "sf-ca.pem")
    assert conn.campaign_monitor.ca_file == str(tmp_path / "cm-ca.pem")
    assert "https://127.0.0.1:8443" in conn.describe()


def test_swapped_simulator_files_are_refused(tmp_path: Path) -> None:
    from cm_sim import Account
    from cmsf_core.clock import SystemClock
    from cmsf_core.platforms import open_engine
    from sf_sim import Org

    Org(tmp_path / "org.db").close()
    Account(tmp_path / "account.db").close()
    swapped = load_connection(
        env={}, org_db=tmp_path / "account.db", account_db=tmp_path / "org.db"
    )
    with pytest.raises(ConfigError, match="look swapped"):
        open_engine(swapped, clock=SystemClock())
