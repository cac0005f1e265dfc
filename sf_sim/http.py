"""What handlers receive and return: the request context and the reply, free of WSGI.

The same handlers serve real HTTP requests (through :mod:`sf_sim.app`) and the
subrequests of ``composite`` and ``composite/batch``, so they read a
:class:`RequestContext` and return a :class:`Reply` instead of touching WSGI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sf_sim.exceptions import SalesforceApiError

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["MAX_BODY_BYTES", "Dispatcher", "Reply", "RequestContext"]

MAX_BODY_BYTES = 150 * 1024 * 1024
"""Largest request body accepted (a Bulk API 2.0 upload's limit)."""


@dataclass
class Reply:
    """A handler's answer.

    Attributes:
        status: HTTP status.
        body: JSON-ready value, text, bytes, or None for no body.
        headers: Extra response headers.
        content_type: Media type of a text or bytes body.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"

    def payload(self) -> bytes:
        """The body as bytes."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and not self.content_type.startswith("application/json"):
            return self.body.encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


class Dispatcher(Protocol):
    """What a handler may ask of the app serving it: run a composite subrequest."""

    def dispatch_internal(
        self, parent: RequestContext, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> Reply:
        """Answer a subrequest with the parent's session (see :class:`~sf_sim.app.SalesforceApp`)."""


@dataclass
class RequestContext:
    """One request as handlers see it.

    Attributes:
        app: The app (for composite's internal dispatch).
        org: The org.
        method: HTTP method, upper case.
        path: The request path (decoded).
        raw_path: The request path as sent (percent-encoding kept), for external Id values.
        args: Query-string parameters (first value of each).
        headers: Request headers (case-insensitive lookups via :meth:`header`).
        body: Raw request body.
        params: Named groups matched in the route.
        version: API version from the path (``59.0``), or the default.
        host: The Host the request was sent to.
        user_id: The authenticated user, once known.
    """

    app: Dispatcher
    org: Org
    method: str
    path: str
    raw_path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    version: str = "59.0"
    host: str = ""
    user_id: str | None = None
    in_composite: bool = False

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            SalesforceApiError: ``JSON_PARSER_ERROR`` (400) for a missing or malformed body.
        """
        if not self.body.strip():
            raise SalesforceApiError(
                "JSON_PARSER_ERROR",
                "No content to map due to end-of-input at [line:1, column:0]",
                400,
            )
        try:
            value = json.loads(self.body)
            json.dumps(value, ensure_ascii=False).encode(
                "utf-8"
            )  # lone surrogates (``"\ud800"``) are no text
            return value
        except UnicodeEncodeError as exc:
            raise SalesforceApiError(
                "JSON_PARSER_ERROR", "Invalid UTF-8 in a string value (a lone surrogate)", 400
            ) from exc
        except RecursionError as exc:
            raise SalesforceApiError(
                "JSON_PARSER_ERROR", "JSON nesting depth exceeds the maximum allowed", 400
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            column = getattr(exc, "colno", 1)
            raise SalesforceApiError(
                "JSON_PARSER_ERROR",
                f"Unexpected character: expected a valid value at [line:{line}, column:{column}]",
                400,
            ) from exc

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object.

        Raises:
            SalesforceApiError: ``JSON_PARSER_ERROR`` unless the body is a JSON object.
        """
        value = self.json()
        if not isinstance(value, dict):
            raise SalesforceApiError(
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of object from START_ARRAY value at [line:1, column:1]"
                if isinstance(value, list)
                else "Cannot deserialize instance of object from a scalar value at [line:1, column:1]",
                400,
            )
        return value
