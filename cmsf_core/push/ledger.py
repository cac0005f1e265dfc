"""What the Salesforce -> Campaign Monitor push remembers in the runner's journal.

The tables are the journal's ledger tables (:attr:`~cmsf_core.state.Journal.ledgers`): in
the runner's SQLite file, or in PostgreSQL with the distributed runtime.

Everything here is about Salesforce records and Campaign Monitor writes, kept so that a
quiet run reads little and writes nothing, and a crashed run sends nothing twice. Nothing
is personal data (see :mod:`cmsf_core.pseudonyms`): record Ids and rule Ids are kept in
clear; values, addresses and payloads only as keyed tokens, and what an in-doubt write
needs to be checked again (an address) only sealed.

Tables:

- ``push_window``: per object, the start of the next change-capture window (kept apart
  from the primary sync's bookmarks, which a full sync clears);
- ``push_fields``: per object, the fields the baselines hold (a field mapped later is
  added to every baseline once, by a read of the records outside the capture window);
- ``push_baseline``: per record, a token of each field the push cares about, as the
  capture last saw it (or as the engine itself wrote it), so an edit of another field, or
  the engine's own write, is not a change to push; ``complete`` is 0 for a record only
  the engine's own writes told about (the capture still has to see it once);
- ``push_met``: which subscriber rules each record met when it was last processed (a
  record that *stops* meeting a rule is unsubscribed only if it met it);
- ``push_rules``: per rule, the digest of its definition last applied to every record,
  and the progress of applying a new one;
- ``push_memory``: per record, list and address, a token of each part of the subscriber
  data last sent (or found already there), so nothing is sent twice;
- ``push_actions``: Campaign Monitor writes of the batch in progress: ``sending`` before
  the request, ``sent`` after; a ``sending`` row found after a crash is checked against
  Campaign Monitor before anything is sent again;
- ``push_items``: queue items whose work is done here but not yet marked Done in the org.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cmsf_core.pseudonyms import Pseudonyms
from cmsf_core.state import Journal

__all__ = ["PUSH_TABLES", "Baseline", "PushLedger", "SendingAction"]

PUSH_TABLES = (
    "push_window",
    "push_fields",
    "push_baseline",
    "push_met",
    "push_rules",
    "push_memory",
    "push_actions",
    "push_items",
)
"""Tables of this module (cleared with the journal's state when it is rebound)."""

_CHUNK = 500


@dataclass(frozen=True)
class Baseline:
    """A record's push-relevant fields as last seen: field -> value token."""

    fields: Mapping[str, str]
    complete: bool


@dataclass(frozen=True)
class SendingAction:
    """A Campaign Monitor write recorded as ``sending`` (its outcome unknown after a crash).

    Attributes:
        key: The action's token.
        locator: What it was, unsealed: ``{"kind", "list", "address", "expect"}``.
    """

    key: str
    locator: Mapping[str, Any]


class PushLedger:
    """The push's tables in one journal, pseudonymised under the connection key.

    Args:
        journal: The runner's journal.
        names: Tokens and sealed locators under the run's connection key.
    """

    def __init__(self, journal: Journal, names: Pseudonyms) -> None:
        self.journal = journal
        self.db = journal.ledgers
        self.names = names
        self._create()

    def _create(self) -> None:
        self.db.create(
            "CREATE TABLE IF NOT EXISTS push_window (object TEXT PRIMARY KEY, value TEXT)",
            "CREATE TABLE IF NOT EXISTS push_fields (object TEXT PRIMARY KEY, fields TEXT)",
            "CREATE TABLE IF NOT EXISTS push_baseline (record_id TEXT PRIMARY KEY, "
            "object TEXT, fields TEXT, complete INTEGER)",
            "CREATE TABLE IF NOT EXISTS push_met (rule_id TEXT, record_id TEXT, mark TEXT, "
            "PRIMARY KEY (rule_id, record_id))",
            "CREATE INDEX IF NOT EXISTS push_met_record ON push_met (record_id)",
            "CREATE TABLE IF NOT EXISTS push_rules (rule_id TEXT PRIMARY KEY, "
            "applied TEXT, pending TEXT, cursor TEXT)",
            "CREATE TABLE IF NOT EXISTS push_memory (record_id TEXT, list_id TEXT, "
            "address TEXT, digest TEXT, PRIMARY KEY (record_id, list_id, address))",
            "CREATE TABLE IF NOT EXISTS push_actions (key TEXT PRIMARY KEY, state TEXT, "
            "locator TEXT)",
            "CREATE TABLE IF NOT EXISTS push_items (item_id TEXT PRIMARY KEY)",
        )

    # ------------------------------------------------------------------ tokens

    def value_token(self, field: str, value: Any) -> str:
        """A short keyed token of one field's value (what baselines compare)."""
        text = _TOKEN_JSON.encode(_plain(value))
        return self.names.token(f"value:{field}={text}")[1:17]

    def email_token(self, address: str | None) -> str:
        """The baseline token of an ``Email`` value (case and surrounding spaces ignored)."""
        return self.value_token("Email", (address or "").strip().lower())

    def address_token(self, address: str | None) -> str:
        """The keyed token of an email address (case and surrounding spaces ignored)."""
        return self.names.token("email:" + (address or "").strip().lower())

    def digest_token(self, data: Any) -> str:
        """A keyed token of any JSON-able data (what memory compares)."""
        return self.names.token("data:" + json.dumps(_plain(data), sort_keys=True, default=str))

    # ------------------------------------------------------------------ capture window

    def window_start(self, sobject: str) -> str | None:
        """Where the next capture window of ``sobject`` starts (None: never captured)."""
        row = self.db.execute("SELECT value FROM push_window WHERE object = ?", [sobject])
        found = row.fetchone()
        return str(found[0]) if found else None

    def set_window_start(self, sobject: str, value: str) -> None:
        """Move the next window's start of ``sobject``."""
        with self.journal.transaction():
            self.db.execute(
                "INSERT INTO push_window (object, value) VALUES (?, ?) "
                "ON CONFLICT (object) DO UPDATE SET value = excluded.value",
                [sobject, value],
            )

    def known_fields(self, sobject: str) -> set[str] | None:
        """The fields the baselines of ``sobject`` hold (None: not recorded yet)."""
        row = self.db.execute("SELECT fields FROM push_fields WHERE object = ?", [sobject])
        found = row.fetchone()
        return set(json.loads(found[0])) if found else None

    def set_known_fields(self, sobject: str, fields: Iterable[str]) -> None:
        """Record the fields the baselines of ``sobject`` hold."""
        with self.journal.transaction():
            self.db.execute(
                "INSERT INTO push_fields (object, fields) VALUES (?, ?) "
                "ON CONFLICT (object) DO UPDATE SET fields = excluded.fields",
                [sobject, json.dumps(sorted(fields))],
            )

    def add_to_baselines(self, rows: Mapping[str, Mapping[str, str]]) -> None:
        """Merge field tokens into the complete baselines of existing records."""
        known = self.baselines(rows)
        with self.journal.transaction():
            self.db.executemany(
                "UPDATE push_baseline SET fields = ? WHERE record_id = ? AND complete = 1",
                [
                    (_SORTED_JSON.encode({**known[k].fields, **v}), k)
                    for k, v in rows.items()
                    if k in known
                ],
            )

    # ------------------------------------------------------------------ baselines

    def baselines(self, record_ids: Iterable[str]) -> dict[str, Baseline]:
        """The baselines of those records that have one."""
        out: dict[str, Baseline] = {}
        for chunk in _chunks(list(dict.fromkeys(record_ids))):
            marks = ",".join("?" for _ in chunk)
            for record_id, fields, complete in self.db.execute(
                "SELECT record_id, fields, complete FROM push_baseline "
                f"WHERE record_id IN ({marks})",
                chunk,
            ):
                out[record_id] = Baseline(json.loads(fields), bool(complete))
        return out

    def save_baselines(self, sobject: str, rows: Mapping[str, Mapping[str, str]]) -> None:
        """Store complete baselines (field -> token) of records, replacing older ones."""
        if not rows:
            return
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO push_baseline (record_id, object, fields, complete) "
                "VALUES (?, ?, ?, 1) ON CONFLICT (record_id) DO UPDATE SET "
                "fields = excluded.fields, complete = 1, object = excluded.object",
                [
                    (record_id, sobject, _SORTED_JSON.encode(dict(fields)))
                    for record_id, fields in rows.items()
                ],
            )

    def note_engine_write(
        self, sobject: str, rows: Mapping[str, Mapping[str, Any]], *, created: bool = False
    ) -> None:
        """Record field values the engine itself wrote to Contacts or Leads.

        The capture then sees those values as known, not as a change to push: this is
        what keeps the primary sync's own writes (an opt-out, a Contact made by the create
        rule) from coming back as pushes. Values merge into an existing baseline; a record
        without one gets a partial baseline, unless the engine ``created`` it (then what
        it wrote is all there is).

        Args:
            sobject: ``Contact`` or ``Lead``.
            rows: Field values written, by record Id.
            created: The records were created by the engine.
        """
        self.note_engine_tokens(sobject, self.engine_tokens(rows), created=created)

    def engine_tokens(self, rows: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
        """The value tokens of engine writes by record Id (what the baseline keeps; the
        distributed runtime's workers pass these to the coordinator, never the values)."""
        return {
            record_id: {
                field: self.email_token(value)
                if field == "Email"
                else self.value_token(field, value)
                for field, value in values.items()
            }
            for record_id, values in rows.items()
        }

    def note_engine_tokens(
        self, sobject: str, rows: Mapping[str, Mapping[str, str]], *, created: bool = False
    ) -> None:
        """:meth:`note_engine_write` with the values already tokens (:meth:`engine_tokens`)."""
        if not rows:
            return
        known = self.baselines(rows)
        with self.journal.transaction():
            for record_id, tokens in rows.items():
                before = known.get(record_id)
                merged = {**(before.fields if before else {}), **tokens}
                complete = created or (before is not None and before.complete)
                self.db.execute(
                    "INSERT INTO push_baseline (record_id, object, fields, complete) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET "
                    "fields = excluded.fields, complete = excluded.complete",
                    [record_id, sobject, json.dumps(merged, sort_keys=True), int(complete)],
                )

    def forget_records(self, record_ids: Iterable[str]) -> None:
        """Drop everything kept about records that are gone (deleted, merged, converted)."""
        ids = list(dict.fromkeys(record_ids))
        with self.journal.transaction():
            for chunk in _chunks(ids):
                marks = ",".join("?" for _ in chunk)
                for table in ("push_baseline", "push_met", "push_memory"):
                    self.db.execute(f"DELETE FROM {table} WHERE record_id IN ({marks})", chunk)

    # ------------------------------------------------------------------ rules met

    def met(self, record_ids: Iterable[str]) -> dict[str, set[str]]:
        """Rules each record met when last processed (records without any: empty sets)."""
        ids = list(dict.fromkeys(record_ids))
        out: dict[str, set[str]] = {record_id: set() for record_id in ids}
        for chunk in _chunks(ids):
            marks = ",".join("?" for _ in chunk)
            for rule_id, record_id in self.db.execute(
                f"SELECT rule_id, record_id FROM push_met WHERE record_id IN ({marks})", chunk
            ):
                out[record_id].add(rule_id)
        return out

    def set_met(self, rows: Mapping[str, set[str]]) -> None:
        """Replace the rules met by each record (rows kept keep their mark)."""
        with self.journal.transaction():
            for record_id, rules in rows.items():
                listed = sorted(rules)
                marks = ",".join("?" for _ in listed)
                self.db.execute(
                    "DELETE FROM push_met WHERE record_id = ?"
                    + (f" AND rule_id NOT IN ({marks})" if listed else ""),
                    [record_id, *listed],
                )
                self.db.executemany(
                    "INSERT INTO push_met (rule_id, record_id, mark) VALUES (?, ?, '') "
                    "ON CONFLICT DO NOTHING",
                    [(rule_id, record_id) for rule_id in listed],
                )

    def mark_met(self, rule_id: str, record_ids: Iterable[str], mark: str) -> None:
        """Tag the records that meet ``rule_id`` in the pass ``mark`` (mark and sweep)."""
        ids = list(record_ids)
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO push_met (rule_id, record_id, mark) VALUES (?, ?, ?) "
                "ON CONFLICT (rule_id, record_id) DO UPDATE SET mark = excluded.mark",
                [(rule_id, record_id, mark) for record_id in ids],
            )

    def unmarked(self, rule_id: str, mark: str, limit: int) -> list[str]:
        """Records that met ``rule_id`` but were not seen in the pass ``mark``."""
        return [
            row[0]
            for row in self.db.execute(
                "SELECT record_id FROM push_met WHERE rule_id = ? AND mark != ? "
                "ORDER BY record_id LIMIT ?",
                [rule_id, mark, limit],
            )
        ]

    def drop_rule(self, rule_id: str) -> None:
        """Forget a rule that was deactivated or deleted (nobody is unsubscribed for it)."""
        with self.journal.transaction():
            self.db.execute("DELETE FROM push_met WHERE rule_id = ?", [rule_id])
            self.db.execute("DELETE FROM push_rules WHERE rule_id = ?", [rule_id])

    def known_rules(self) -> list[str]:
        """Rules with met records or application progress."""
        rows = self.db.execute(
            "SELECT rule_id FROM push_rules UNION SELECT DISTINCT rule_id FROM push_met"
        )
        return sorted(str(r[0]) for r in rows)

    # ------------------------------------------------------------------ rule application

    def rule_state(self, rule_id: str) -> tuple[str | None, str | None, str | None]:
        """``(applied digest, digest being applied, cursor)`` of a rule."""
        row = self.db.execute(
            "SELECT applied, pending, cursor FROM push_rules WHERE rule_id = ?", [rule_id]
        ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def set_rule_state(
        self, rule_id: str, *, applied: str | None, pending: str | None, cursor: str | None
    ) -> None:
        """Store a rule's application progress."""
        with self.journal.transaction():
            self.db.execute(
                "INSERT INTO push_rules (rule_id, applied, pending, cursor) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (rule_id) DO UPDATE SET applied = excluded.applied, "
                "pending = excluded.pending, cursor = excluded.cursor",
                [rule_id, applied, pending, cursor],
            )

    # ------------------------------------------------------------------ memory

    def memory(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], dict[str, str]]:
        """Tokens of what was last sent per ``(record id, list id, address token)``, by part."""
        out: dict[tuple[str, str, str], dict[str, str]] = {}
        wanted = list(dict.fromkeys(keys))
        records = sorted({k[0] for k in wanted})
        for chunk in _chunks(records):
            marks = ",".join("?" for _ in chunk)
            for record_id, list_id, address, digest in self.db.execute(
                "SELECT record_id, list_id, address, digest FROM push_memory "
                f"WHERE record_id IN ({marks})",
                chunk,
            ):
                out[(record_id, list_id, address)] = json.loads(digest)
        return {k: out[k] for k in wanted if k in out}

    def remember(self, rows: Mapping[tuple[str, str, str], Mapping[str, str]]) -> None:
        """Store what was sent (or found already there), by part."""
        if not rows:
            return
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO push_memory (record_id, list_id, address, digest) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (record_id, list_id, address) "
                "DO UPDATE SET digest = excluded.digest",
                [(*key, json.dumps(dict(parts), sort_keys=True)) for key, parts in rows.items()],
            )

    def forget_memory(self, keys: Iterable[tuple[str, str, str]]) -> None:
        """Forget what was sent to these addresses (renamed or unsubscribed)."""
        with self.journal.transaction():
            self.db.executemany(
                "DELETE FROM push_memory WHERE record_id = ? AND list_id = ? AND address = ?",
                list(keys),
            )

    # ------------------------------------------------------------------ actions in flight

    def action_states(self, keys: Iterable[str]) -> dict[str, str]:
        """``sending`` or ``sent`` per action key that has a row."""
        out: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            marks = ",".join("?" for _ in chunk)
            for key, state in self.db.execute(
                f"SELECT key, state FROM push_actions WHERE key IN ({marks})", chunk
            ):
                out[key] = state
        return out

    def mark_sending(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        """Record writes about to be sent, with sealed locators to check them later."""
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO push_actions (key, state, locator) VALUES (?, 'sending', ?) "
                "ON CONFLICT (key) DO UPDATE SET state = 'sending', locator = excluded.locator",
                [
                    (key, self.names.seal(json.dumps(locator, sort_keys=True)))
                    for key, locator in rows.items()
                ],
            )

    def mark_sent(self, keys: Iterable[str]) -> None:
        """Record writes Campaign Monitor answered (or that turned out to be done)."""
        with self.journal.transaction():
            self.db.executemany(
                "UPDATE push_actions SET state = 'sent' WHERE key = ?", [(k,) for k in keys]
            )

    def sending(self) -> Iterator[SendingAction]:
        """Writes left ``sending`` by an interrupted run (unreadable locators are skipped)."""
        for key, sealed in self.db.execute(
            "SELECT key, locator FROM push_actions WHERE state = 'sending'"
        ).fetchall():
            text = self.names.unseal(str(sealed))
            if text is not None:
                yield SendingAction(str(key), json.loads(text))

    def forget_actions(self, keys: Iterable[str]) -> None:
        """Drop finished actions."""
        with self.journal.transaction():
            self.db.executemany("DELETE FROM push_actions WHERE key = ?", [(k,) for k in keys])

    # ------------------------------------------------------------------ items

    def processed(self, item_ids: Iterable[str]) -> set[str]:
        """Items whose work is done (their Done status may not be in the org yet)."""
        found: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(item_ids))):
            marks = ",".join("?" for _ in chunk)
            found |= {
                str(r[0])
                for r in self.db.execute(
                    f"SELECT item_id FROM push_items WHERE item_id IN ({marks})", chunk
                )
            }
        return found

    def mark_processed(self, item_ids: Iterable[str]) -> None:
        """Record that the work of these items is done."""
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO push_items (item_id) VALUES (?) ON CONFLICT DO NOTHING",
                [(i,) for i in item_ids],
            )

    def forget_items(self, item_ids: Iterable[str]) -> None:
        """Forget items the org now shows as Done."""
        with self.journal.transaction():
            self.db.executemany(
                "DELETE FROM push_items WHERE item_id = ?", [(i,) for i in item_ids]
            )


_TOKEN_JSON = json.JSONEncoder(sort_keys=True, default=str)
"""``json.dumps(value, sort_keys=True, default=str)``, the encoder made once (not per value)."""
_SORTED_JSON = json.JSONEncoder(sort_keys=True)
"""``json.dumps(value, sort_keys=True)`` made once (a baseline per Contact and Lead)."""


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
