"""Campaign Monitor OAuth grants that rotate: kept per process and in the journal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cm_sim.activation import Account
from cm_sim.seed import SeedSizes, seed_account
from cmsf_core import cm_oauth
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import SystemClock
from cmsf_core.cm_oauth import TokenKeeper
from cmsf_core.errors import AuthenticationError
from cmsf_core.state import Journal
from tests.cmsf_core.test_real_org_checklist import _start

BIN = Path(sys.executable).parent
TOKEN_URL = "https://cm.test/oauth/token"


class TokenEndpoint:
    """Campaign Monitor's token endpoint: every refresh rotates, the old token is refused."""

    def __init__(self, refresh: str = "r0") -> None:
        self.valid = {refresh}
        self.issued = 0
        self.requests: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None
        self.status = 200

    def post(self, url: str, *, data: dict[str, str], auth: Any, **_: Any) -> httpx.Response:
        self.requests.append({"url": url, **data})
        request = httpx.Request("POST", url)
        if self.fail_with is not None:
            raise self.fail_with
        if self.status != 200:
            return httpx.Response(self.status, text="<html>down</html>", request=request)
        if data["refresh_token"] not in self.valid:
            body = {
                "error": "invalid_grant",
                "error_description": "Specified refresh_token was invalid",
            }
            return httpx.Response(400, json=body, request=request)
        self.valid.discard(data["refresh_token"])
        self.issued += 1
        fresh = f"r{self.issued}"
        self.valid.add(fresh)
        body = {"access_token": f"a{self.issued}", "expires_in": 1209600, "refresh_token": fresh}
        return httpx.Response(200, json=body, request=request)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> TokenEndpoint:
    fake = TokenEndpoint()
    monkeypatch.setattr(cm_oauth.httpx, "post", fake.post)
    return fake


def keeper(journal: Journal | None, *, refresh: str = "r0", secret: str = "s3cret") -> TokenKeeper:
    return TokenKeeper(
        access_token="a0",
        refresh_token=refresh,
        client_id="app-1",
        client_secret=secret,
        token_url=TOKEN_URL,
        store=journal,
    )


def test_a_second_refresh_sends_the_rotated_token(endpoint: TokenEndpoint) -> None:
    kept = keeper(None)
    assert kept.access_token == "a0"
    assert kept.refresh() == "a1"
    assert kept.refresh() == "a2"  # with the configured r0 this one was refused
    assert [r["refresh_token"] for r in endpoint.requests] == ["r0", "r1"]


def test_the_next_process_starts_from_the_grant_in_the_journal(
    endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.db")
    assert keeper(journal).refresh() == "a1"
    journal.close()
    later = Journal(tmp_path / "journal.db")
    again = keeper(later)  # the same configuration, a new process
    assert again.access_token == "a1"
    assert again.refresh() == "a2"
    assert endpoint.requests[-1]["refresh_token"] == "r1"
    raw = (tmp_path / "journal.db").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("journal.db-*")
    )
    for token in (b"a1", b"r1", b"a2", b"r2"):
        assert b'"' + token + b'"' not in raw  # sealed, never in clear


