from __future__ import annotations

from pathlib import Path

import requests
import responses
from simple_salesforce.api import Salesforce

from cmsf_core.clock import VirtualClock
from cmsf_core.serving import LoopbackServer
from sf_sim import Org


def test_activate_yields_a_logged_in_client(sf_org: Org) -> None:
    with sf_org.activate() as sf:
        sf.Contact.create({"LastName": "Lee"})
        assert sf.sf_instance == sf_org.host
    assert sf_org.count("Contact") == 1


def test_session_is_mounted_only_for_org_hosts(sf_org: Org) -> None:
    session = sf_org.session()
    assert "https://acme.my.salesforce.com/" in session.adapters
    assert "https://login.salesforce.com/" in session.adapters
    assert session.get_adapter("https://example.com/").__class__.__name__ == "HTTPAdapter"


def test_two_orgs_do_not_share_state() -> None:
    first, second = Org(name="first"), Org(name="second")
    first.client().Contact.create({"LastName": "Only in first"})
    assert second.client().query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert first.client().query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_intercept_routes_code_that_builds_its_own_client(sf_org: Org) -> None:
    username, password, token = sf_org.admin_credentials()
    with sf_org.intercept():
        sf = Salesforce(username=username, password=password, security_token=token)
        sf.Contact.create({"LastName": "Intercepted"})
    assert sf_org.count("Contact") == 1


def test_intercept_passes_other_hosts_through(sf_org: Org) -> None:
    with sf_org.intercept() as mock:
        mock.add(responses.GET, "https://api.example.com/ping", body="pong")
        assert requests.get("https://api.example.com/ping", timeout=5).text == "pong"


def test_loopback_https_server_works_with_simple_salesforce(tmp_path: Path) -> None:
    org = Org(clock=VirtualClock())
    org.create("Contact", {"LastName": "Served"})
    ca = tmp_path / "ca.pem"
    with LoopbackServer(org.app, ca_path=ca) as server:
        org.base_url_override = server.url
        session = requests.Session()
        session.trust_env = False
        session.verify = str(ca)
        sf = Salesforce(
            instance_url=server.url,
            session_id=org.sessions.open(org.running_user_id),
            session=session,
        )
        assert sf.query("SELECT LastName FROM Contact")["records"][0]["LastName"] == "Served"
        token = session.post(
            server.url + "/services/oauth2/token", data={"grant_type": "password"}
        ).json()
        assert token["error"] == "invalid_client_id"


def test_plain_http_server(tmp_path: Path) -> None:
    org = Org()
    with LoopbackServer(org.app, tls=False) as server:
        response = requests.get(server.url + "/services/data/v59.0/limits", timeout=10)
        assert (
            response.status_code == 401 and response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
        )


def test_concurrent_clients_are_serialised_safely(sf_org: Org) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(worker: int) -> int:
        sf = sf_org.client()
        for index in range(20):
            sf.Contact.create({"LastName": f"W{worker}-{index}"})
        return int(sf.query("SELECT COUNT() FROM Contact")["totalSize"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(work, range(4)))
    assert sf_org.count("Contact") == 80 and max(counts) == 80
