"""Behaviour models: generated activity (deterministic), bounces, spam complaints, link scanners."""

from __future__ import annotations

import httpx
import pytest

from cm_sim import Account, ActivityModel
from cm_sim.exceptions import ControlError
from cmsf_core.clock import VirtualClock


def world(seed: int, model: ActivityModel) -> tuple[Account, str, str, VirtualClock]:
    clock = VirtualClock()
    account = Account(clock=clock, seed=seed, activity_model=model)
    client = account.create_client("Acme")
    lst = account.create_list(client, "News")
    for i in range(200):
        account.add_subscriber_at(lst, f"user{i}@example.com")
    return account, client, lst, clock


def report(account: Account, campaign: str, what: str, **params: str) -> dict[str, object]:
    with account.client() as http:
        return dict(http.get(f"/campaigns/{campaign}/{what}.json", params=params).json())


def test_activity_is_deterministic_from_the_seed() -> None:
    runs = []
    for _ in range(2):
        account, _, lst, clock = world(5, ActivityModel())
        campaign = account.send_campaign_now([lst])
        clock.advance(days=10)
        runs.append(
            [
                report(account, campaign, k)
                for k in ("opens", "clicks", "bounces", "unsubscribes", "spam")
            ]
        )
    assert runs[0] == runs[1]
    assert runs[0][0]["TotalNumberOfRecords"] > 0


def test_different_seeds_give_different_activity() -> None:
    opens = []
    for seed in (1, 2):
        account, _, lst, clock = world(seed, ActivityModel())
        campaign = account.send_campaign_now([lst])
        clock.advance(days=10)
        opens.append(report(account, campaign, "opens")["Results"])
    assert opens[0] != opens[1]


def test_activity_spreads_over_time_and_respects_the_date_filter() -> None:
    account, _, lst, clock = world(3, ActivityModel(open_rate=1.0, spread_hours=24))
    campaign = account.send_campaign_now([lst])
    clock.advance(hours=1)
    early = report(account, campaign, "opens")["TotalNumberOfRecords"]
    clock.advance(days=10)
    late = report(account, campaign, "opens")
    assert 0 < early < late["TotalNumberOfRecords"]  # type: ignore[operator]
    last_date = late["Results"][-1]["Date"]  # type: ignore[index]
    since = report(account, campaign, "opens", date=last_date)
    assert since["Results"] and all(r["Date"] >= last_date for r in since["Results"])  # type: ignore[attr-defined]


def test_hard_bounces_make_subscribers_bounced_and_suppressed() -> None:
    account, client, lst, clock = world(
        4, ActivityModel(open_rate=0, hard_bounce_rate=1.0, soft_bounce_rate=0)
    )
    campaign = account.send_campaign_now([lst])
    clock.advance(minutes=5)
    bounces = report(account, campaign, "bounces")
    assert bounces["TotalNumberOfRecords"] == 200
    assert {r["BounceType"] for r in bounces["Results"]} == {"Hard"}  # type: ignore[attr-defined]
    with account.client() as http:
        assert http.get(f"/lists/{lst}/bounced.json").json()["TotalNumberOfRecords"] == 200
        reasons = {
            r["SuppressionReason"]
            for r in http.get(f"/clients/{client}/suppressionlist.json").json()["Results"]
        }
    assert reasons == {"Bounced"}


def test_soft_bounces_leave_subscribers_active() -> None:
    account, _, lst, clock = world(
        4, ActivityModel(open_rate=0, hard_bounce_rate=0, soft_bounce_rate=1.0)
    )
    campaign = account.send_campaign_now([lst])
    clock.advance(minutes=5)
    assert {r["BounceType"] for r in report(account, campaign, "bounces")["Results"]} == {"Soft"}  # type: ignore[attr-defined]
    with account.client() as http:
        assert http.get(f"/lists/{lst}/active.json").json()["TotalNumberOfRecords"] == 200


def test_spam_complaints_unsubscribe_and_suppress() -> None:
    account, client, lst, clock = world(
        6, ActivityModel(open_rate=0, spam_rate=1.0, hard_bounce_rate=0, soft_bounce_rate=0)
    )
    campaign = account.send_campaign_now([lst])
    clock.advance(days=30)
    assert report(account, campaign, "spam")["TotalNumberOfRecords"] == 200
    with account.client() as http:
        assert http.get(f"/lists/{lst}/unsubscribed.json").json()["TotalNumberOfRecords"] == 200
        rows = http.get(f"/clients/{client}/suppressionlist.json").json()["Results"]
    assert {r["SuppressionReason"] for r in rows} == {"Spam Complaint"}


