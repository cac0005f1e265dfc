"""The Salesforce API budget: stop cleanly before a run, or the org, spends too much.

Salesforce counts every REST request against a rolling 24-hour allocation and reports
usage on each response (``Sforce-Limit-Info: api-usage=N/M``). A run may spend at most
``run_share`` of the allocation, and must stop when the org as a whole (every app and
user) reaches ``org_ceiling`` of it. A few calls are kept in reserve so the run can still
record why it stopped. The gateway calls :meth:`ApiBudget.check` before every request
and :meth:`ApiBudget.observe` after every response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmsf_core.errors import BudgetExhaustedError
from cmsf_core.formatting import percent

__all__ = ["ApiBudget", "parse_limit_info"]

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """Parse ``api-usage=N/M`` out of a ``Sforce-Limit-Info`` header."""
    if not header:
        return None
    match = _LIMIT_INFO.search(header)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass
class ApiBudget:
    """How many Salesforce API calls this run may still make.

    Attributes:
        run_share: Share of the daily allocation one run may spend (0-1].
        org_ceiling: Stop once the org has used this share of its allocation (0-1].
        reserve: Calls kept back to record a clean stop.
        daily_max: The org's daily allocation, once known.
        org_used: Calls the org has used in the current 24 hours, as last reported.
        run_calls: Calls made by this run.
    """

    run_share: float = 0.25
    org_ceiling: float = 0.9
    reserve: int = 5
    daily_max: int | None = None
    org_used: int | None = None
    run_calls: int = 0

    def observe(self, used: int, maximum: int) -> None:
        """Record the usage the org reported on a response."""
        self.daily_max = maximum
        self.org_used = used

    def count(self) -> None:
        """Record that this run made one call."""
        self.run_calls += 1

    @property
    def run_allowance(self) -> int | None:
        """Calls this run may make in total, once the allocation is known."""
        if self.daily_max is None:
            return None
        return int(self.daily_max * self.run_share)

    @property
    def org_allowance(self) -> int | None:
        """Usage level at which the org ceiling is reached."""
        if self.daily_max is None:
            return None
        return int(self.daily_max * self.org_ceiling)

    def remaining(self) -> int | None:
        """Calls left before either limit (reserve excluded), if known."""
        run_allowance, org_allowance = self.run_allowance, self.org_allowance
        if run_allowance is None or org_allowance is None:
            return None
        left_run = run_allowance - self.run_calls
        left_org = org_allowance - (self.org_used or 0)
        return max(0, min(left_run, left_org) - self.reserve)

    def check(self) -> None:
        """Raise if the next call would break the run share or the org ceiling.

        Raises:
            BudgetExhaustedError: With a message saying which limit was reached.
        """
        if self.daily_max is None:
            return
        run_allowance = self.run_allowance or 0
        org_allowance = self.org_allowance or 0
        if self.run_calls >= run_allowance - self.reserve:
            raise BudgetExhaustedError(
                f"this run used {self.run_calls:,} Salesforce API calls, its share "
                f"({percent(self.run_share)} of {self.daily_max:,} a day, less {self.reserve} "
                "kept to record the stop); stopping cleanly",
                platform="salesforce",
                support_code="CMSF-API-RUN",
            )
        if self.org_used is not None and self.org_used >= org_allowance - self.reserve:
            raise BudgetExhaustedError(
                f"the org has used {self.org_used:,} of {self.daily_max:,} daily Salesforce API "
                f"calls (ceiling {percent(self.org_ceiling)}); stopping cleanly",
                platform="salesforce",
                support_code="CMSF-API-ORG",
            )
