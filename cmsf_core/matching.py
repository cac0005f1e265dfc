"""Finding the Contact and Lead behind a subscriber's email, cheaply.

Memberships and tracking history link to a matching Contact and Lead by email. There are
two ways to find them, and the matcher picks the one that costs fewer API calls:

- **by batch**: ``SELECT Id, Email FROM Contact WHERE Email IN (...)`` (and the same for
  unconverted Leads) for each batch of emails — cheap for an hourly sync that sees a few
  changes;
- **by index**: stream every Contact and Lead email once (2,000 per call) into the
  journal — cheap for a first sync of a large account.

Either way the answers land in a table of the journal (``person_index``), so memory does
not grow with the org and an email is never looked up twice in a run. The table keys
people by a keyed pseudonym of their address (:mod:`cmsf_core.pseudonyms`), never the
address itself. When several
Contacts share an email, the oldest wins (CreatedDate, then Id), so the choice is stable.

Merges: Salesforce moves a merged-away Contact's or Lead's related records (memberships
and tracking history included) to the surviving master, but the address of the loser
lives on in Campaign Monitor. Change capture tells the matcher of every merge it sees
(:meth:`PersonMatcher.remember_merges`); the journal keeps them (``merged_people``, by
pseudonym, across runs, in its ledger tables: PostgreSQL's with the distributed runtime, so
every worker reads them), and an address no live Contact or Lead has is linked to the
master its record was merged into, as its membership already is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from cmsf_core.pseudonyms import Pseudonyms

if TYPE_CHECKING:
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.state import Journal

__all__ = ["MERGED_TABLE", "Person", "PersonMatcher", "soql_quote"]

BATCH = 100
MERGED_TABLE = "merged_people"
"""The journal table of merged-away records: address pseudonym, loser, master (kept)."""
MERGE_CHAIN = 10
"""How many merges in a row (a master merged away later) are followed to the survivor."""
"""Emails per ``IN (...)`` lookup (keeps the query URL well under its length limit)."""


def soql_quote(value: str) -> str:
    """Quote a string literal for SOQL."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


class Person(NamedTuple):
    """The Contact and Lead an email matches (either may be None).

    A named tuple (immutable, and cheap to make: a run matches every address it writes).
    """

    contact_id: str | None
    lead_id: str | None


NOBODY = Person(None, None)
"""An email that matches no one."""