@pytest.fixture
def scanned(account: Account, client_id: str, list_id: str) -> Account:
    account.add_subscriber_at(list_id, "joe@corp.example")
    account.add_subscriber_at(list_id, "ann@home.example")
    account.register_link_scanner("corp.example", share=1.0, delay_seconds=5)
    return account


def test_link_scanner_unsubscribes_then_resubscribes(
    http: httpx.Client, scanned: Account, client_id: str, list_id: str, cm_clock: VirtualClock
) -> None:
    campaign = scanned.send_campaign_now(
        [list_id], links=["https://a.example/1", "https://a.example/2"]
    )
    cm_clock.advance(seconds=8)
    assert (
        http.get(f"/subscribers/{list_id}.json", params={"email": "joe@corp.example"}).json()[
            "State"
        ]
        == "Unsubscribed"
    )
    assert (
        http.get(f"/clients/{client_id}/suppressionlist.json").json()["TotalNumberOfRecords"] == 1
    )
    cm_clock.advance(seconds=10)
    assert (
        http.get(f"/subscribers/{list_id}.json", params={"email": "joe@corp.example"}).json()[
            "State"
        ]
        == "Active"
    )
    assert (
        http.get(f"/clients/{client_id}/suppressionlist.json").json()["TotalNumberOfRecords"] == 0
    )
    clicks = http.get(f"/campaigns/{campaign}/clicks.json").json()["Results"]
    assert sorted(c["URL"] for c in clicks) == ["https://a.example/1", "https://a.example/2"]
    assert [
        u["EmailAddress"]
        for u in http.get(f"/campaigns/{campaign}/unsubscribes.json").json()["Results"]
    ] == ["joe@corp.example"]
    assert (
        http.get(f"/lists/{list_id}/active.json", params={"date": "2026-01-05 19:00"}).json()[
            "TotalNumberOfRecords"
        ]
        == 2
    )


def test_two_click_unsubscribe_defeats_link_scanners(
    http: httpx.Client, scanned: Account, client_id: str, list_id: str, cm_clock: VirtualClock
) -> None:
    scanned.set_two_click_unsubscribe(list_id)
    campaign = scanned.send_campaign_now([list_id], links=["https://a.example/1"])
    cm_clock.advance(seconds=8)
    assert (
        http.get(f"/subscribers/{list_id}.json", params={"email": "joe@corp.example"}).json()[
            "State"
        ]
        == "Active"
    )
    assert http.get(f"/campaigns/{campaign}/unsubscribes.json").json()["TotalNumberOfRecords"] == 0
    assert http.get(f"/campaigns/{campaign}/clicks.json").json()["TotalNumberOfRecords"] == 1
    assert http.get(f"/lists/{list_id}.json").json()["UnsubscribeConfirmation"] is True


