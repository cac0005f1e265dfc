"""Pagination edges and the 800-803 codes, on subscriber, activity and suppression reads."""

from __future__ import annotations

import httpx
import pytest

from cm_sim import Account


@pytest.fixture
def twenty(account: Account, list_id: str) -> str:
    for i in range(20):
        account.add_subscriber_at(list_id, f"user{i:02d}@example.com", f"User {i:02d}")
    return list_id


def page(http: httpx.Client, list_id: str, **params: object) -> dict[str, object]:
    return dict(http.get(f"/lists/{list_id}/active.json", params=params).json())


def test_empty_list_has_no_pages(http: httpx.Client, list_id: str) -> None:
    body = page(http, list_id)
    assert (
        body["Results"],
        body["TotalNumberOfRecords"],
        body["NumberOfPages"],
        body["PageNumber"],
    ) == ([], 0, 0, 1)


def test_exact_page(http: httpx.Client, twenty: str) -> None:
    body = page(http, twenty, page=2, pagesize=10)
    assert (body["RecordsOnThisPage"], body["NumberOfPages"], body["PageSize"]) == (10, 2, 10)


def test_last_partial_page(http: httpx.Client, account: Account, twenty: str) -> None:
    account.add_subscriber_at(twenty, "zed@example.com")
    body = page(http, twenty, page=3, pagesize=10)
    assert body["RecordsOnThisPage"] == 1
    assert [r["EmailAddress"] for r in body["Results"]] == ["zed@example.com"]  # type: ignore[attr-defined]


def test_page_beyond_the_end_is_empty(http: httpx.Client, twenty: str) -> None:
    body = page(http, twenty, page=9, pagesize=10)
    assert (body["Results"], body["PageNumber"], body["NumberOfPages"]) == ([], 9, 2)


def test_order_by_email_descending(http: httpx.Client, twenty: str) -> None:
    body = page(http, twenty, orderfield="email", orderdirection="desc", pagesize=10)
    assert body["Results"][0]["EmailAddress"] == "user19@example.com"  # type: ignore[index]
    assert (body["ResultsOrderedBy"], body["OrderDirection"]) == ("email", "desc")


def test_pages_cover_every_row_once(http: httpx.Client, twenty: str) -> None:
    seen = []
    for number in (1, 2, 3):
        seen += [
            r["EmailAddress"]
            for r in page(http, twenty, page=number, pagesize=10, orderfield="name")["Results"]
        ]  # type: ignore[attr-defined]
    assert sorted(seen) == [f"user{i:02d}@example.com" for i in range(20)]


@pytest.mark.parametrize(
    ("params", "code"),
    [({"page": 0}, 800), ({"page": "x"}, 800), ({"pagesize": 9}, 801), ({"pagesize": 1001}, 801),
     ({"orderfield": "colour"}, 802), ({"orderdirection": "up"}, 803)],
    ids=["page-0", "page-text", "pagesize-9", "pagesize-1001", "orderfield", "orderdirection"],
)  # fmt: skip
@pytest.mark.parametrize(
    "endpoint", ["active", "suppression", "opens"], ids=["list", "suppression", "campaign-opens"]
)
def test_invalid_paging_is_refused(
    http: httpx.Client,
    account: Account,
    client_id: str,
    twenty: str,
    endpoint: str,
    params: dict[str, object],
    code: int,
) -> None:
    path = {
        "active": f"/lists/{twenty}/active.json",
        "suppression": f"/clients/{client_id}/suppressionlist.json",
    }.get(endpoint)
    if path is None:
        path = f"/campaigns/{account.send_campaign_now([twenty], with_activity=False)}/opens.json"
    response = http.get(path, params=params)
    assert (response.status_code, response.json()["Code"]) == (400, code)


def test_sent_campaigns_are_paged_newest_first(http: httpx.Client, account: Account, client_id: str, list_id: str,
                                               cm_clock: object) -> None:  # fmt: skip
    ids = []
    for i in range(12):
        ids.append(account.send_campaign_now([list_id], name=f"C{i}", with_activity=False))
        cm_clock.advance(hours=1)  # type: ignore[attr-defined]
    body = http.get(
        f"/clients/{client_id}/campaigns.json", params={"page": 2, "pagesize": 10}
    ).json()
    assert (body["ResultsOrderedBy"], body["OrderDirection"], body["NumberOfPages"]) == (
        "SentDate",
        "desc",
        2,
    )
    assert [r["CampaignID"] for r in body["Results"]] == [ids[1], ids[0]]


def _plans(account: Account, read: object) -> list[str]:
    """The query plans of the paged reads ``read()`` makes on the account's store."""
    store = account.store
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        read()  # type: ignore[operator]
    finally:
        store.conn.set_trace_callback(None)
    plans = []
    for sql in seen:
        if "LIMIT" in sql and sql.lstrip().upper().startswith("SELECT"):
            plans += [str(r[-1]) for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return plans


@pytest.mark.parametrize(
    ("endpoint", "order"),
    [("active", "date"), ("active", "email"), ("active", "name")],
    ids=["by-date", "by-email", "by-name"],
)
def test_each_page_order_is_an_index_range_not_a_sort(
    http: httpx.Client, account: Account, twenty: str, endpoint: str, order: str
) -> None:
    def read() -> None:
        http.get(f"/lists/{twenty}/{endpoint}.json", params={"orderfield": order, "page": 2})

    plans = _plans(account, read)
    assert plans and not [p for p in plans if "TEMP B-TREE" in p], plans


def test_page_total_counts_once_per_read_and_again_after_a_write(
    http: httpx.Client, account: Account, twenty: str
) -> None:
    counts: list[str] = []
    account.store.conn.set_trace_callback(
        lambda sql: counts.append(sql) if "COUNT(*)" in sql else None
    )
    try:
        first = [page(http, twenty, page=n, pagesize=10)["TotalNumberOfRecords"] for n in (1, 2)]
        account.add_subscriber_at(twenty, "late@example.com")
        after = page(http, twenty, page=1, pagesize=10)["TotalNumberOfRecords"]
    finally:
        account.store.conn.set_trace_callback(None)
    assert first == [20, 20] and after == 21
    assert len([sql for sql in counts if "FROM subscribers" in sql]) == 2
