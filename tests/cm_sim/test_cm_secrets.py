"""Credentials of a served account are secret: new at every start, rotating, rate-limited per key."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from cm_sim import Account


def _serve(db: Path) -> tuple[subprocess.Popen[str], str, str]:
    script = Path(sys.executable).parent / "cm-sim"
    proc = subprocess.Popen(
        [str(script), "serve", "--port", "0", "--http", "--seed", "5", "--subscribers", "10",
         "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while len(lines) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            lines.append(line.strip())
    return proc, lines[0].split()[-1], lines[1].removeprefix("API key: ")


def test_each_start_has_a_new_api_key_and_the_same_data(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    seen: list[tuple[str, list[str]]] = []
    for _ in range(2):
        proc, base, key = _serve(db)
        try:
            clients = httpx.get(f"{base}/clients.json", auth=(key, "x"), timeout=10).json()
            seen.append((key, sorted(c["ClientID"] for c in clients)))
            if len(seen) == 2:  # the first start's key no longer works
                stale = httpx.get(f"{base}/clients.json", auth=(seen[0][0], "x"), timeout=10)
                assert stale.status_code == 401
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    (first_key, first_ids), (second_key, second_ids) = seen
    assert first_key != second_key
    assert first_ids == second_ids and len(first_ids) == 2


def test_rate_limit_counts_per_key_not_per_header(account: Account) -> None:
    account.set_rate_limit(3, 60)
    key = account.api_key
    statuses = []
    for password in ("x", "y", "z", "w"):
        with httpx.Client(base_url=account.base_url, transport=account.transport(),
                          auth=(key, password)) as http:  # fmt: skip
            statuses.append(http.get("/clients.json").status_code)
    assert statuses == [200, 200, 200, 429]


def test_refresh_token_rotates(account: Account) -> None:
    app_id, secret = account.register_oauth_app()
    code = account.authorize_oauth("https://app.example/cb")
    first = account.oauth_token({"grant_type": "authorization_code", "client_id": app_id,
                                 "client_secret": secret, "redirect_uri": "https://app.example/cb",
                                 "code": code})  # fmt: skip
    with httpx.Client(transport=account.transport()) as raw:
        url = "https://api.createsend.com/oauth/token"
        second = raw.post(url, data={"grant_type": "refresh_token",
                                     "refresh_token": first["refresh_token"]}).json()  # fmt: skip
        assert second["refresh_token"] != first["refresh_token"]
        replay = raw.post(url, data={"grant_type": "refresh_token",
                                     "refresh_token": first["refresh_token"]})  # fmt: skip
        assert replay.json()["error"] == "invalid_grant"
        third = raw.post(url, data={"grant_type": "refresh_token",
                                    "refresh_token": second["refresh_token"]}).json()  # fmt: skip
        assert "access_token" in third


def _tokens(account: Account) -> tuple[str, dict[str, object]]:
    app_id, secret = account.register_oauth_app()
    code = account.authorize_oauth("https://app.example/cb")
    first = account.oauth_token({"grant_type": "authorization_code", "client_id": app_id,
                                 "client_secret": secret, "redirect_uri": "https://app.example/cb",
                                 "code": code})  # fmt: skip
    return code, first


def test_account_file_keeps_only_digests_of_oauth_tokens_and_codes(tmp_path: Path) -> None:
    account = Account(tmp_path / "account.db", seed=2)
    code, token = _tokens(account)
    with httpx.Client(base_url=account.base_url, transport=account.transport(),
                      headers={"Authorization": f"Bearer {token['access_token']}"}) as http:  # fmt: skip
        assert http.get("/clients.json").status_code == 200
    account.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for raw in (code, str(token["access_token"]), str(token["refresh_token"])):
        assert raw.encode() not in data
    reopened = Account(tmp_path / "account.db")
    with httpx.Client(base_url=reopened.base_url, transport=reopened.transport(),
                      headers={"Authorization": f"Bearer {token['access_token']}"}) as http:  # fmt: skip
        assert http.get("/clients.json").status_code == 200  # the digest still recognises it
    reopened.revoke_oauth_token(str(token["access_token"]))
    with httpx.Client(base_url=reopened.base_url, transport=reopened.transport(),
                      headers={"Authorization": f"Bearer {token['access_token']}"}) as http:  # fmt: skip
        assert http.get("/clients.json").json()["Code"] == 122
    reopened.close()


def test_rate_limit_counts_per_token_however_the_header_is_spelled(account: Account) -> None:
    _, token = _tokens(account)
    account.set_rate_limit(2, 60)
    statuses = []
    for spelling in ("Bearer {}", "bearer {}", "Bearer   {}  "):
        header = spelling.format(token["access_token"])
        with httpx.Client(base_url=account.base_url, transport=account.transport(),
                          headers={"Authorization": header}) as http:  # fmt: skip
            statuses.append(http.get("/clients.json").status_code)
    assert statuses == [200, 200, 429]
