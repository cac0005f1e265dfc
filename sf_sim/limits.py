"""API request limits: the rolling 24-hour window, ``Sforce-Limit-Info``, the limits resource.

Every API request costs one call (a composite or collections request too) and is
recorded with its virtual time; usage is the sum of costs in the last 24 hours of the
org's clock. Past the org's daily limit a request is refused with HTTP 403
``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded." before it changes anything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import SalesforceApiError
from sf_sim.schema import format_datetime

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["DEFAULT_DAILY_LIMIT", "ApiLimits"]

DEFAULT_DAILY_LIMIT = 15_000
"""A Developer Edition's daily API request allocation."""
SANDBOX_DAILY_LIMIT = 5_000_000
"""A sandbox's default daily API request allocation."""


class ApiLimits:
    """Counts API usage of one org over a rolling 24-hour window of its clock."""

    def __init__(self, org: Org) -> None:
        self.org = org

    @property
    def daily_limit(self) -> int:
        """Requests allowed in any 24 hours."""
        return int(self.org.store.meta("daily_api_limit", DEFAULT_DAILY_LIMIT))

    @daily_limit.setter
    def daily_limit(self, value: int) -> None:
        if value < 0:
            raise ValueError("the daily API limit cannot be negative")
        self.org.store.set_meta("daily_api_limit", int(value))

    def used(self) -> int:
        """Requests counted in the last 24 hours."""
        since = format_datetime(self.org.clock.now() - timedelta(hours=24))
        return int(
            self.org.store.scalar(
                "SELECT COALESCE(SUM(cost), 0) FROM _sf_api_calls WHERE at > ?", (since,)
            )
        )

    def remaining(self) -> int:
        """Requests left in the current window."""
        return max(self.daily_limit - self.used(), 0)

    def charge(self, cost: int = 1) -> int:
        """Count a request, or refuse it when the window is full.

        Returns:
            Usage after this request.

        Raises:
            SalesforceApiError: ``REQUEST_LIMIT_EXCEEDED`` (403) if the limit is reached.
        """
        used = self.used()
        if used + cost > self.daily_limit:
            raise SalesforceApiError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403)
        now = self.org.clock.now()
        self.org.store.conn.execute(
            "INSERT INTO _sf_api_calls (at, cost) VALUES (?, ?)", (format_datetime(now), cost)
        )
        self.org.store.conn.execute(
            "DELETE FROM _sf_api_calls WHERE at <= ?", (format_datetime(now - timedelta(hours=25)),)
        )
        return used + cost

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` header value."""
        return f"api-usage={self.used()}/{self.daily_limit}"

    def reset(self) -> None:
        """Forget all counted usage."""
        self.org.store.conn.execute("DELETE FROM _sf_api_calls")

    def _async_executions(self) -> int:
        since = format_datetime(self.org.clock.now() - timedelta(hours=24))
        return sum(1 for at in self.org.apex.executions if at > since)

    def to_api(self) -> dict[str, Any]:
        """The ``limits`` resource: the keys a real org returns, with this org's figures."""
        daily = self.daily_limit
        storage_mb = self.org.control.storage_limit_mb
        used_mb = self.org.control.storage_used_bytes() // (1024 * 1024)
        bulk = self.org.bulk.jobs_in_window()

        def pair(maximum: int, remaining: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(remaining, 0)}

        return {
            "ActiveScratchOrgs": pair(3, 3),
            "AnalyticsExternalDataSizeMB": pair(40960, 40960),
            "ConcurrentAsyncGetReportInstances": pair(200, 200),
            "ConcurrentEinsteinDataInsightsStoryCreation": pair(5, 5),
            "ConcurrentEinsteinDiscoveryStoryCreation": pair(2, 2),
            "ConcurrentSyncReportRuns": pair(20, 20),
            "DailyAnalyticsDataflowJobExecutions": pair(60, 60),
            "DailyAnalyticsUploadedFilesSizeMB": pair(51200, 51200),
            "DailyApiRequests": pair(daily, daily - self.used()),
            "DailyAsyncApexExecutions": pair(250000, 250000 - self._async_executions()),
            "DailyAsyncApexTests": pair(500, 500),
            "DailyBulkApiBatches": pair(15000, 15000 - bulk),
            "DailyBulkV2QueryFileStorageMB": pair(976562, 976562),
            "DailyBulkV2QueryJobs": pair(10000, 10000),
            "DailyDeliveredPlatformEvents": pair(10000, 10000),
            "DailyDurableGenericStreamingApiEvents": pair(10000, 10000),
            "DailyDurableStreamingApiEvents": pair(10000, 10000),
            "DailyEinsteinDataInsightsStoryCreation": pair(1000, 1000),
            "DailyFunctionsApiCallLimit": pair(235000, 235000),
            "DailyGenericStreamingApiEvents": pair(10000, 10000),
            "DailyScratchOrgs": pair(6, 6),
            "DailyStandardVolumePlatformEvents": pair(10000, 10000),
            "DailyStreamingApiEvents": pair(10000, 10000),
            "DailyWorkflowEmails": pair(1890, 1890),
            "DataStorageMB": pair(storage_mb, storage_mb - used_mb),
            "DurableStreamingApiConcurrentClients": pair(20, 20),
            "FileStorageMB": pair(20, 20),
            "HourlyAsyncReportRuns": pair(1200, 1200),
            "HourlyDashboardRefreshes": pair(200, 200),
            "HourlyDashboardResults": pair(5000, 5000),
            "HourlyDashboardStatuses": pair(999999999, 999999999),
            "HourlyLongTermIdMapping": pair(100000, 100000),
            "HourlyManagedContentPublicRequests": pair(50000, 50000),
            "HourlyODataCallout": pair(10000, 10000),
            "HourlyPublishedPlatformEvents": pair(50000, 50000),
            "HourlyPublishedStandardVolumePlatformEvents": pair(1000, 1000),
            "HourlyShortTermIdMapping": pair(100000, 100000),
            "HourlySyncReportRuns": pair(500, 500),
            "HourlyTimeBasedWorkflow": pair(50, 50),
            "MassEmail": pair(10, 10),
            "MonthlyEinsteinDiscoveryStoryCreation": pair(500, 500),
            "MonthlyPlatformEventsUsageEntitlement": pair(0, 0),
            "Package2VersionCreates": pair(6, 6),
            "Package2VersionCreatesWithoutValidation": pair(500, 500),
            "PermissionSets": {
                "Max": 1500,
                "Remaining": 1500,
                "CreateCustom": {"Max": 1000, "Remaining": 1000},
            },
            "PrivateConnectOutboundCalloutHourlyLimitMB": pair(0, 0),
            "SingleEmail": pair(15, 15 - len(self.org.control.outbox)),
            "StreamingApiConcurrentClients": pair(20, 20),
        }
