"""The exit codes of ``cmsf``: one contract for cron, systemd and CI scripts.

Every command ends with one of these codes; errors carry theirs as ``exit_code``
(:mod:`cmsf_core.errors`) and a sync's code follows its run status
(:func:`for_run_status`). The README's "Exit codes" table lists the same values.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["RUN_STATUS_CODES", "ExitCode", "for_run_status"]


class ExitCode(IntEnum):
    """What a ``cmsf`` exit code means."""

    COMPLETED = 0
    """The command did what it was asked; a sync completed without errors."""
    FAILED = 1
    """The run or command failed: a platform outage, refused credentials or request."""
    USAGE = 2
    """A usage or configuration mistake: fix the command line, config file or environment."""
    COMPLETED_WITH_ERRORS = 3
    """The sync completed, but some records or jobs failed (see ``cmsf messages``)."""
    STOPPED = 4
    """The sync stopped cleanly (API budget, rate limit, sandbox safety, storage full); the next
    run resumes."""
    WAITING = 5
    """Salesforce is still processing a Bulk API job of the sync; the next run collects its
    results (nothing is written twice)."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C) or a confirmation declined; an interrupted sync resumes next run."""


RUN_STATUS_CODES: dict[str, ExitCode] = {
    "completed": ExitCode.COMPLETED,
    "completed_with_errors": ExitCode.COMPLETED_WITH_ERRORS,
    "stopped": ExitCode.STOPPED,
    "waiting": ExitCode.WAITING,
    "failed": ExitCode.FAILED,
}
"""Exit code of ``cmsf sync`` by the status of the run."""


def for_run_status(status: str) -> ExitCode:
    """The exit code of a sync that ended with ``status`` (unknown statuses fail)."""
    return RUN_STATUS_CODES.get(status, ExitCode.FAILED)
