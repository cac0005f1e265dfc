"""cm_sim: an in-process Campaign Monitor account (API v3.3) for createsend and httpx clients."""

from __future__ import annotations

__all__: list[str] = []
