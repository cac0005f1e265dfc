"""What a pass of the sender did: each item's outcome, and the messages it raises.

:class:`SendOutcome` is what ``cmsf send-smart-email`` reports per item; :class:`PassBook`
collects a pass's outcomes and the item updates, processes and problems it will write;
the ``*_message`` functions raise the pass's ``CMSF-TX-*`` maintenance messages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmsf_core.errors import CmsfError
    from cmsf_core.messages import MaintenanceLog
    from cmsf_core.transactional.items import SendItem
    from cmsf_core.transactional.mappings import Resolved, SmartEmailMapping

__all__ = [
    "PassBook",
    "SendOutcome",
    "down_message",
    "mapping_message",
    "outcome_of",
    "problem_message",
]

TITLES = {
    "CMSF-TX-REFUSED": ("Error", "Campaign Monitor refused {n} smart email send(s)"),
    "CMSF-TX-REQUEST": ("Warning", "{n} smart email request(s) cannot be sent"),
    "CMSF-TX-GAVE-UP": ("Error", "{n} smart email send(s) gave up after every try"),
    "CMSF-TX-UNKNOWN": ("Error", "{n} smart email send(s) could not be confirmed"),
}


@dataclass
class SendOutcome:
    """What became of one item in this pass (what ``cmsf send-smart-email`` reports).

    Attributes:
        item_id: The queue item.
        record_id: The record it is for.
        mapping: The mapping's name (or Id when it has none).
        status: ``sent``, ``failed``, ``deferred`` (tried again later) or ``in doubt``
            (its send may have gone; it is looked up before anything is sent again).
        message_id: Campaign Monitor's MessageID.
        recipient: The address sent to.
        data: The variables sent (the queue item's key left out).
        consent: ``ConsentToTrack`` sent.
        reason: Why it failed or waits.
        task_id: The Task recording it.
    """

    item_id: str
    record_id: str
    mapping: str
    status: str
    message_id: str | None = None
    recipient: str | None = None
    data: dict[str, Any] | None = None
    consent: str | None = None
    reason: str | None = None
    task_id: str | None = None


@dataclass
class PassBook:
    """Bookkeeping of one pass.

    Attributes:
        outcomes: What became of each item, by item Id.
        updates: Field values to write to each item, by item Id.
        sent: Items whose send went (or was found): item, mapping, MessageID, send.
        processes: Process records to recount.
        problems: Lines of each support code's message.
    """

    outcomes: dict[str, SendOutcome] = field(default_factory=dict)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[tuple[SendItem, SmartEmailMapping, str, Resolved | None]] = field(
        default_factory=list
    )
    processes: set[str] = field(default_factory=set)
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def outcome_of(
    item: SendItem,
    mapping: SmartEmailMapping | None,
    status: str,
    resolved: Resolved | None = None,
    *,
    reason: str | None = None,
    message_id: str | None = None,
) -> SendOutcome:
    """The outcome of one item (its send's recipient, data and consent when it has one)."""
    return SendOutcome(
        item_id=item.id,
        record_id=item.record_id,
        mapping=mapping.name if mapping is not None else item.mapping_id,
        status=status,
        message_id=message_id,
        recipient=resolved.recipient if resolved else None,
        data=dict(resolved.data) if resolved else None,
        consent=resolved.consent if resolved else None,
        reason=reason,
    )


def mapping_message(
    log: MaintenanceLog, job: str, mapping: SmartEmailMapping, problems: list[str]
) -> None:
    """``CMSF-TX-MAPPING``: a mapping that cannot send, and why (one message per mapping)."""
    log.raise_message(
        "Error",
        job,
        "CMSF-TX-MAPPING",
        f"Smart email mapping '{mapping.name}' cannot send",
        f"Mapping '{mapping.name}' ({mapping.id}):\n" + "\n".join(f"- {p}" for p in problems),
        topic=mapping.id,
    )


def down_message(log: MaintenanceLog, job: str, count: int, exc: CmsfError) -> None:
    """``CMSF-TX-DOWN``: Campaign Monitor could not be reached for some sends."""
    log.raise_message(
        "Warning",
        job,
        "CMSF-TX-DOWN",
        f"Campaign Monitor could not be reached for {count} smart email send(s)",
        f"{exc}. A send whose answer was lost is looked up in Campaign Monitor's message "
        "log before anything is sent again; the others wait for the next run.",
    )


def problem_message(log: MaintenanceLog, job: str, code: str, lines: list[str]) -> None:
    """One message for the items of a pass that failed with ``code`` (up to 20 named)."""
    severity, title = TITLES.get(code, ("Error", "{n} smart email send(s) failed"))
    detail = "\n".join(lines[:20]) + (
        f"\n... and {len(lines) - 20} more" if len(lines) > 20 else ""
    )
    log.raise_message(severity, job, code, title.format(n=len(lines)), detail)
