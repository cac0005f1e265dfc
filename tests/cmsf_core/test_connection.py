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
