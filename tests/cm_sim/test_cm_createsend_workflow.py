"""Campaign Monitor's own client (createsend) runs the full workflow against a served account over HTTPS.

The only adaptation: createsend's base URIs point at the local server, and its
connection class trusts the local CA instead of its bundled ``cacert.pem``. Its request
and parsing logic run unchanged.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import createsend
import createsend.createsend as cs_module
import pytest
from createsend import BadRequest, Campaign, Client, CreateSend, List, Subscriber, Transactional
from createsend.utils import VerifiedHTTPSConnection, match_hostname

from cm_sim import Account, ActivityModel
from cmsf_core.clock import VirtualClock
from cmsf_core.serving import LoopbackServer


@pytest.fixture
def served(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The account behind a real HTTPS loopback server, createsend pointed at it."""
    ca_file = tmp_path / "ca.pem"
    with LoopbackServer(account.app(), ca_path=ca_file) as server:

        class LocalCAConnection(VerifiedHTTPSConnection):  # type: ignore[misc]
            """createsend's connection, trusting the local CA instead of its bundled one."""

            def connect(self) -> None:
                sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
                context = ssl.SSLContext(protocol=ssl.PROTOCOL_TLS_CLIENT)
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(str(ca_file))
                self.sock = context.wrap_socket(sock, server_hostname=self.host)
                match_hostname(self.sock.getpeercert(), self.host)

        monkeypatch.setattr(cs_module, "VerifiedHTTPSConnection", LocalCAConnection)
        monkeypatch.setattr(CreateSend, "base_uri", f"{server.url}/api/v3.3")
        monkeypatch.setattr(CreateSend, "oauth_uri", f"{server.url}/oauth")
        monkeypatch.setattr(CreateSend, "oauth_token_uri", f"{server.url}/oauth/token")
        yield {"auth": {"api_key": account.api_key}, "server": server}


