"""Errors of the simulated Campaign Monitor account, with the platform's codes.

Tree::

    CmSimError                  anything cm_sim raises on purpose
    ├── CmApiError              an error the API returns: HTTP status + {"Code", "Message"}
    ├── SimulatedTimeout        an injected fault: the transport must time out
    └── ControlError            the control API was misused by scenario or test code

Models raise :class:`CmApiError`; the app turns it into the wire body in one place
(:meth:`CmApiError.to_api`). ``ResultData`` rides along for the import partial
failure (HTTP 400, Code 210), whose valid rows are kept (``commit=True``).

Codes marked "[E]" in ``reference/campaign-monitor-api.md`` come from the transcribed
official docs; codes the reference leaves open are this simulator's documented choice
(see the README section "cm_sim").
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CmApiError",
    "CmSimError",
    "ControlError",
    "SimulatedTimeout",
    "api_error",
]


class CmSimError(Exception):
    """Root of every error cm_sim raises on purpose."""


class CmApiError(CmSimError):
    """An error the Campaign Monitor API would answer with.

    Args:
        code: The platform ``Code``.
        message: The platform ``Message``.
        status: HTTP status of the response.
        result_data: Optional ``ResultData`` object (import partial failure).
        commit: Keep the changes made before the error (only the import's 210 does).
    """

    def __init__(
        self,
        code: int,
        message: str,
        status: int = 400,
        result_data: dict[str, Any] | None = None,
        *,
        commit: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.result_data = result_data
        self.commit = commit

    def to_api(self) -> dict[str, Any]:
        """The wire body: ``{"Code", "Message"}`` plus ``ResultData`` when present."""
        body: dict[str, Any] = {}
        if self.result_data is not None:
            body["ResultData"] = self.result_data
        body["Code"] = self.code
        body["Message"] = self.message
        return body


class SimulatedTimeout(CmSimError):
    """An injected timeout: the in-process transport raises httpx.ReadTimeout instead."""


class ControlError(CmSimError, ValueError):
    """Scenario or test code asked the control API for something impossible."""


# code -> (HTTP status, message). One table, so every model raises the same text.
_CATALOGUE: dict[int, tuple[int, str]] = {
    1: (400, "Invalid Email Address"),
    50: (401, "Must supply a valid HTTP Basic Authorization header"),
    100: (401, "Invalid API Key"),
    101: (400, "Invalid ListID"),
    102: (400, "Invalid ClientID"),
    120: (401, "Invalid OAuth Token"),
    121: (401, "Expired OAuth Token"),
    122: (401, "Revoked OAuth Token"),
    150: (400, "Invalid SegmentID"),
    152: (400, "Invalid Company Name"),
    154: (400, "Invalid Country"),
    157: (400, "Invalid Timezone"),
    172: (400, "You can create a maximum of five (5) clients per thirty (30) minutes"),
    176: (400, "Email address not in suppression list"),
    201: (400, "New email address already subscribed"),
    203: (400, "Subscriber not in list or has already been removed."),
    204: (400, "In Suppression List"),
    205: (400, "Is Deleted"),
    206: (400, "Is Unsubscribed"),
    207: (400, "Is Bounced"),
    208: (400, "Is Unconfirmed"),
    209: (400, "Subscriber Import limit exceeded. Maximum subscribers per import is 1000"),
    210: (400, "Subscriber Import had some failures"),
    211: (400, "Invalid new email address"),
    212: (400, "No subscribers were provided"),
    214: (400, "Please provide a consent to track value"),
    215: (400, "Invalid consent to track value"),
    216: (400, "Invalid custom field value"),
    220: (400, "Invalid mobile number"),
    221: (400, "Invalid email address and mobile number"),
    222: (400, "Invalid consent to send SMS value"),
    250: (400, "List title must be unique within a client"),
    251: (400, "List title empty"),
    252: (400, "Cannot delete a list that is used by a draft campaign"),
    253: (400, "Invalid custom field key"),
    254: (400, "Invalid field name"),
    255: (400, "Field name already exists"),
    256: (400, "Options are only valid for multi-valued fields"),
    257: (400, "Multi-valued fields need at least one option"),
    259: (400, "Invalid data type"),
    261: (400, "Invalid unsubscribe setting"),
    301: (400, "Invalid CampaignID"),
    302: (400, "Invalid MessageID"),
    304: (400, "Campaign Subject Required"),
    305: (400, "Campaign Name Required"),
    306: (400, "Campaign From Email Address Invalid"),
    310: (400, "Campaign must have at least one list or segment"),
    331: (400, "Campaign has already been sent"),
    337: (400, "The send date must be in the future"),
    341: (400, "Campaign is not scheduled"),
    400: (400, "Failed to deserialize your request. Please check the documentation and try again."),
    403: (403, "Not allowed for a Non-agency Customer"),
    410: (400, "Message cannot be resent"),
    429: (429, "Rate limit exceeded"),
    500: (500, "Internal Server Error"),
    503: (503, "Service Unavailable"),
    600: (400, "Invalid WebhookID"),
    601: (400, "Invalid webhook URL"),
    602: (400, "Invalid webhook payload format"),
    603: (400, "Invalid webhook event"),
    610: (400, "Webhook test delivery failed"),
    800: (400, "Invalid page number"),
    801: (400, "Invalid page size, must be between 10 and 1000"),
    802: (400, "Invalid order field"),
    803: (400, "Invalid order direction"),
    850: (400, "Invalid count, must be between 1 and 200"),
    904: (400, "Invalid sentBeforeID"),
    905: (400, "Invalid sentAfterID"),
    920: (400, "Invalid from date"),
    922: (400, "Invalid to date"),
    924: (400, "Specify either smartEmailID or group, not both"),
    926: (400, "Invalid smart email ID"),
    932: (400, "Invalid status"),
    952: (400, "At least one recipient is required"),
    954: (400, "Too many recipients, the maximum is 25"),
    974: (400, "Please provide a consent to track value"),
    996: (400, "Data exceeds the maximum size of 100 KB"),
    3000: (400, "Invalid JourneyID"),
    3002: (400, "Invalid Journey EmailID"),
}


def api_error(code: int, message: str | None = None, **extra: Any) -> CmApiError:
    """Build the platform error for ``code`` from the catalogue.

    Args:
        code: A Campaign Monitor error code known to the simulator.
        message: Override the catalogue message (e.g. to name the field in error).
        **extra: ``result_data`` and ``commit`` for :class:`CmApiError`.

    Returns:
        The error, ready to raise.

    Raises:
        KeyError: If ``code`` is not in the catalogue (a simulator bug, not user input).
    """
    status, text = _CATALOGUE[code]
    return CmApiError(code, message or text, status, **extra)
