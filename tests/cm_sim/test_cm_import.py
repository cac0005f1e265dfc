"""Bulk import: limits, partial failure (400 + 210 + ResultData, valid rows kept), duplicates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cm_sim import Account


def rows(n: int, prefix: str = "user") -> list[dict[str, Any]]:
    return [
        {"EmailAddress": f"{prefix}{i}@example.com", "Name": f"User {i}", "ConsentToTrack": "Yes"}
        for i in range(n)
    ]


def test_import_of_1000_rows_succeeds(http: httpx.Client, list_id: str) -> None:
    response = http.post(
        f"/subscribers/{list_id}/import.json",
        json={"Subscribers": rows(1000), "Resubscribe": False},
    )
    assert response.status_code == 200
    assert response.json() == {"FailureDetails": [], "TotalUniqueEmailsSubmitted": 1000, "TotalExistingSubscribers": 0,
                               "TotalNewSubscribers": 1000, "DuplicateEmailsInSubmission": []}  # fmt: skip
    assert http.get(f"/lists/{list_id}/active.json").json()["TotalNumberOfRecords"] == 1000


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Subscribers": rows(1001)}, 209),
        ({"Subscribers": []}, 212),
        ({"Subscribers": "nope"}, 400),
        ([1, 2], 400),
    ],
    ids=["1001-rows", "empty", "not-a-list", "body-not-object"],
)
def test_import_refused_whole(
    http: httpx.Client, account: Account, list_id: str, body: Any, code: int
) -> None:
    before = account.snapshot()
    response = http.post(f"/subscribers/{list_id}/import.json", json=body)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert "ResultData" not in response.json()
    assert account.snapshot() == before


def test_partial_failure_keeps_valid_rows(http: httpx.Client, list_id: str) -> None:
    batch = [*rows(2), {"EmailAddress": "example+1@example", "ConsentToTrack": "Yes"},
             {"EmailAddress": "noconsent@example.com"}]  # fmt: skip
    response = http.post(f"/subscribers/{list_id}/import.json", json={"Subscribers": batch})
    body = response.json()
    assert (response.status_code, body["Code"], body["Message"]) == (
        400,
        210,
        "Subscriber Import had some failures",
    )
    assert body["ResultData"]["FailureDetails"] == [
        {"EmailAddress": "example+1@example", "Code": 1, "Message": "Invalid Email Address"},
        {
            "EmailAddress": "noconsent@example.com",
            "Code": 214,
            "Message": "Please provide a consent to track value",
        },
    ]
    assert body["ResultData"]["TotalNewSubscribers"] == 2
    assert http.get(f"/lists/{list_id}/active.json").json()["TotalNumberOfRecords"] == 2


def test_duplicates_and_existing_rows_are_counted(http: httpx.Client, list_id: str) -> None:
    http.post(f"/subscribers/{list_id}/import.json", json={"Subscribers": rows(1)})
    batch = [*rows(2), rows(2)[1]]
    body = http.post(f"/subscribers/{list_id}/import.json", json={"Subscribers": batch}).json()
    assert (
        body["TotalUniqueEmailsSubmitted"],
        body["TotalExistingSubscribers"],
        body["TotalNewSubscribers"],
    ) == (2, 1, 1)
    assert body["DuplicateEmailsInSubmission"] == ["user1@example.com"]


def test_import_into_confirmed_opt_in_list_is_active(
    http: httpx.Client, account: Account, client_id: str
) -> None:
    coi = account.create_list(client_id, "COI", confirmed_opt_in=True)
    http.post(f"/subscribers/{coi}/import.json", json={"Subscribers": rows(3)})
    assert http.get(f"/lists/{coi}/active.json").json()["TotalNumberOfRecords"] == 3


def test_import_resubscribe_reactivates(http: httpx.Client, list_id: str) -> None:
    http.post(f"/subscribers/{list_id}/import.json", json={"Subscribers": rows(1)})
    http.delete(f"/subscribers/{list_id}.json", params={"email": "user0@example.com"})
    http.post(f"/subscribers/{list_id}/import.json", json={"Subscribers": rows(1)})
    assert http.get(f"/lists/{list_id}/deleted.json").json()["TotalNumberOfRecords"] == 1
    http.post(
        f"/subscribers/{list_id}/import.json", json={"Subscribers": rows(1), "Resubscribe": True}
    )
    assert http.get(f"/lists/{list_id}/active.json").json()["TotalNumberOfRecords"] == 1
