"""The Campaign Monitor account: one backend per tenant, over SQLite.

:class:`Account` composes the parts (clients, webhooks, suppression, journeys,
states, lists, subscribers, campaigns, transactional, auth, control) into one object
that reads a single injectable clock and draws from one seeded generator. It knows no
HTTP: this is the backend layer, importing neither the facade nor an activation. The
account everyone uses, :class:`cm_sim.Account` (:class:`cm_sim.activation.Account`), adds
``app()`` (the facade), ``transport()`` and ``client()``: backend → facade → activation.

Example:
    >>> from cm_sim import Account
    >>> account = Account(seed=7)
    >>> client_id = account.create_client("Acme")
    >>> list_id = account.create_list(client_id, "Newsletter")
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from cm_sim.behaviour import ActivityModel, LinkScanner
from cm_sim.control import ControlMixin
from cm_sim.exceptions import ControlError
from cm_sim.faults import Fault, RateLimiter
from cm_sim.store import Store
from cmsf_core.clock import Clock, VirtualClock

__all__ = ["BASE_URL", "Account"]

BASE_URL = "https://api.createsend.com/api/v3.3"


class Account(ControlMixin):
    """A simulated Campaign Monitor account (agency or direct).

    Args:
        path: SQLite file to keep the account in; ``None`` keeps it in memory.
            Reopening a file restores everything, the API key included.
        clock: The clock every rule reads; defaults to a fresh ``VirtualClock``.
        seed: Seed of the account's random generator (ids, keys, behaviour models).
        kind: ``agency`` (many clients) or ``direct`` (one client).
        api_key: The account API key; when not given, the stored one (file) or one
            generated from the seed. Giving one for an existing file replaces its key.
        test_account: Mark the account as a pay-as-you-go test account.
        activity_model: Generated activity for sent campaigns (``None``: none).

    Attributes:
        api_key: The account-level API key (HTTP Basic username).
        strict_inactive_adds: Answer 204-208 instead of succeeding silently when an add
            without ``Resubscribe`` meets an inactive or suppressed address.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        kind: str | None = None,
        api_key: str | None = None,
        test_account: bool | None = None,
        activity_model: ActivityModel | None = None,
    ) -> None:
        self.store = Store(path)
        self.clock = clock if clock is not None else VirtualClock()
        stored_seed = self.store.meta_get("seed")
        self.seed = int(stored_seed) if stored_seed is not None else seed
        opens = int(self.store.meta_get("opens") or "0")
        self.rng = random.Random(f"{self.seed}:{opens}")
        self.store.meta_set("opens", str(opens + 1))
        stored_kind = self.store.meta_get("kind")
        self.kind = stored_kind or kind or "agency"
        if self.kind not in ("agency", "direct") or (kind is not None and kind != self.kind):
            raise ControlError(f"kind must be 'agency' or 'direct' (stored: {stored_kind!r})")
        self.api_key = api_key or self.store.meta_get("api_key") or self.new_hex(48)
        flag = self.store.meta_get("test_account")
        self.test_account = (
            bool(test_account) if flag is None or test_account is not None else flag == "1"
        )
        self.activity_model = activity_model
        self.link_scanners: list[LinkScanner] = []
        self.faults: list[Fault] = []
        self.rate_limiter: RateLimiter | None = RateLimiter()
        self.tx_rate_limiter: RateLimiter | None = None
        self.strict_inactive_adds = False
        self._log: list[dict[str, Any]] = []
        self._save_meta()

    def _save_meta(self) -> None:
        for key, value in (("seed", str(self.seed)), ("kind", self.kind), ("api_key", self.api_key),
                           ("test_account", "1" if self.test_account else "0")):  # fmt: skip
            self.store.meta_set(key, value)

    @property
    def path(self) -> Path | None:
        """The SQLite file, or ``None`` in memory."""
        return self.store.path

    def reset(self) -> None:
        """Empty the account (clients, lists, everything) but keep its key, kind and clock."""
        self.store.wipe()
        self.faults.clear()
        self.link_scanners.clear()
        self._log.clear()
        self.rate_limiter = RateLimiter()
        self.tx_rate_limiter = None
        self._save_meta()

    def close(self) -> None:
        """Close the store (file-backed accounts flush to disk)."""
        self.store.close()

    @property
    def base_url(self) -> str:
        """The API base URL clients use (``https://api.createsend.com/api/v3.3``)."""
        return BASE_URL

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"Account(kind={self.kind!r}, store={where!r}, seed={self.seed})"
