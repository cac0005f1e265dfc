"""What the engine last wrote to Salesforce, so unchanged data is never written twice.

For every record a job upserts, the shadow keeps its Campaign Monitor key, the Salesforce
Id it got, a digest of the Campaign Monitor data it was built from, and a *version* (the
source's own change time, e.g. a subscriber's ``Date``). Before writing a batch a job
asks :meth:`Shadow.changed` which rows differ; after Salesforce accepted them it records
them with :meth:`Shadow.record`, in the same journal transaction as its bookmark.

Keys and digests are kept as keyed pseudonyms, so the journal holds no subscriber data.

This is what makes a rerun idempotent and cheap: a re-read of a bookmark's boundary
minute, a resumed crash, or a second sync with no changes writes nothing. Records deleted
in Salesforce by hand are not noticed by incremental runs; a full sync clears the shadow
and realigns the org (as the product documents).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from cmsf_core.pseudonyms import Pseudonyms, scope_of
from cmsf_core.state import Journal

__all__ = [
    "SYNCED_OBJECTS",
    "Shadow",
    "ShadowRow",
    "ShadowStore",
    "SqliteShadowStore",
    "digest",
]


_DIGEST_JSON = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))
"""The encoder of :func:`digest`, made once (``json.dumps`` with options makes one a call)."""


def digest(data: Mapping[str, Any]) -> str:
    """A stable digest of a record's source data (key order does not matter)."""
    text = _DIGEST_JSON.encode(data)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class ShadowRow(NamedTuple):
    """One record as last written: key, Salesforce Id, digest of its source, version.

    Rows read back from the journal (:meth:`Shadow.keys`) carry the key's *token*, a
    pseudonym that every method of :class:`Shadow` accepts in place of the key.

    A named tuple (immutable like a frozen dataclass, made at a quarter of its cost: a
    write makes one per record).
    """

    key: str
    sf_id: str
    digest: str
    version: str = ""


SYNCED_OBJECTS = ("CMSF!_%", "%#%")
"""``LIKE`` patterns (escape ``!``) of the shadow rows of the sync's own objects
(``CMSF_...``) and of the sub-indexes (``object#...``) left out of their count."""


class ShadowStore(Protocol):
    """Where the shadow index's rows live: the journal's database (SQLite or PostgreSQL).

    Rows are ``(key token, sf_id, digest, version)``; a journal that keeps them elsewhere
    than its ``db`` gives its own store through a ``shadow_store()`` method.
    """

    def get(self, sobject: str, tokens: list[str]) -> Iterable[tuple[str, str, str, str]]:
        """Rows of these key tokens."""

    def record(self, payload: list[tuple[str, str, str, str, str, str]]) -> None:
        """Insert or replace rows ``(object, key, scope, sf_id, digest, version)``."""

    def forget(self, sobject: str, tokens: list[str]) -> None:
        """Delete rows by key token."""

    def forget_scope(self, sobject: str, scope: str) -> None:
        """Delete every row of one scope."""

    def rows(self, sobject: str, scope: str | None) -> Iterable[tuple[str, str, str, str]]:
        """Every row of ``sobject`` (of one scope)."""

    def count(self, sobject: str) -> int:
        """Rows of ``sobject``."""

    def count_synced(self) -> int:
        """Rows of the sync's own objects (:data:`SYNCED_OBJECTS`, sub-indexes left out)."""

    def clear(self, sobject: str | None) -> None:
        """Delete everything, or everything of one object."""


