"""Objects the sync user cannot use, learnt as a run goes: a platform license, say.

A Salesforce Platform license typically gives no access to Leads or Campaigns (the FAQ:
"Platform licenses can be quite limiting"). A sync user on one cannot query Lead
(``INVALID_TYPE``), so every Lead lookup, opt-out and create rule would fail, record by
record and job by job. Instead, the first read of such an object that Salesforce refuses
marks it unusable for the run (:meth:`ObjectAccess.rows`); the parts of the sync that need
it are skipped (memberships stay unlinked to Leads, linked Salesforce Campaigns and their
members are left alone), and the run ends with one ``CMSF-LICENSE`` message naming what
was skipped. The next run tries again, so granting access is all it takes.

No call is made to find out: the reads the sync makes anyway tell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from cmsf_core.errors import AccessError

if TYPE_CHECKING:
    from cmsf_core.messages import MaintenanceLog

__all__ = ["ObjectAccess"]

T = TypeVar("T")

WATCHED = ("Lead", "Campaign", "CampaignMember", "CampaignMemberStatus")
"""Standard objects a limited license may lack that the sync can do without."""


class ObjectAccess:
    """The objects found unusable in this run, and what was skipped for each."""

    def __init__(self) -> None:
        self.skipped: dict[str, list[str]] = {}

    def usable(self, sobject: str) -> bool:
        """False once a read of ``sobject`` was refused in this run."""
        return sobject not in self.skipped

    def skip(self, sobject: str, what: str) -> None:
        """Note that ``what`` was skipped because ``sobject`` cannot be used."""
        done = self.skipped.setdefault(sobject, [])
        if what not in done:
            done.append(what)

    def rows(
        self, sobject: str, what: str, read: Callable[[], Iterable[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Run a read of ``sobject``; no rows if the sync user cannot see the object.

        Args:
            sobject: The object the read is on.
            what: What the sync does with it ("linking memberships to Leads").
            read: Makes the read (a query of the gateway).

        Raises:
            AccessError: For a hidden *field*, or another object (those are real failures).
        """
        if not self.usable(sobject):
            self.skip(sobject, what)
            return []
        try:
            return list(read())
        except AccessError as error:
            if error.field_name is not None or error.object_name.lower() != sobject.lower():
                raise
            self.skip(sobject, what)
            return []

    def guard(self, sobject: str, what: str, call: Callable[[], T], default: T) -> T:
        """Run ``call`` unless ``sobject`` is unusable; ``default`` if it is or turns out so."""
        if not self.usable(sobject):
            self.skip(sobject, what)
            return default
        try:
            return call()
        except AccessError as error:
            if error.field_name is not None or error.object_name not in WATCHED:
                raise
            self.skip(error.object_name, what)
            return default

    def report(self, log: MaintenanceLog) -> None:
        """One ``CMSF-LICENSE`` message naming the objects and what the run skipped."""
        if not self.skipped:
            return
        objects = ", ".join(sorted(self.skipped))
        parts = "; ".join(
            f"{sobject}: {', '.join(what)}" for sobject, what in sorted(self.skipped.items())
        )
        log.raise_message(
            "Warning",
            "runtime",
            "CMSF-LICENSE",
            f"The sync user cannot use {objects}; the sync skipped what needs them",
            f"Skipped — {parts}. A Salesforce Platform license typically lacks Leads and "
            "Campaigns: give the sync user a full Salesforce license or access to these "
            "objects; the next run does the skipped work.",
        )
