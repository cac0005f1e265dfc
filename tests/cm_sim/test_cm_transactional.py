"""Transactional email: smart emails, sends (202), the message log, statistics, classic sends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cm_sim import Account
from cmsf_core.clock import VirtualClock


@pytest.fixture
def smart(account: Account, client_id: str, list_id: str) -> str:
    return account.create_smart_email(client_id, "Reset Password", variables=["username", "reset_token"],
                                      add_recipients_to_list=list_id)  # fmt: skip


def send(http: httpx.Client, smart: str, **extra: Any) -> httpx.Response:
    body = {"To": ["Joe <joe@example.com>"], "Data": {"username": "joe"}, "ConsentToTrack": "Yes"}
    return http.post(f"/transactional/smartEmail/{smart}/send", json=body | extra)


def test_list_and_details(http: httpx.Client, client_id: str, smart: str) -> None:
    listed = http.get(
        "/transactional/smartEmail", params={"status": "active", "clientID": client_id}
    ).json()
    assert [(s["ID"], s["Status"]) for s in listed] == [(smart, "Active")]
    details = http.get(f"/transactional/smartEmail/{smart}").json()
    assert details["Status"] == "active"
    assert details["Properties"]["Content"]["EmailVariables"] == ["username", "reset_token"]
    assert details["CreatedAt"] == "2026-01-05T19:00:00+10:00"


def test_send_is_logged_and_delivered(
    http: httpx.Client, client_id: str, smart: str, cm_clock: VirtualClock
) -> None:
    response = send(http, smart, CC=["cc@example.com"])
    assert response.status_code == 202
    sent = response.json()
    assert [(m["Recipient"], m["Status"]) for m in sent] == [
        ("Joe <joe@example.com>", "Received"),
        ("cc@example.com", "Received"),
    ]
    log = http.get("/transactional/messages", params={"clientID": client_id}).json()
    assert [m["MessageID"] for m in log] == [sent[1]["MessageID"], sent[0]["MessageID"]]
    assert {m["Status"] for m in log} == {"Received"}
    cm_clock.advance(seconds=5)
    details = http.get(
        f"/transactional/messages/{sent[0]['MessageID']}", params={"statistics": "True"}
    ).json()
    assert (details["Status"], details["Message"]["Data"]) == ("Delivered", {"username": "joe"})
    assert details["Opens"] == [] and details["Clicks"] == []


def test_add_recipients_to_list(http: httpx.Client, list_id: str, smart: str) -> None:
    send(http, smart, AddRecipientsToList=True)
    assert (
        http.get(f"/subscribers/{list_id}.json", params={"email": "joe@example.com"}).json()["Name"]
        == "Joe"
    )


@pytest.mark.parametrize(
    ("extra", "code"),
    [({"To": []}, 952), ({"To": [f"u{i}@example.com" for i in range(26)]}, 954), ({"ConsentToTrack": None}, 974),
     ({"Data": {"big": "x" * 102_401}}, 996), ({"To": ["not an address"]}, 1)],
    ids=["no-recipient", "26-recipients", "no-consent", "data-too-big", "bad-address"],
)  # fmt: skip
def test_send_validation(
    http: httpx.Client, account: Account, smart: str, extra: dict[str, Any], code: int
) -> None:
    before = account.snapshot()
    response = send(http, smart, **extra)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert account.snapshot() == before


def test_unknown_smart_email_is_926(http: httpx.Client) -> None:
    assert (
        http.get("/transactional/smartEmail/00000000-0000-4000-8000-000000000000").json()["Code"]
        == 926
    )


def test_account_key_needs_client_id_with_several_clients(
    http: httpx.Client, account: Account, client_id: str
) -> None:
    account.create_client("Second")
    assert http.get("/transactional/smartEmail").json()["Code"] == 102
    assert http.get("/transactional/smartEmail", params={"clientID": client_id}).status_code == 200


def test_message_log_filters_and_cursors(http: httpx.Client, client_id: str, smart: str) -> None:
    ids = [send(http, smart).json()[0]["MessageID"] for _ in range(3)]
    older = http.get(
        "/transactional/messages", params={"clientID": client_id, "sentBeforeID": ids[2]}
    ).json()
    assert [m["MessageID"] for m in older] == [ids[1], ids[0]]
    assert (
        len(http.get("/transactional/messages", params={"clientID": client_id, "count": 1}).json())
        == 1
    )
    both = http.get(
        "/transactional/messages",
        params={"clientID": client_id, "smartEmailID": smart, "group": "g"},
    )
    assert both.json()["Code"] == 924
    assert (
        http.get("/transactional/messages", params={"clientID": client_id, "count": 500}).json()[
            "Code"
        ]
        == 850
    )
    assert (
        http.get(
            "/transactional/messages", params={"clientID": client_id, "sentAfterID": "nope"}
        ).json()["Code"]
        == 905
    )


def test_classic_send_groups_and_statistics(
    http: httpx.Client, client_id: str, cm_clock: VirtualClock
) -> None:
    body = {"Subject": "Receipt", "From": "shop@example.com", "To": ["a@example.com"], "HTML": "<p>hi</p>",
            "Group": "Receipts", "ConsentToTrack": "No"}  # fmt: skip
    assert (
        http.post(
            "/transactional/classicEmail/send", params={"clientID": client_id}, json=body
        ).status_code
        == 202
    )
    groups = http.get("/transactional/classicEmail/groups", params={"clientID": client_id}).json()
    assert [g["Group"] for g in groups] == ["Receipts"]
    cm_clock.advance(minutes=1)
    stats = http.get(
        "/transactional/statistics", params={"clientID": client_id, "group": "Receipts"}
    ).json()
    assert (stats["Sent"], stats["Delivered"], stats["Query"]["Group"]) == (1, 1, "Receipts")
    bad = http.get(
        "/transactional/statistics", params={"clientID": client_id, "from": "05/01/2026"}
    )
    assert bad.json()["Code"] == 920


def test_resend_makes_an_accepted_copy(http: httpx.Client, smart: str) -> None:
    first = send(http, smart).json()[0]["MessageID"]
    again = http.post(f"/transactional/messages/{first}/resend").json()
    assert again[0]["Status"] == "Accepted" and again[0]["MessageID"] != first
    assert http.post(f"/transactional/messages/{'0' * 8}/resend").json()["Code"] == 302


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/transactional/smartemail"), ("GET", "/transactional/smartemail/{smart}"),
     ("POST", "/transactional/smartemail/{smart}/send"), ("GET", "/transactional/classicemail/groups"),
     ("GET", "/TRANSACTIONAL/MESSAGES")],
    ids=["list", "details", "send", "groups", "upper-case"],
)  # fmt: skip
def test_transactional_routes_answer_the_spellings_real_clients_send(
    account: Account, client_id: str, smart: str, method: str, path: str
) -> None:
    # createsend-node writes transactional/smartemail (lower case) under /api/v3.1.
    body = {"To": ["joe@example.com"], "ConsentToTrack": "Yes"} if method == "POST" else None
    with httpx.Client(
        base_url=account.base_url.replace("/v3.3", "/v3.1"),
        transport=account.transport(),
        auth=(account.api_key, "x"),
    ) as http:
        response = http.request(
            method, path.format(smart=smart), params={"clientID": client_id}, json=body
        )
    assert response.status_code == (202 if method == "POST" else 200), response.text


def test_classic_send_takes_the_client_from_the_body_as_createsend_node_sends_it(
    http: httpx.Client, account: Account, client_id: str
) -> None:
    account.create_client("Second")  # an account key then needs to be told the client
    body = {"Subject": "Receipt", "From": "shop@example.com", "To": ["a@example.com"],
            "HTML": "<p>hi</p>", "ConsentToTrack": "No"}  # fmt: skip
    assert http.post("/transactional/classicemail/send?", json=body).json()["Code"] == 102
    sent = http.post("/transactional/classicemail/send?", json=body | {"clientID": client_id})
    assert sent.status_code == 202
    log = http.get("/transactional/messages", params={"clientID": client_id}).json()
    assert [m["MessageID"] for m in log] == [sent.json()[0]["MessageID"]]


def test_transactional_rate_limit_is_its_own_with_the_real_headers(
    http: httpx.Client, account: Account, smart: str, cm_clock: VirtualClock
) -> None:
    account.set_transactional_rate_limit(2, window_seconds=60)
    first, second, third = (send(http, smart) for _ in range(3))
    assert [r.status_code for r in (first, second, third)] == [202, 202, 429]
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == (
        "2",
        "1",
    )
    assert third.json() == {"Code": 429, "Message": "Rate limit exceeded"}
    assert (third.headers["X-RateLimit-Remaining"], third.headers["X-RateLimit-Reset"]) == (
        "0",
        "60",
    )
    other = http.get("/clients.json")  # the general limit is not spent by transactional calls
    assert other.status_code == 200 and other.headers["X-RateLimit-Limit"] == "1000"
    cm_clock.advance(seconds=60)
    assert send(http, smart).status_code == 202
    account.set_transactional_rate_limit(None)
    assert send(http, smart).headers["X-RateLimit-Limit"] == "1000"


def test_a_lost_answer_leaves_the_send_made(
    http: httpx.Client, account: Account, client_id: str, smart: str
) -> None:
    account.lose_answers("/send", count=1)
    with pytest.raises(httpx.ReadTimeout):
        send(http, smart)
    log = http.get("/transactional/messages", params={"clientID": client_id}).json()
    assert [m["Recipient"] for m in log] == ["Joe <joe@example.com>"]
    assert send(http, smart).status_code == 202  # the fault was used up
