"""QueryCursor: a streaming result over a live SQLite cursor, shaped as REST records.

``totalSize`` is computed by a separate ``COUNT(*)`` statement, so the main statement
is stepped only as far as the caller fetches: a 100,000-row result is never held in
memory. Each :meth:`QueryCursor.fetch` turns rows into the REST JSON shape (canonical
keys, ``attributes`` with ``type`` and ``url``, ``null`` for an empty lookup) and runs
each child subquery once for the page's parents, in batches of Ids.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sf_sim.schema import from_storage
from sf_sim.soql.plan import (
    AggregateColumn,
    ChildPlan,
    ChildSlot,
    CompiledQuery,
    FieldSlot,
    ParentSlot,
    RecordShape,
    Slot,
)

__all__ = ["ID_BATCH", "QueryCursor"]

ID_BATCH = 500
"""Parent Ids bound per child-subquery statement (well below SQLite's variable limit)."""


class QueryCursor:
    """The result of :func:`sf_sim.soql.run_query`, read page by page.

    Attributes:
        object_name: Canonical name of the FROM object.
        total_size: All matches (capped by LIMIT), counted without loading rows.
        is_count_only: ``SELECT COUNT() FROM ...``: no records, ``total_size`` is the count.
        columns: Selected paths in output order, canonical (``Id``, ``Owner.Name``);
            aggregate queries list their keys (``Name``, ``expr0``).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        compiled: CompiledQuery,
        api_version: str = "59.0",
        *,
        owns_connection: bool = False,
    ) -> None:
        self.object_name = compiled.object_name
        self.columns = list(compiled.columns)
        self.is_count_only = compiled.is_count_only
        self._conn = conn
        self._owns_connection = owns_connection
        self._compiled = compiled
        self._api_version = api_version
        self._fetched = 0
        self._exhausted = False
        counter = conn.cursor()
        counter.row_factory = None
        counted = counter.execute(compiled.count_sql, compiled.count_params).fetchone()
        counter.close()
        self.total_size = int(counted[0]) if counted else 0
        self._cursor: sqlite3.Cursor | None = None
        if compiled.sql is None or self.total_size == 0:
            self._exhausted = True
            self._release()
        else:
            self._cursor = conn.cursor()
            self._cursor.row_factory = None
            self._cursor.execute(compiled.sql, compiled.params)

    @property
    def done(self) -> bool:
        """True when no more records can be fetched."""
        return self._exhausted or self._fetched >= self.total_size

    def fetch(self, n: int) -> list[dict[str, Any]]:
        """Return up to ``n`` next records in the REST JSON shape.

        Args:
            n: How many records at most (the REST layer's batch size).
        """
        if self._cursor is None or self.done or n <= 0:
            return []
        rows = self._cursor.fetchmany(min(n, self.total_size - self._fetched))
        self._fetched += len(rows)
        if len(rows) < n or self._fetched >= self.total_size:
            self.close()
        compiled = self._compiled
        if compiled.aggregate is not None:
            results = [self._aggregate(row, compiled.aggregate) for row in rows]
            if self._exhausted:
                self._release()
            return results
        assert compiled.shape is not None
        records = [self._record(row, compiled.shape) for row in rows]
        for plan in compiled.children:
            self._fill_children(plan, rows, records, compiled.shape.id_column)
        if self._exhausted:
            self._release()
        return records

    def close(self) -> None:
        """Release the SQLite cursor early (the REST layer's locator expired)."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        self._exhausted = True

    def _release(self) -> None:
        """Close a connection of the cursor's own once nothing more is read through it."""
        if self._owns_connection:
            self._owns_connection = False
            self._conn.close()

    # ------------------------------------------------------------------ shaping

    def _url(self, type_name: str, record_id: Any) -> str:
        return f"/services/data/v{self._api_version}/sobjects/{type_name}/{record_id}"

    def _record(self, row: tuple[Any, ...], shape: RecordShape) -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {
                "type": shape.type_name,
                "url": self._url(shape.type_name, row[shape.id_column]),
            }
        }
        self._entries(row, shape.entries, record)
        return record

    def _entries(self, row: tuple[Any, ...], entries: dict[str, Slot], out: dict[str, Any]) -> None:
        for slot in entries.values():
            if isinstance(slot, FieldSlot):
                out[slot.key] = from_storage(slot.definition, row[slot.column])
            elif isinstance(slot, ParentSlot):
                out[slot.key] = self._parent(row, slot)
            elif isinstance(slot, ChildSlot):
                out[slot.key] = None

    def _parent(self, row: tuple[Any, ...], slot: ParentSlot) -> dict[str, Any] | None:
        for column, type_name in slot.id_columns:
            record_id = row[column]
            if record_id is not None:
                nested: dict[str, Any] = {
                    "attributes": {"type": type_name, "url": self._url(type_name, record_id)}
                }
                self._entries(row, slot.entries, nested)
                return nested
        return None

    def _fill_children(
        self,
        plan: ChildPlan,
        rows: list[tuple[Any, ...]],
        records: list[dict[str, Any]],
        id_column: int,
    ) -> None:
        ids = [row[id_column] for row in rows]
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), ID_BATCH):
            batch = ids[start : start + ID_BATCH]
            sql = plan.sql.replace("{ids}", ", ".join("?" for _ in batch), 1)
            cursor = self._conn.cursor()
            cursor.row_factory = None
            for child_row in cursor.execute(sql, [*batch, *plan.params]):
                found.setdefault(child_row[plan.parent_column], []).append(
                    self._record(child_row, plan.shape)
                )
            cursor.close()
        for parent_id, record in zip(ids, records, strict=True):
            children = found.get(parent_id)
            record[plan.relationship] = (
                {"totalSize": len(children), "done": True, "records": children}
                if children
                else None
            )

    @staticmethod
    def _aggregate(row: tuple[Any, ...], columns: list[AggregateColumn]) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for column in columns:
            value = row[column.column]
            if value is None or column.definition is None:
                record[column.key] = value
            elif column.function in ("COUNT", "COUNT_DISTINCT"):
                record[column.key] = int(value)
            elif column.function == "AVG":
                record[column.key] = float(value)
            elif column.function == "SUM":
                record[column.key] = int(value) if column.definition.type == "int" else float(value)
            else:
                record[column.key] = from_storage(column.definition, value)
        return record
