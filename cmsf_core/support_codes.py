"""Support codes of maintenance messages: what went wrong and what a person should do.

Every maintenance message carries one of these codes; the catalogue gives its title and
the guidance shown with it (the product's "support code opens specific guidance").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SUPPORT_CODES", "SupportCode", "guidance"]


@dataclass(frozen=True)
class SupportCode:
    """A support code's title and guidance."""

    title: str
    guidance: str


SUPPORT_CODES: dict[str, SupportCode] = {
    "CMSF-OWNER-INACTIVE": SupportCode(
        "Sync user or security owner deactivated",
        "Salesforce does not let a deactivated user own records (INACTIVE_OWNER_OR_USER). "
        "Until an active user is chosen, the sync gives new records to the user it logs in "
        "as. Change the Salesforce sync user, or set an active security owner on the client.",
    ),
    "CMSF-REC-PENDING": SupportCode(
        "Refused records waiting for a retry",
        "Salesforce refused some records (a row lock that outlasted the retries, a validation "
        "rule, a trigger, a field the sync user may not edit). The runner keeps their keys and "
        "retries them on every run; they are written as soon as the cause is gone. The messages "
        "of the jobs that wrote them name the errors.",
    ),
    "CMSF-JOURNAL-NEW": SupportCode(
        "Runner journal started clean state",
        "The runner's journal held the state of another org or of an earlier connection (the "
        "same journal file used against another org, or a reset and connect). It started clean "
        "state, so this run reads everything again and writes what differs. Nothing to do.",
    ),
    "CMSF-CM-ACCOUNT": SupportCode(
        "Campaign Monitor credentials open another account",
        "The API key or token now opens a different Campaign Monitor account than the one this "
        "org was connected to, so the sync refuses to run. Restore the credentials, or run "
        "'cmsf connect' to connect the org to the new account deliberately.",
    ),
    "CMSF-API-RUN": SupportCode(
        "Run stopped at its Salesforce API share",
        "The sync stopped before spending more than its share of the daily API allocation. "
        "It resumes where it stopped on the next run. Raise 'run_api_share' if runs often stop.",
    ),
    "CMSF-API-ORG": SupportCode(
        "Org close to its daily Salesforce API limit",
        "Other apps and users have used most of the org's daily API allocation, so the sync "
        "stopped to leave room for them. It resumes on the next run once usage drops.",
    ),
    "CMSF-API-LIMIT": SupportCode(
        "Salesforce daily API limit exhausted",
        "Salesforce refused requests with REQUEST_LIMIT_EXCEEDED. The sync resumes when the "
        "rolling 24-hour usage falls; review which integrations use the API.",
    ),
    "CMSF-CM-DOWN": SupportCode(
        "Campaign Monitor unavailable",
        "Campaign Monitor did not answer or answered with server errors after several retries. "
        "Nothing was lost: the next run continues from the last completed step.",
    ),
    "CMSF-CM-RATE": SupportCode(
        "Campaign Monitor rate limit",
        "Campaign Monitor kept rate-limiting requests after waiting for its reset. The next run "
        "continues where this one stopped.",
    ),
    "CMSF-CM-AUTH": SupportCode(
        "Campaign Monitor refused the credentials",
        "The API key or OAuth token was refused. Reconnect with a full-access Campaign Monitor "
        "user of the same account.",
    ),
    "CMSF-SF-AUTH": SupportCode(
        "Salesforce refused the credentials",
        "The sync user could not log in. Check the user is active, or change the sync user.",
    ),
    "CMSF-SF-ERROR": SupportCode(
        "Salesforce refused a request",
        "A Salesforce request failed for a reason shown in the detail. Check the sync user's "
        "permissions and any automation on the objects involved.",
    ),
    "CMSF-REC-WRITE": SupportCode(
        "Records could not be written to Salesforce",
        "Salesforce refused some records (validation rules, restricted picklists, field "
        "permissions or triggers). The detail lists the error codes and examples; the rest of "
        "the sync continued.",
    ),
    "CMSF-REC-CREATE": SupportCode(
        "Contacts or Leads could not be created",
        "The create rule could not create a Contact or Lead for some subscribers: check the "
        "field mappings, required fields, restricted picklists and validation rules named in "
        "the detail. The memberships were still synced, without a link.",
    ),
    "CMSF-LIST-GONE": SupportCode(
        "Subscriber list deleted in Campaign Monitor",
        "A list was deleted in Campaign Monitor; its Salesforce list and memberships were "
        "removed. Import wizards or rules that used it need a new list.",
    ),
    "CMSF-SANDBOX": SupportCode(
        "Sandbox refused to sync with a live Campaign Monitor account",
        "This org is a sandbox (or not the org that was connected) and the connected Campaign "
        "Monitor account is not marked as a test account. Reset settings and connect a test "
        "account, or mark the account as a test account if it is one.",
    ),
    "CMSF-SCHEMA": SupportCode(
        "Campaign Monitor objects missing in Salesforce",
        "The integration's objects or fields are not deployed or not visible to the sync user. "
        "Deploy cmsf_core/metadata and assign the CMSF Full Access permission set.",
    ),
    "CMSF-JOB-FAILED": SupportCode(
        "A sync job failed",
        "A job failed for the reason in the detail; the other jobs continued. The next run "
        "retries it.",
    ),
    "CMSF-TASK-POISON": SupportCode(
        "A distributed task was given up",
        "The scopes of one client were delivered to workers the configured number of times "
        "(max_attempts) and never ended: each attempt crashed its worker or raised an "
        "unexpected error (the worker's log has it). The other clients were synced; the job "
        "is retried by the next run. Fix the cause, or raise max_attempts.",
    ),
    "CMSF-BROKER-DOWN": SupportCode(
        "The broker (Redis) could not be reached",
        "A process of the distributed runtime waited broker_outage_seconds for Redis (the "
        "Celery broker and the store of the shared API budget) and stopped the run before "
        "sending anything it could not count. Nothing was lost: bring Redis back and the "
        "next run resumes where this one stopped.",
    ),
    "CMSF-TASK-WAIT": SupportCode(
        "No worker finished the distributed tasks in time",
        "The run waited wait_seconds for the workers. Check that 'cmsf worker' processes run "
        "with the same CMSF_BROKER_URL, CMSF_DATABASE_URL and queue; the next run resumes.",
    ),
    "CMSF-SCANNER": SupportCode(
        "Unsubscribes that look like a spam filter's link scanner",
        "A security gateway clicked every link of the campaign for these recipients, the "
        "unsubscribe link included, within moments of delivery (see the score reasons on the "
        "tracking history and memberships). Turn on two-click unsubscribe in Campaign Monitor "
        "(Account Settings > Unsubscribe Settings) so the scanner's click only reaches a "
        "confirmation page. With 'scanner_protection' on, these unsubscribes do not opt anyone "
        "out of email in Salesforce; a later unsubscribe that looks like a person does. cmsf "
        "never resubscribes anyone: if they want your email, ask them to resubscribe.",
    ),
    "CMSF-SCAN-OFF": SupportCode(
        "Scanner protection cannot see unsubscribes",
        "'scanner_protection' is on, but unsubscribes are not kept as tracking history "
        "('tracking_retention_days' is 0 or 'tracking_activity_types' leaves out Unsubscribe), "
        "so no unsubscribe is scored and opt-outs happen as if protection were off. Keep "
        "Unsubscribe in the tracking activity types.",
    ),
    "CMSF-RULE-INVALID": SupportCode(
        "Subscriber rules or field mappings cannot be applied",
        "The detail names each rule and mapping and why: criteria Salesforce refuses (an "
        "unknown field, a syntax error), no list, a Campaign Monitor field the list does not "
        "have. They are skipped until fixed; everything else is pushed. Fix the criteria "
        "(a SOQL condition such as LeadSource = 'Web') or the mapping, and the next run "
        "applies the rule to every matching record.",
    ),
    "CMSF-PUSH-REFUSED": SupportCode(
        "Campaign Monitor refused subscriber data",
        "Campaign Monitor answered with a validation code for the records named in the "
        "detail (an invalid email address, a custom field value its type refuses, a "
        "consent value). Their queue items are marked Failed with the reason; the next "
        "change of the record sends it again.",
    ),
    "CMSF-PUSH-VALUE": SupportCode(
        "Salesforce values that do not fit Campaign Monitor",
        "A mapped value could not be converted to the list field's type (a date out of "
        "range, an option the field does not have, text longer than 250 characters) or a "
        "record to add has no email. The rest of the record's data was sent; fix the value "
        "or the mapping.",
    ),
    "CMSF-SMS-INVALID": SupportCode(
        "Mobile numbers that are not valid",
        "A mapped mobile number is not a valid number for the SMS country setting, so it "
        "was not sent (the rest of the record was). Correct the number, or include the "
        "country code (+44 ...).",
    ),
    "CMSF-SMS-OFF": SupportCode(
        "SMS field mappings ignored",
        "Mappings to MobileNumber or ConsentToSendSms are only used with SMS enabled "
        "('cmsf settings set sms_enabled=true', for an account with SMS).",
    ),
    "CMSF-PUSH-RENAME": SupportCode(
        "Email changes that could not be applied in Campaign Monitor",
        "A Contact's or Lead's new address could not replace the old one in a list: the list "
        "already has the new address, or Campaign Monitor refused it. The old subscriber was "
        "left as it is.",
    ),
    "CMSF-QUEUE-EXPIRED": SupportCode(
        "Queue items removed before they were processed",
        "Queue items waited longer than queue_retention_days and were cleaned up unsent "
        "(for example while triggers were disabled). Raise queue_retention_days if they "
        "should wait longer.",
    ),
    "CMSF-IMPORT-FAILED": SupportCode(
        "An import could not run",
        "The detail says why: its source was deleted or its owner cannot see it, Salesforce "
        "refused its query, its mappings name a column the source lacks or a field the list "
        "lacks, its owner is deactivated or cmsf cannot log in as them (JWT bearer), or "
        "Campaign Monitor refused the import. Nothing of it was removed from the list. Fix "
        "the import record (cmsf import show NAME) and run it again (cmsf import run NAME).",
    ),
    "CMSF-IMPORT-ROWS": SupportCode(
        "Rows an import could not import",
        "The detail lists the rows (their number in the source and record Id) and why: no "
        "email address, a value that does not fit its Campaign Monitor field (left out, the "
        "rest imported), or Campaign Monitor's validation code. The import record's "
        "Failures__c keeps the same list. Fix the data in Salesforce; the next run imports them.",
    ),
    "CMSF-IMPORT-TRUNCATED": SupportCode(
        "A report has more rows than a report run returns",
        "Salesforce returns the first 2,000 rows of a synchronous report run. Those were "
        "imported; the rest were not, and the list was not replaced. Use a list view or a SOQL "
        "source for the same people, or narrow the report with filters.",
    ),
    "CMSF-IMPORT-REMOVING": SupportCode(
        "Replace subscribers on list continues next run",
        "The import removes at most import_removals subscribers per run (an internal "
        "governor limit); the rest are removed by the next runs. For a very large list a "
        "new list for the import (and deleting the old one) can be quicker.",
    ),
    "CMSF-APEX-LIMIT": SupportCode(
        "Too many queueable jobs added to the queue (a trigger broke an Apex limit)",
        "A process, a flow or other custom code runs when the sync writes and breaks a "
        "per-transaction governor limit (queueable jobs, SOQL queries, CPU time, heap size) in "
        "the sync's transaction, so Salesforce refuses all of that call's records. Review any "
        "triggers, flows, processes or custom code written against the object named in the "
        "message. If you have custom triggers and cannot remove them, guard the async work: "
        "if(!System.isFuture() && !System.isBatch()), or compare Limits.getQueueableJobs() with "
        "Limits.getLimitQueueableJobs(), and work in bulk. Until then, fewer records per "
        "transaction help: lower the job's internal governor limit (the message says which and "
        "to what), or set 'limit_split_floor' so the engine retries such calls in smaller ones. "
        "The refused records are retried on every run until they are written.",
    ),
    "CMSF-APEX-SPLIT": SupportCode(
        "Records written in smaller calls after a trigger broke an Apex limit",
        "With 'limit_split_floor' set, the sync sent records a trigger's per-transaction Apex "
        "limit refused again in smaller calls (halving down to the floor), and the message says "
        "how many were written. Every split costs API calls and fires the trigger again: lower "
        "the job's internal governor limit to the size that worked, and review the trigger "
        "(guard its async work with if(!System.isFuture() && !System.isBatch()), work in bulk).",
    ),
    "CMSF-APEX-QUEUE": SupportCode(
        "The org's Apex flex queue is full",
        "Salesforce runs five batch jobs at a time; the rest wait Holding in the Apex flex queue, "
        "100 at most, first in first out. A trigger that starts a batch job when the sync writes "
        "is refused while the queue is full. Jobs Holding indefinitely are a Salesforce platform "
        "issue: check Setup > Apex Jobs and Setup > Apex Flex Queue, and contact Salesforce "
        "Support with the job Ids ('cmsf doctor' lists them). Change the trigger to start one "
        "job for many records. The refused records are retried on every run.",
    ),
    "CMSF-SF-BULK-WAIT": SupportCode(
        "Waiting for Salesforce to process a Bulk API job",
        "Salesforce queues Bulk API jobs behind the org's other bulk work (another app's load, "
        "a data migration) and processes them when it can. The sync does not wait forever: after "
        "'bulk_wait_minutes' it ends the run as waiting and keeps the job's Id in its journal; "
        "the next run collects the job's results first and writes nothing twice. Nothing to do "
        "if it passes; if it happens often, schedule syncs away from other large loads or raise "
        "'bulk_wait_minutes'.",
    ),
    "CMSF-STORAGE": SupportCode(
        "Salesforce data storage nearly full",
        "Like any app that creates records, the sync uses some of the org's data storage (about "
        "2 KB a record). Email tracking history is usually the largest part: a quick way to free "
        "space is to lower 'tracking_retention_days' (days to keep) or to keep fewer "
        "'tracking_activity_types' (only sends, opens and clicks, say). While storage is above "
        "'storage_warn_percent', each run cleans up before it writes.",
    ),
    "CMSF-STORAGE-FULL": SupportCode(
        "Salesforce data storage full: the sync stopped",
        "Salesforce refused records with STORAGE_LIMIT_EXCEEDED. The sync stopped writing (the "
        "refused records wait for their retry, nothing is lost) after running its clean-up jobs. "
        "Free space: lower 'tracking_retention_days' or keep fewer 'tracking_activity_types' "
        "(the next run removes the history outside them before it writes), delete other data, "
        "or buy more storage.",
    ),
    "CMSF-LICENSE": SupportCode(
        "The sync user's license lacks Leads or Campaigns",
        "Platform licenses can be quite limiting: typically they give no access to Leads or "
        "Campaigns, which the sync uses. The sync skips what the user cannot do (the message "
        "names it) instead of failing record by record. Give the sync user a full Salesforce "
        "license (recommended) or access to those objects, with one of the CMSF permission sets.",
    ),
    "CMSF-SF-ACCESS": SupportCode(
        "Insufficient permissions: secure query included inaccessible field",
        "A query of the sync names a field (or object) the sync user cannot see. Run the primary "
        "sync as a user with the System Administrator profile; for another profile, assign the "
        "CMSF_Full_Access permission set and make sure the user can read the standard objects "
        "and fields it uses (Contact, Lead, Account, Campaign, CampaignMember) and has 'View "
        "Setup and Configuration'. 'cmsf doctor' lists what is hidden.",
    ),
    "CMSF-TX-RATE": SupportCode(
        "Transactional email rate limit",
        "Campaign Monitor rate-limited smart email sends (429) for longer than a run waits. "
        "The sends stay Pending with Next_Attempt__c and go with the first run or watch poll "
        "after it; each such delay counts as one try of the item that met it "
        "(smart_email_attempts). Nothing to do unless it recurs: then send less at once.",
    ),
    "CMSF-TX-MAPPING": SupportCode(
        "Smart email mapping cannot send",
        "The mapping named in the detail does not fit its smart email or its object: a variable "
        "the smart email does not have, a field that does not exist (check parent paths such "
        "as Account.Name), a recipient field that is not an email, a smart email that is a "
        "draft or not synced yet. Its queue items fail with the reason; fix the mapping and "
        "request the sends again.",
    ),
    "CMSF-TX-REQUEST": SupportCode(
        "Smart email requests that cannot be sent",
        "The queue items in the detail name no mapping, a mapping that does not exist or is "
        "inactive, a record Id of another object than the mapping's root object, a record "
        "that no longer exists, or a record without a usable address or consent value. They "
        "are marked Failed with the reason; the Flow or Apex that inserts them should give "
        "Smart_Email_Mapping__c and Record_Id__c of the mapping's root object.",
    ),
    "CMSF-TX-REFUSED": SupportCode(
        "Campaign Monitor refused smart email sends",
        "Campaign Monitor answered the send with an error code (an invalid address, a smart "
        "email deleted or not active, a plan without transactional email (980), an "
        "unauthenticated sending domain (993/994), data over 100 KB (996)). The items are "
        "Failed with the code; fix the cause in Campaign Monitor and request them again.",
    ),
    "CMSF-TX-DOWN": SupportCode(
        "Campaign Monitor unreachable for smart email sends",
        "A send timed out or Campaign Monitor answered 5xx. A send whose answer was lost stays "
        "Sending and is looked up in Campaign Monitor's message log (by the queue item's Id "
        "it carries) before anything is sent again, so nobody gets it twice; the others wait "
        "for the next run.",
    ),
    "CMSF-TX-GAVE-UP": SupportCode(
        "Smart email sends that gave up",
        "These sends were tried smart_email_attempts times (rate limits, outages) without "
        "going. They are Failed with the last reason; request them again once Campaign "
        "Monitor answers, or raise smart_email_attempts.",
    ),
    "CMSF-TX-UNKNOWN": SupportCode(
        "Smart email sends that could not be confirmed",
        "A send's answer was lost and its message could not be found or ruled out in Campaign "
        "Monitor's message log (its mapping is gone, or the log held too many messages to "
        "read). The item is Failed rather than sent again; check the message log in Campaign "
        "Monitor before requesting it again.",
    ),
    "CMSF-TX-TASK": SupportCode(
        "Tasks of sent smart emails refused",
        "The emails were sent and their queue items hold the MessageID, but Salesforce refused "
        "the Task recording them (a validation rule, a required field, the record's sharing). "
        "Fix the cause; later sends get their Tasks.",
    ),
}


def guidance(code: str) -> SupportCode:
    """The title and guidance of ``code`` (a generic entry for unknown codes)."""
    return SUPPORT_CODES.get(code, SupportCode("Sync notice", "See the detail of the message."))
