"""A small world for the Salesforce -> Campaign Monitor tests, and what they look at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.runtime import RunReport
from scenarios.world import World, WorldSpec, build_world, engine_for

SPEC = WorldSpec(
    seed=5,
    clients=1,
    lists_per_client=2,
    subscribers_per_list=8,
    campaigns_per_client=0,
    other_contacts=4,
)


@dataclass
class Push:
    """A connected world, synced once, with helpers to configure and inspect the push."""

    world: World
    engine: Engine
    clock: VirtualClock

    @property
    def org(self) -> Any:
        return self.world.org

    @property
    def account(self) -> Any:
        return self.world.account

    def sync(self, *, status: str = "completed") -> RunReport:
        """Let an hour pass and run the sync; it must end with ``status``."""
        self.clock.advance(hours=1)
        report = self.engine.sync()
        assert report.status == status, (report.reason, [m.detail for m in report.messages])
        return report

    def list(self, index: int) -> tuple[str, str]:
        """``(Campaign Monitor id, Salesforce Id)`` of the ``index``-th seeded list (1-based)."""
        cm_id = self.world.summary["lists"][index - 1]
        row = self.org.query(f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{cm_id}'")[0]
        return cm_id, row["Id"]

    def rule(
        self,
        index: int,
        criteria: str,
        *,
        sobject: str = "Contact",
        unsubscribe: bool = False,
        active: bool = True,
        name: str = "Rule",
    ) -> str:
        """Create a subscriber rule for list ``index``; return its Id."""
        result = self.org.insert(
            "CMSF_Subscriber_Rule__c",
            [
                {
                    "Name": name,
                    "List__c": self.list(index)[1],
                    "Object__c": sobject,
                    "Criteria__c": criteria,
                    "Active__c": active,
                    "Unsubscribe_When_Not_Met__c": unsubscribe,
                }
            ],
        )[0]
        assert result.success, result.errors
        return str(result.id)

    def mapping(self, index: int, sf_field: str, cm_field: str, *, sobject: str = "Contact") -> str:
        """Map a Salesforce field to a Campaign Monitor field of list ``index``."""
        result = self.org.insert(
            "CMSF_Field_Mapping__c",
            [
                {
                    "Name": f"{sf_field} to {cm_field}",
                    "List__c": self.list(index)[1],
                    "Object__c": sobject,
                    "Salesforce_Field__c": sf_field,
                    "CM_Field__c": cm_field,
                    "Direction__c": "Salesforce To Campaign Monitor",
                }
            ],
        )[0]
        assert result.success, result.errors
        return str(result.id)

    def contact(self, email: str, **fields: Any) -> str:
        """Create a Contact; return its Id."""
        values = {"LastName": email.split("@")[0].title(), "Email": email, **fields}
        result = self.org.insert("Contact", [values])[0]
        assert result.success, result.errors
        return str(result.id)

    def subscriber(self, index: int, email: str) -> dict[str, Any] | None:
        """The subscriber as Campaign Monitor's API shows it (None when not in the list)."""
        with self.account.client() as http:
            reply = http.get(
                f"/subscribers/{self.list(index)[0]}.json",
                params={
                    "email": email,
                    "includetrackingpreference": "true",
                    "includesmspreference": "true",
                },
            )
        return reply.json() if reply.status_code == 200 else None

    def fields(self, index: int, email: str) -> dict[str, list[str]]:
        """A subscriber's custom fields by name."""
        found = self.subscriber(index, email) or {}
        out: dict[str, list[str]] = {}
        for item in found.get("CustomFields") or []:
            out.setdefault(item["Key"], []).append(item["Value"])
        return out

    def writes(self) -> list[dict[str, Any]]:
        """Every request that wrote to Campaign Monitor so far."""
        return [e for e in self.account.request_log() if e["method"] not in ("GET", "HEAD")]

    def member(self, index: int, email: str) -> dict[str, Any] | None:
        """The org's membership record of ``email`` in list ``index``."""
        rows = self.org.query(
            "SELECT Id, Email__c, State__c, CM_Id__c, Contact__c, Lead__c FROM CMSF_List_Member__c "
            f"WHERE List__c = '{self.list(index)[1]}' AND Email__c = '{email}'"
        )
        return rows[0] if rows else None

    def seeded(
        self, index: int, state: str = "Active", *, linked: str | None = "Contact__c"
    ) -> list[dict[str, Any]]:
        """Memberships of list ``index`` in ``state`` (linked to a Contact by default)."""
        where = f" AND {linked} != null" if linked else ""
        return list(
            self.org.query(
                "SELECT Id, Email__c, Contact__c, Lead__c FROM CMSF_List_Member__c "
                f"WHERE List__c = '{self.list(index)[1]}' AND State__c = '{state}'{where} ORDER BY Email__c"
            )
        )


def make_push(settings: dict[str, Any] | None = None, spec: WorldSpec = SPEC) -> Push:
    """A connected world synced once (the push has learned every record's baseline)."""
    clock = VirtualClock()
    world = build_world(spec, clock=clock)
    engine = engine_for(world)
    engine.connect()
    if settings:
        engine.change_settings(settings)
    push = Push(world, engine, clock)
    push.sync()
    return push
