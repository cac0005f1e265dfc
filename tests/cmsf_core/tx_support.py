"""A small world for the transactional tests: smart emails synced, people, one mapping.

Building and first syncing a world takes seconds, so :func:`template` makes one per
session in SQLite files and :func:`copy_of` gives each test its own copy (org, account and
journal files), on a clock at the template's time.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.jobs.context import RunStats
from cmsf_core.messages import Message
from cmsf_core.runtime import RunReport
from cmsf_core.state import Journal
from cmsf_core.transactional.sender import SendOutcome
from scenarios.world import World, WorldSpec, build_world, engine_for, open_world

SPEC = WorldSpec(
    seed=33, clients=1, lists_per_client=1, subscribers_per_list=6, campaigns_per_client=0,
    other_contacts=2,
)  # fmt: skip
VARIABLES = ["firstname", "company", "plan"]


@dataclass
class Drained:
    """What one drain of the queue did."""

    outcomes: list[SendOutcome]
    messages: list[Message]
    stats: RunStats

    @property
    def codes(self) -> set[str]:
        return {m.code for m in self.messages}


@dataclass
class Tx:
    """A connected world with a synced smart email and a mapping, and what tests look at."""

    world: World
    engine: Engine
    clock: VirtualClock
    journal_path: Path
    ids: dict[str, str]

    @property
    def org(self) -> Any:
        return self.world.org

    @property
    def account(self) -> Any:
        return self.world.account

    def sync(self, *, status: str = "completed", hours: float = 1) -> RunReport:
        """Let time pass and run the sync; it must end with ``status``."""
        self.clock.advance(hours=hours)
        report = self.engine.sync()
        assert report.status == status, (report.reason, [m.detail for m in report.messages])
        return report

    def send(self, *, minutes: float = 5) -> Drained:
        """Let a few minutes pass and drain the queue as one ``cmsf watch`` poll does.

        Cheaper than a whole sync; the tests about the sync's own job use :meth:`sync`.
        """
        self.clock.advance(minutes=minutes)
        session = self.engine.send_session("test")
        outcomes = session.drain()
        messages = list(session.log.messages) if session.log is not None else []
        return Drained(outcomes, messages, session.stats)

    def request(
        self, record_ids: list[str], mapping: str | None = None, **fields: Any
    ) -> list[str]:
        """Insert smart email queue items in one save, as a Flow does; return their Ids."""
        rows = [
            {"Type__c": "Smart Email", "Record_Id__c": r,
             "Smart_Email_Mapping__c": mapping or self.ids["mapping"], **fields}
            for r in record_ids
        ]  # fmt: skip
        results = self.org.insert("CMSF_Queue_Item__c", rows)
        assert all(r.success for r in results), [r.errors for r in results]
        return [str(r.id) for r in results]

    def items(self) -> list[dict[str, Any]]:
        """Every smart email queue item, oldest first."""
        return list(
            self.org.query(
                "SELECT Id, Record_Id__c, Status__c, Error__c, Message_Id__c, Attempts__c, "
                "Process__c, Next_Attempt__c FROM CMSF_Queue_Item__c "
                "WHERE Type__c = 'Smart Email' ORDER BY CreatedDate, Id"
            )
        )

    def tasks(self) -> list[dict[str, Any]]:
        """Every Task recording a smart email."""
        return list(
            self.org.query(
                "SELECT Id, Subject, Status, WhoId, WhatId, CMSF_Message_Id__c, "
                "CMSF_Message_Status__c, Description FROM Task WHERE CMSF_Message_Id__c != null"
            )
        )

    def messages(self, smart: str | None = None) -> list[dict[str, Any]]:
        """Campaign Monitor's message log of a smart email (newest first), through its API."""
        with self.account.client() as http:
            return list(
                http.get(
                    "/transactional/messages",
                    params={"clientID": self.ids["client"], "count": 200,
                            "smartEmailID": smart or self.ids["smart"]},
                ).json()
            )  # fmt: skip

    def data(self, message_id: str) -> dict[str, Any]:
        """The data a message was sent with."""
        with self.account.client() as http:
            body = http.get(f"/transactional/messages/{message_id}").json()
        return dict(body["Message"]["Data"])

    def mapping(self, name: str, **fields: Any) -> str:
        """Create another mapping of the synced smart email; return its Id."""
        values = {"Name": name, "Smart_Email__c": self.ids["smart_sf"], "Root_Object__c": "Contact",
                  "Recipient_Field__c": "Email", "Create_Task__c": True, **fields}  # fmt: skip
        if isinstance(values.get("Variable_Map__c"), dict):
            values["Variable_Map__c"] = json.dumps(values["Variable_Map__c"])
        result = self.org.insert("CMSF_Smart_Email_Mapping__c", [values])[0]
        assert result.success, result.errors
        return str(result.id)

    def codes(self, report: RunReport) -> set[str]:
        return {m.code for m in report.messages}

    def close(self) -> None:
        self.engine.journal.close()
        self.world.close()


