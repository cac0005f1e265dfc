"""The job model: a batch job declares itself; behaviour lives in small hooks.

A job's ``start()`` yields *scopes* (small JSON-able dicts with a unique ``key``),
``execute(scope)`` does bounded work for one of them, and ``finish()`` names the jobs that
follow. The runtime records each executed scope in the journal, so a run resumed after a
crash skips what was done; inside a scope, idempotent upserts, the shadow index and
bookmarks advanced per page make a repeated execution write nothing twice.

Jobs register themselves by ``name`` in :data:`JOBS` (see :func:`register`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext

__all__ = ["JOBS", "Job", "Scope", "register"]

Scope = Mapping[str, Any]
"""One unit of a job's work: JSON-able, with a unique ``key``."""

J = TypeVar("J", bound="type[Job]")

JOBS: dict[str, type[Job]] = {}
"""Every job class by name."""


def register(cls: J) -> J:
    """Class decorator adding a job to :data:`JOBS`."""
    if cls.name in JOBS and JOBS[cls.name] is not cls:
        raise ValueError(f"two jobs are named {cls.name!r}")
    JOBS[cls.name] = cls
    return cls


class Job(ABC):
    """Base class of every sync job.

    Class attributes:
        name: Unique job name (journal key, settings limit key).
        title: What the job does, for progress bars and reports.
        limit: Name of the internal governor limit giving the batch size.
        follows: Jobs that run after this one (``finish()`` returns them by default).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    limit: ClassVar[str] = ""
    follows: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    @property
    def batch_size(self) -> int:
        """Records per batch, from the settings' internal governor limits."""
        return self.ctx.settings.limit(self.limit or self.name)

    def enabled(self) -> bool:
        """Whether the job runs at all under the current settings (skipped if not)."""
        return True

    def start(self) -> Iterable[Scope]:
        """Yield the scopes of this run (each with a unique ``key``)."""
        return [{"key": "all"}]

    @abstractmethod
    def execute(self, scope: Scope) -> None:
        """Do the bounded work of one scope."""

    def partition(self, scope: Scope, size: int) -> list[Scope]:
        """``scope`` split into parts of about ``size`` records that may run at once.

        The distributed runtime asks this of every scope of a job (its *list
        partitions*); the local runtime never does. Parts have keys of their own and
        name their scope in ``part_of``; a part advances no bookmark of the scope, only
        :meth:`merge_partitions` does, once every part is done. Empty: not split.
        """
        return []

    def merge_partitions(self, scope: Scope, parts: Sequence[Scope]) -> None:
        """Every part of ``scope`` is done: move the scope's bookmark where they reached."""
        return None

    def finish(self) -> list[str]:
        """Names of the jobs that follow this one."""
        return list(self.follows)
