"""Users' credentials, connected apps, sessions, and the two login endpoints.

- **SOAP login** (``POST /services/Soap/u/{version}``, partner ``login``): username and
  password with the security token appended; answers the real ``loginResponse`` (with
  unprefixed ``sessionId``, ``serverUrl``, ``sessionSecondsValid``,
  ``userInfo/organizationId``) or an HTTP 500 SOAP fault ``INVALID_LOGIN``.
- **OAuth token** (``POST /services/oauth2/token``): ``password``, ``client_credentials``
  (My Domain hosts only, as on the platform) and ``urn:ietf:params:oauth:grant-type:jwt-bearer``
  (assertion signed with the connected app's certificate), and the web server flow's
  ``authorization_code`` and ``refresh_token`` grants (:mod:`sf_sim.oauth`); answers
  ``{access_token, instance_url, id, token_type, issued_at, signature}`` or
  ``{error, error_description}`` with HTTP 400.

Sessions expire after an idle time on the org's virtual clock (two hours by default).
Passwords, security tokens and consumer secrets are kept as salted hashes; session ids,
authorization codes and refresh tokens only as digests, so the org file holds no
credential a client could use. Nothing here ever puts a credential into a message, a log
line or a repr.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import jwt

from sf_sim.exceptions import SalesforceApiError, SfSimError
from sf_sim.identity import identity_url
from sf_sim.ids import to_15
from sf_sim.oauth import OAuthError, WebServerFlow
from sf_sim.schema import format_datetime, parse_datetime

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["LoginError", "OAuthError", "Sessions", "soap_fault", "soap_login_response"]

INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class LoginError(SfSimError):
    """A SOAP login the org refuses (rendered as a SOAP fault)."""

    def __init__(self, code: str = "INVALID_LOGIN", message: str = INVALID_LOGIN) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Session:
    """A live API session (the id itself is never stored)."""

    user_id: str
    last_used: str


def _hash(secret: str, salt: str) -> str:
    return hashlib.sha256((salt + "\x00" + secret).encode()).hexdigest()


def _sid_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    """Authentication state of one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        org.store.conn.execute(
            "CREATE TABLE IF NOT EXISTS _sf_sessions (sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, last_used TEXT NOT NULL)"
        )
        self.web = WebServerFlow(org, self)
        """The web server flow: authorization codes and refresh tokens."""

    # ------------------------------------------------------------------ settings

    @property
    def idle_timeout(self) -> timedelta:
        """How long a session lives without requests."""
        return timedelta(seconds=int(self.org.store.meta("session_seconds", 7200)))

    @idle_timeout.setter
    def idle_timeout(self, value: timedelta) -> None:
        if value.total_seconds() <= 0:
            raise ValueError("the session idle timeout must be positive")
        self.org.store.set_meta("session_seconds", int(value.total_seconds()))

    def set_password(self, username: str, password: str, security_token: str | None = None) -> None:
        """Give a user a password and (optionally) a security token to append to it.

        Raises:
            ValueError: If no user has that username.
        """
        user_id = self.user_id(username)
        if user_id is None:
            raise ValueError("no user with that username")
        salt = self._salt(user_id)
        credentials = self.org.store.meta("credentials", {})
        credentials[user_id] = {
            "password": _hash(password, salt),
            "token": _hash(security_token, salt) if security_token else None,
        }
        self.org.store.set_meta("credentials", credentials)
        self.revoke_user(user_id)  # a new password ends the user's sessions
        if user_id == self.org.store.meta("admin_user_id"):
            self.org.admin_secret = (password, security_token or "")

    def revoke_user(self, user_id: str) -> None:
        """End every session of one user (password reset, deactivation)."""
        self.org.store.conn.execute("DELETE FROM _sf_sessions WHERE user_id = ?", (user_id,))

    def add_connected_app(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        run_as: str | None = None,
        certificate: str | None = None,
        callback_url: str | None = None,
        rotate_refresh_tokens: bool = False,
    ) -> None:
        """Register a connected app.

        Args:
            consumer_key: The app's client id.
            consumer_secret: The app's client secret.
            run_as: Username the client-credentials flow runs as (None disables the flow).
            certificate: PEM public key or certificate that verifies JWT bearer assertions.
            callback_url: Where the web server flow may send its authorization codes.
            rotate_refresh_tokens: Each refresh answers a new refresh token and ends the
                one used ("Enable Refresh Token Rotation").

        Raises:
            ValueError: For a run-as username no active user has.
        """
        apps = self.org.store.meta("connected_apps", {})
        run_as_id = self.user_id(run_as) if run_as else None
        if run_as and run_as_id is None:
            raise ValueError("no user with the run-as username")
        apps[consumer_key] = {
            "secret": _hash(consumer_secret, consumer_key),
            "secret_key": base64.b64encode(
                hashlib.sha256(consumer_secret.encode()).digest()
            ).decode(),
            "run_as": run_as_id,
            "certificate": certificate,
            "callback_urls": [callback_url] if callback_url else [],
            "rotate_refresh_tokens": rotate_refresh_tokens,
        }
        self.org.store.set_meta("connected_apps", apps)

    def user_id(self, username: str | None) -> str | None:
        """The Id of the active user with ``username`` (case-insensitive)."""
        if not username:
            return None
        value = self.org.store.scalar(
            'SELECT Id FROM "User" WHERE Username = ? AND IsActive = 1', (username,)
        )
        return None if value is None else str(value)

    def _salt(self, user_id: str) -> str:
        return user_id

    @staticmethod
    def secret_hash(secret: str, consumer_key: str) -> str:
        """How a connected app's consumer secret is kept (salted with its consumer key)."""
        return _hash(secret, consumer_key)

    def check_password(self, username: str, password: str) -> str | None:
        """The user Id if ``password`` (with the token appended, when one is set) is right."""
        user_id = self.user_id(username)
        if user_id is None:
            return None
        stored = self.org.store.meta("credentials", {}).get(user_id)
        if not stored:
            return None
        salt = self._salt(user_id)
        if stored["token"] is None:
            return (
                user_id if hmac.compare_digest(_hash(password, salt), stored["password"]) else None
            )
        for cut in range(len(password), -1, -1):
            if hmac.compare_digest(
                _hash(password[:cut], salt), stored["password"]
            ) and hmac.compare_digest(_hash(password[cut:], salt), stored["token"]):
                return user_id
        return None

    # ------------------------------------------------------------------ sessions

    def open(self, user_id: str) -> str:
        """Start a session for a user; returns the session id (``00D…!…``)."""
        secret = "".join(self.org.credential_random.choice(_B62) for _ in range(96))
        session_id = f"{to_15(self.org.org_id)}!AQ{secret}"
        now = format_datetime(self.org.clock.now())
        self.org.store.conn.execute(
            "INSERT OR REPLACE INTO _sf_sessions (sid, user_id, last_used) VALUES (?, ?, ?)",
            (_sid_key(session_id), user_id, now),
        )
        self.org.store.conn.execute(
            'UPDATE "User" SET LastLoginDate = ? WHERE Id = ?', (now, user_id)
        )
        return session_id

    def authenticate(self, session_id: str | None) -> str:
        """The user of a live session; touches its idle timer.

        Raises:
            SalesforceApiError: ``INVALID_SESSION_ID`` (401) for a missing, unknown or expired session.
        """
        expired = SalesforceApiError("INVALID_SESSION_ID", "Session expired or invalid", 401)
        if not session_id:
            raise expired
        key = _sid_key(session_id)
        row = self.org.store.select(
            'SELECT s.user_id, s.last_used FROM _sf_sessions s JOIN "User" u ON u.Id = s.user_id '
            "WHERE s.sid = ? AND u.IsActive = 1",
            (key,),
        )
        if not row:
            raise expired
        now = self.org.clock.now()
        if now - parse_datetime(row[0]["last_used"]) > self.idle_timeout:
            self.org.store.conn.execute("DELETE FROM _sf_sessions WHERE sid = ?", (key,))
            raise expired
        self.org.store.conn.execute(
            "UPDATE _sf_sessions SET last_used = ? WHERE sid = ?", (format_datetime(now), key)
        )
        return str(row[0]["user_id"])

    def end(self, session_id: str) -> bool:
        """End one session (``/services/oauth2/revoke``); False when there was none."""
        cursor = self.org.store.conn.execute(
            "DELETE FROM _sf_sessions WHERE sid = ?", (_sid_key(session_id),)
        )
        return bool(cursor.rowcount)

    def revoke_all(self) -> None:
        """End every session (a password reset or sandbox copy does this)."""
        self.org.store.conn.execute("DELETE FROM _sf_sessions")

    # ------------------------------------------------------------------ endpoints

    def soap_login(
        self, username: str | None, password: str | None, organization_id: str | None = None
    ) -> tuple[str, str]:
        """Check a partner ``login``; returns ``(session id, user id)``.

        Raises:
            LoginError: ``INVALID_LOGIN`` for any bad credential (the platform does not say which).
        """
        if not username or password is None:
            raise LoginError()
        if organization_id and to_15(self.org.org_id) != organization_id[:15]:
            raise LoginError()
        user_id = self.check_password(username, password)
        if user_id is None:
            raise LoginError()
        return self.open(user_id), user_id

    def oauth_token(
        self, form: dict[str, str], basic: tuple[str, str] | None, host: str
    ) -> dict[str, Any]:
        """Answer the OAuth token endpoint.

        Raises:
            OAuthError: With the platform's ``error``/``error_description``.
        """
        grant = form.get("grant_type")
        apps = self.org.store.meta("connected_apps", {})
        if grant == "password":
            app = self._client(apps, form.get("client_id"), form.get("client_secret"))
            user_id = self.check_password(form.get("username") or "", form.get("password") or "")
            if user_id is None:
                raise OAuthError("invalid_grant", "authentication failure")
            return self.token_response(user_id, app)
        if grant == "client_credentials":
            key, secret = basic or (form.get("client_id") or "", form.get("client_secret") or "")
            app = self._client(apps, key, secret)
            if host.split(":")[0] in ("login.salesforce.com", "test.salesforce.com"):
                raise OAuthError("invalid_grant", "request not supported on this domain")
            if not app.get("run_as"):
                raise OAuthError("invalid_grant", "no client credentials user enabled")
            return self.token_response(str(app["run_as"]), app)
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._jwt(apps, form.get("assertion") or "")
        if grant == "authorization_code":
            return self.web.exchange_code(form, basic)
        if grant == "refresh_token":
            return self.web.refresh(form, basic)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _client(self, apps: dict[str, Any], key: str | None, secret: str | None) -> dict[str, Any]:
        app = apps.get(key or "")
        if app is None:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not secret or not hmac.compare_digest(_hash(secret, key or ""), app["secret"]):
            raise OAuthError("invalid_client", "invalid client credentials")
        return dict(app)

    def _jwt(self, apps: dict[str, Any], assertion: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        app = apps.get(str(claims.get("iss", "")))
        if app is None:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not app.get("certificate"):
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            jwt.decode(
                assertion,
                _public_key(app["certificate"]),
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        user_id = self.user_id(str(claims.get("sub", "")))
        if user_id is None:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return self.token_response(user_id, app)

    def token_response(self, user_id: str, app: dict[str, Any]) -> dict[str, Any]:
        """A new session of ``user_id`` as the token endpoint answers it (signed for ``app``)."""
        session_id = self.open(user_id)
        issued = str(int(self.org.clock.now().timestamp() * 1000))
        identity = identity_url(self.org, user_id)
        digest = hmac.new(
            base64.b64decode(app["secret_key"]), (identity + issued).encode(), hashlib.sha256
        ).digest()
        return {
            "access_token": session_id,
            "instance_url": self.org.base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api",
        }


def _public_key(pem: str) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = pem.encode()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)


def soap_login_response(org: Org, session_id: str, user_id: str, version: str) -> str:
    """The partner ``loginResponse`` envelope, with the real element names."""
    user = org.store.get("User", user_id) or {}
    base = org.base_url
    org_id = org.org_id
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{base}/services/Soap/m/{version}/{org_id[:15]}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired>"
        f"<sandbox>{'true' if org.is_sandbox else 'false'}</sandbox>"
        f"<serverUrl>{base}/services/Soap/u/{version}/{org_id[:15]}</serverUrl>"
        f"<sessionId>{escape(session_id)}</sessionId>"
        f"<userId>{user_id}</userId>"
        "<userInfo><accessibility>false</accessibility><currencySymbol>$</currencySymbol>"
        "<orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
        "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
        "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
        "<orgHasPersonAccounts>false</orgHasPersonAccounts>"
        f"<organizationId>{org_id}</organizationId>"
        "<organizationMultiCurrency>false</organizationMultiCurrency>"
        f"<organizationName>{escape(org.name)}</organizationName>"
        f"<profileId>{user.get('ProfileId', '')}</profileId>"
        '<roleId xsi:nil="true"/>'
        f"<sessionSecondsValid>{int(org.sessions.idle_timeout.total_seconds())}</sessionSecondsValid>"
        '<userDefaultCurrencyIsoCode xsi:nil="true"/>'
        f"<userEmail>{escape(str(user.get('Email', '')))}</userEmail>"
        f"<userFullName>{escape(str(user.get('Name', '')))}</userFullName>"
        f"<userId>{user_id}</userId>"
        "<userLanguage>en_US</userLanguage><userLocale>en_US</userLocale>"
        f"<userName>{escape(str(user.get('Username', '')))}</userName>"
        f"<userTimeZone>{escape(str(user.get('TimeZoneSidKey', 'GMT')))}</userTimeZone>"
        "<userType>Standard</userType><userUiSkin>Theme3</userUiSkin>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(code: str, message: str) -> str:
    """A partner SOAP fault (HTTP 500) with ``sf:exceptionCode``/``sf:exceptionMessage``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
