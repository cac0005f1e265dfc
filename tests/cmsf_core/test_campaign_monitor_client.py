"""The Campaign Monitor gateway against scripted responses (cm_sim tests live elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import VirtualClock
from cmsf_core.errors import (
    AuthenticationError,
    NotFoundError,
    PlatformError,
    RetriableError,
    SkippableRecordError,
)
from cmsf_core.retry import RetryPolicy

SECRET = "super-secret-api-key-123"


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], clock: VirtualClock, **kwargs: object
) -> CampaignMonitorClient:
    return CampaignMonitorClient(
        api_key=SECRET,
        transport=httpx.MockTransport(handler),
        clock=clock,
        retry=RetryPolicy(attempts=3, base_delay=10),
        **kwargs,  # type: ignore[arg-type]
    )


def page(results: list[dict[str, object]], number: int, pages: int) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "Results": results,
            "ResultsOrderedBy": "date",
            "OrderDirection": "asc",
            "PageNumber": number,
            "PageSize": 1000,
            "RecordsOnThisPage": len(results),
            "TotalNumberOfRecords": 3,
            "NumberOfPages": pages,
        },
    )


def test_api_key_is_sent_as_basic_auth(clock: VirtualClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"ClientID": "c1", "Name": "One"}])

    assert make_client(handler, clock).clients() == [{"ClientID": "c1", "Name": "One"}]
    auth = httpx.BasicAuth(SECRET, "x")
    assert (
        seen[0].headers["Authorization"] == next(auth.auth_flow(seen[0])).headers["Authorization"]
    )
    assert seen[0].url.path == "/api/v3.3/clients.json"


def test_paged_read_follows_pages_and_sends_filters(clock: VirtualClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert params["date"] == "2026-01-05 10:00:00"
        assert params["orderfield"] == "date" and params["includetrackingpreference"] == "true"
        number = int(params["page"])
        return page([{"EmailAddress": f"a{number}@x.com"}], number, 3)

    client = make_client(handler, clock)
    pages = list(client.subscriber_pages("list-1", "Unsubscribed", since="2026-01-05 10:00:00"))
    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[-1].is_last
    assert client.calls == 3


def test_one_probe_page_asks_its_own_page_and_size(clock: VirtualClock) -> None:
    seen: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        assert request.url.path.endswith("/lists/list-1/active.json")
        return page([{"EmailAddress": "a@x.com", "Date": "2026-01-05 10:07:00"}], 4, 9)

    probe = make_client(handler, clock).subscriber_page(
        "list-1", "Active", "2026-01-05 10:00:00", page=4, pagesize=10
    )
    assert (probe.number, probe.pages, probe.total) == (4, 9, 3)
    assert probe.results[0]["Date"] == "2026-01-05 10:07:00"
    (params,) = seen
    assert (params["page"], params["pagesize"], params["orderfield"]) == ("4", "10", "date")
    assert params["orderdirection"] == "asc" and params["date"] == "2026-01-05 10:00:00"


@pytest.mark.parametrize(
    "body",
    [[], {"Results": []}, "text", {"Results": "x", "PageNumber": 1},
     {"Results": [], "PageNumber": "one"}, {"Results": [], "PageNumber": 1, "NumberOfPages": [2]}],
    ids=["list", "no-envelope", "str", "results-not-a-list", "page-not-a-number", "pages-hostile"],
)  # fmt: skip
def test_a_probe_without_a_paged_envelope_is_a_platform_error(
    clock: VirtualClock, body: object
) -> None:
    client = make_client(lambda request: httpx.Response(200, json=body), clock)
    with pytest.raises(PlatformError, match="no paged envelope") as caught:
        client.subscriber_page("list-1", "Active", None, page=1, pagesize=10)
    assert SECRET not in str(caught.value)


def test_a_repeated_page_number_stops_the_loop(clock: VirtualClock) -> None:
    client = make_client(lambda request: page([{"EmailAddress": "a@x.com"}], 1, 5), clock)
    with pytest.raises(PlatformError, match="twice"):
        list(client.suppression_pages("c1"))


def test_429_waits_for_the_rate_limit_reset_then_succeeds(clock: VirtualClock) -> None:
    answers = iter(
        [
            httpx.Response(
                429,
                json={"Code": 429, "Message": "Rate limit exceeded"},
                headers={"X-RateLimit-Reset": "348"},
            ),
            httpx.Response(200, json=[]),
        ]
    )
    start = clock.now()
    assert make_client(lambda request: next(answers), clock).clients() == []
    assert (clock.now() - start).total_seconds() == 348


def test_persistent_outage_raises_retriable_after_backing_off(clock: VirtualClock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500, json={"Code": 500, "Message": "Sorry"})

    start = clock.now()
    with pytest.raises(RetriableError) as exc:
        make_client(handler, clock).clients()
    assert exc.value.status == 500
    assert len(calls) == 3
    assert (clock.now() - start).total_seconds() == 10 + 20


def test_timeouts_are_retried(clock: VirtualClock) -> None:
    answers: list[Callable[[], httpx.Response]] = [
        lambda: (_ for _ in ()).throw(httpx.ReadTimeout("slow")),
        lambda: httpx.Response(200, json=[]),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)()

    assert make_client(handler, clock).clients() == []


def test_malformed_success_body_is_retried_then_fails(clock: VirtualClock) -> None:
    client = make_client(lambda request: httpx.Response(200, text='{"Results": ['), clock)
    with pytest.raises(RetriableError, match="malformed"):
        client.clients()


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (401, 100, AuthenticationError),
        (400, 101, NotFoundError),
        (400, 1, SkippableRecordError),
        (400, 250, PlatformError),
        (401, 9999, AuthenticationError),
    ],
    ids=["bad-key", "bad-list", "bad-email", "other-400", "other-401"],
)
def test_codes_map_to_error_classes_without_leaking_the_key(
    clock: VirtualClock, status: int, code: int, error: type[Exception]
) -> None:
    body = {"Code": code, "Message": "Nope"}
    client = make_client(lambda request: httpx.Response(status, json=body), clock)
    with pytest.raises(error) as exc:
        client.list_details("list-1")
    assert exc.value.error_code == str(code)  # type: ignore[attr-defined]
    assert SECRET not in str(exc.value) and SECRET not in repr(client)


def test_import_partial_failure_returns_the_result_data(clock: VirtualClock) -> None:
    result = {"FailureDetails": [{"EmailAddress": "bad", "Code": 1, "Message": "Invalid"}]}
    body = {"Code": 210, "Message": "Subscriber Import had some failures", "ResultData": result}
    client = make_client(lambda request: httpx.Response(400, json=body), clock)
    assert client.import_subscribers("list-1", [{"EmailAddress": "bad"}]) == result


def test_expired_oauth_token_is_refreshed_once(clock: VirtualClock) -> None:
    tokens: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tokens.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer old":
            return httpx.Response(401, json={"Code": 121, "Message": "Expired OAuth Token"})
        return httpx.Response(200, json=[])

    client = CampaignMonitorClient(
        access_token="old",
        refresh_token=lambda: "new",
        transport=httpx.MockTransport(handler),
        clock=clock,
    )
    assert client.clients() == []
    assert tokens == ["Bearer old", "Bearer new"]


def test_client_requires_credentials_and_a_sane_page_size() -> None:
    with pytest.raises(ValueError, match="API key"):
        CampaignMonitorClient()
    with pytest.raises(ValueError, match="page_size"):
        CampaignMonitorClient(api_key="k", page_size=5)


def test_post_bodies_are_json(clock: VirtualClock) -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json="a@x.com")

    client = make_client(handler, clock)
    assert (
        client.add_subscriber("list-1", {"EmailAddress": "a@x.com", "ConsentToTrack": "Yes"})
        == "a@x.com"
    )
    assert bodies == [{"EmailAddress": "a@x.com", "ConsentToTrack": "Yes"}]


class Listing:
    """A subscriber listing served as Campaign Monitor serves one: ordered by ``Date``, the
    ``date`` filter "on or after", offset pages; ``on_page`` may change it between pages."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        self.rows = list(rows)  # (email, date), in listing order
        self.requests: list[httpx.QueryParams] = []
        self.on_page: Callable[[int], None] = lambda n: None

    def handler(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        self.requests.append(params)
        since = params.get("date")
        rows = [r for r in self.rows if since is None or r[1] >= since]
        size, number = int(params["pagesize"]), int(params["page"])
        chunk = rows[(number - 1) * size : number * size]
        body = {
            "Results": [{"EmailAddress": e, "Date": d, "State": "Active"} for e, d in chunk],
            "PageNumber": number, "PageSize": size, "RecordsOnThisPage": len(chunk),
            "TotalNumberOfRecords": len(rows), "NumberOfPages": -(-len(rows) // size),
        }  # fmt: skip
        self.on_page(len(self.requests))
        return httpx.Response(200, json=body)


def _minute(i: int) -> str:
    return f"2026-01-05 {10 + i // 60:02d}:{i % 60:02d}:00"


def _read(listing: Listing, clock: VirtualClock) -> list[str]:
    client = make_client(listing.handler, clock, page_size=10)
    return [
        str(r["EmailAddress"]) for p in client.subscriber_pages("l", "Active") for r in p.results
    ]


def test_a_row_leaving_mid_read_moves_no_row_past_the_reader(clock: VirtualClock) -> None:
    listing = Listing([(f"s{i}@x.com", _minute(i)) for i in range(35)])

    def leave(requests: int) -> None:
        if requests == 1:  # after page 1 was answered, its oldest row leaves the state
            listing.rows.pop(0)

    listing.on_page = leave
    read = _read(listing, clock)
    assert read == [f"s{i}@x.com" for i in range(35)]  # s10 (first of page 2) is not lost
    assert len(listing.requests) == 4  # pages of 10 rows: one more for the edges' overlap


def test_a_minute_with_more_rows_than_a_page_is_read_on_by_offset(clock: VirtualClock) -> None:
    rows = [(f"a{i}@x.com", _minute(0)) for i in range(3)]
    rows += [(f"b{i:02d}@x.com", _minute(1)) for i in range(25)]  # 25 rows in one minute
    rows += [(f"c{i}@x.com", _minute(2 + i)) for i in range(4)]
    listing = Listing(rows)
    read = _read(listing, clock)
    assert read == [e for e, _ in rows]  # every row once, in order
    dated = [(p.get("date"), p["page"]) for p in listing.requests]
    assert dated[0] == (None, "1")
    assert (_minute(1), "2") in dated  # inside the minute: on by offset


def test_a_listing_that_ends_on_a_page_edge_or_is_empty_ends(clock: VirtualClock) -> None:
    listing = Listing([(f"s{i}@x.com", _minute(i)) for i in range(20)])
    assert _read(listing, clock) == [f"s{i}@x.com" for i in range(20)]
    empty = Listing([])
    assert _read(empty, clock) == [] and len(empty.requests) == 1


def test_pages_of_a_dated_read_keep_their_first_total_and_end_once(clock: VirtualClock) -> None:
    listing = Listing([(f"s{i}@x.com", _minute(i)) for i in range(25)])
    client = make_client(listing.handler, clock, page_size=10)
    pages = list(client.subscriber_pages("l", "Active"))
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert [p.is_last for p in pages] == [False] * (len(pages) - 1) + [True]
    assert {p.total for p in pages} == {25}


def test_an_address_unsuppressed_mid_read_moves_no_row_past_the_reader(
    clock: VirtualClock,
) -> None:
    suppressed = [f"s{i:02d}@x.com" for i in range(25)]  # by email, as the list is ordered
    requests: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        requests.append(params)
        size, number = int(params["pagesize"]), int(params["page"])
        chunk = suppressed[(number - 1) * size : number * size]
        body = {
            "Results": [{"EmailAddress": e, "Date": "2026-01-05 10:00:07", "SuppressionReason":
                         "Unsubscribed"} for e in chunk],
            "PageNumber": number, "PageSize": size, "RecordsOnThisPage": len(chunk),
            "TotalNumberOfRecords": len(suppressed), "NumberOfPages": -(-len(suppressed) // size),
        }  # fmt: skip
        if len(requests) == 1:
            suppressed.remove("s01@x.com")  # taken off the list after page 1 was answered
            suppressed.append("t00@x.com")  # and another added: the total stays 25
        return httpx.Response(200, json=body)

    client = make_client(handler, clock, page_size=10)
    read = [str(r["EmailAddress"]) for p in client.suppression_pages("c1") for r in p.results]
    assert sorted(read) == sorted({*suppressed, "s01@x.com"})  # s10 and every other, once
    assert len(read) == len(set(read))
    assert [p["page"] for p in requests] == ["1", "2", "1", "3", "2"]
