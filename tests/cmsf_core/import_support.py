"""A small world for the import wizard tests, and what they look at.

One client with one list (Campaign Monitor fields ``website`` Text, ``age`` Number,
``subscription date`` Date, ``interests`` MultiSelectMany) holding a dozen seeded
subscribers; the engine is connected and synced once. Helpers make Contacts, list views,
reports and imports in the org, run syncs or imports, and read the list back through
Campaign Monitor's API.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.imports.session import ImportReport
from cmsf_core.jobs.imports import ImportSelection
from cmsf_core.runtime import RunReport
from cmsf_core.state import Journal
from scenarios.world import World, WorldSpec, build_world, engine_for, open_world

SPEC = WorldSpec(
    seed=11, clients=1, lists_per_client=1, subscribers_per_list=12, campaigns_per_client=0,
    other_contacts=0,
)  # fmt: skip


@dataclass
class Imports:
    """A connected world, synced once, with helpers for imports."""

    world: World
    engine: Engine
    clock: VirtualClock
    folder: Path | None = None

    def close(self) -> None:
        """Close the simulators and the journal, and remove their files."""
        self.engine.journal.close()
        self.world.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def org(self) -> Any:
        return self.world.org

    @property
    def account(self) -> Any:
        return self.world.account

    @property
    def list_ids(self) -> tuple[str, str]:
        """``(Campaign Monitor id, Salesforce Id)`` of the list."""
        cm_id = self.world.summary["lists"][0]
        row = self.org.query(f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{cm_id}'")[0]
        return cm_id, row["Id"]

    def sync(self, *, status: str = "completed", hours: float = 1) -> RunReport:
        """Let time pass and run the sync; it must end with ``status``."""
        self.clock.advance(hours=hours)
        report = self.engine.sync()
        assert report.status == status, (report.reason, [m.detail for m in report.messages])
        return report

    def run(self, *ids: str, dry_run: bool = False, due: bool = False) -> ImportReport:
        """Run imports alone (``cmsf import run``)."""
        selection = ImportSelection(ids=None if due else tuple(ids), dry_run=dry_run)
        return self.engine.run_imports(selection)

    def contacts(self, count: int, prefix: str = "imp", **fields: Any) -> list[str]:
        """Create ``count`` Contacts ``<prefix><n>@example.org``; return their Ids."""
        rows = [
            {"FirstName": f"{prefix.title()}{n}", "LastName": "Person",
             "Email": f"{prefix}{n}@example.org", **fields}
            for n in range(count)
        ]  # fmt: skip
        results = self.org.insert("Contact", rows)
        assert all(r.success for r in results), [r.errors for r in results if not r.success]
        return [str(r.id) for r in results]

    def list_view(self, prefix: str = "imp", columns: list[str] | None = None) -> str:
        """A Contact list view of the Contacts whose email starts with ``prefix``."""
        return str(
            self.org.list_views.create(
                "Contact",
                f"{prefix} contacts",
                columns=columns or ["Name", "Email", "FirstName", "LastName", "Title"],
                conditions=[{"field": "Email", "operator": "like", "values": [f"{prefix}%"]}],
            )
        )

    def report(self, prefix: str = "imp", columns: list[str] | None = None) -> str:
        """A Contacts & Accounts report of the Contacts whose email starts with ``prefix``."""
        return str(
            self.org.reports.create(
                f"{prefix} report",
                columns=columns or ["FIRST_NAME", "LAST_NAME", "EMAIL", "CONTACT_ID"],
                filters=[{"column": "EMAIL", "operator": "startsWith", "value": prefix}],
            )
        )

    def create(
        self,
        source_type: str,
        source: str,
        *,
        mappings: dict[str, str] | str | None = None,
        name: str = "Import",
        owner: str | None = None,
        **options: Any,
    ) -> str:
        """Create a ``CMSF_Import__c`` record; return its Id."""
        record = {
            "Name": name,
            "List__c": self.list_ids[1],
            "Source_Type__c": source_type,
            "Source__c": source,
            "Mappings__c": mappings if isinstance(mappings, str) or mappings is None
            else json.dumps(mappings),
            "Schedule__c": options.pop("schedule", "None"),
            "Resubscribe__c": options.pop("resubscribe", False),
            "Replace_Subscribers__c": options.pop("replace", False),
            "Trigger_Journeys__c": options.pop("journeys", False),
        }  # fmt: skip
        assert not options, options
        if owner is not None:
            record["OwnerId"] = owner
        result = self.org.insert("CMSF_Import__c", [record])[0]
        assert result.success, result.errors
        return str(result.id)

    def record(self, import_id: str) -> dict[str, Any]:
        """The import record as the org holds it."""
        rows = self.org.query(
            "SELECT Last_Run__c, Last_Status__c, Rows_Read__c, Imported__c, Updated__c, "
            "Failed__c, Removed__c, Salesforce_Calls__c, Last_Error__c, Failures__c "
            f"FROM CMSF_Import__c WHERE Id = '{import_id}'"
        )
        return dict(rows[0])

    def cm(self) -> CampaignMonitorClient:
        """A Campaign Monitor client of the account."""
        return CampaignMonitorClient(
            api_key=self.account.api_key, transport=self.account.transport(), clock=self.clock
        )

    def emails(self, state: str = "Active") -> set[str]:
        """The list's addresses in ``state``, through Campaign Monitor's API."""
        cm = self.cm()
        try:
            return {
                str(s["EmailAddress"]).lower()
                for page in cm.subscriber_pages(self.list_ids[0], state)
                for s in page.results
            }
        finally:
            cm.close()

    def subscriber(self, email: str) -> dict[str, Any]:
        """One subscriber as Campaign Monitor's API shows it (consent and SMS included)."""
        with self.account.client() as http:
            reply = http.get(
                f"/subscribers/{self.list_ids[0]}.json",
                params={"email": email, "includetrackingpreference": "true",
                        "includesmspreference": "true"},
            )  # fmt: skip
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def import_requests(self) -> int:
        """Campaign Monitor import requests made so far."""
        return self.account.api_call_count("/import.json", "POST")