def test_a_grant_rotated_by_another_process_is_taken_not_refused(
    endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    path = tmp_path / "journal.db"
    first, second = keeper(Journal(path)), keeper(Journal(path))
    assert first.refresh() == "a1"  # the sync refreshed: r0 is spent
    assert second.refresh() == "a1"  # the watcher meets the expiry too: it takes a1
    assert len(endpoint.requests) == 1


def test_a_race_lost_at_the_endpoint_takes_the_winners_grant(
    endpoint: TokenEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.db"
    first, second = keeper(Journal(path)), keeper(Journal(path))

    def racing(url: str, **kwargs: Any) -> httpx.Response:
        # the other process rotates the grant just before this request lands
        monkeypatch.setattr(cm_oauth.httpx, "post", endpoint.post)
        assert first.refresh() == "a1"
        return endpoint.post(url, **kwargs)

    monkeypatch.setattr(cm_oauth.httpx, "post", racing)
    assert second.refresh() == "a1"  # refused r0, then found a1 in the journal
    assert [r["refresh_token"] for r in endpoint.requests] == ["r0", "r0"]


def test_a_refused_refresh_says_what_to_do_without_the_tokens(endpoint: TokenEndpoint) -> None:
    endpoint.valid.clear()
    with pytest.raises(AuthenticationError) as refused:
        keeper(None).refresh()
    text = str(refused.value)
    assert "authorise the app again" in text and "CMSF_CM_REFRESH_TOKEN" in text
    assert "r0" not in text and "s3cret" not in text


@pytest.mark.parametrize("fault", ["timeout", "5xx"])
def test_an_unreachable_token_endpoint_is_an_authentication_error(
    endpoint: TokenEndpoint, fault: str
) -> None:
    if fault == "timeout":
        endpoint.fail_with = httpx.ConnectTimeout("timed out")
    else:
        endpoint.status = 503
    with pytest.raises(AuthenticationError) as refused:
        keeper(None).refresh()
    assert "r0" not in str(refused.value) and "s3cret" not in str(refused.value)


def test_authorising_again_starts_from_the_new_grant(
    endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.db")
    keeper(journal).refresh()
    endpoint.valid.add("fresh-r")
    renewed = keeper(journal, refresh="fresh-r")  # the admin configured a new authorisation
    assert renewed.access_token == "a0"
    renewed.refresh()
    assert endpoint.requests[-1]["refresh_token"] == "fresh-r"


def test_a_grant_sealed_under_another_secret_is_not_used(
    endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.db")
    keeper(journal).refresh()
    other = keeper(journal, secret="rotated-secret")
    assert other.access_token == "a0"  # unreadable: the configured grant
    assert "sealed" in repr(cm_oauth.Grant("a", "r")) and "s3cret" not in repr(other)


def test_the_client_retries_with_the_refreshed_token(endpoint: TokenEndpoint) -> None:
    kept = keeper(None)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] != "Bearer a1":
            return httpx.Response(401, json={"Code": 121, "Message": "Expired OAuth Token"})
        return httpx.Response(200, json=[])

    client = CampaignMonitorClient(
        access_token=kept.access_token,
        refresh_token=kept.refresh,
        transport=httpx.MockTransport(handler),
        clock=SystemClock(),
    )
    assert client.clients() == []
    assert seen == ["Bearer a0", "Bearer a1"]


# ---------------------------------------------------------------- served, the CLI as a user runs it


@pytest.fixture
def oauth_world(tmp_path: Path) -> Iterator[dict[str, str]]:
    """sf-sim and cm-sim served over HTTPS; an OAuth grant authorised in the account file."""
    account_file = tmp_path / "account.db"
    account = Account(account_file, clock=SystemClock(), seed=3)
    seed_account(account, SeedSizes(clients=1, lists_per_client=2, subscribers_per_list=10,
                                    campaigns_per_client=1))  # fmt: skip
    app_id, secret = account.register_oauth_app()
    code = account.authorize_oauth("https://runner.example/callback")
    grant = account.oauth_token(
        {"grant_type": "authorization_code", "client_id": app_id, "client_secret": secret,
         "redirect_uri": "https://runner.example/callback", "code": code}
    )  # fmt: skip
    account.close()
    sf, sf_out = _start(
        [str(BIN / "sf-sim"), "serve", "--port", "0", "--ca-file", str(tmp_path / "sf-ca.pem")],
        ["instance URL", "username", "password", "security token"], tmp_path,
    )  # fmt: skip
    try:
        cm, cm_out = _start(
            [str(BIN / "cm-sim"), "serve", "--port", "0", "--db", str(account_file),
             "--ca-file", str(tmp_path / "cm-ca.pem")],
            ["url"], tmp_path,
        )  # fmt: skip
        try:
            yield {**sf_out, **cm_out, "client_id": app_id, "client_secret": secret,
                   "access_token": grant["access_token"], "refresh_token": grant["refresh_token"],
                   "account": str(account_file)}  # fmt: skip
        finally:
            cm.terminate()
            cm.wait(timeout=30)
    finally:
        sf.terminate()
        sf.wait(timeout=30)


def _expire(account_file: str) -> None:
    account = Account(account_file, clock=SystemClock())
    try:
        assert account.expire_oauth_tokens() >= 1
    finally:
        account.close()


def test_runs_after_two_expiries_go_on_with_the_rotated_grant(
    oauth_world: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        CMSF_SF_LOGIN_URL=oauth_world["instance URL"],
        CMSF_SF_USERNAME=oauth_world["username"],
        CMSF_SF_PASSWORD=oauth_world["password"],
        CMSF_SF_SECURITY_TOKEN=oauth_world["security token"],
        CMSF_SF_CA_FILE=str(tmp_path / "sf-ca.pem"),
        CMSF_CM_BASE_URL=oauth_world["url"],
        CMSF_CM_CA_FILE=str(tmp_path / "cm-ca.pem"),
        CMSF_CM_ACCESS_TOKEN=oauth_world["access_token"],
        CMSF_CM_REFRESH_TOKEN=oauth_world["refresh_token"],
        CMSF_CM_CLIENT_ID=oauth_world["client_id"],
        CMSF_CM_CLIENT_SECRET=oauth_world["client_secret"],
    )
    secrets = [
        oauth_world[k] for k in ("access_token", "refresh_token", "client_secret", "password")
    ]

    def cmsf(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["cmsf", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        for secret in secrets:
            assert secret not in done.stdout + done.stderr
        return done

    for step in (("setup",), ("connect",), ("sync",)):
        done = cmsf(*step)
        assert done.returncode == 0, (step, done.stdout[-2000:], done.stderr[-2000:])
    for expiry in range(2):  # each expiry costs one refresh, each refresh rotates the grant
        _expire(oauth_world["account"])
        done = cmsf("sync")
        assert done.returncode == 0, (expiry, done.stdout[-2000:], done.stderr[-2000:])
        assert "completed" in done.stdout.lower()
