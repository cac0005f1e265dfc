from __future__ import annotations

from datetime import timedelta

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceRefusedRequest

from cmsf_core.clock import VirtualClock
from sf_sim import Org


@pytest.fixture
def org(clock: VirtualClock) -> Org:
    return Org(clock=clock, api_limit=10)


def test_every_response_carries_limit_info(org: Org) -> None:
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    sf.query("SELECT Id FROM Contact")
    assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 10
    response = org.session().get(
        f"{org.instance_url}/services/data/v59.0/sobjects/",
        headers={"Authorization": "Bearer " + sf.session_id},
    )
    assert response.headers["Sforce-Limit-Info"] == "api-usage=2/10"


def test_limits_resource_reports_daily_requests(org: Org) -> None:
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 10, "Remaining": 9}
    for key in (
        "DailyAsyncApexExecutions",
        "DailyBulkApiBatches",
        "DataStorageMB",
        "FileStorageMB",
        "SingleEmail",
    ):
        assert set(limits[key]) >= {"Max", "Remaining"}


def test_over_the_limit_is_403_and_changes_nothing(org: Org, clock: VirtualClock) -> None:
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    for index in range(10):
        sf.Contact.create({"LastName": f"C{index}"})
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.Contact.create({"LastName": "one too many"})
    assert exc.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert org.count("Contact") == 10


def test_window_rolls_over_24_hours(org: Org, clock: VirtualClock) -> None:
    org.sessions.idle_timeout = timedelta(days=3)
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    for _ in range(6):
        sf.query("SELECT COUNT() FROM Contact")
    clock.advance(hours=1, minutes=30)
    for _ in range(4):
        sf.query("SELECT COUNT() FROM Contact")
    clock.advance(hours=22, minutes=29)
    with pytest.raises(SalesforceRefusedRequest):
        sf.query("SELECT COUNT() FROM Contact")
    clock.advance(minutes=2)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert org.limits.used() == 5


def test_collections_and_composite_cost_one_call(org: Org) -> None:
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    records = [{"attributes": {"type": "Contact"}, "LastName": f"C{i}"} for i in range(200)]
    sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert org.limits.used() == 1


def test_login_costs_nothing(org: Org) -> None:
    org.client()
    assert org.limits.used() == 0


def test_limit_is_a_setting(org: Org) -> None:
    org.limits.daily_limit = 100_000
    assert org.limits.to_api()["DailyApiRequests"]["Max"] == 100_000
    with pytest.raises(ValueError, match="negative"):
        org.limits.daily_limit = -1