_TEMPLATES: dict[WorldSpec, tuple[Path, str, dict[str, Any]]] = {}
"""Worlds built, connected and synced once per spec (per test process), kept as files."""


def _template(spec: WorldSpec) -> tuple[Path, str, dict[str, Any]]:
    """The files of a connected world synced once, its clock and summary (made once)."""
    if spec not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="cmsf-imports-"))
        atexit.register(shutil.rmtree, folder, True)
        clock = VirtualClock()
        world = build_world(
            spec, clock=clock, org_path=folder / "org.db", account_path=folder / "account.db"
        )
        journal = Journal(folder / "journal.db")
        engine = engine_for(world, journal)
        engine.connect()
        clock.advance(hours=1)
        report = engine.sync()
        assert report.status == "completed", report.reason
        summary = dict(world.summary)
        journal.close()
        world.close()
        _TEMPLATES[spec] = (folder, clock.now().isoformat(), summary)
    return _TEMPLATES[spec]


def make_imports(settings: dict[str, Any] | None = None, spec: WorldSpec = SPEC) -> Imports:
    """A connected world synced once (a copy of a template made once per spec)."""
    source, now, summary = _template(spec)
    folder = Path(tempfile.mkdtemp(prefix="cmsf-import-test-"))
    for name in ("org.db", "account.db", "journal.db"):
        shutil.copy(source / name, folder / name)
    clock = VirtualClock(now)
    world = open_world(folder / "org.db", folder / "account.db", clock=clock)
    world.summary.update(summary)
    engine = engine_for(world, Journal(folder / "journal.db"))
    if settings:
        engine.change_settings(settings)
    return Imports(world, engine, clock, folder)