def test_link_scanner_share_zero_clicks_nothing(
    http: httpx.Client, scanned: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    scanned.clear_link_scanners()
    scanned.register_link_scanner("corp.example", share=0.0)
    campaign = scanned.send_campaign_now([list_id])
    cm_clock.advance(minutes=1)
    assert http.get(f"/campaigns/{campaign}/clicks.json").json()["TotalNumberOfRecords"] == 0


def _state(http: httpx.Client, list_id: str, email: str) -> str:
    return str(http.get(f"/subscribers/{list_id}.json", params={"email": email}).json()["State"])


def test_link_scanner_without_pixel_or_resubscribe_leaves_them_unsubscribed(
    http: httpx.Client, scanned: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    scanned.clear_link_scanners()
    scanned.register_link_scanner("corp.example", open_rate=0.0, resubscribe_rate=0.0)
    campaign = scanned.send_campaign_now([list_id], links=["https://a.example/1"])
    cm_clock.advance(minutes=5)
    assert _state(http, list_id, "joe@corp.example") == "Unsubscribed"
    assert http.get(f"/campaigns/{campaign}/opens.json").json()["TotalNumberOfRecords"] == 0
    assert http.get(f"/campaigns/{campaign}/clicks.json").json()["TotalNumberOfRecords"] == 1


def test_link_scanner_spreads_a_domain_over_its_window_a_gap_between_links(
    account: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    for i in range(40):
        account.add_subscriber_at(list_id, f"user{i}@corp.example")
    account.register_link_scanner(
        "corp.example", delay_seconds=60, spread_seconds=120, click_gap_seconds=3
    )
    sent = account.now_ts()
    campaign = account.send_campaign_now(
        [list_id], links=["https://a.example/1", "https://a.example/2"]
    )
    rows = account.store.all(
        "SELECT email, kind, ts FROM activity WHERE source_id = ? ORDER BY email, ts", (campaign,)
    )
    starts = {r["email"]: int(r["ts"]) - sent for r in rows if r["kind"] == "open"}
    assert len(starts) == 40
    assert all(60 <= s <= 180 for s in starts.values())
    assert len(set(starts.values())) > 10  # spread, not all at once
    one = [int(r["ts"]) - sent for r in rows if r["email"] == "user0@corp.example"]
    begin = starts["user0@corp.example"]
    assert one == [begin, begin + 3, begin + 6, begin + 9]  # open, 2 clicks, unsubscribe


def test_link_scanner_can_resubscribe_minutes_after_the_unsubscribe(
    http: httpx.Client, scanned: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    scanned.clear_link_scanners()
    scanned.register_link_scanner("corp.example", resubscribe_after_seconds=600)
    scanned.send_campaign_now([list_id], links=["https://a.example/1"])
    cm_clock.advance(minutes=5)
    assert _state(http, list_id, "joe@corp.example") == "Unsubscribed"
    cm_clock.advance(minutes=6)
    assert _state(http, list_id, "joe@corp.example") == "Active"


def test_scanner_knobs_keep_the_default_random_sequence() -> None:
    """A default scanner draws no extra random numbers, so older worlds stay the same."""
    runs = []
    for knobs in (
        {},
        {"spread_seconds": 0, "open_rate": 1.0, "resubscribe_rate": 1.0,
         "resubscribe_after_seconds": 2},
    ):  # fmt: skip
        account, _, lst, clock = world(9, ActivityModel())
        account.register_link_scanner("example.com", share=0.5, **knobs)
        campaign = account.send_campaign_now([lst])
        clock.advance(days=3)
        runs.append([report(account, campaign, k) for k in ("opens", "clicks", "unsubscribes")])
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    "bad",
    [{"open_rate": 2.0}, {"resubscribe_rate": -1.0}, {"spread_seconds": -5},
     {"click_gap_seconds": 0}, {"share": 1.1}, {"resubscribe_after_seconds": 0}],
    ids=["open>1", "resubscribe<0", "spread<0", "gap-0", "share>1", "resubscribe-at-once"],
)  # fmt: skip
def test_link_scanner_rejects_impossible_knobs(account: Account, bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        account.register_link_scanner("corp.example", **bad)  # type: ignore[arg-type]


def test_a_person_unsubscribes_through_the_campaign_link(
    http: httpx.Client, account: Account, list_id: str, cm_clock: VirtualClock
) -> None:
    account.add_subscriber_at(list_id, "Pat@Home.example")
    campaign = account.send_campaign_now([list_id], with_activity=False)
    cm_clock.advance(hours=1)
    account.unsubscribe_through_campaign(campaign, "pat@home.example")
    assert _state(http, list_id, "pat@home.example") == "Active"
    cm_clock.advance(seconds=31)
    assert _state(http, list_id, "pat@home.example") == "Unsubscribed"
    unsubscribes = http.get(f"/campaigns/{campaign}/unsubscribes.json").json()["Results"]
    opens = http.get(f"/campaigns/{campaign}/opens.json").json()["Results"]
    assert [u["EmailAddress"] for u in unsubscribes] == ["Pat@Home.example"]
    assert [o["EmailAddress"] for o in opens] == ["Pat@Home.example"]
    assert opens[0]["City"]  # a person somewhere, not a gateway


def test_unsubscribing_through_a_campaign_one_did_not_receive_is_refused(
    account: Account, list_id: str
) -> None:
    campaign = account.send_campaign_now([list_id], with_activity=False)
    with pytest.raises(ControlError):
        account.unsubscribe_through_campaign(campaign, "stranger@home.example")


@pytest.mark.parametrize(
    "bad",
    [{"open_rate": 1.5}, {"spam_rate": -0.1}, {"spread_hours": 0}],
    ids=["open>1", "spam<0", "spread-0"],
)
def test_activity_model_rejects_impossible_rates(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ActivityModel(**bad)
