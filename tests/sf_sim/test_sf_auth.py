from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from cmsf_core.clock import VirtualClock
from sf_sim import Org


@pytest.fixture
def org(clock: VirtualClock) -> Org:
    org = Org(clock=clock)
    org.sessions.set_password(org.admin_username, "s3cret-pw", "TOKEN123")
    org.sessions.add_connected_app("ck-1", "cs-1", run_as=org.admin_username)
    return org


def _count(sf: Salesforce) -> int:
    return int(sf.query("SELECT COUNT() FROM User")["totalSize"])


@pytest.mark.parametrize(
    "domain", ["login", "test", "acme.my"], ids=["login-host", "test-host", "my-domain"]
)
def test_soap_login_with_password_and_token(org: Org, domain: str) -> None:
    sf = Salesforce(
        username=org.admin_username,
        password="s3cret-pw",
        security_token="TOKEN123",
        domain=domain,
        session=org.session(),
    )
    assert sf.sf_instance == "acme.my.salesforce.com"
    assert _count(sf) == 2


def test_soap_login_with_organization_id(org: Org) -> None:
    org.sessions.set_password(org.admin_username, "trusted-ip-pw")
    sf = Salesforce(
        username=org.admin_username,
        password="trusted-ip-pw",
        organizationId=org.org_id[:15],
        session=org.session(),
    )
    assert _count(sf) == 2


@pytest.mark.parametrize(
    ("username", "password", "token"),
    [
        ("admin@acme.example.com", "wrong", "TOKEN123"),
        ("nobody@example.com", "s3cret-pw", "TOKEN123"),
        ("admin@acme.example.com", "s3cret-pw", ""),
    ],
    ids=["bad-password", "unknown-user", "missing-token"],
)
def test_soap_login_failure_is_invalid_login(
    org: Org, username: str, password: str, token: str
) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        Salesforce(
            username=username, password=password, security_token=token, session=org.session()
        )
    assert exc.value.code == "INVALID_LOGIN"
    assert "s3cret-pw" not in str(exc.value) and "TOKEN123" not in str(exc.value)


def test_soap_fault_is_http_500_with_sf_exception_code(org: Org) -> None:
    body = "<env:Envelope xmlns:env='http://schemas.xmlsoap.org/soap/envelope/'><env:Body><n1:login xmlns:n1='urn:partner.soap.sforce.com'><n1:username>x</n1:username><n1:password>y</n1:password></n1:login></env:Body></env:Envelope>"
    response = org.session().post(
        "https://login.salesforce.com/services/Soap/u/59.0",
        data=body,
        headers={"SOAPAction": "login"},
    )
    assert response.status_code == 500
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in response.text


def test_login_response_has_real_elements(org: Org) -> None:
    body = f"<env:Envelope xmlns:env='http://schemas.xmlsoap.org/soap/envelope/'><env:Body><n1:login xmlns:n1='urn:partner.soap.sforce.com'><n1:username>{org.admin_username}</n1:username><n1:password>s3cret-pwTOKEN123</n1:password></n1:login></env:Body></env:Envelope>"
    text = org.session().post("https://login.salesforce.com/services/Soap/u/59.0", data=body).text
    for element in (
        "<sessionId>",
        "<serverUrl>https://acme.my.salesforce.com/services/Soap/u/59.0/",
        "<sessionSecondsValid>7200<",
        f"<organizationId>{org.org_id}<",
    ):
        assert element in text


def test_oauth_password_flow(org: Org) -> None:
    sf = Salesforce(
        username=org.admin_username,
        password="s3cret-pwTOKEN123",
        consumer_key="ck-1",
        consumer_secret="cs-1",
        session=org.session(),
    )
    assert _count(sf) == 2


def test_oauth_client_credentials_flow(org: Org) -> None:
    sf = Salesforce(
        consumer_key="ck-1", consumer_secret="cs-1", domain="acme.my", session=org.session()
    )
    assert _count(sf) == 2