class SqliteShadowStore:
    """The shadow index in the SQLite journal's own database."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        db = journal.db
        with journal.transaction():
            if "shadow" in db.table_names() and "scope" not in db.table("shadow").columns_dict:
                # A journal of a version that kept keys in clear: start clean state.
                db.execute("DROP TABLE shadow")
                db.execute("DELETE FROM bookmarks")
            if "shadow" not in db.table_names():
                db.table("shadow").create(
                    {
                        "object": str,
                        "key": str,
                        "scope": str,
                        "sf_id": str,
                        "digest": str,
                        "version": str,
                    },
                    pk=("object", "key"),
                )
                db.table("shadow").create_index(["object", "sf_id"])
                db.table("shadow").create_index(["object", "scope"])

    def get(self, sobject: str, tokens: list[str]) -> Iterator[tuple[str, str, str, str]]:
        """Rows of these key tokens."""
        for start in range(0, len(tokens), 500):
            chunk = tokens[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            yield from self.journal.db.execute(
                f"SELECT key, sf_id, digest, version FROM shadow WHERE object = ? AND key IN ({marks})",
                [sobject, *chunk],
            )

    def record(self, payload: list[tuple[str, str, str, str, str, str]]) -> None:
        """Insert or replace rows ``(object, key, scope, sf_id, digest, version)``."""
        # One prepared statement for the batch (sqlite-utils' insert_all rebuilds its
        # SQL and inspects every value: a tenth of the engine's CPU on a first sync).
        self.journal.executemany(
            "INSERT OR REPLACE INTO shadow (object, key, scope, sf_id, digest, version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            payload,
        )

    def forget(self, sobject: str, tokens: list[str]) -> None:
        """Delete rows by key token."""
        with self.journal.transaction():
            for start in range(0, len(tokens), 500):
                chunk = tokens[start : start + 500]
                marks = ",".join("?" for _ in chunk)
                self.journal.db.execute(
                    f"DELETE FROM shadow WHERE object = ? AND key IN ({marks})", [sobject, *chunk]
                )

    def forget_scope(self, sobject: str, scope: str) -> None:
        """Delete every row of one scope."""
        with self.journal.transaction():
            self.journal.db.execute(
                "DELETE FROM shadow WHERE object = ? AND scope = ?", [sobject, scope]
            )

    def rows(self, sobject: str, scope: str | None) -> Iterator[tuple[str, str, str, str]]:
        """Every row of ``sobject`` (of one scope)."""
        if scope is not None:
            yield from self.journal.db.execute(
                "SELECT key, sf_id, digest, version FROM shadow WHERE object = ? AND scope = ?",
                [sobject, scope],
            )
        else:
            yield from self.journal.db.execute(
                "SELECT key, sf_id, digest, version FROM shadow WHERE object = ?", [sobject]
            )

    def count(self, sobject: str) -> int:
        """Rows of ``sobject``."""
        row = self.journal.db.execute(
            "SELECT count(*) FROM shadow WHERE object = ?", [sobject]
        ).fetchone()
        return int(row[0])

    def count_synced(self) -> int:
        """Rows of the sync's own objects (:data:`SYNCED_OBJECTS`, sub-indexes left out)."""
        row = self.journal.db.execute(
            "SELECT count(*) FROM shadow WHERE object LIKE ? ESCAPE '!' AND object NOT LIKE ?",
            SYNCED_OBJECTS,
        ).fetchone()
        return int(row[0])

    def clear(self, sobject: str | None) -> None:
        """Delete everything, or everything of one object."""
        with self.journal.transaction():
            if sobject is None:
                self.journal.db.execute("DELETE FROM shadow")
            else:
                self.journal.db.execute("DELETE FROM shadow WHERE object = ?", [sobject])