def build_template(folder: Path) -> tuple[Path, str, dict[str, str]]:
    """Make the template world in ``folder``; return its folder, clock time and ids."""
    clock = VirtualClock()
    world = build_world(
        SPEC, clock=clock, org_path=folder / "org.db", account_path=folder / "account.db"
    )
    client = world.summary["clients"][0]
    account = world.account
    smart = account.create_smart_email(client, "Order shipped", variables=VARIABLES)
    draft = account.create_smart_email(client, "Draft note", variables=["x"], status="Draft")
    org = world.org
    acme = org.insert("Account", [{"Name": "Acme Pty"}])[0].id
    people = org.insert(
        "Contact",
        [{"LastName": "Lovelace", "FirstName": "Ada", "Email": "ada@tx.example", "AccountId": acme},
         {"LastName": "Bo", "FirstName": "Bo", "Email": "bo@tx.example", "AccountId": acme},
         {"LastName": "Nomail", "FirstName": "No"}],
    )  # fmt: skip
    lead = org.insert("Lead", [{"LastName": "Lee", "Company": "Lee Co", "Email": "lee@tx.example"}])
    journal = Journal(folder / "journal.db")
    engine = engine_for(world, journal)
    engine.connect()
    clock.advance(minutes=5)
    assert engine.sync().status == "completed"
    smart_sf = org.query(f"SELECT Id FROM CMSF_Smart_Email__c WHERE CM_Id__c = '{smart}'")[0]["Id"]
    mapping = org.insert(
        "CMSF_Smart_Email_Mapping__c",
        [{"Name": "Shipped", "Smart_Email__c": smart_sf, "Root_Object__c": "Contact",
          "Recipient_Field__c": "Email", "Create_Task__c": True,
          "Variable_Map__c": json.dumps({"firstname": "FirstName", "company": "Account.Name"})}],
    )[0].id  # fmt: skip
    ids = {"client": client, "smart": smart, "draft": draft, "smart_sf": smart_sf,
           "mapping": str(mapping), "account": str(acme), "ada": str(people[0].id),
           "bo": str(people[1].id), "nomail": str(people[2].id), "lead": str(lead[0].id)}  # fmt: skip
    moment = clock.now().isoformat()
    journal.close()
    world.close()
    return folder, moment, ids


def copy_of(template: tuple[Path, str, dict[str, str]], folder: Path) -> Tx:
    """A fresh copy of the template world in ``folder``, with its engine."""
    source, moment, ids = template
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("org.db", "account.db", "journal.db"):
        shutil.copy(source / name, folder / name)
    clock = VirtualClock(moment)
    world = open_world(folder / "org.db", folder / "account.db", clock=clock)
    journal_path = folder / "journal.db"
    engine = engine_for(world, Journal(journal_path))
    return Tx(world, engine, clock, journal_path, dict(ids))