def test_oauth_jwt_bearer_flow(org: Org) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    org.sessions.add_connected_app("jwt-app", "unused", certificate=public)
    sf = Salesforce(
        username=org.admin_username,
        consumer_key="jwt-app",
        privatekey=private,
        session=org.session(),
    )
    assert _count(sf) == 2
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        Salesforce(
            username=org.admin_username,
            consumer_key="jwt-app",
            privatekey=forged,
            session=org.session(),
        )
    assert exc.value.code == "invalid_grant"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"grant_type": "password", "client_id": "nope", "client_secret": "x"},
            "invalid_client_id",
        ),
        (
            {"grant_type": "password", "client_id": "ck-1", "client_secret": "wrong"},
            "invalid_client",
        ),
        (
            {
                "grant_type": "password",
                "client_id": "ck-1",
                "client_secret": "cs-1",
                "username": "admin@acme.example.com",
                "password": "bad",
            },
            "invalid_grant",
        ),
        ({"grant_type": "implicit"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "invalid_client_id"),
        (
            {"grant_type": "client_credentials", "client_id": "ck-1", "client_secret": "cs-1"},
            "invalid_grant",
        ),
        ({}, "unsupported_grant_type"),
    ],
    ids=[
        "unknown-client",
        "bad-secret",
        "bad-password",
        "unsupported-grant",
        "code-without-client",
        "client-credentials-on-login-host",
        "empty",
    ],
)
def test_oauth_failures_are_400_with_error_pair(org: Org, form: dict[str, str], error: str) -> None:
    response = org.session().post("https://login.salesforce.com/services/oauth2/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error and "error_description" in response.json()


def test_oauth_success_shape(org: Org) -> None:
    response = org.session().post(
        "https://acme.my.salesforce.com/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("ck-1", "cs-1"),
    )
    assert {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"} <= set(
        response.json()
    )
    assert response.json()["instance_url"] == "https://acme.my.salesforce.com"


def test_session_id_and_instance_mode(org: Org) -> None:
    session_id = org.sessions.open(org.running_user_id)
    sf = Salesforce(session_id=session_id, instance_url=org.instance_url, session=org.session())
    assert _count(sf) == 2


def test_expired_session_relogs_in_with_credentials(org: Org, clock: VirtualClock) -> None:
    sf = Salesforce(
        username=org.admin_username,
        password="s3cret-pw",
        security_token="TOKEN123",
        session=org.session(),
    )
    old = sf.session_id
    clock.advance(hours=2, seconds=1)
    assert _count(sf) == 2
    assert sf.session_id != old


def test_expired_session_without_credentials_raises(org: Org, clock: VirtualClock) -> None:
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    clock.advance(hours=2, seconds=1)
    with pytest.raises(SalesforceExpiredSession) as exc:
        _count(sf)
    assert exc.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_activity_keeps_a_session_alive(org: Org, clock: VirtualClock) -> None:
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    for _ in range(5):
        clock.advance(hours=1, minutes=30)
        assert _count(sf) == 2


def test_idle_timeout_is_configurable(clock: VirtualClock) -> None:
    org = Org(clock=clock, session_idle=timedelta(minutes=15))
    sf = Salesforce(
        session_id=org.sessions.open(org.running_user_id),
        instance_url=org.instance_url,
        session=org.session(),
    )
    clock.advance(minutes=16)
    with pytest.raises(SalesforceExpiredSession):
        _count(sf)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Basic abc"],
    ids=["none", "empty", "unknown", "wrong-scheme"],
)
def test_requests_without_a_valid_session_are_401(org: Org, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = org.session().get(
        "https://acme.my.salesforce.com/services/data/v59.0/limits/", headers=headers
    )
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_credentials_never_reach_the_request_log_or_repr(org: Org) -> None:
    sf = Salesforce(
        username=org.admin_username,
        password="s3cret-pw",
        security_token="TOKEN123",
        session=org.session(),
    )
    _count(sf)
    text = repr(org) + repr(list(org.control.request_log))
    for secret in ("s3cret-pw", "TOKEN123", sf.session_id):
        assert secret not in text
