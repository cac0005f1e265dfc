"""Link-scanner scoring: each signal, the burst rule, the threshold, and odd input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cmsf_core.scanners import (
    EVIDENCE_POINTS,
    Activity,
    BurstIndex,
    Membership,
    Unsubscribe,
    Verdict,
    activity_by_email,
    assess,
    evidence_windows,
    may_reach,
    verdict_fields,
)

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def unsub(email: str, minutes: float, list_id: str = "L1", key: str | None = None) -> Unsubscribe:
    return Unsubscribe(
        key=key or f"k-{email}-{minutes}",
        email=email,
        list_id=list_id,
        at=SENT + timedelta(minutes=minutes),
    )


def score(u: Unsubscribe, **kwargs: object) -> Verdict:
    options: dict[str, object] = {
        "sent": SENT,
        "bursts": BurstIndex(),
        "membership": None,
        "activity": None,
        "threshold": 60,
    }
    options.update(kwargs)
    return assess(u, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("minutes", "points"),
    [(0, 40), (1, 40), (2, 25), (10, 25), (11, 10), (60, 10), (61, 0), (60 * 24, 0)],
    ids=["same-minute", "next-minute", "2-min", "10-min", "11-min", "hour", "past-hour", "day"],
)
def test_delivery_points_fall_with_the_minutes_after_the_send(minutes: int, points: int) -> None:
    assert score(unsub("a@x.example", minutes)).score == points


def test_unknown_send_time_gives_no_delivery_points() -> None:
    assert score(unsub("a@x.example", 0), sent=None).score == 0


def test_a_resubscribe_within_ten_minutes_counts_and_a_later_one_does_not() -> None:
    u = unsub("a@x.example", 300)
    soon = Membership("Active", u.at + timedelta(seconds=2))
    late = Membership("Active", u.at + timedelta(minutes=11))
    gone = Membership("Unsubscribed", u.at)
    assert score(u, membership=soon).score == 30
    assert "resubscribed 0 min later" in score(u, membership=soon).reasons
    assert score(u, membership=late).score == 0
    assert score(u, membership=gone).score == 0
    assert score(u, membership=Membership("Active", None)).score == 0


def test_clicks_on_every_link_and_no_open_add_the_evidence_points() -> None:
    u = unsub("a@x.example", 300)
    every = Activity(clicks=[(u.at, "https://a/1"), (u.at, "https://a/2"), (u.at, "https://a/3")])
    verdict = score(u, activity=every)
    assert verdict.score == EVIDENCE_POINTS
    assert verdict.reasons == ("clicked 3 links within 2 minutes", "no open before it")


def test_one_click_and_an_open_in_the_same_minute() -> None:
    u = unsub("a@x.example", 300)
    seen = Activity(opens=[u.at], clicks=[(u.at, "https://a/1"), (u.at, "https://a/1")])
    verdict = score(u, activity=seen)
    assert verdict.score == 20
    assert verdict.reasons == ("clicked a link within 2 minutes", "opened in the same minute")


def test_a_person_who_read_first_and_clicked_long_before_gets_no_evidence_points() -> None:
    u = unsub("a@x.example", 300)
    reader = Activity(
        opens=[u.at - timedelta(minutes=6)],
        clicks=[
            (u.at - timedelta(minutes=5), "https://a/1"),
            (u.at - timedelta(minutes=4), "https://a/2"),
        ],
    )
    assert score(u, activity=reader).score == 0


def test_a_burst_of_one_domain_counts_for_each_of_its_unsubscribes() -> None:
    bursts = BurstIndex()
    burst = [unsub(f"p{i}@corp.example", 300 + i / 2) for i in range(5)]
    bursts.add(burst)
    bursts.add(burst)  # a re-read counts each unsubscribe once
    verdict = score(burst[0], bursts=bursts)
    assert verdict.score == 25
    assert verdict.reasons == ("one of 5 unsubscribes from corp.example within 2 minutes",)


def test_a_busy_domain_streaming_unsubscribes_is_not_a_burst() -> None:
    bursts = BurstIndex()
    stream = [unsub(f"p{i}@gmail.com", 300 + i) for i in range(-30, 31)]  # one a minute
    stream += [unsub(f"q{i}@gmail.com", 300 + i / 3) for i in range(3)]  # three close together
    bursts.add(stream)
    assert bursts.burst(stream[-1]) == 0


def test_two_unsubscribes_are_not_a_burst() -> None:
    bursts = BurstIndex()
    pair = [unsub("a@corp.example", 300), unsub("b@corp.example", 300)]
    bursts.add(pair)
    assert bursts.burst(pair[0]) == 0


def test_scanner_pattern_reaches_the_threshold_and_is_capped_at_100() -> None:
    bursts = BurstIndex()
    burst = [unsub(f"p{i}@corp.example", 0) for i in range(4)]
    bursts.add(burst)
    u = burst[0]
    verdict = score(
        u,
        bursts=bursts,
        membership=Membership("Active", u.at),
        activity=Activity(clicks=[(u.at, "https://a/1"), (u.at, "https://a/2")]),
    )
    assert verdict.score == 100 and verdict.suspected


@pytest.mark.parametrize(("threshold", "suspected"), [(40, True), (41, False)], ids=["at", "above"])
def test_the_threshold_is_inclusive(threshold: int, suspected: bool) -> None:
    assert score(unsub("a@x.example", 0), threshold=threshold).suspected is suspected


def test_evidence_is_read_only_when_it_can_decide() -> None:
    bursts = BurstIndex()
    late = unsub("a@x.example", 60 * 5)  # 0 points: even the evidence cannot reach 60
    quick = unsub("b@x.example", 0)  # 40 points: evidence can lift it over 60
    assert not may_reach(late, SENT, bursts, None, 60)
    assert may_reach(quick, SENT, bursts, None, 60)
    resubscribed = Membership("Active", quick.at)
    assert not may_reach(quick, SENT, bursts, resubscribed, 60)  # 70 already: no reads needed


def test_evidence_windows_merge_nearby_unsubscribes() -> None:
    windows = evidence_windows(
        [unsub("a@x.example", 0), unsub("b@x.example", 3), unsub("c@x.example", 120)]
    )
    assert len(windows) == 2
    assert windows[0] == (SENT - timedelta(minutes=10), SENT + timedelta(minutes=4))


def test_activity_is_grouped_by_lower_cased_address() -> None:
    grouped = activity_by_email(
        [("A@X.example", SENT)], [("a@x.example", SENT, "https://a/1"), ("b@x.example", SENT, "u")]
    )
    assert grouped["a@x.example"].opens == [SENT]
    assert grouped["a@x.example"].clicks == [(SENT, "https://a/1")]
    assert set(grouped) == {"a@x.example", "b@x.example"}


def test_reasons_fit_the_field_and_the_record_fields_follow_the_verdict() -> None:
    verdict = Verdict(score=77, suspected=True, reasons=tuple("x" * 50 for _ in range(10)))
    assert len(verdict.reasons_text) == 255
    assert verdict_fields(verdict) == {
        "Suspected_Scanner__c": True,
        "Scanner_Score__c": 77,
        "Scanner_Reasons__c": verdict.reasons_text,
    }
    assert verdict_fields(Verdict(0, False, ()))["Scanner_Reasons__c"] is None


def test_an_address_without_a_domain_part_still_scores() -> None:
    odd = Unsubscribe(key="k", email="no-at-sign", list_id="L1", at=SENT)
    bursts = BurstIndex()
    bursts.add([odd])
    assert score(odd, bursts=bursts).score == 40
