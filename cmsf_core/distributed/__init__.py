"""The distributed runtime: the primary sync on Celery workers, the journal on PostgreSQL.

See :mod:`cmsf_core.distributed.runtime` (the coordinator), :mod:`.tasks` (what workers
run), :mod:`.pgjournal` (the shared journal), :mod:`.budget` (one API budget for all
workers, in Redis) and :mod:`.services` (real Redis and PostgreSQL for tests and trials).
Importing this package imports no Celery, Redis or PostgreSQL client: those come with
the ``distributed`` extra and are loaded only when the runtime is used.
"""

from __future__ import annotations

from cmsf_core.distributed.config import RuntimeConfig, load_runtime, redact

__all__ = ["RuntimeConfig", "load_runtime", "redact"]
