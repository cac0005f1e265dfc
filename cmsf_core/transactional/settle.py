"""Settling sends whose outcome is unknown, through Campaign Monitor's message log.

Campaign Monitor's send takes no idempotency key, so the queue item is the key: every send
carries the item's Id in its data (``cmsf_queue_item``), and the item is marked
``Sending`` (with the time) in Salesforce before the request goes out. An item found
``Sending`` later -- the runner died between the send and the bookkeeping, or the answer
was lost to a timeout or an outage -- is looked up rather than sent again: the smart
email's message log (``GET transactional/messages?smartEmailID=``, newest first) is read
back to a little before the item was marked, and the details of each message sent in that
window (``GET transactional/messages/{id}``) show whose item it carried.

- found: the item was sent; it gets the MessageID (and its Task) and is done;
- not in the window: it was never sent, and may be sent now;
- the window holds more messages than :data:`MAX_LOOKUPS`: the outcome cannot be told, so
  the item fails with that reason and is not sent again (never twice).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cmsf_core.transactional.mappings import ITEM_VARIABLE

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.transactional.items import SendItem
    from cmsf_core.transactional.mappings import SmartEmailMapping

__all__ = ["MAX_LOOKUPS", "SETTLE_AFTER", "SKEW", "Settled", "settle"]

SETTLE_AFTER = timedelta(minutes=2)
"""How long after being marked ``Sending`` an item is looked up (the log may lag a send)."""
SKEW = timedelta(minutes=5)
"""Clock difference allowed between the runner and Campaign Monitor."""
MAX_LOOKUPS = 500
"""Messages whose details one settling reads at most per smart email."""
PAGE = 200


@dataclass
class Settled:
    """What settling found.

    Attributes:
        sent: Item Id -> the MessageID of its send.
        unsent: Items Campaign Monitor never sent.
        unknown: Items whose outcome could not be told (too many messages to look at).
    """

    sent: dict[str, str] = field(default_factory=dict)
    unsent: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)


def settle(
    cm: CampaignMonitorClient, items: Iterable[tuple[SendItem, SmartEmailMapping]]
) -> Settled:
    """Find which in-doubt items Campaign Monitor sent.

    Args:
        cm: The Campaign Monitor client.
        items: In-doubt items (marked ``Sending``, with ``send_started``) and their mappings.

    Raises:
        RetriableError: When Campaign Monitor cannot be read now (the items stay in doubt).
    """
    out = Settled()
    groups: dict[tuple[str, str], list[SendItem]] = defaultdict(list)
    for item, mapping in items:
        groups[(mapping.client_id, mapping.smart_email_id)].append(item)
    for (client_id, smart_email_id), group in sorted(groups.items()):
        wanted = {item.id for item in group}
        since = min(i.send_started for i in group if i.send_started is not None) - SKEW
        found, complete = _walk(cm, client_id, smart_email_id, wanted, since)
        out.sent.update(found)
        rest = wanted - set(found)
        (out.unsent if complete else out.unknown).update(rest)
    return out


def _walk(
    cm: CampaignMonitorClient,
    client_id: str,
    smart_email_id: str,
    wanted: set[str],
    since: datetime,
) -> tuple[dict[str, str], bool]:
    """Read the log back to ``since``; return what was found and whether the window was read whole."""
    found: dict[str, str] = {}
    cursor: str | None = None
    looked = 0
    while True:
        page = cm.messages(client_id, smart_email_id=smart_email_id, sent_before=cursor, count=PAGE)
        for message in page:
            sent_at = _instant(message.get("SentAt"))
            if sent_at is not None and sent_at < since:
                return found, True
            if looked >= MAX_LOOKUPS:
                return found, False
            looked += 1
            message_id = str(message.get("MessageID") or "")
            details = cm.message(message_id, exclude_body=True)
            data = (details.get("Message") or {}).get("Data") or {}
            key = str(data.get(ITEM_VARIABLE) or "") if isinstance(data, dict) else ""
            if key in wanted:
                found[key] = message_id
                if len(found) == len(wanted):
                    return found, True
        if len(page) < PAGE:
            return found, True
        cursor = str(page[-1].get("MessageID") or "")


def _instant(value: object) -> datetime | None:
    """``SentAt`` (ISO 8601 with its offset), or None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
