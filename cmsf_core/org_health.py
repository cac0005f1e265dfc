"""The org's own state that an admin should know about: its Apex queue and its storage.

Read by ``cmsf status`` and ``cmsf doctor`` (the runtime warns about storage on its own,
from the limits every run reads):

- **Apex queue** (:func:`apex_queue`): batch jobs running, jobs ``Holding`` in the flex
  queue (and those holding for more than an hour: the FAQ's "jobs holding indefinitely"),
  and stale ``ApexToken`` jobs sitting ``Queued`` (the FAQ's query), with the FAQ's advice.
  The sync runs outside Salesforce, so these never block it directly; they matter where
  its writes fire triggers that start async work, and they are what admins ask about.
- **Storage** (:func:`storage`): the org's data storage from the ``limits`` resource, and
  what the sync's own records use, estimated at about 2 KB a record from the journal's
  shadow index (no call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant

if TYPE_CHECKING:
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.state import Journal

__all__ = [
    "HOLDING_AGE",
    "RECORD_BYTES",
    "STALE_TOKEN_AGE",
    "ApexQueue",
    "Storage",
    "apex_queue",
    "storage",
    "synced_records",
]

STALE_TOKEN_AGE = timedelta(hours=1)
"""An ``ApexToken`` job Queued longer than this is stale (the FAQ's query finds them)."""
HOLDING_AGE = timedelta(hours=1)
"""A batch job Holding longer than this waits on something that is not moving."""
FLEX_QUEUE_MAX = 100
RECORD_BYTES = 2048
"""Data storage a record of the sync's objects uses (the platform counts about 2 KB)."""

TOKEN_ADVICE = (
    "Salesforce Support must remove stuck Apex Token jobs: send them these job Ids (the FAQ's "
    "query: SELECT Id, CreatedDate FROM AsyncApexJob WHERE JobType='ApexToken' AND "
    "Status = 'Queued')"
)
HOLDING_ADVICE = (
    "Salesforce runs five batch jobs at a time and holds the rest in the flex queue; jobs "
    "that stay Holding are a platform issue: check Setup > Apex Jobs and Setup > Apex Flex "
    "Queue, and contact Salesforce Support with the job Ids"
)


def _instant(value: Any) -> datetime:
    return parse_instant(str(value).replace("+0000", "+00:00"))


@dataclass
class ApexQueue:
    """The org's async Apex queue as an admin reads it.

    Attributes:
        active: Batch jobs Queued, Preparing or Processing (five at most run).
        holding: Batch jobs Holding in the flex queue.
        holding_long: Ids of jobs Holding for more than :data:`HOLDING_AGE`.
        stale_tokens: Ids of ``ApexToken`` jobs Queued for more than :data:`STALE_TOKEN_AGE`.
    """

    active: int = 0
    holding: int = 0
    holding_long: list[str] = field(default_factory=list)
    stale_tokens: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``fail`` (stale tokens, a full flex queue), ``warn`` (long holds) or ``pass``."""
        if self.stale_tokens or self.holding >= FLEX_QUEUE_MAX:
            return "fail"
        if self.holding_long or self.holding >= FLEX_QUEUE_MAX * 0.8:
            return "warn"
        return "pass"

    @property
    def summary(self) -> str:
        """One line of facts."""
        parts = [f"{self.active} batch job(s) running or queued", f"{self.holding} Holding"]
        if self.holding_long:
            parts.append(f"{len(self.holding_long)} Holding for more than an hour")
        if self.holding >= FLEX_QUEUE_MAX:
            parts.append("the flex queue is full")
        parts.append(
            f"{len(self.stale_tokens)} stale ApexToken job(s): {', '.join(self.stale_tokens[:5])}"
            if self.stale_tokens
            else "no stale ApexToken jobs"
        )
        return "; ".join(parts)

    @property
    def advice(self) -> str:
        """The FAQ's advice for what was found (empty when all is well)."""
        said = []
        if self.stale_tokens:
            said.append(f"{TOKEN_ADVICE}: {', '.join(self.stale_tokens[:10])}")
        if self.holding_long or self.holding >= FLEX_QUEUE_MAX:
            ids = f": {', '.join(self.holding_long[:10])}" if self.holding_long else ""
            said.append(HOLDING_ADVICE + ids)
        return "; ".join(said)


def apex_queue(gateway: SalesforceGateway, now: datetime) -> ApexQueue:
    """Read the org's Apex queue (three queries)."""
    found = ApexQueue()
    for row in gateway.query(
        "SELECT Id, CreatedDate FROM AsyncApexJob WHERE JobType='ApexToken' AND Status = 'Queued'"
    ):
        if now - _instant(row["CreatedDate"]) > STALE_TOKEN_AGE:
            found.stale_tokens.append(str(row["Id"]))
    for row in gateway.query(
        "SELECT Id, CreatedDate FROM AsyncApexJob WHERE Status = 'Holding' ORDER BY CreatedDate, Id"
    ):
        found.holding += 1
        if now - _instant(row["CreatedDate"]) > HOLDING_AGE:
            found.holding_long.append(str(row["Id"]))
    found.active = gateway.count(
        "SELECT COUNT() FROM AsyncApexJob WHERE JobType = 'BatchApex' "
        "AND Status IN ('Queued', 'Preparing', 'Processing')"
    )
    return found


@dataclass
class Storage:
    """The org's data storage and the sync's share of it.

    Attributes:
        max_mb: The org's data storage (``DataStorageMB.Max``).
        used_mb: Used now.
        synced_records: Records of the sync's own objects the journal knows of.
        warn_percent: The share at which runs warn (``storage_warn_percent``).
    """

    max_mb: int
    used_mb: int
    synced_records: int
    warn_percent: int

    @property
    def share(self) -> float:
        """Used share of the org's data storage (0 when the org does not say)."""
        return self.used_mb / self.max_mb if self.max_mb else 0.0

    @property
    def synced_mb(self) -> float:
        """The sync's records, at about 2 KB each."""
        return self.synced_records * RECORD_BYTES / 1024 / 1024

    @property
    def tight(self) -> bool:
        """At or above the warning share."""
        return bool(self.max_mb) and self.used_mb * 100 >= self.max_mb * self.warn_percent


def synced_records(journal: Journal) -> int:
    """Records of the sync's own objects the journal knows it wrote (its shadow index,
    wherever the journal keeps it: PostgreSQL with the distributed runtime)."""
    from cmsf_core.shadow import Shadow

    return Shadow(journal).store.count_synced()


def storage(limits: dict[str, Any], journal: Journal, warn_percent: int) -> Storage:
    """The org's storage from a ``limits`` body, and the sync's share from the journal."""
    data = limits.get("DataStorageMB") or {}
    maximum = int(data.get("Max") or 0)
    return Storage(
        max_mb=maximum,
        used_mb=maximum - int(data.get("Remaining") or 0) if maximum else 0,
        synced_records=synced_records(journal),
        warn_percent=warn_percent,
    )
