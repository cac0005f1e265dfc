"""The date-filtered state endpoints are exact against the state history (client-local, minutes)."""

from __future__ import annotations

import httpx
import pytest

from cm_sim import Account
from cmsf_core.clock import VirtualClock

# The default clock starts at 2026-01-05 09:00:00 UTC = 19:00 in the client's GMT+10 zone.


def emails(http: httpx.Client, list_id: str, state: str, date: str = "") -> list[str]:
    body = http.get(
        f"/lists/{list_id}/{state}.json", params={"date": date, "orderfield": "date"}
    ).json()
    return [r["EmailAddress"] for r in body["Results"]]


def test_dates_are_client_local_minutes(
    http: httpx.Client, account: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    cm_clock.advance(seconds=45)
    account.add_subscriber_at(list_id, "a@example.com")
    row = http.get(f"/lists/{list_id}/active.json").json()["Results"][0]
    assert row["Date"] == "2026-01-05 19:00:00"


def test_dates_follow_daylight_saving_of_the_client_zone(
    http: httpx.Client, account: Account, cm_clock: VirtualClock
) -> None:
    client = account.create_client("Sydney Co", "(GMT+10:00) Canberra, Melbourne, Sydney")
    list_id = account.create_list(client, "Summer")
    account.add_subscriber_at(list_id, "summer@example.com")  # January: UTC+11
    cm_clock.set("2026-07-05T09:00:00Z")
    account.add_subscriber_at(list_id, "winter@example.com")  # July: UTC+10
    rows = {
        r["EmailAddress"]: r["Date"]
        for r in http.get(f"/lists/{list_id}/active.json").json()["Results"]
    }
    assert rows == {
        "summer@example.com": "2026-01-05 20:00:00",
        "winter@example.com": "2026-07-05 19:00:00",
    }


def test_unsubscribed_since_returns_only_recent_changes(
    http: httpx.Client, account: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    for name in ("a", "b", "c"):
        account.add_subscriber_at(list_id, f"{name}@example.com")
    account.change_state(list_id, "a@example.com", "Unsubscribed")
    cm_clock.advance(days=1)
    account.change_state(list_id, "b@example.com", "Unsubscribed")
    assert emails(http, list_id, "unsubscribed", "2026-01-06") == ["b@example.com"]
    assert emails(http, list_id, "unsubscribed") == ["a@example.com", "b@example.com"]


def test_moved_address_leaves_the_old_state_endpoint(
    http: httpx.Client, account: Account, list_id: str
) -> None:
    account.add_subscriber_at(list_id, "a@example.com")
    account.change_state(list_id, "a@example.com", "Unsubscribed")
    account.change_state(list_id, "a@example.com", "Active")
    assert emails(http, list_id, "unsubscribed") == []
    assert emails(http, list_id, "active") == ["a@example.com"]


@pytest.mark.parametrize(
    ("date", "included"),
    [("2026-01-05 19:30", True), ("2026-01-05 19:30:00", True), ("2026-01-05 19:30:59", False),
     ("2026-01-05 19:31", False), ("2026-01-05", True), ("2026-01-06", False)],
    ids=["same-minute", "same-minute-seconds", "inside-minute", "next-minute", "same-day", "next-day"],
)  # fmt: skip
def test_filter_boundaries_compare_the_shown_minute(
    http: httpx.Client,
    account: Account,
    list_id: str,
    cm_clock: VirtualClock,
    date: str,
    included: bool,
) -> None:
    cm_clock.set("2026-01-05T10:00:00Z")
    account.add_subscriber_at(list_id, "a@example.com", at="2026-01-05T09:30:40Z")
    assert (emails(http, list_id, "active", date) == ["a@example.com"]) is included


def test_filter_uses_the_client_time_zone(http: httpx.Client, account: Account) -> None:
    utc_client = account.create_client("UTC Co", timezone="(GMT) Coordinated Universal Time")
    lst = account.create_list(utc_client, "L")
    account.add_subscriber_at(lst, "a@example.com", at="2026-01-05T09:00:00Z")
    assert emails(http, lst, "active", "2026-01-05 09:00") == ["a@example.com"]
    assert (
        http.get(f"/lists/{lst}/active.json").json()["Results"][0]["Date"] == "2026-01-05 09:00:00"
    )


def test_future_changes_appear_when_their_time_comes(
    http: httpx.Client, account: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    account.add_subscriber_at(list_id, "a@example.com")
    account.change_state(list_id, "a@example.com", "Bounced", at="2026-01-05T10:00:00Z")
    account.add_subscriber_at(list_id, "later@example.com", at="2026-01-05T11:00:00Z")
    assert emails(http, list_id, "bounced") == []
    cm_clock.set("2026-01-05T10:00:00Z")
    assert emails(http, list_id, "bounced") == ["a@example.com"]
    assert emails(http, list_id, "active") == []
    cm_clock.advance(hours=1)
    assert emails(http, list_id, "active") == ["later@example.com"]


def test_detail_edits_do_not_move_the_date(
    http: httpx.Client, account: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    account.add_subscriber_at(list_id, "a@example.com")
    cm_clock.advance(days=2)
    http.post(f"/subscribers/{list_id}.json", json={"EmailAddress": "a@example.com", "Name": "Renamed",
                                                     "ConsentToTrack": "Yes"})  # fmt: skip
    assert emails(http, list_id, "active", "2026-01-06") == []


def test_invalid_date_filter_is_refused(http: httpx.Client, list_id: str) -> None:
    response = http.get(f"/lists/{list_id}/active.json", params={"date": "yesterday"})
    assert (response.status_code, response.json()["Code"]) == (400, 400)


def test_list_stats_count_changes_in_client_time(
    http: httpx.Client, account: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    account.add_subscriber_at(list_id, "a@example.com", at="2026-01-04T09:00:00Z")
    account.add_subscriber_at(list_id, "b@example.com")
    account.change_state(list_id, "a@example.com", "Unsubscribed")
    stats = http.get(f"/lists/{list_id}/stats.json").json()
    assert (
        stats["TotalActiveSubscribers"],
        stats["NewActiveSubscribersToday"],
        stats["NewActiveSubscribersYesterday"],
    ) == (1, 1, 1)
    assert (stats["TotalUnsubscribes"], stats["UnsubscribesToday"]) == (1, 1)
