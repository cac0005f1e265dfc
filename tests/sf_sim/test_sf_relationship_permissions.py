"""Object read permission holds on every object a query touches, through every query API.

A user without read access to Account sees no Account anywhere: not FROM Account, not
through ``Contact.Account`` (parent path, filter or ORDER BY), not as the ``Contacts``
of an Account, not in a semi- or anti-join. The refusal carries the platform's code:
``INVALID_TYPE`` where the object names the FROM, ``INVALID_FIELD`` where a
relationship leads to it. Also: a deactivated user's sessions and a user's sessions
after a password reset end.
"""

from __future__ import annotations

import json

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from sf_sim import Org

PROBES: list[tuple[str, str, str]] = [
    ("from", "SELECT Id FROM Account", "INVALID_TYPE"),
    ("parent-field", "SELECT Id, Account.Name FROM Contact", "INVALID_FIELD"),
    ("parent-id", "SELECT Account.Id FROM Contact", "INVALID_FIELD"),
    ("parent-filter", "SELECT Id FROM Contact WHERE Account.Name = 'Acme'", "INVALID_FIELD"),
    ("parent-order", "SELECT Id FROM Contact ORDER BY Account.Name", "INVALID_FIELD"),
    ("grandparent", "SELECT Id FROM CampaignMember WHERE Contact.Account.Name != null", "INVALID_FIELD"),
    ("child-subquery", "SELECT Id, (SELECT Id FROM Contacts) FROM Account", "INVALID_TYPE"),
    ("semi-join", "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)", "INVALID_TYPE"),
    ("anti-join", "SELECT Id FROM Contact WHERE AccountId NOT IN (SELECT Id FROM Account)", "INVALID_TYPE"),
]  # fmt: skip
CHILD_PROBES: list[tuple[str, str, str]] = [
    ("child-of-readable-parent", "SELECT Id, (SELECT Id FROM Contacts) FROM Account", "INVALID_TYPE"),
    ("semi-join-child", "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", "INVALID_TYPE"),
]  # fmt: skip


@pytest.fixture
def restricted(sf_org: Org) -> Org:
    account = sf_org.create("Account", {"Name": "Acme"})
    sf_org.create("Contact", {"LastName": "Lee", "AccountId": account})
    sf_org.control.set_object_permissions("Account", read=False)
    return sf_org


def _code(exc: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> str:
    return str(exc.value.content[0]["errorCode"])


@pytest.mark.parametrize(("soql", "code"), [p[1:] for p in PROBES], ids=[p[0] for p in PROBES])
@pytest.mark.parametrize("include_deleted", [False, True], ids=["query", "queryAll"])
def test_query_refuses_restricted_objects(
    restricted: Org, sf_client: Salesforce, soql: str, code: str, include_deleted: bool
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.query(soql, include_deleted=include_deleted)
    assert _code(exc) == code


@pytest.mark.parametrize(
    ("soql", "code"), [p[1:] for p in CHILD_PROBES], ids=[p[0] for p in CHILD_PROBES]
)
def test_restricted_child_object_is_refused(
    sf_org: Org, sf_client: Salesforce, soql: str, code: str
) -> None:
    sf_org.create("Account", {"Name": "Acme"})
    sf_org.control.set_object_permissions("Contact", read=False)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.query(soql)
    assert _code(exc) == code


def test_readable_objects_still_answer(restricted: Org, sf_client: Salesforce) -> None:
    assert sf_client.query("SELECT Id, LastName FROM Contact")["totalSize"] == 1


def test_polymorphic_owner_drops_only_the_restricted_target(
    sf_org: Org, sf_client: Salesforce
) -> None:
    sf_org.create("Lead", {"LastName": "Lee", "Company": "Acme"})
    sf_org.control.set_object_permissions("Group", read=False)
    rows = sf_client.query("SELECT Owner.Name FROM Lead")["records"]
    assert rows[0]["Owner"]["Name"]


@pytest.mark.parametrize(("soql", "code"), [p[1:] for p in PROBES], ids=[p[0] for p in PROBES])
def test_composite_subrequest_refuses_restricted_objects(
    restricted: Org, sf_client: Salesforce, soql: str, code: str
) -> None:
    reply = sf_client.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {"method": "GET", "url": f"/services/data/v59.0/query?q={soql}", "referenceId": "q"}
            ]
        },
    )
    sub = reply["compositeResponse"][0]
    assert sub["httpStatusCode"] == 400
    assert sub["body"][0]["errorCode"] == code


@pytest.mark.parametrize(
    ("soql", "code"),
    [p[1:] for p in PROBES if p[0] not in ("child-subquery",)],
    ids=[p[0] for p in PROBES if p[0] not in ("child-subquery",)],
)
def test_bulk2_query_refuses_restricted_objects(
    restricted: Org, sf_client: Salesforce, soql: str, code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful(
            "jobs/query", method="POST", data=json.dumps({"operation": "query", "query": soql})
        )
    assert _code(exc) == code


@pytest.mark.parametrize(("soql", "code"), [p[1:] for p in PROBES], ids=[p[0] for p in PROBES])
def test_bulk1_query_batch_fails_on_restricted_objects(
    restricted: Org, sf_client: Salesforce, soql: str, code: str
) -> None:
    job = sf_client.bulk.Contact._create_job(operation="query", use_serial=False)  # type: ignore[union-attr]
    batch = sf_client.bulk.Contact._add_batch(job["id"], data=soql, operation="query")  # type: ignore[union-attr]
    state = sf_client.bulk.Contact._get_batch(job["id"], batch["id"])  # type: ignore[union-attr]
    assert state["state"] == "Failed"
    assert state["stateMessage"].startswith(code)


def _session_of(org: Org, username: str, password: str) -> Salesforce:
    with org.store.lock:
        session_id, _ = org.sessions.soap_login(username, password)
    return Salesforce(instance_url=org.instance_url, session_id=session_id, session=org.session())


def test_deactivated_users_sessions_end(sf_org: Org) -> None:
    user = sf_org.control.add_user(
        "ops@acme.example.com", password="pw-1", profile="System Administrator"
    )
    sf = _session_of(sf_org, "ops@acme.example.com", "pw-1")
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    sf_org.update("User", user, {"IsActive": False})
    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.query("SELECT Id FROM Contact")
    assert exc.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_password_reset_ends_the_users_sessions(sf_org: Org) -> None:
    sf_org.control.add_user("ops@acme.example.com", password="pw-1", profile="System Administrator")
    sf_org.control.add_user("dev@acme.example.com", password="pw-3", profile="System Administrator")
    ops = _session_of(sf_org, "ops@acme.example.com", "pw-1")
    dev = _session_of(sf_org, "dev@acme.example.com", "pw-3")
    sf_org.control.set_password("ops@acme.example.com", "pw-2")
    with pytest.raises(SalesforceExpiredSession):
        ops.query("SELECT Id FROM Contact")
    assert dev.query("SELECT Id FROM Contact")["totalSize"] == 0  # other users keep theirs
