"""What every part of the account shares: store, clock, seeded randomness, lookups, pending events.

Future events (a link scanner's clicks seconds after delivery, a scheduled campaign,
state changes caused by generated activity) are written to the ``pending`` table with
their own timestamps. :meth:`AccountBase.catch_up` applies every due one, in timestamp
order, before each API request and control read, so behaviour is lazy, exact and
deterministic: a read at virtual time *t* sees exactly the events stamped <= *t*.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from cm_sim.exceptions import CmApiError, api_error
from cm_sim.store import Store
from cm_sim.times import to_epoch, tz_offset
from cmsf_core.clock import Clock

if TYPE_CHECKING:
    from cm_sim.behaviour import ActivityModel, LinkScanner

__all__ = ["ACCOUNT_SCOPE", "AccountBase", "Scope"]


class Scope:
    """Who is calling: the whole account or one client (client API key).

    Args:
        client_id: The client a client-level key is bound to; ``None`` for the account.
        kind: ``apikey`` or ``oauth`` (for the request log, never the credential).
    """

    def __init__(self, client_id: str | None = None, kind: str = "apikey") -> None:
        self.client_id = client_id
        self.kind = kind

    @property
    def account_level(self) -> bool:
        """Whether the caller may see every client."""
        return self.client_id is None


ACCOUNT_SCOPE = Scope()


class AccountBase:
    """Shared state and helpers; the concrete :class:`cm_sim.Account` mixes in the rest."""

    store: Store
    clock: Clock
    rng: random.Random
    kind: str
    activity_model: ActivityModel | None
    link_scanners: list[LinkScanner]

    # -- time, ids ---------------------------------------------------------------
    def now_ts(self) -> int:
        """Current virtual time as UTC epoch seconds."""
        return to_epoch(self.clock.now())

    def new_hex(self, length: int = 32) -> str:
        """A lower-case hex id drawn from the seeded generator."""
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def new_uuid(self) -> str:
        """A UUID-shaped id drawn from the seeded generator (transactional ids)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- lookups -----------------------------------------------------------------
    def client_row(self, client_id: str, scope: Scope = ACCOUNT_SCOPE) -> dict[str, Any]:
        """The client, or 400 Code 102; a client key asking for another client gets 401 102.

        Raises:
            CmApiError: 102 when unknown or not visible to the caller.
        """
        row = self.store.one("SELECT * FROM clients WHERE id = ?", (client_id,))
        if row is None:
            raise api_error(102)
        if scope.client_id is not None and scope.client_id != client_id:
            raise CmApiError(102, "Invalid ClientID", 401)
        return row

    def list_row(self, list_id: str, scope: Scope = ACCOUNT_SCOPE) -> dict[str, Any]:
        """The list (not deleted, visible to the caller), or 400 Code 101 Invalid ListID.

        Raises:
            CmApiError: 101.
        """
        row = self.store.one("SELECT * FROM lists WHERE id = ? AND deleted = 0", (list_id,))
        if row is None or (scope.client_id is not None and row["client_id"] != scope.client_id):
            raise api_error(101)
        return row

    def client_tz(self, client_id: str) -> tzinfo:
        """The fixed offset of a client's ``TimeZone``."""
        name = self.store.scalar("SELECT timezone FROM clients WHERE id = ?", (client_id,))
        return tz_offset(str(name or "(GMT) Coordinated Universal Time"))

    def list_tz(self, list_row: dict[str, Any]) -> tzinfo:
        """The time zone that dates of a list are written in (its client's)."""
        return self.client_tz(str(list_row["client_id"]))

    def account_tz(self) -> tzinfo:
        """The account's time zone: the first client's, else UTC."""
        name = self.store.scalar("SELECT timezone FROM clients ORDER BY created_ts, id LIMIT 1")
        return tz_offset(str(name or "(GMT) Coordinated Universal Time"))

    # -- pending events ----------------------------------------------------------
    def schedule(self, ts: int, kind: str, payload: dict[str, Any]) -> None:
        """Store an event to apply when virtual time reaches ``ts``."""
        self.store.execute(
            "INSERT INTO pending (ts, kind, payload) VALUES (?, ?, ?)",
            (ts, kind, json.dumps(payload, separators=(",", ":"))),
        )

    def schedule_many(self, rows: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Store many future events at once."""
        self.store.executemany(
            "INSERT INTO pending (ts, kind, payload) VALUES (?, ?, ?)",
            [(ts, kind, json.dumps(p, separators=(",", ":"))) for ts, kind, p in rows],
        )

    def catch_up(self) -> int:
        """Apply every pending event whose time has come, oldest first.

        Returns:
            How many events were applied.
        """
        now = self.now_ts()
        applied = 0
        with self.store.transaction():
            while True:
                due = self.store.all(
                    "SELECT id, ts, kind, payload FROM pending WHERE ts <= ? "
                    "ORDER BY ts, id LIMIT 500",
                    (now,),
                )
                if not due:
                    return applied
                for event in due:
                    self.store.execute("DELETE FROM pending WHERE id = ?", (event["id"],))
                    handler: Callable[[int, dict[str, Any]], None] = getattr(
                        self, f"_on_{event['kind']}"
                    )
                    handler(int(event["ts"]), json.loads(event["payload"]))
                    applied += 1
