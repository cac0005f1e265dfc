"""Client suppression lists: paged read with seconds, suppress, unsuppress, reasons."""

from __future__ import annotations

import httpx
import pytest

from cm_sim import Account
from cmsf_core.clock import VirtualClock


def test_suppress_and_read_with_real_seconds(
    http: httpx.Client, client_id: str, cm_clock: VirtualClock
) -> None:
    cm_clock.advance(seconds=31)
    assert (
        http.post(
            f"/clients/{client_id}/suppress.json",
            json={"EmailAddresses": ["b@example.com", "a@example.com"]},
        ).status_code
        == 200
    )
    rows = http.get(f"/clients/{client_id}/suppressionlist.json").json()["Results"]
    assert rows == [
        {"SuppressionReason": "Suppressed Manually", "EmailAddress": "a@example.com", "Date": "2026-01-05 19:00:31", "State": "Suppressed"},
        {"SuppressionReason": "Suppressed Manually", "EmailAddress": "b@example.com", "Date": "2026-01-05 19:00:31", "State": "Suppressed"},
    ]  # fmt: skip


def test_unsuppress(http: httpx.Client, client_id: str) -> None:
    http.post(f"/clients/{client_id}/suppress.json", json={"EmailAddresses": ["a@example.com"]})
    assert (
        http.put(
            f"/clients/{client_id}/unsuppress.json", params={"email": "a@example.com"}, content=b" "
        ).status_code
        == 200
    )
    assert (
        http.get(f"/clients/{client_id}/suppressionlist.json").json()["TotalNumberOfRecords"] == 0
    )


def test_unsuppress_unknown_address_is_176(http: httpx.Client, client_id: str) -> None:
    response = http.put(
        f"/clients/{client_id}/unsuppress.json", params={"email": "x@example.com"}, content=b" "
    )
    assert (response.status_code, response.json()["Code"]) == (400, 176)


@pytest.mark.parametrize(
    "body",
    [
        {"EmailAddresses": ["ok@example.com", "bad"]},
        {"EmailAddresses": []},
        {"Emails": ["a@example.com"]},
    ],
    ids=["one-invalid", "empty", "wrong-key"],
)
def test_bad_suppress_changes_nothing(
    http: httpx.Client, account: Account, client_id: str, body: dict[str, object]
) -> None:
    before = account.snapshot()
    response = http.post(f"/clients/{client_id}/suppress.json", json=body)
    assert (response.status_code, response.json()["Code"]) == (400, 1)
    assert account.snapshot() == before


def test_suppression_is_per_client(http: httpx.Client, account: Account, client_id: str) -> None:
    other = account.create_client("Other")
    http.post(f"/clients/{client_id}/suppress.json", json={"EmailAddresses": ["a@example.com"]})
    assert http.get(f"/clients/{other}/suppressionlist.json").json()["TotalNumberOfRecords"] == 0


def test_suppressed_address_resubscribed_stays_suppressed(
    http: httpx.Client, client_id: str, list_id: str
) -> None:
    http.post(f"/clients/{client_id}/suppress.json", json={"EmailAddresses": ["a@example.com"]})
    http.post(
        f"/subscribers/{list_id}.json",
        json={"EmailAddress": "a@example.com", "ConsentToTrack": "Yes", "Resubscribe": True},
    )
    assert (
        http.get(f"/subscribers/{list_id}.json", params={"email": "a@example.com"}).json()["State"]
        == "Active"
    )
    assert (
        http.get(f"/clients/{client_id}/suppressionlist.json").json()["TotalNumberOfRecords"] == 1
    )


def test_suppression_paging_by_date(
    http: httpx.Client, account: Account, client_id: str, cm_clock: VirtualClock
) -> None:
    for i in range(12):
        account.suppress_at(client_id, f"user{i:02d}@example.com")
        cm_clock.advance(seconds=1)
    body = http.get(f"/clients/{client_id}/suppressionlist.json",
                    params={"orderfield": "date", "orderdirection": "desc", "pagesize": 10, "page": 2}).json()  # fmt: skip
    assert [r["EmailAddress"] for r in body["Results"]] == [
        "user01@example.com",
        "user00@example.com",
    ]
