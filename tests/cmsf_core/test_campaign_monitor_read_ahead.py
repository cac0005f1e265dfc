"""Paged reads read the next page while the caller works on the one it has (over a network)."""

from __future__ import annotations

import os
import select
import signal
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from cmsf_core.campaign_monitor import CampaignMonitorClient, Page
from cmsf_core.clock import VirtualClock
from cmsf_core.errors import NotFoundError
from cmsf_core.retry import RetryPolicy

PAGES = 3
WAIT = 5.0  # seconds a test waits for the worker thread before it calls the read broken
QUIET = 0.5  # seconds a test watches for a read that must not come


def _envelope(number: int, pages: int = PAGES, *, dated: bool = True) -> httpx.Response:
    rows = [
        {
            "EmailAddress": f"p{number}-{i}@x.com",
            "CampaignID": f"c{number}-{i}",
            **({"Date": f"2026-01-05 10:0{number}:00"} if dated else {}),
        }
        for i in range(10)
    ]
    return httpx.Response(
        200,
        json={
            "Results": rows,
            "PageNumber": number,
            "PageSize": 10,
            "RecordsOnThisPage": len(rows),
            "TotalNumberOfRecords": 10 * pages,
            "NumberOfPages": pages,
        },
    )


class _Account:
    """Scripted listings of three pages of ten; records every page asked for."""

    def __init__(self, missing_page: int | None = None) -> None:
        self.asked: list[tuple[str, int]] = []
        self.arrived = threading.Condition()
        self.missing_page = missing_page

    def handler(self, request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        date = request.url.params.get("date")
        if date:  # a dated read goes on from a row's minute: the page that minute starts
            number = int(date[15]) + (number - 1) + (0 if number > 1 else 1)
        with self.arrived:
            self.asked.append((request.url.path.rsplit("/", 1)[-1], number))
            self.arrived.notify_all()
        if number == self.missing_page:
            return httpx.Response(404, json={"Code": 101, "Message": "Invalid ListID"})
        return _envelope(number, dated="suppression" not in request.url.path)

    def wait_for(self, calls: int, timeout: float = WAIT) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.asked) >= calls, timeout=timeout)


def _client(account: _Account, clock: VirtualClock, *, read_ahead: bool) -> CampaignMonitorClient:
    return CampaignMonitorClient(
        api_key="k",
        transport=httpx.MockTransport(account.handler),
        clock=clock,
        retry=RetryPolicy(attempts=1),
        page_size=10,
        read_ahead=read_ahead,
    )


READS: dict[str, Callable[[CampaignMonitorClient], Iterator[Page]]] = {
    "subscribers": lambda cm: cm.subscriber_pages("list-1", "Active"),
    "activity": lambda cm: cm.activity_pages("camp-1", "Open"),
    "suppression": lambda cm: cm.suppression_pages("client-1"),
    "campaigns": lambda cm: cm.campaign_pages("client-1"),
}


def test_over_a_network_pages_are_read_ahead_and_in_process_they_are_not() -> None:
    assert CampaignMonitorClient(api_key="k").read_ahead
    in_process = CampaignMonitorClient(api_key="k", transport=httpx.MockTransport(lambda r: r))
    assert not in_process.read_ahead


def test_the_next_page_is_asked_for_while_the_caller_works(clock: VirtualClock) -> None:
    account = _Account()
    client = _client(account, clock, read_ahead=True)
    pages = client.subscriber_pages("list-1", "Active")
    first = next(pages)
    assert first.number == 1
    # The caller has not asked for page 2, yet it is being read (or was).
    assert account.wait_for(2), account.asked
    assert [p.number for p in pages] == [2, 3]
    assert client.calls == 3  # no page read twice, none for nothing
    client.close()


def test_without_read_ahead_the_next_page_waits_for_the_caller(clock: VirtualClock) -> None:
    account = _Account()
    client = _client(account, clock, read_ahead=False)
    pages = client.subscriber_pages("list-1", "Active")
    next(pages)
    assert not account.wait_for(2, QUIET) and client.calls == 1


@pytest.mark.parametrize("read", list(READS))
def test_reading_ahead_changes_neither_the_pages_nor_the_calls(
    clock: VirtualClock, read: str
) -> None:
    got = {}
    for ahead in (False, True):
        account = _Account()
        client = _client(account, clock, read_ahead=ahead)
        pages = list(READS[read](client))
        got[ahead] = ([(p.number, p.pages, [r["EmailAddress"] for r in p.results]) for p in pages],
                      account.asked, client.calls)  # fmt: skip
        client.close()
    assert got[True] == got[False]
    assert got[True][0] and got[True][0][-1][0] == got[True][0][-1][1]  # read to its last page


def test_a_caller_that_stops_early_leaves_one_read_and_nothing_running(
    clock: VirtualClock,
) -> None:
    account = _Account()
    client = _client(account, clock, read_ahead=True)
    for page in client.subscriber_pages("list-1", "Active"):
        assert page.number == 1
        break
    # Page 2 was read for nothing, unless the caller stopped before its read began (it is
    # then called off): one call at most, and nothing after it.
    assert not account.wait_for(3, QUIET) and client.calls in (1, 2), account.asked
    client.close()  # the reading thread ends


def test_a_caller_that_says_it_stops_early_reads_nothing_ahead(clock: VirtualClock) -> None:
    account = _Account()
    client = _client(account, clock, read_ahead=True)
    for page in client.subscriber_pages("list-1", "Active", read_ahead=False):
        assert page.number == 1
        break
    for page in client.activity_pages("camp-1", "Open", read_ahead=False):
        assert page.number == 1
        break
    assert not account.wait_for(3, QUIET) and client.calls == 2


def test_an_error_reading_ahead_is_raised_where_that_page_is_asked_for(
    clock: VirtualClock,
) -> None:
    account = _Account(missing_page=2)
    client = _client(account, clock, read_ahead=True)
    pages = client.activity_pages("camp-1", "Open")
    assert next(pages).number == 1  # page 2 failed meanwhile: not raised yet
    assert account.wait_for(2)
    with pytest.raises(NotFoundError, match="Invalid ListID"):
        next(pages)
    client.close()


def test_a_read_inside_another_read_waits_its_turn(clock: VirtualClock) -> None:
    account = _Account()
    client = _client(account, clock, read_ahead=True)
    outer = []
    for page in client.activity_pages("camp-1", "Open"):
        inner = [p.number for p in client.subscriber_pages("list-1", "Active")]
        outer.append((page.number, inner))
    assert outer == [(1, [1, 2, 3]), (2, [1, 2, 3]), (3, [1, 2, 3])]
    assert client.calls == 3 + 3 * 3
    client.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (a prefork worker pool)")
def test_a_forked_process_reads_ahead_with_a_thread_of_its_own(clock: VirtualClock) -> None:
    account = _Account()
    client = _client(account, clock, read_ahead=True)
    assert len(list(client.subscriber_pages("list-1", "Active"))) == PAGES  # a thread started
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: the parent's reading thread did not come along
        try:
            pages = len(list(client.subscriber_pages("list-1", "Active")))
            os.write(write, str(pages).encode())
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], WAIT)
    got = os.read(read, 16) if ready else b""
    os.close(read)
    if not ready:
        os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    assert got == str(PAGES).encode(), "the forked process's read hung"
    client.close()
