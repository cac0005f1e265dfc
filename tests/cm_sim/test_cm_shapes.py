"""Response bodies have the shapes of the real API (createsend-python fixtures as oracles)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from shapes import fixture, shape_errors

from cm_sim import Account, ActivityModel
from cmsf_core.clock import VirtualClock

LIST_EXTRA = frozenset(
    {"AddUnsubscribesToSuppList", "ScrubActiveWithSuppList", "UnsubscribeConfirmation"}
)
BILLING_EXTRA = frozenset({"TestAccount"})


@pytest.fixture
def world(account: Account, client_id: str, list_id: str, cm_clock: VirtualClock) -> dict[str, Any]:
    """A client with fields, subscribers in each state, a sent campaign with all activity kinds."""
    account.create_custom_field(list_id, "website", "Text")
    account.create_custom_field(list_id, "age", "Number")
    account.add_administrator("admin@example.com", "Admin One")
    account.add_person(client_id, "person@example.com", "Person One", 1023)
    for i in range(40):
        account.add_subscriber_at(list_id, f"user{i}@example.com", f"User {i}",
                                  custom_fields=[{"Key": "website", "Value": "https://example.com"}])  # fmt: skip
    account.use_activity_model(ActivityModel(open_rate=1.0, click_rate=1.0, unsubscribe_rate=0.5, spam_rate=0.2,
                                             soft_bounce_rate=0.15, hard_bounce_rate=0.15))  # fmt: skip
    campaign = account.send_campaign_now([list_id], name="Last Campaign", tags=["Happy"])
    cm_clock.advance(days=30)
    for state, email in (("Unconfirmed", "u@example.com"), ("Deleted", "d@example.com")):
        account.add_subscriber_at(list_id, email, state=state)
    smart = account.create_smart_email(client_id, "Welcome email", variables=["username"])
    journey = account.create_journey(list_id, "New journey", [("1", 0)])
    return {
        "client": client_id,
        "list": list_id,
        "campaign": campaign,
        "smart": smart,
        "journey": journey,
    }


CASES = [
    ("clients", "/clients.json", "clients.json", frozenset()),
    ("client-details", "/clients/{client}.json", "client_details.json", BILLING_EXTRA),
    ("billing", "/billingdetails.json", "billingdetails.json", BILLING_EXTRA),
    ("systemdate", "/systemdate.json", "systemdate.json", frozenset()),
    ("admins", "/admins.json", "administrators.json", frozenset()),
    ("people", "/clients/{client}/people.json", "people.json", frozenset()),
    ("lists", "/clients/{client}/lists.json", "lists.json", frozenset()),
    ("list-details", "/lists/{list}.json", "list_details.json", LIST_EXTRA),
    ("list-stats", "/lists/{list}/stats.json", "list_stats.json", frozenset()),
    ("custom-fields", "/lists/{list}/customfields.json", "custom_fields.json", frozenset()),
    ("active", "/lists/{list}/active.json", "active_subscribers.json", frozenset()),
    ("active-tracking", "/lists/{list}/active.json?includetrackingpreference=True",
     "active_subscribers_with_tracking_preference.json", frozenset()),
    ("bounced", "/lists/{list}/bounced.json", "bounced_subscribers.json", frozenset()),
    ("deleted", "/lists/{list}/deleted.json", "deleted_subscribers.json", frozenset()),
    ("subscriber", "/subscribers/{list}.json?email=user1@example.com", "subscriber_details.json", frozenset()),
    ("history", "/subscribers/{list}/history.json?email=user2@example.com", "subscriber_history.json", frozenset()),
    ("listsforemail", "/clients/{client}/listsforemail.json?email=user1@example.com", "listsforemail.json", frozenset()),
    ("campaigns", "/clients/{client}/campaigns.json", "campaigns.json", frozenset()),
    ("tags", "/clients/{client}/tags.json", "tags.json", frozenset()),
    ("summary", "/campaigns/{campaign}/summary.json", "campaign_summary.json", frozenset()),
    ("lists-and-segments", "/campaigns/{campaign}/listsandsegments.json", "campaign_listsandsegments.json", frozenset()),
    ("recipients", "/campaigns/{campaign}/recipients.json", "campaign_recipients.json", frozenset()),
    ("opens", "/campaigns/{campaign}/opens.json", "campaign_opens.json", frozenset()),
    ("clicks", "/campaigns/{campaign}/clicks.json", "campaign_clicks.json", frozenset()),
    ("unsubscribes", "/campaigns/{campaign}/unsubscribes.json", "campaign_unsubscribes.json", frozenset()),
    ("bounces", "/campaigns/{campaign}/bounces.json", "campaign_bounces.json", frozenset()),
    ("spam", "/campaigns/{campaign}/spam.json", "campaign_spam.json", frozenset()),
    ("suppression", "/clients/{client}/suppressionlist.json", "suppressionlist.json", frozenset()),
    ("journeys", "/clients/{client}/journeys.json", "client_journeys.json", frozenset()),
    ("journey-summary", "/journeys/{journey}.json", "journey_summary.json", frozenset()),
    ("smart-emails", "/transactional/smartEmail?clientID={client}", "tx_smartemails.json", frozenset()),
    ("smart-email", "/transactional/smartEmail/{smart}", "tx_smartemail_details.json", frozenset()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "name", "extra"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_response_has_fixture_shape(http: httpx.Client, world: dict[str, Any], path: str, name: str,
                                    extra: frozenset[str]) -> None:  # fmt: skip
    response = http.get(path.format(**world))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body not in ([], {}), "an empty body proves nothing about shape"
    if isinstance(body, dict) and "Results" in body:
        assert body["Results"], f"no rows for {path}"
    assert shape_errors(body, fixture(name), extra=extra) == []


def test_create_calls_return_bare_json_strings(http: httpx.Client, world: dict[str, Any]) -> None:
    created = http.post(f"/lists/{world['client']}.json", json={"Title": "Second", "UnsubscribePage": "",
                        "ConfirmedOptIn": False, "ConfirmationSuccessPage": "", "UnsubscribeSetting": "OnlyThisList"})  # fmt: skip
    assert created.status_code == 201
    assert isinstance(created.json(), str) and len(created.json()) == 32
    key = http.post(f"/lists/{world['list']}/customfields.json",
                    json={"FieldName": "new date field", "DataType": "Date", "Options": []})  # fmt: skip
    assert key.json() == fixture("create_custom_field.json")


def test_import_bodies_match_fixtures(http: httpx.Client, world: dict[str, Any]) -> None:
    ok = http.post(f"/subscribers/{world['list']}/import.json",
                   json={"Subscribers": [{"EmailAddress": "n@example.com", "ConsentToTrack": "Yes"}]})  # fmt: skip
    assert shape_errors(ok.json(), fixture("import_subscribers.json")) == []
    partial = http.post(f"/subscribers/{world['list']}/import.json",
                        json={"Subscribers": [{"EmailAddress": "example+1@example", "ConsentToTrack": "Yes"},
                                              {"EmailAddress": "m@example.com", "ConsentToTrack": "Yes"}]})  # fmt: skip
    assert partial.status_code == 400
    assert shape_errors(partial.json(), fixture("import_subscribers_partial_success.json")) == []


def test_transactional_send_and_log_match_fixtures(
    http: httpx.Client, world: dict[str, Any]
) -> None:
    sent = http.post(f"/transactional/smartEmail/{world['smart']}/send",
                     json={"To": ['"Bob Sacamano" <bob@example.com>'], "Data": {"username": "bob"},
                           "ConsentToTrack": "Yes"})  # fmt: skip
    assert sent.status_code == 202
    assert shape_errors(sent.json(), fixture("tx_send_single.json")) == []
    assert sent.json()[0]["Status"] == "Received"
    log = http.get("/transactional/messages", params={"clientID": world["client"]}).json()
    assert shape_errors(log, fixture("tx_messages_smart.json")) == []
    details = http.get(
        f"/transactional/messages/{log[0]['MessageID']}", params={"statistics": "False"}
    ).json()
    expected = fixture("tx_message_details.json")
    assert set(details) == set(expected)
    assert set(details["Message"]) == set(expected["Message"])
