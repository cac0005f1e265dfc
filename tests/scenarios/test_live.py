"""Live runs: credentials from the environment, and a live scenario over real HTTPS."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.errors import ConfigError
from cmsf_core.serving import LoopbackServer
from scenarios.catalogue import find_scenario
from scenarios.errors import ScenarioStepError
from scenarios.live import live_connection
from scenarios.runner import run_scenario
from scenarios.world import WorldSpec, build_world


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"CMSF_SF_USERNAME": "admin@example.com"},
        {"CMSF_CM_API_KEY": "k"},
        {"CMSF_SF_USERNAME": ""},
    ],
    ids=["nothing", "salesforce-only", "campaign-monitor-only", "empty-values"],
)
def test_no_live_connection_without_both_platforms(env: dict[str, str]) -> None:
    assert live_connection(env) is None


def test_incomplete_credentials_are_an_error_not_a_skip() -> None:
    with pytest.raises(ConfigError, match="give username and password"):
        live_connection({"CMSF_SF_USERNAME": "admin@example.com", "CMSF_CM_API_KEY": "k"})


def test_complete_credentials_give_a_real_connection_that_hides_secrets() -> None:
    connection = live_connection(
        {
            "CMSF_SF_USERNAME": "admin@example.com",
            "CMSF_SF_PASSWORD": "pa55word",
            "CMSF_SF_SECURITY_TOKEN": "tok3n",
            "CMSF_SF_DOMAIN": "test",
            "CMSF_CM_API_KEY": "s3cret-key",
        }
    )
    assert connection is not None and connection.mode == "real"
    shown = f"{connection.describe()} {connection!r}"
    assert "admin@example.com" in shown
    assert not any(secret in shown for secret in ("pa55word", "tok3n", "s3cret-key"))


def test_a_scenario_not_marked_live_is_refused_for_live_runs() -> None:
    connection = live_connection(
        {
            "CMSF_SF_INSTANCE_URL": "https://x.example",
            "CMSF_SF_SESSION_ID": "00D!x",
            "CMSF_CM_API_KEY": "k",
        }
    )
    assert connection is not None
    with pytest.raises(ScenarioStepError, match="first-connection is not marked live: true"):
        run_scenario(find_scenario("first-connection"), live=connection)


def test_live_scenario_logs_in_with_a_password_through_the_login_url_over_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = VirtualClock()
    spec = WorldSpec(seed=191, clients=1, lists_per_client=1, subscribers_per_list=5)
    world = build_world(spec, clock=clock)
    sf_ca, cm_ca = tmp_path / "sf-ca.pem", tmp_path / "cm-ca.pem"
    try:
        with (
            LoopbackServer(world.org.app, ca_path=sf_ca) as sf_server,
            LoopbackServer(world.account.app(), ca_path=cm_ca) as cm_server,
        ):
            world.org.base_url_override = sf_server.url
            world.org.control.set_password(world.org.admin_username, "live-pa55", "tok3n")
            env = {
                "CMSF_SF_LOGIN_URL": sf_server.url,
                "CMSF_SF_CA_FILE": str(sf_ca),
                "CMSF_SF_USERNAME": world.org.admin_username,
                "CMSF_SF_PASSWORD": "live-pa55",
                "CMSF_SF_SECURITY_TOKEN": "tok3n",
                "CMSF_CM_API_KEY": world.account.api_key,
                "CMSF_CM_BASE_URL": f"{cm_server.url}/api/v3.3",
                "CMSF_CM_CA_FILE": str(cm_ca),
            }
            for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
                monkeypatch.delenv(name, raising=False)
            connection = live_connection(env)
            assert connection is not None
            result = run_scenario(find_scenario("live-smoke"), live=connection, clock=clock)
    finally:
        world.close()
    assert result.passed, result.diff_text()
    assert [r.status for r in result.runs] == ["completed", "completed"]
    assert result.runs[0].calls["campaign_monitor"] > 0
    logins = [r for r in world.org.control.request_log if "/services/Soap/u/" in r.path]
    assert logins, "the live run logged in with the password through the login URL"