def test_createsend_full_workflow(
    served: dict[str, Any], account: Account, cm_clock: VirtualClock
) -> None:
    auth = served["auth"]
    client_id = Client(auth).create("Acme Pty Ltd", "(GMT+10:00) Brisbane", "Australia")
    assert [c.ClientID for c in CreateSend(auth).clients()] == [client_id]

    lst = List(auth)
    list_id = lst.create(client_id, "Newsletter", "", False, "")
    assert lst.create_custom_field("age", "Number") == "[age]"
    assert (
        lst.create_custom_field("interests", "MultiSelectMany", ["news", "offers"]) == "[interests]"
    )
    assert lst.update_custom_field("[age]", "age years", True) == "[ageyears]"
    assert [c.ListID for c in Client(auth, client_id).lists()] == [list_id]

    sub = Subscriber(auth)
    fields = [{"Key": "age years", "Value": "31"}, {"Key": "interests", "Value": "news"}]
    assert sub.add(list_id, "ann@example.com", "Ann", fields, True, "Yes") == "ann@example.com"
    result = sub.import_subscribers(list_id, [
        {"EmailAddress": "bob@example.com", "Name": "Bob", "ConsentToTrack": "Yes"},
        {"EmailAddress": "cat@example.com", "Name": "Cat", "ConsentToTrack": "Yes"},
        {"EmailAddress": "dan@example.com", "Name": "Dan", "ConsentToTrack": "Yes"},
        {"EmailAddress": "broken@example", "Name": "Broken", "ConsentToTrack": "Yes"},
    ], False)  # fmt: skip
    assert (result.TotalNewSubscribers, [f.Code for f in result.FailureDetails]) == (3, [1])
    Subscriber(auth, list_id, "ann@example.com").update("ann@example.org", "Ann B", [], True, "Yes")
    assert Subscriber(auth).get(list_id, "ann@example.org").Name == "Ann B"
    cm_clock.advance(hours=1)
    Subscriber(auth, list_id, "bob@example.com").unsubscribe()
    Subscriber(auth, list_id, "cat@example.com").delete()
    account.change_state(list_id, "dan@example.com", "Bounced")

    since = "2026-01-05 20:00"
    assert [s.EmailAddress for s in List(auth, list_id).unsubscribed(date=since).Results] == [
        "bob@example.com"
    ]
    assert [s.EmailAddress for s in List(auth, list_id).deleted(date=since).Results] == [
        "cat@example.com"
    ]
    assert [s.EmailAddress for s in List(auth, list_id).bounced(date=since).Results] == [
        "dan@example.com"
    ]
    assert List(auth, list_id).active(date=since).Results == []
    active = List(auth, list_id).active(include_tracking_preference=True).Results
    assert [(s.EmailAddress, s.ConsentToTrack) for s in active] == [("ann@example.org", "Yes")]

    account.add_subscriber_at(list_id, "eve@example.com")
    account.register_link_scanner("example.com", share=1.0)
    account.use_activity_model(ActivityModel(open_rate=1.0, click_rate=1.0, unsubscribe_rate=0.0, spam_rate=0.0,
                                             soft_bounce_rate=0.0, hard_bounce_rate=0.0))  # fmt: skip
    campaign_id = account.send_campaign_now(
        [list_id], name="Spring", links=["https://example.net/a"]
    )
    cm_clock.advance(days=5)
    campaign = Campaign(auth, campaign_id)
    assert campaign.summary().Recipients == 2
    assert {r.EmailAddress for r in campaign.recipients().Results} == {
        "ann@example.org",
        "eve@example.com",
    }
    assert campaign.opens().TotalNumberOfRecords >= 2
    assert {c.URL for c in campaign.clicks().Results} == {"https://example.net/a"}
    assert {u.EmailAddress for u in campaign.unsubscribes().Results} == {"eve@example.com"}
    assert campaign.bounces().Results == []
    assert campaign.spam().Results == []

    client = Client(auth, client_id)
    client.suppress("spam@example.com")
    suppressed = {r.EmailAddress: r.SuppressionReason for r in client.suppressionlist().Results}
    assert suppressed == {
        "bob@example.com": "Unsubscribed",
        "spam@example.com": "Suppressed Manually",
    }
    client.unsuppress("spam@example.com")
    assert [r.EmailAddress for r in client.suppressionlist().Results] == ["bob@example.com"]

    smart_id = account.create_smart_email(client_id, "Welcome", variables=["name"])
    tx = Transactional(auth, client_id)
    assert [s.ID for s in tx.smart_email_list(client_id=client_id)] == [smart_id]
    sent = tx.smart_email_send(smart_id, "Ann <ann@example.org>", "Yes", data={"name": "Ann"})
    assert sent[0].Status == "Received"

    log = account.request_log()
    tracking = [
        e["query"].get("includetrackingpreference")
        for e in log
        if e["path"].endswith("/active.json")
    ]
    assert tracking == ["False", "True"]
    assert any("%5Bage%5D" in e["raw_path"] for e in log)


def test_createsend_sees_platform_errors(served: dict[str, Any], account: Account) -> None:
    client_id = account.create_client("Acme")
    with pytest.raises(BadRequest) as exc:
        List(served["auth"]).create(client_id, "", "", False, "")
    assert exc.value.data.Code == 251
    with pytest.raises(createsend.Unauthorized) as unauthorized:
        CreateSend({"api_key": "wrong"}).clients()
    assert unauthorized.value.data.Code == 100
    with pytest.raises(BadRequest) as too_many:
        Subscriber(served["auth"]).import_subscribers(account.create_list(client_id, "L"), [
            {"EmailAddress": f"u{i}@example.com", "ConsentToTrack": "Yes"} for i in range(1001)], False)  # fmt: skip
    assert too_many.value.data.Code == 209


def test_createsend_oauth_exchange_and_expiry(
    served: dict[str, Any], account: Account, cm_clock: VirtualClock
) -> None:
    app_id, secret = account.register_oauth_app()
    code = account.authorize_oauth("https://app.example/cb")
    access, expires, refresh = CreateSend().exchange_token(
        app_id, secret, "https://app.example/cb", code
    )
    assert expires == 1209600
    cs = CreateSend({"access_token": access, "refresh_token": refresh})
    assert cs.clients() == []
    cm_clock.advance(seconds=expires)
    with pytest.raises(createsend.ExpiredOAuthToken):
        cs.clients()
    cs.refresh_token()
    assert cs.clients() == []