class Shadow:
    """The shadow index of one journal, per Salesforce object.

    Keys and digests are stored as keyed pseudonyms (:mod:`cmsf_core.pseudonyms`): the
    journal recognises what it wrote without holding an address. Callers pass plain keys
    (or tokens read back from :meth:`keys`); a key's scope (the Campaign Monitor id before
    its first ``:``) is stored in clear so a list's or campaign's rows can be found.
    """

    def __init__(self, journal: Journal, key: str | None = None) -> None:
        self.journal = journal
        self.names = Pseudonyms(key)
        provider = getattr(journal, "shadow_store", None)
        self.store: ShadowStore = provider() if provider is not None else SqliteShadowStore(journal)
        self.settle: Callable[[str | None, Collection[str] | None], None] | None = None
        """Called before rows of an object (of some keys, or all: None) are read or changed:
        the write pool collects a write still in flight there (:meth:`WritePool.settle`)."""

    def use_key(self, key: str | None) -> None:
        """Pseudonymise under ``key`` (the connection key of the run)."""
        self.names = Pseudonyms(key)

    def token(self, key: str) -> str:
        """The pseudonym the journal keeps for ``key``."""
        return self.names.token(key)

    def _digest(self, value: str) -> str:
        return self.names.fresh_token("digest:" + value)[1:]

    def get(self, sobject: str, keys: Iterable[str]) -> dict[str, ShadowRow]:
        """The shadow rows of ``keys`` that exist, by the key as given."""
        found: dict[str, ShadowRow] = {}
        wanted = list(dict.fromkeys(keys))
        if self.settle is not None:
            self.settle(sobject, wanted)
        token = self.names.token  # per key: one call, not two
        by_token = {token(k): k for k in wanted}
        tokens = list(by_token)
        for row in self.store.get(sobject, tokens):
            key = by_token[row[0]]
            found[key] = ShadowRow(key, row[1], row[2], row[3] or "")
        return found

    def sf_id(self, sobject: str, key: str) -> str | None:
        """The Salesforce Id recorded for ``key``, if any."""
        row = self.get(sobject, [key]).get(key)
        return row.sf_id if row else None

    def changed(
        self,
        sobject: str,
        rows: Sequence[tuple[str, str, str]],
        known: Mapping[str, ShadowRow] | None = None,
    ) -> list[tuple[str, str, str]]:
        """Filter ``(key, digest, version)`` rows down to those that must be written.

        A row must be written when its key is unknown, or its digest differs and its
        version is not older than the recorded one (an older state never overwrites a
        newer one). ``known``: the rows :meth:`get` just gave for these keys, when the
        caller read them already (they are not read again).
        """
        if known is None:
            known = self.get(sobject, (key for key, _, _ in rows))
        out = []
        for key, new_digest, version in rows:
            previous = known.get(key)
            if previous is None or (
                previous.digest != self._digest(new_digest) and version >= previous.version
            ):
                out.append((key, new_digest, version))
        return out

    def record(self, sobject: str, rows: Iterable[ShadowRow]) -> None:
        """Remember rows Salesforce accepted."""
        if self.settle is not None:
            rows = list(rows)
            self.settle(sobject, [r.key for r in rows])
        token = self.names.token
        payload = [
            (
                sobject,
                token(r.key),
                scope_of(r.key),
                r.sf_id,
                self._digest(r.digest),
                r.version,
            )
            for r in rows
        ]
        if payload:
            self.store.record(payload)

    def forget(self, sobject: str, keys: Iterable[str]) -> None:
        """Drop rows whose records were deleted in Salesforce."""
        if self.settle is not None:
            keys = list(keys)
            self.settle(sobject, keys)
        self.store.forget(sobject, [self.token(k) for k in keys])

    def forget_prefix(self, sobject: str, prefix: str) -> None:
        """Drop every row of ``sobject`` whose key starts with ``prefix`` (``<id>:``)."""
        if self.settle is not None:
            self.settle(sobject, None)
        self.store.forget_scope(sobject, _scope_of_prefix(prefix))

    def keys(self, sobject: str, prefix: str = "") -> Iterator[ShadowRow]:
        """Stream the rows of ``sobject`` (whose key starts with ``prefix``, an ``<id>:``).

        The rows carry tokens, not keys: compare them with :meth:`token` of a key.
        """
        if self.settle is not None:
            self.settle(sobject, None)
        scope = _scope_of_prefix(prefix) if prefix else None
        for row in self.store.rows(sobject, scope):
            yield ShadowRow(row[0], row[1], row[2], row[3] or "")

    def unseen(self, sobject: str, scope: str, seen: str) -> list[tuple[str, str]]:
        """``(token, sf_id)`` of the rows of one scope whose token is not in ``seen``.

        Args:
            sobject: The object.
            scope: The scope (a list or client id).
            seen: A table of the journal's ``db`` with a ``key`` column of tokens seen.
        """
        if self.settle is not None:
            self.settle(sobject, None)
        db = self.journal.db
        if isinstance(self.store, SqliteShadowStore):
            return [
                (str(key), str(sf_id))
                for key, sf_id in db.execute(
                    "SELECT key, sf_id FROM shadow WHERE object = ? AND scope = ? "
                    f"AND key NOT IN (SELECT key FROM {seen})",
                    [sobject, scope],
                ).fetchall()
            ]
        rows = [(str(r[0]), str(r[1])) for r in self.store.rows(sobject, scope)]
        known: set[str] = set()
        for start in range(0, len(rows), 500):
            chunk = [token for token, _ in rows[start : start + 500]]
            marks = ",".join("?" for _ in chunk)
            known.update(
                str(row[0])
                for row in db.execute(f"SELECT key FROM {seen} WHERE key IN ({marks})", chunk)
            )
        return [(token, sf_id) for token, sf_id in rows if token not in known]

    def count(self, sobject: str) -> int:
        """How many records of ``sobject`` the shadow knows."""
        if self.settle is not None:
            self.settle(sobject, None)
        return self.store.count(sobject)

    def clear(self, sobject: str | None = None) -> None:
        """Forget everything (full sync), or everything about one object."""
        if self.settle is not None:
            self.settle(sobject, None)
        self.store.clear(sobject)


def _scope_of_prefix(prefix: str) -> str:
    """``"<id>:"`` -> ``"<id>"``: prefixes are always a scope and its colon."""
    if not prefix.endswith(":") or ":" in prefix[:-1]:
        raise ValueError(f"a shadow prefix is '<id>:', not {prefix!r}")
    return prefix[:-1]
