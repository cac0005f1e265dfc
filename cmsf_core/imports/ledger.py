"""What imports remember in the runner's journal, so a crashed run resumes exactly.

The tables are the journal's ledger tables (:attr:`~cmsf_core.state.Journal.ledgers`): in
the runner's SQLite file, or in PostgreSQL with the distributed runtime.

Nothing here is personal data (see :mod:`cmsf_core.pseudonyms`): addresses are kept as
keyed tokens; the few a check needs after a crash (the batch in flight, the subscribers
to remove) are sealed.

Tables:

- ``import_state``: per import, the run in progress: its key (the import's Id and the
  instant it started), its phase (``importing``, ``replacing``, ``done``), what it found
  (whether the source was complete, how many rows it had) and its counts so far;
- ``import_rows``: per import and address token, the digest of the subscriber data sent
  in this run, the pass that last saw it (a second sighting in the same pass is a
  duplicate row) and its state (``sending``, ``sent``, ``refused``): after a crash, a
  row already sent with the same data is not sent again;
- ``import_flight``: the batch being sent (sealed addresses and what each must show), so
  a crash between the request and its answer is settled by asking Campaign Monitor;
- ``import_removals``: subscribers of the list that were not in the source (token and
  sealed address) and whether each was removed, for the resumable replace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cmsf_core.pseudonyms import Pseudonyms
from cmsf_core.state import Journal

__all__ = ["IMPORT_TABLES", "ImportLedger", "RunState"]

IMPORT_TABLES = ("import_state", "import_rows", "import_flight", "import_removals")
"""Tables of this module (cleared with the journal's state when it is rebound)."""

_CHUNK = 500


@dataclass
class RunState:
    """An import's run in progress, as the journal holds it.

    Attributes:
        key: The run's key (import Id and start instant).
        started: When it started (ISO 8601).
        phase: ``importing``, ``replacing`` or ``done``.
        passes: How many passes over the source have begun (a resumed run adds one).
        counts: Counts kept across passes (imported, updated, refused, kept, removed...).
        facts: What the import pass found (rows read, truncated, failures...).
        lines: Failure lines kept across passes (Campaign Monitor's refusals).
    """

    key: str
    started: str
    phase: str = "importing"
    passes: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


class ImportLedger:
    """The import tables of one journal, pseudonymised under the connection key.

    Args:
        journal: The runner's journal.
        names: Tokens and sealed locators under the run's connection key.
    """

    def __init__(self, journal: Journal, names: Pseudonyms) -> None:
        self.journal = journal
        self.db = journal.ledgers
        self.names = names
        self.db.create(
            "CREATE TABLE IF NOT EXISTS import_state (import_id TEXT PRIMARY KEY, "
            "run_key TEXT, started TEXT, phase TEXT, passes INTEGER, data TEXT)",
            "CREATE TABLE IF NOT EXISTS import_rows (import_id TEXT, address TEXT, "
            "digest TEXT, pass INTEGER, state TEXT, PRIMARY KEY (import_id, address)) "
            "WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS import_flight (import_id TEXT PRIMARY KEY, sealed TEXT)",
            "CREATE TABLE IF NOT EXISTS import_removals (import_id TEXT, address TEXT, "
            "sealed TEXT, state TEXT, PRIMARY KEY (import_id, address)) WITHOUT ROWID",
        )

    # ------------------------------------------------------------------ tokens

    def address_token(self, address: str) -> str:
        """The keyed token of an address (case and surrounding spaces ignored)."""
        return self.names.token("import-email:" + address.strip().lower())

    def digest(self, body: Mapping[str, Any]) -> str:
        """A keyed token of a subscriber body (what a resumed pass compares)."""
        return self.names.token("import-body:" + json.dumps(body, sort_keys=True, default=str))

    # ------------------------------------------------------------------ runs

    def state(self, import_id: str) -> RunState | None:
        """The import's run in progress or last run, if the journal has one."""
        row = self.db.execute(
            "SELECT run_key, started, phase, passes, data FROM import_state WHERE import_id = ?",
            [import_id],
        ).fetchone()
        if row is None:
            return None
        data = json.loads(row[4] or "{}")
        return RunState(
            key=str(row[0]),
            started=str(row[1]),
            phase=str(row[2]),
            passes=int(row[3] or 0),
            counts=dict(data.get("counts") or {}),
            facts=dict(data.get("facts") or {}),
            lines=list(data.get("lines") or []),
        )

    def unfinished(self) -> list[str]:
        """Imports whose run has not finished (they resume before anything else)."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT import_id FROM import_state WHERE phase != 'done' ORDER BY import_id"
            )
        ]

    def begin(self, import_id: str, started: str) -> RunState:
        """Start a new run of an import, forgetting the last one's rows."""
        state = RunState(key=f"{import_id}@{started}", started=started)
        with self.journal.transaction():
            for table in ("import_rows", "import_flight", "import_removals"):
                self.db.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
            self.save(import_id, state)
        return state

    def save(self, import_id: str, state: RunState) -> None:
        """Store a run's phase and counts."""
        data = json.dumps({"counts": state.counts, "facts": state.facts, "lines": state.lines})
        with self.journal.transaction():
            self.db.execute(
                "INSERT INTO import_state (import_id, run_key, started, phase, passes, data) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (import_id) DO UPDATE SET "
                "run_key = excluded.run_key, started = excluded.started, "
                "phase = excluded.phase, passes = excluded.passes, data = excluded.data",
                [import_id, state.key, state.started, state.phase, state.passes, data],
            )

    def forget(self, import_id: str) -> None:
        """Drop everything kept about an import (deleted, or its run finished)."""
        with self.journal.transaction():
            for table in IMPORT_TABLES:
                self.db.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])

    # ------------------------------------------------------------------ rows

    def rows(self, import_id: str, tokens: Iterable[str]) -> dict[str, tuple[str, int, str]]:
        """``(digest, pass, state)`` of the addresses this run has seen, by token."""
        out: dict[str, tuple[str, int, str]] = {}
        for chunk in _chunks(list(dict.fromkeys(tokens))):
            marks = ",".join("?" for _ in chunk)
            for address, digest, seen, state in self.db.execute(
                "SELECT address, digest, pass, state FROM import_rows "
                f"WHERE import_id = ? AND address IN ({marks})",
                [import_id, *chunk],
            ):
                out[str(address)] = (str(digest), int(seen), str(state))
        return out

    def see(self, import_id: str, rows: Mapping[str, tuple[str, int, str]]) -> None:
        """Record addresses seen in a pass: ``token -> (digest, pass, state)``."""
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO import_rows (import_id, address, digest, pass, state) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (import_id, address) DO UPDATE SET "
                "digest = excluded.digest, pass = excluded.pass, state = excluded.state",
                [(import_id, token, *value) for token, value in rows.items()],
            )

    def in_source(self, import_id: str, tokens: Iterable[str]) -> set[str]:
        """Which of these address tokens the source had in this run."""
        return set(self.rows(import_id, tokens))

    def source_size(self, import_id: str) -> int:
        """How many distinct addresses the source had in this run."""
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM import_rows WHERE import_id = ?", [import_id]
            ).fetchone()[0]
        )

    # ------------------------------------------------------------------ the batch in flight

    def flight(self, import_id: str) -> list[dict[str, Any]] | None:
        """The batch a crash left in flight: ``[{token, address, expect}]`` (None: none)."""
        row = self.db.execute(
            "SELECT sealed FROM import_flight WHERE import_id = ?", [import_id]
        ).fetchone()
        if row is None:
            return None
        text = self.names.unseal(str(row[0]))
        return list(json.loads(text)) if text is not None else []

    def take_off(self, import_id: str, batch: list[dict[str, Any]]) -> None:
        """Record a batch as being sent (before its request)."""
        sealed = self.names.seal(json.dumps(batch))
        with self.journal.transaction():
            self.db.execute(
                "INSERT INTO import_flight (import_id, sealed) VALUES (?, ?) "
                "ON CONFLICT (import_id) DO UPDATE SET sealed = excluded.sealed",
                [import_id, sealed],
            )

    def land(self, import_id: str, state: RunState, rows: Mapping[str, str]) -> None:
        """A batch was answered: its rows' states (``sent``/``refused``) and the run's
        counts, in one transaction."""
        with self.journal.transaction():
            self.db.executemany(
                "UPDATE import_rows SET state = ? WHERE import_id = ? AND address = ?",
                [(value, import_id, token) for token, value in rows.items()],
            )
            self.db.execute("DELETE FROM import_flight WHERE import_id = ?", [import_id])
            self.save(import_id, state)

    def drop_rows(self, import_id: str, tokens: Iterable[str]) -> None:
        """Forget rows whose sending is not known to have happened (they are sent again)."""
        with self.journal.transaction():
            self.db.executemany(
                "DELETE FROM import_rows WHERE import_id = ? AND address = ?",
                [(import_id, t) for t in tokens],
            )

    # ------------------------------------------------------------------ removals

    def add_removals(self, import_id: str, addresses: Mapping[str, str]) -> None:
        """Record subscribers to remove (token -> address); ones known stay as they are."""
        with self.journal.transaction():
            self.db.executemany(
                "INSERT INTO import_removals (import_id, address, sealed, state) "
                "VALUES (?, ?, ?, 'pending') ON CONFLICT DO NOTHING",
                [(import_id, t, self.names.seal(a)) for t, a in addresses.items()],
            )

    def pending_removals(self, import_id: str, limit: int) -> Iterator[tuple[str, str]]:
        """Up to ``limit`` subscribers still to remove: ``(token, address)``."""
        rows = self.db.execute(
            "SELECT address, sealed FROM import_removals WHERE import_id = ? AND "
            "state = 'pending' ORDER BY address LIMIT ?",
            [import_id, limit],
        ).fetchall()
        for token, sealed in rows:
            address = self.names.unseal(str(sealed))
            if address is not None:
                yield str(token), address

    def removal_counts(self, import_id: str) -> tuple[int, int]:
        """``(removed, still pending)`` of the run's replace."""
        counts = dict(
            self.db.execute(
                "SELECT state, COUNT(*) FROM import_removals WHERE import_id = ? GROUP BY state",
                [import_id],
            ).fetchall()
        )
        return int(counts.get("removed", 0)), int(counts.get("pending", 0))

    def mark_removed(self, import_id: str, tokens: Iterable[str], state: str = "removed") -> None:
        """Record subscribers as removed (or ``gone``: not on the list any more)."""
        with self.journal.transaction():
            self.db.executemany(
                "UPDATE import_removals SET state = ? WHERE import_id = ? AND address = ?",
                [(state, import_id, t) for t in tokens],
            )


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
