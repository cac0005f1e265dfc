"""Journeys started on list join, and list webhooks with their delivery outbox."""

from __future__ import annotations

import httpx
import pytest

from cm_sim import Account, ActivityModel
from cmsf_core.clock import VirtualClock


@pytest.fixture
def journey(account: Account, list_id: str) -> str:
    return account.create_journey(list_id, "Welcome", [("Hello", 0), ("Day 2", 86400)])


def add(http: httpx.Client, list_id: str, email: str, **extra: object) -> None:
    http.post(
        f"/subscribers/{list_id}.json",
        json={"EmailAddress": email, "ConsentToTrack": "Yes"} | extra,
    )


def test_journey_starts_when_a_subscriber_joins(http: httpx.Client, client_id: str, list_id: str, journey: str,
                                                cm_clock: VirtualClock) -> None:  # fmt: skip
    add(http, list_id, "a@example.com")
    summary = http.get(f"/journeys/{journey}.json").json()
    assert [(e["Name"], e["Sent"]) for e in summary["Emails"]] == [("Hello", 1), ("Day 2", 0)]
    cm_clock.advance(days=1)
    second = http.get(f"/journeys/{journey}.json").json()["Emails"][1]
    assert second["Sent"] == 1
    recipients = http.get(f"/journeys/email/{second['EmailID']}/recipients.json").json()
    assert (recipients["ResultsOrderedBy"], recipients["OrderDirection"]) == ("SentDate", "ASC")
    assert recipients["Results"] == [
        {"EmailAddress": "a@example.com", "SentDate": "2026-01-06 19:00:00"}
    ]
    assert http.get(f"/clients/{client_id}/journeys.json").json()[0]["JourneyID"] == journey


def test_import_starts_journeys_only_when_queued(
    http: httpx.Client, list_id: str, journey: str
) -> None:
    http.post(
        f"/subscribers/{list_id}/import.json",
        json={"Subscribers": [{"EmailAddress": "a@example.com", "ConsentToTrack": "Yes"}]},
    )
    assert http.get(f"/journeys/{journey}.json").json()["Emails"][0]["Sent"] == 0
    http.post(f"/subscribers/{list_id}/import.json", json={"Subscribers": [{"EmailAddress": "b@example.com", "ConsentToTrack": "Yes"}],
                                                          "QueueSubscriptionBasedAutoResponders": True})  # fmt: skip
    assert http.get(f"/journeys/{journey}.json").json()["Emails"][0]["Sent"] == 1


def test_resubscribe_restarts_journeys_only_when_asked(
    http: httpx.Client, list_id: str, journey: str
) -> None:
    add(http, list_id, "a@example.com")
    http.delete(f"/subscribers/{list_id}.json", params={"email": "a@example.com"})
    add(http, list_id, "a@example.com", Resubscribe=True)
    assert http.get(f"/journeys/{journey}.json").json()["Emails"][0]["Sent"] == 1
    http.delete(f"/subscribers/{list_id}.json", params={"email": "a@example.com"})
    add(
        http,
        list_id,
        "a@example.com",
        Resubscribe=True,
        RestartSubscriptionBasedAutoresponders=True,
    )
    assert http.get(f"/journeys/{journey}.json").json()["Emails"][0]["Sent"] == 2


def test_journey_email_activity_pages(http: httpx.Client, account: Account, list_id: str, journey: str,
                                      cm_clock: VirtualClock) -> None:  # fmt: skip
    account.use_activity_model(
        ActivityModel(open_rate=1.0, hard_bounce_rate=0, soft_bounce_rate=0, spam_rate=0)
    )
    add(http, list_id, "a@example.com")
    cm_clock.advance(days=20)
    email_id = http.get(f"/journeys/{journey}.json").json()["Emails"][0]["EmailID"]
    opens = http.get(
        f"/journeys/email/{email_id}/opens.json", params={"orderdirection": "desc"}
    ).json()
    assert opens["OrderDirection"] == "DESC" and opens["Results"]
    assert "ListID" not in opens["Results"][0]


@pytest.mark.parametrize(("path", "code"), [("/journeys/{x}.json", 3000), ("/journeys/email/{x}/opens.json", 3002)],
                         ids=["journey", "journey-email"])  # fmt: skip
def test_unknown_journey_ids(http: httpx.Client, path: str, code: int) -> None:
    assert http.get(path.format(x="0" * 32)).json()["Code"] == code


def test_webhook_lifecycle_and_deliveries(
    http: httpx.Client, account: Account, list_id: str
) -> None:
    hook = http.post(f"/lists/{list_id}/webhooks.json", json={"Events": ["Subscribe", "Deactivate"],
                     "Url": "https://hooks.example/cm", "PayloadFormat": "json"}).json()  # fmt: skip
    assert http.get(f"/lists/{list_id}/webhooks.json").json() == [
        {"WebhookID": hook, "Events": ["Subscribe", "Deactivate"], "Url": "https://hooks.example/cm",
         "Status": "Active", "PayloadFormat": "Json"}]  # fmt: skip
    add(http, list_id, "a@example.com")
    http.post(f"/subscribers/{list_id}/unsubscribe.json", json={"EmailAddress": "a@example.com"})
    events = [d["Payload"]["Events"][0] for d in account.webhook_deliveries(list_id)]
    assert [(e["Type"], e["EmailAddress"]) for e in events] == [
        ("Subscribe", "a@example.com"),
        ("Deactivate", "a@example.com"),
    ]
    assert events[1]["State"] == "Unsubscribed"
    http.put(f"/lists/{list_id}/webhooks/{hook}/deactivate.json", content=b" ")
    add(http, list_id, "b@example.com")
    assert len(account.webhook_deliveries(list_id)) == 2
    assert http.get(f"/lists/{list_id}/webhooks/{hook}/test.json").status_code == 200
    assert http.delete(f"/lists/{list_id}/webhooks/{hook}.json").status_code == 200
    assert http.get(f"/lists/{list_id}/webhooks.json").json() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [({"Events": ["Explode"], "Url": "https://h.example", "PayloadFormat": "json"}, 603),
     ({"Events": ["Subscribe"], "Url": "ftp://h.example", "PayloadFormat": "json"}, 601),
     ({"Events": ["Subscribe"], "Url": "https://h.example", "PayloadFormat": "yaml"}, 602)],
    ids=["bad-event", "bad-url", "bad-format"],
)  # fmt: skip
def test_webhook_validation(
    http: httpx.Client, account: Account, list_id: str, body: dict[str, object], code: int
) -> None:
    before = account.snapshot()
    assert http.post(f"/lists/{list_id}/webhooks.json", json=body).json()["Code"] == code
    assert account.snapshot() == before


def test_failing_webhook_test_is_610(http: httpx.Client, account: Account, list_id: str) -> None:
    hook = account.create_webhook(
        list_id, {"Events": ["Update"], "Url": "https://down.example", "PayloadFormat": "xml"}
    )
    account.mark_webhook_url_failing("https://down.example")
    assert http.get(f"/lists/{list_id}/webhooks/{hook}/test.json").json()["Code"] == 610