class PersonMatcher:
    """Looks Contacts and Leads up by email for one run.

    Args:
        gateway: The Salesforce gateway.
        journal: Where the lookups are kept for the run.
        key: The connection key the addresses are pseudonymised under.
    """

    def __init__(
        self, gateway: SalesforceGateway, journal: Journal, *, key: str | None = None
    ) -> None:
        self.gateway = gateway
        self.journal = journal
        self.db = journal.db  # the run's person index (working tables)
        self.ledgers = journal.ledgers  # the merges, kept across runs
        self.names = Pseudonyms(key)
        self.strategy: str | None = None
        self.lookups = 0
        journal.execute_script(
            "DROP TABLE IF EXISTS person_index",
            "CREATE TABLE person_index (token TEXT PRIMARY KEY, contact_id TEXT, lead_id TEXT)",
        )
        self.ledgers.create(
            f"CREATE TABLE IF NOT EXISTS {MERGED_TABLE} (loser_id TEXT PRIMARY KEY, "
            "token TEXT, object TEXT, master_id TEXT)",
            f"CREATE INDEX IF NOT EXISTS {MERGED_TABLE}_token ON {MERGED_TABLE} (token)",
        )

    def plan(self, expected_emails: int) -> str:
        """Choose batch lookups or a full index for about ``expected_emails`` emails.

        Returns:
            ``"batch"`` or ``"index"``.
        """
        if self.strategy is not None:
            return self.strategy
        batch_cost = 2 * math.ceil(expected_emails / BATCH)
        if batch_cost <= 4:
            self.strategy = "batch"
            return self.strategy
        contacts = self.gateway.count("SELECT COUNT() FROM Contact WHERE Email != null")
        leads = self.gateway.access.guard(
            "Lead",
            "linking memberships to Leads",
            lambda: self.gateway.count(
                "SELECT COUNT() FROM Lead WHERE Email != null AND IsConverted = false"
            ),
            0,
        )
        index_cost = math.ceil(max(contacts, 1) / 2000) + math.ceil(max(leads, 1) / 2000)
        self.strategy = "index" if index_cost < batch_cost else "batch"
        if self.strategy == "index":
            self._load_index()
        return self.strategy

    def _load_index(self) -> None:
        self._store(
            "contact_id",
            self.gateway.query(
                "SELECT Id, Email FROM Contact WHERE Email != null ORDER BY CreatedDate, Id"
            ),
        )
        self._store(
            "lead_id",
            self.gateway.access.rows(
                "Lead",
                "linking memberships to Leads",
                lambda: self.gateway.query(
                    "SELECT Id, Email FROM Lead WHERE Email != null AND IsConverted = false "
                    "ORDER BY CreatedDate, Id"
                ),
            ),
        )

    def _token(self, email: str) -> str:
        return self.names.token("email:" + email.strip().lower())

    def _store(self, column: str, rows: Iterable[dict[str, str]]) -> None:
        values = [
            (self._token(row["Email"]), row["Id"])
            for row in rows
            if (row.get("Email") or "").strip()
        ]
        self.journal.executemany(
            f"INSERT INTO person_index (token, {column}) VALUES (?, ?) "
            f"ON CONFLICT(token) DO UPDATE SET {column} = COALESCE({column}, excluded.{column})",
            values,
        )

    def match(self, emails: Iterable[str]) -> dict[str, Person]:
        """The Person of every email (lower-cased keys; unmatched emails map to no ids)."""
        wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
        if self.strategy is None:
            self.plan(len(wanted))
        if self.strategy == "batch":
            known = self._known(wanted)
            missing = [e for e in wanted if e not in known]
            for start in range(0, len(missing), BATCH):
                self._lookup(missing[start : start + BATCH])
        found = self._known(wanted)
        orphans = [e for e in wanted if found.get(e, NOBODY) == NOBODY]
        if orphans:
            found.update(self._merged(orphans))
        return {e: found.get(e, NOBODY) for e in wanted}

    def remember_merges(self, merges: Iterable[tuple[str, str, str, str]]) -> None:
        """Remember merged-away records: ``(object, loser Id, its email, master Id)`` each."""
        rows = [
            (loser, self._token(email), sobject, master)
            for sobject, loser, email, master in merges
            if email and email.strip() and loser and master
        ]
        latest: dict[str, tuple[str, str, str, str]] = {}
        for row in rows:  # as INSERT OR REPLACE: a loser seen again moves to the end
            latest.pop(row[0], None)
            latest[row[0]] = row
        rows = list(latest.values())
        if rows:
            with self.journal.transaction():  # replaced, not updated: the latest merge wins
                self.ledgers.executemany(
                    f"DELETE FROM {MERGED_TABLE} WHERE loser_id = ?", [(r[0],) for r in rows]
                )
                self.ledgers.executemany(
                    f"INSERT INTO {MERGED_TABLE} (loser_id, token, object, master_id) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )

    def _merged(self, emails: list[str]) -> dict[str, Person]:
        """The survivors of merged-away records of these addresses (the latest merge wins)."""
        by_token = {self._token(e): e for e in emails}
        tokens = list(by_token)
        out: dict[str, Person] = {}
        for start in range(0, len(tokens), 500):
            chunk = tokens[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            for token, sobject, master in self.ledgers.execute(
                f"SELECT token, object, master_id FROM {MERGED_TABLE} WHERE token IN ({marks}) "
                "ORDER BY rowid",
                chunk,
            ):
                survivor = self._survivor(str(master))
                person = out.get(by_token[token], NOBODY)
                if sobject == "Contact":
                    person = Person(survivor, person.lead_id)
                else:
                    person = Person(person.contact_id, survivor)
                out[by_token[token]] = person
        return out

    def _survivor(self, record_id: str) -> str:
        """Follow a master that was merged away itself to the record that survived."""
        for _ in range(MERGE_CHAIN):
            row = self.ledgers.execute(
                f"SELECT master_id FROM {MERGED_TABLE} WHERE loser_id = ?", (record_id,)
            ).fetchone()
            if row is None:
                break
            record_id = str(row[0])
        return record_id

    def refresh(self, emails: Iterable[str]) -> dict[str, Person]:
        """Look emails up in Salesforce again (another process may have created their
        person since); return the Person of each that matches someone now."""
        wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
        for start in range(0, len(wanted), BATCH):
            self._lookup(wanted[start : start + BATCH])
        return self._known(wanted)

    def _known(self, emails: list[str]) -> dict[str, Person]:
        out: dict[str, Person] = {}
        by_token = {self._token(e): e for e in emails}
        tokens = list(by_token)
        for start in range(0, len(tokens), 500):
            chunk = tokens[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            for token, contact_id, lead_id in self.db.execute(
                f"SELECT token, contact_id, lead_id FROM person_index WHERE token IN ({marks})",
                chunk,
            ):
                out[by_token[token]] = Person(contact_id, lead_id)
        return out

    def _lookup(self, emails: list[str]) -> None:
        self.lookups += 1
        listed = ",".join(soql_quote(e) for e in emails)
        self.journal.executemany(
            "INSERT OR IGNORE INTO person_index (token) VALUES (?)",
            [(self._token(e),) for e in emails],
        )
        self._store(
            "contact_id",
            self.gateway.query(
                f"SELECT Id, Email FROM Contact WHERE Email IN ({listed}) ORDER BY CreatedDate, Id"
            ),
        )
        self._store(
            "lead_id",
            self.gateway.access.rows(
                "Lead",
                "linking memberships to Leads",
                lambda: self.gateway.query(
                    f"SELECT Id, Email FROM Lead WHERE Email IN ({listed}) "
                    "AND IsConverted = false ORDER BY CreatedDate, Id"
                ),
            ),
        )

    def remember(
        self, email: str, *, contact_id: str | None = None, lead_id: str | None = None
    ) -> None:
        """Record a Contact or Lead created during the run (by the create rule)."""
        self.remember_many([(email, contact_id, lead_id)])

    def remember_many(self, people: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Record Contacts and Leads created during the run: ``(email, contact, lead)`` each."""
        rows = [(self._token(email), contact_id, lead_id) for email, contact_id, lead_id in people]
        self.journal.executemany(
            "INSERT INTO person_index (token, contact_id, lead_id) VALUES (?, ?, ?) "
            "ON CONFLICT(token) DO UPDATE SET "
            "contact_id = COALESCE(person_index.contact_id, excluded.contact_id), "
            "lead_id = COALESCE(person_index.lead_id, excluded.lead_id)",
            rows,
        )
