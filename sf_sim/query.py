"""REST query paging: run SOQL through the engine, hand out pages and query locators.

``query``/``queryAll`` answer the first page (2,000 records by default,
``Sforce-Query-Options: batchSize=`` between 200 and 2,000) and, when more remain, a
``nextRecordsUrl`` of the form ``/services/data/v59.0/query/0r8…-2000``. The locator
keeps the engine's live cursor on the org, so following pages stream from SQLite
instead of re-running the query; a locator lives two days on the org's clock (no
open-cursor cap since API 56.0). Asking for another offset re-runs the query and
skips ahead, as a client retrying a page expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import SalesforceApiError
from sf_sim.soql import QueryCursor, run_query

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["DEFAULT_BATCH", "LOCATOR_LIFETIME", "Queries", "parse_batch_size"]

DEFAULT_BATCH = 2000
LOCATOR_LIFETIME = timedelta(days=2)
_LOCATOR = re.compile(r"^(0r8[A-Za-z0-9]{15})-(\d{1,9})$")


@dataclass
class _Locator:
    soql: str
    include_deleted: bool
    batch: int
    cursor: QueryCursor
    position: int
    created: datetime


def parse_batch_size(header: str | None) -> int:
    """The page size asked for in ``Sforce-Query-Options`` (clamped to 200..2000)."""
    if not header:
        return DEFAULT_BATCH
    match = re.search(r"batchSize\s*=\s*(\d+)", header)
    if not match:
        return DEFAULT_BATCH
    return min(max(int(match.group(1)), 200), DEFAULT_BATCH)


class Queries:
    """Query execution and the open locators of one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._locators: dict[str, _Locator] = {}

    def clear(self) -> None:
        """Forget every open locator."""
        self._locators.clear()

    def expire(self) -> int:
        """Close locators older than two days (abandoned paging); returns how many."""
        now = self.org.clock.now()
        stale = [
            key for key, state in self._locators.items() if now - state.created > LOCATOR_LIFETIME
        ]
        for key in stale:
            del self._locators[key]
        return len(stale)

    @property
    def open_locators(self) -> int:
        """How many query locators are open."""
        return len(self._locators)

    def run(
        self, soql: str, *, include_deleted: bool = False, api_version: str = "59.0"
    ) -> QueryCursor:
        """Run SOQL as the running user and return the engine's streaming cursor.

        Raises:
            QueryError: For anything the platform would refuse.
        """
        self.org.control.count_apex("soql")
        reader, own = self.org.store.reader()
        cursor = run_query(
            reader,
            self.org.schema,
            soql,
            now=self.org.clock.now(),
            user_timezone=self.org.user_timezone(),
            include_deleted=include_deleted,
            field_visible=self.org.control.field_visible,
            api_version=api_version,
            object_visible=(
                self.org.control.object_visible if self.org.control.object_permissions else None
            ),
            owns_connection=own,
            record_filter=self.org.sharing.read_filter,
            running_user=self.org.running_user_id,
        )
        self.org.control.count_apex("soql_rows", cursor.total_size)
        return cursor

    def first_page(
        self,
        soql: str,
        *,
        include_deleted: bool,
        batch: int = DEFAULT_BATCH,
        api_version: str = "59.0",
    ) -> dict[str, Any]:
        """The first page of a ``query``/``queryAll`` response."""
        cursor = self.run(soql, include_deleted=include_deleted, api_version=api_version)
        records = cursor.fetch(batch)
        return self._page(
            cursor, records, soql, include_deleted, batch, len(records), api_version, None
        )

    def next_page(
        self, locator: str, *, api_version: str = "59.0", include_deleted: bool | None = None
    ) -> dict[str, Any]:
        """A later page, by ``<locator>-<offset>``.

        Raises:
            SalesforceApiError: ``INVALID_QUERY_LOCATOR`` for unknown or expired locators.
        """
        invalid = SalesforceApiError("INVALID_QUERY_LOCATOR", "invalid query locator", 400)
        match = _LOCATOR.match(locator)
        if not match:
            raise invalid
        key, offset = match.group(1), int(match.group(2))
        state = self._locators.get(key)
        if state is None:
            raise invalid
        if self.org.clock.now() - state.created > LOCATOR_LIFETIME:
            del self._locators[key]
            raise invalid
        if offset != state.position:
            cursor = self.run(
                state.soql, include_deleted=state.include_deleted, api_version=api_version
            )
            skipped = 0
            while skipped < offset and not cursor.done:
                skipped += len(cursor.fetch(min(offset - skipped, 2000)))
            state.cursor, state.position = cursor, offset
        records = state.cursor.fetch(state.batch)
        state.position += len(records)
        return self._page(
            state.cursor,
            records,
            state.soql,
            state.include_deleted,
            state.batch,
            state.position,
            api_version,
            key,
        )

    def _page(
        self,
        cursor: QueryCursor,
        records: list[dict[str, Any]],
        soql: str,
        include_deleted: bool,
        batch: int,
        position: int,
        api_version: str,
        key: str | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "totalSize": cursor.total_size,
            "done": cursor.done,
            "records": records,
        }
        if cursor.done:
            if key is not None:
                self._locators.pop(key, None)
            return body
        if key is None:
            key = self.org.transient_ids.next("0r8")
            self._locators[key] = _Locator(
                soql, include_deleted, batch, cursor, position, self.org.clock.now()
            )
        resource = "queryAll" if include_deleted else "query"
        body["nextRecordsUrl"] = f"/services/data/v{api_version}/{resource}/{key}-{position}"
        return body

    def all_records(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every record of a query (backend convenience)."""
        with self.org.store.lock:
            cursor = self.run(soql, include_deleted=include_deleted)
            records: list[dict[str, Any]] = []
            while not cursor.done:
                page = cursor.fetch(DEFAULT_BATCH)
                if not page:
                    break
                records.extend(page)
            return records
