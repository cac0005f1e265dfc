"""Campaigns over the API: create, send, schedule, reports, tags, hidden campaigns, segments."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cm_sim import Account
from cmsf_core.clock import VirtualClock


@pytest.fixture
def members(account: Account, list_id: str) -> list[str]:
    emails = [f"m{i}@example.com" for i in range(5)]
    for email in emails:
        account.add_subscriber_at(list_id, email)
    return emails


def create(http: httpx.Client, client_id: str, list_ids: list[str], **extra: Any) -> httpx.Response:
    body = {"Subject": "Hello", "Name": "Spring", "FromName": "Team", "FromEmail": "team@example.com",
            "ReplyTo": "team@example.com", "HtmlUrl": "https://example.com/h", "TextUrl": "https://example.com/t",
            "ListIDs": list_ids, "SegmentIDs": []}  # fmt: skip
    return http.post(f"/campaigns/{client_id}.json", json=body | extra)


def test_send_now_delivers_to_active_unsuppressed_members(
    http: httpx.Client, account: Account, client_id: str, list_id: str, members: list[str]
) -> None:
    account.change_state(list_id, members[0], "Unsubscribed", apply_rules=False)
    account.suppress_at(client_id, members[1])
    created = create(http, client_id, [list_id])
    assert created.status_code == 201
    campaign = created.json()
    assert http.get(f"/clients/{client_id}/drafts.json").json()[0]["CampaignID"] == campaign
    assert http.post(f"/campaigns/{campaign}/send.json", json={"ConfirmationEmail": "a@example.com",
                                                               "SendDate": "immediately"}).status_code == 200  # fmt: skip
    recipients = http.get(f"/campaigns/{campaign}/recipients.json").json()
    assert [r["EmailAddress"] for r in recipients["Results"]] == members[2:]
    assert http.get(f"/campaigns/{campaign}/summary.json").json()["Recipients"] == 3
    again = http.post(f"/campaigns/{campaign}/send.json", json={"SendDate": "immediately"})
    assert again.json()["Code"] == 331


def test_scheduled_campaign_is_sent_when_its_time_comes(
    http: httpx.Client, client_id: str, list_id: str, members: list[str], cm_clock: VirtualClock
) -> None:
    campaign = create(http, client_id, [list_id]).json()
    http.post(f"/campaigns/{campaign}/send.json", json={"SendDate": "2026-01-06 09:30"})
    scheduled = http.get(f"/clients/{client_id}/scheduled.json").json()
    assert (scheduled[0]["DateScheduled"], scheduled[0]["ScheduledTimeZone"]) == (
        "2026-01-06 09:30:00",
        "(GMT+10:00) Brisbane",
    )
    assert http.get(f"/clients/{client_id}/campaigns.json").json()["TotalNumberOfRecords"] == 0
    cm_clock.set("2026-01-05T23:30:00Z")
    sent = http.get(f"/clients/{client_id}/campaigns.json").json()["Results"]
    assert (sent[0]["CampaignID"], sent[0]["SentDate"], sent[0]["TotalRecipients"]) == (
        campaign,
        "2026-01-06 09:30:00",
        5,
    )


def test_unschedule_returns_the_campaign_to_drafts(
    http: httpx.Client, client_id: str, list_id: str
) -> None:
    campaign = create(http, client_id, [list_id]).json()
    assert http.post(f"/campaigns/{campaign}/unschedule.json", json={}).json()["Code"] == 341
    http.post(f"/campaigns/{campaign}/send.json", json={"SendDate": "2026-02-01 10:00"})
    assert http.post(f"/campaigns/{campaign}/unschedule.json", json={}).status_code == 200
    assert http.get(f"/clients/{client_id}/scheduled.json").json() == []


@pytest.mark.parametrize(
    ("extra", "code"),
    [({"Subject": ""}, 304), ({"Name": ""}, 305), ({"FromEmail": "nope"}, 306), ({"ListIDs": []}, 310),
     ({"ListIDs": ["0" * 32]}, 101)],
    ids=["no-subject", "no-name", "bad-from", "no-lists", "unknown-list"],
)  # fmt: skip
def test_create_campaign_validation(
    http: httpx.Client,
    account: Account,
    client_id: str,
    list_id: str,
    extra: dict[str, Any],
    code: int,
) -> None:
    before = account.snapshot()
    response = create(http, client_id, [list_id], **extra)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert account.snapshot() == before


def test_send_date_in_the_past_is_refused(http: httpx.Client, client_id: str, list_id: str) -> None:
    campaign = create(http, client_id, [list_id]).json()
    assert (
        http.post(f"/campaigns/{campaign}/send.json", json={"SendDate": "2020-01-01 10:00"}).json()[
            "Code"
        ]
        == 337
    )


@pytest.mark.parametrize("report", ["summary", "recipients", "opens", "clicks", "unsubscribes", "bounces", "spam",
                                    "listsandsegments"], ids=str)  # fmt: skip
def test_unknown_campaign_is_code_301(http: httpx.Client, report: str) -> None:
    response = http.get(f"/campaigns/{'f' * 32}/{report}.json")
    assert (response.status_code, response.json()["Code"]) == (400, 301)


def test_hidden_campaign_never_appears(
    http: httpx.Client, account: Account, client_id: str, list_id: str, members: list[str]
) -> None:
    visible = account.send_campaign_now([list_id], name="Visible", tags=["Shared"])
    hidden = account.send_campaign_now([list_id], name="Hidden", tags=["Shared", "Secret"])
    account.hide_campaign(hidden)
    listed = http.get(f"/clients/{client_id}/campaigns.json").json()["Results"]
    assert [c["CampaignID"] for c in listed] == [visible]
    assert http.get(f"/clients/{client_id}/tags.json").json() == [
        {"Name": "Shared", "NumberOfCampaigns": 1}
    ]
    assert http.get(f"/campaigns/{hidden}/summary.json").json()["Code"] == 301
    history = http.get(f"/subscribers/{list_id}/history.json", params={"email": members[0]}).json()
    assert [h["ID"] for h in history] == [visible]


def test_campaign_list_filters_by_tag_and_dates(
    http: httpx.Client,
    account: Account,
    client_id: str,
    list_id: str,
    members: list[str],
    cm_clock: VirtualClock,
) -> None:
    first = account.send_campaign_now([list_id], tags=["Spring"])
    cm_clock.advance(days=3)
    second = account.send_campaign_now([list_id], tags=["Summer"])
    by_tag = http.get(f"/clients/{client_id}/campaigns.json", params={"tags": "summer"}).json()[
        "Results"
    ]
    assert [c["CampaignID"] for c in by_tag] == [second]
    window = http.get(f"/clients/{client_id}/campaigns.json",
                      params={"sentfromdate": "2026-01-05", "senttodate": "2026-01-06"}).json()["Results"]  # fmt: skip
    assert [c["CampaignID"] for c in window] == [first]


def test_campaign_to_a_segment_reaches_matching_members(
    http: httpx.Client, account: Account, client_id: str, list_id: str, members: list[str]
) -> None:
    account.add_subscriber_at(list_id, "vip@corp.example")
    segment = http.post(f"/segments/{list_id}.json", json={"Title": "Corp", "RuleGroups": [
        {"Rules": [{"RuleType": "EmailAddress", "Clause": "CONTAINS corp.example"}]}]}).json()  # fmt: skip
    assert http.get(f"/segments/{segment}/active.json").json()["TotalNumberOfRecords"] == 1
    campaign = create(http, client_id, [], SegmentIDs=[segment]).json()
    http.post(f"/campaigns/{campaign}/send.json", json={"SendDate": "immediately"})
    rows = http.get(f"/campaigns/{campaign}/recipients.json").json()["Results"]
    assert rows == [{"EmailAddress": "vip@corp.example", "ListID": list_id}]
    parts = http.get(f"/campaigns/{campaign}/listsandsegments.json").json()
    assert parts == {
        "Lists": [],
        "Segments": [{"ListID": list_id, "SegmentID": segment, "Title": "Corp"}],
    }


def test_draft_campaign_blocks_list_deletion(
    http: httpx.Client, client_id: str, list_id: str
) -> None:
    create(http, client_id, [list_id])
    assert http.delete(f"/lists/{list_id}.json").json()["Code"] == 252
