"""Where ``campaign_stats`` keeps a campaign's summary counters in Salesforce.

The job copies each campaign's summary onto ``CMSF_Campaign__c``; the
:class:`~cmsf_core.jobs.context.Directory` reads them back with the records, so a planner
(the celery runtime's partitions of a campaign's activity) knows how big a read may be
without asking Campaign Monitor again.
"""

from __future__ import annotations

__all__ = ["SUMMARY_FIELDS"]

SUMMARY_FIELDS: dict[str, str] = {
    "Recipients": "Recipients__c",
    "TotalOpened": "Total_Opened__c",
    "UniqueOpened": "Unique_Opened__c",
    "Clicks": "Clicks__c",
    "Unsubscribed": "Unsubscribed__c",
    "Bounced": "Bounced__c",
    "SpamComplaints": "Spam_Complaints__c",
    "Forwards": "Forwards__c",
    "Likes": "Likes__c",
    "Mentions": "Mentions__c",
}
"""Campaign summary counter -> ``CMSF_Campaign__c`` field."""
