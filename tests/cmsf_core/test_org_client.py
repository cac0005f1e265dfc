"""The engine's Salesforce client reads response bodies with ``from_json``: the same
values simple-salesforce's own ``json.loads`` gives, as plain dicts, and the same error
for a body that is not JSON."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
import requests
from simple_salesforce.api import Salesforce

from cmsf_core.connection import SalesforceCredentials
from cmsf_core.platforms import OrgClient, salesforce_login
from cmsf_core.salesforce import strip_attributes

CREDENTIALS = SalesforceCredentials(
    instance_url="https://acme.my.salesforce.com", session_id="00D000000000001!session"
)


def _response(
    body: bytes, content_type: str = "application/json;charset=UTF-8"
) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    response.headers["Content-Type"] = content_type
    return response


def test_a_login_gives_the_org_client() -> None:
    assert type(salesforce_login(CREDENTIALS)()) is OrgClient


@pytest.mark.parametrize(
    "body",
    [
        {"totalSize": 1, "done": True, "records": [{"attributes": {"type": "Contact"},
         "Id": "003000000000001AAA", "Email": "zoë@example.com", "Score__c": 12.5,
         "Big__c": 12345678901234567890123, "HasOptedOutOfEmail": False, "Owner": None}]},
        [{"message": "Session expired", "errorCode": "INVALID_SESSION_ID"}],
        {"nextRecordsUrl": "/services/data/v59.0/query/01g-2000", "records": []},
    ],
)  # fmt: skip
def test_bodies_read_as_simple_salesforce_reads_them(body: object) -> None:
    client = OrgClient(instance_url=CREDENTIALS.instance_url, session_id="x")
    plain = Salesforce(instance_url=CREDENTIALS.instance_url, session_id="x")
    response = _response(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    mine, theirs = client.parse_result_to_json(response), plain.parse_result_to_json(response)
    assert mine == theirs == body
    assert json.dumps(mine) == json.dumps(theirs)  # same types (an int stays an int)
    assert not isinstance(mine, OrderedDict)


@pytest.mark.parametrize("body", [b"", b"<html>Service Unavailable</html>", b'{"a": ', b"\xff\xfe"])
def test_a_body_that_is_not_json_raises_what_simple_salesforce_raises(body: bytes) -> None:
    client = OrgClient(instance_url=CREDENTIALS.instance_url, session_id="x")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        client.parse_result_to_json(_response(body))


def test_records_lose_their_attributes_and_keep_every_value() -> None:
    record = {
        "attributes": {"type": "Contact", "url": "/services/data/v59.0/sobjects/Contact/003"},
        "Id": "003000000000001AAA",
        "HasOptedOutOfEmail": False,
        "Score__c": 12.5,
        "Visits__c": 3,
        "Phone": None,
        "Account": {"attributes": {"type": "Account"}, "Name": "Acme", "Owner": None},
        "Parent": OrderedDict([("attributes", {"type": "Account"}), ("Name", "Top")]),
        "CampaignMembers": {"totalSize": 1, "done": True, "records": [{"Id": "00v"}]},
        "Tags__c": ["a", "b"],
    }
    assert strip_attributes(record) == {
        "Id": "003000000000001AAA",
        "HasOptedOutOfEmail": False,
        "Score__c": 12.5,
        "Visits__c": 3,
        "Phone": None,
        "Account": {"Name": "Acme", "Owner": None},
        "Parent": {"Name": "Top"},
        "CampaignMembers": {"totalSize": 1, "done": True, "records": [{"Id": "00v"}]},
        "Tags__c": ["a", "b"],
    }
