"""Injected faults: outages, slow responses, timeouts, malformed bodies, 429 storms."""

from __future__ import annotations

import json

import httpx
import pytest

from cm_sim import Account
from cmsf_core.clock import VirtualClock
from cmsf_core.serving import LoopbackServer


def test_outage_for_chosen_paths_and_count(
    http: httpx.Client, account: Account, list_id: str
) -> None:
    account.start_outage(r"/active\.json$", status=500, count=2)
    for _ in range(2):
        failed = http.get(f"/lists/{list_id}/active.json")
        assert (failed.status_code, failed.json()) == (
            500,
            {"Code": 500, "Message": "Internal Server Error"},
        )
    assert http.get(f"/lists/{list_id}.json").status_code == 200
    assert http.get(f"/lists/{list_id}/active.json").status_code == 200


def test_outage_in_a_time_window(
    http: httpx.Client, account: Account, cm_clock: VirtualClock
) -> None:
    account.start_outage(until="2026-01-05T10:00:00Z")
    down = http.get("/clients.json")
    assert (down.status_code, down.json()["Code"]) == (503, 503)
    cm_clock.set("2026-01-05T10:00:00Z")
    assert http.get("/clients.json").status_code == 200


def test_outage_changes_nothing(http: httpx.Client, account: Account, list_id: str) -> None:
    account.start_outage()
    before = account.snapshot()
    http.post(
        f"/subscribers/{list_id}.json",
        json={"EmailAddress": "a@example.com", "ConsentToTrack": "Yes"},
    )
    assert account.snapshot() == before


def test_slow_responses_advance_virtual_time(
    http: httpx.Client, account: Account, cm_clock: VirtualClock
) -> None:
    account.slow_down(30, count=1)
    start = cm_clock.now()
    assert http.get("/clients.json").status_code == 200
    assert (cm_clock.now() - start).total_seconds() == 30


def test_timeout_raises_read_timeout(http: httpx.Client, account: Account) -> None:
    account.time_out(r"/clients\.json")
    with pytest.raises(httpx.ReadTimeout):
        http.get("/clients.json")
    assert http.get("/clients.json").status_code == 200
    assert account.request_log()[0]["status"] == 0


def test_malformed_body_is_truncated_json(
    http: httpx.Client, account: Account, client_id: str
) -> None:
    account.corrupt_responses(r"/clients\.json")
    response = http.get("/clients.json")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_rate_limit_storm(http: httpx.Client, account: Account) -> None:
    account.rate_limit_storm(count=3)
    statuses = [http.get("/clients.json").status_code for _ in range(4)]
    assert statuses == [429, 429, 429, 200]


def test_probabilistic_faults_are_deterministic_from_the_seed() -> None:
    patterns = []
    for _ in range(2):
        account = Account(seed=9)
        account.inject_fault("outage", probability=0.5)
        with account.client() as http:
            patterns.append([http.get("/clients.json").status_code for _ in range(20)])
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {200, 503}


@pytest.mark.parametrize(
    "kwargs", [{"kind": "explode"}, {"kind": "outage", "status": 404}, {"kind": "slow", "probability": 2.0},
               {"kind": "timeout", "count": 0}],
    ids=["kind", "status", "probability", "count"],
)  # fmt: skip
def test_impossible_faults_are_refused(account: Account, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        account.inject_fault(**kwargs)  # type: ignore[arg-type]


def test_request_log_and_call_counts(http: httpx.Client, account: Account, list_id: str) -> None:
    http.get(f"/lists/{list_id}/active.json")
    http.get("/clients.json")
    log = account.request_log()
    assert [(e["method"], e["path"], e["status"], e["auth"]) for e in log] == [
        ("GET", f"/api/v3.3/lists/{list_id}/active.json", 200, "apikey"),
        ("GET", "/api/v3.3/clients.json", 200, "apikey"),
    ]
    assert log[0]["at"] == "2026-01-05T09:00:00+00:00"
    assert account.api_call_count("/active.json") == 1
    assert account.api_call_count(method="GET") == 2


def test_served_timeout_closes_the_connection(account: Account) -> None:
    account.time_out(r"/clients\.json")
    with LoopbackServer(account.app(), tls=False) as server:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.get(
                f"{server.url}/api/v3.3/clients.json", auth=(account.api_key, "x"), timeout=10
            )
        assert (
            httpx.get(
                f"{server.url}/api/v3.3/clients.json", auth=(account.api_key, "x"), timeout=10
            ).status_code
            == 200
        )


def test_served_slow_response_really_waits(account: Account, cm_clock: VirtualClock) -> None:
    account.slow_down(60, count=1, real_delay=0.3)
    with LoopbackServer(account.app(), tls=False) as server, pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/api/v3.3/clients.json", auth=(account.api_key, "x"), timeout=0.05)
    assert cm_clock.now().isoformat() == "2026-01-05T09:01:00+00:00"
