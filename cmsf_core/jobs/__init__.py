"""The primary sync's jobs; importing this package registers every job in ``JOBS``."""

from __future__ import annotations

from cmsf_core.jobs import (  # noqa: F401 - imported to register the jobs
    campaign_members,
    campaign_stats,
    campaigns,
    cleanup,
    configuration,
    full_reset,
    imports,
    list_stats,
    opt_out,
    push_capture,
    push_queue,
    push_rules,
    reconciliation,
    relink,
    smart_email_sends,
    smart_emails,
    subscribers,
    suppression,
    tracking_history,
)
from cmsf_core.jobs.base import JOBS, Job, Scope, register

__all__ = ["JOBS", "Job", "Scope", "register"]
