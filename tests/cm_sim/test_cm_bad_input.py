"""Unknown ids and hostile input on every resource family: real status and Code, account unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cm_sim import Account
from cmsf_core.clock import VirtualClock

UNKNOWN = "0123456789abcdef0123456789abcdef"

CASES: list[tuple[str, str, str, Any, int, int]] = [
    ("client-details", "GET", f"/clients/{UNKNOWN}.json", None, 400, 102),
    ("client-lists", "GET", f"/clients/{UNKNOWN}/lists.json", None, 400, 102),
    ("client-campaigns", "GET", f"/clients/{UNKNOWN}/campaigns.json", None, 400, 102),
    ("client-suppress", "POST", f"/clients/{UNKNOWN}/suppress.json", {"EmailAddresses": ["a@example.com"]}, 400, 102),
    ("create-campaign", "POST", f"/campaigns/{UNKNOWN}.json", {"Subject": "s"}, 400, 102),
    ("list-details", "GET", f"/lists/{UNKNOWN}.json", None, 400, 101),
    ("list-update", "PUT", f"/lists/{UNKNOWN}.json", {"Title": "x"}, 400, 101),
    ("list-active", "GET", f"/lists/{UNKNOWN}/active.json", None, 400, 101),
    ("add-subscriber", "POST", f"/subscribers/{UNKNOWN}.json", {"EmailAddress": "a@example.com", "ConsentToTrack": "Yes"}, 400, 101),
    ("import", "POST", f"/subscribers/{UNKNOWN}/import.json", {"Subscribers": []}, 400, 101),
    ("webhooks", "POST", f"/lists/{UNKNOWN}/webhooks.json", {"Events": ["Subscribe"]}, 400, 101),
    ("campaign-send", "POST", f"/campaigns/{UNKNOWN}/send.json", {"SendDate": "immediately"}, 400, 301),
    ("campaign-delete", "DELETE", f"/campaigns/{UNKNOWN}.json", None, 400, 301),
    ("segment", "GET", f"/segments/{UNKNOWN}.json", None, 400, 150),
    ("message", "GET", f"/transactional/messages/{UNKNOWN}", None, 400, 302),
    ("subscriber-missing", "GET", "/subscribers/{list}.json?email=nobody@example.com", None, 400, 203),
    ("subscriber-no-email", "DELETE", "/subscribers/{list}.json", None, 400, 203),
    ("unsubscribe-bad-email", "POST", "/subscribers/{list}/unsubscribe.json", {"EmailAddress": "nope"}, 400, 1),
    ("add-bad-email", "POST", "/subscribers/{list}.json", {"EmailAddress": "a@@example.com", "ConsentToTrack": "Yes"}, 400, 1),
    ("add-not-object", "POST", "/subscribers/{list}.json", ["a@example.com"], 400, 400),
    ("listsforemail-bad", "GET", "/clients/{client}/listsforemail.json?email=nope", None, 400, 1),
    ("field-bad-key", "PUT", "/lists/{list}/customfields/%5Bmissing%5D.json", {"FieldName": "x"}, 400, 253),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_request_answers_code_and_changes_nothing(
    http: httpx.Client, account: Account, client_id: str, list_id: str,
    method: str, path: str, body: Any, status: int, code: int,
) -> None:  # fmt: skip
    account.add_subscriber_at(list_id, "someone@example.com")
    before = account.snapshot()
    response = http.request(method, path.format(list=list_id, client=client_id), json=body)
    assert (response.status_code, response.json()["Code"]) == (status, code)
    assert isinstance(response.json()["Message"], str) and response.json()["Message"]
    assert account.snapshot() == before


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=3 * 86400), min_size=1, max_size=12),
    bound=st.integers(min_value=0, max_value=3 * 86400),
)
def test_date_filter_matches_the_history_exactly(offsets: list[int], bound: int) -> None:
    clock = VirtualClock()
    account = Account(clock=clock)
    lst = account.create_list(account.create_client("Acme"), "News")
    start = account.now_ts()
    for i, offset in enumerate(offsets):
        account.add_subscriber_at(lst, f"u{i}@example.com")
        account.change_state(
            lst, f"u{i}@example.com", "Unsubscribed", at=_iso(start + offset), apply_rules=False
        )
    clock.advance(days=4)
    tz_offset = 10 * 3600
    local = _local(start + bound + tz_offset)
    with account.client() as http:
        body = http.get(
            f"/lists/{lst}/unsubscribed.json", params={"date": local, "pagesize": 1000}
        ).json()
    got = {r["EmailAddress"] for r in body["Results"]}
    want = {
        f"u{i}@example.com"
        for i, off in enumerate(offsets)
        if (start + off) // 60 * 60 >= -(-(start + bound) // 60) * 60
    }
    assert got == want


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _local(ts_shifted: int) -> str:
    return datetime.fromtimestamp(ts_shifted, UTC).strftime("%Y-%m-%d %H:%M:%S")
