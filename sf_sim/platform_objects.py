"""The platform's own objects: users, org identity, permissions and async Apex.

User, Organization, Group (queues, for polymorphic ``OwnerId``), Profile, RecordType,
AsyncApexJob, CronTrigger, CronJobDetail, ApexClass, ApexTrigger, PermissionSet,
PermissionSetAssignment and CustomNotificationType, with real API names, types and key
prefixes. Most are read-only through the API; the org writes them itself (system
context) when it sets up identity or runs async jobs.
"""

from __future__ import annotations

from sf_sim.catalogue import (
    boolean,
    datetime_field,
    email,
    make_object,
    number,
    owner_field,
    picklist,
    readonly,
    reference,
    text,
    textarea,
)
from sf_sim.schema import FieldDef, ObjectDef

__all__ = ["ASYNC_JOB_STATUSES", "ASYNC_JOB_TYPES", "TIME_ZONES", "platform_objects"]

TIME_ZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "GMT",
)
"""TimeZoneSidKey values the simulator offers (IANA names, as Salesforce uses)."""

ASYNC_JOB_TYPES = (
    "Future",
    "SharingRecalculation",
    "ScheduledApex",
    "BatchApex",
    "BatchApexWorker",
    "TestRequest",
    "TestWorker",
    "ApexToken",
    "Queueable",
)
ASYNC_JOB_STATUSES = (
    "Holding",
    "Queued",
    "Preparing",
    "Processing",
    "Aborted",
    "Completed",
    "Failed",
)
USER_TYPES = ("Standard", "PowerPartner", "CspLitePortal", "CsnOnly", "Guest", "AutomatedProcess")


def user() -> ObjectDef:
    """User (005): cannot be deleted, only deactivated."""
    return make_object(
        "User",
        "005",
        [
            text("Username", 80, nillable=False, required=True, unique=True),
            text("LastName", 80, nillable=False, required=True),
            text("FirstName", 40),
            readonly(text("Name", 121, label="Full Name")),
            text("CompanyName", 80),
            text("Title", 80),
            text("Department", 80),
            email("Email", 128, nillable=False, required=True),
            text("Alias", 8, nillable=False, required=True),
            text("CommunityNickname", 40, unique=True, label="Nickname"),
            boolean("IsActive", default=True, label="Active"),
            picklist("TimeZoneSidKey", TIME_ZONES, nillable=False, required=True, restricted=True),
            picklist(
                "LocaleSidKey", ("en_US", "en_GB", "fr_FR", "de_DE"), nillable=False, required=True
            ),
            picklist("EmailEncodingKey", ("UTF-8", "ISO-8859-1"), nillable=False, required=True),
            picklist("LanguageLocaleKey", ("en_US", "fr", "de"), nillable=False, required=True),
            reference("ProfileId", "Profile", "Profile", "Users", nillable=False, required=True),
            reference("UserRoleId", "UserRole", "UserRole", "Users", label="Role ID"),
            readonly(picklist("UserType", USER_TYPES)),
            readonly(datetime_field("LastLoginDate")),
        ],
        deletable_rows=False,
        deletable=False,
    )


def organization() -> ObjectDef:
    """Organization (00D): the one row describing the org itself; read-only."""
    return make_object(
        "Organization",
        "00D",
        [
            text("Name", 80, nillable=False),
            text("Division", 80),
            textarea("Street", 255),
            text("City", 40),
            text("Country", 80),
            text("Phone", 40),
            text("PrimaryContact", 80),
            text("DefaultLocaleSidKey", 40),
            text("TimeZoneSidKey", 40),
            text("LanguageLocaleKey", 40),
            text("OrganizationType", 40, label="Edition"),
            boolean("IsSandbox"),
            text("InstanceName", 5),
            datetime_field("TrialExpirationDate"),
            text("NamespacePrefix", 15),
        ],
        deletable_rows=False,
        createable=False,
        updateable=False,
        deletable=False,
    )


def group() -> ObjectDef:
    """Group (00G): public groups and queues (queues can own Leads and Tasks)."""
    return make_object(
        "Group",
        "00G",
        [
            text("Name", 40, nillable=False, required=True),
            text("DeveloperName", 80),
            picklist("Type", ("Regular", "Queue", "Role", "Organization"), default_value="Regular"),
            email("Email", 255),
            owner_field(),
            boolean("DoesSendEmailToMembers"),
        ],
        deletable_rows=False,
    )


def profile() -> ObjectDef:
    """Profile (00e): the base permissions of a user."""
    return make_object(
        "Profile",
        "00e",
        [
            text("Name", 255, nillable=False, required=True),
            readonly(picklist("UserType", USER_TYPES)),
            textarea("Description", 255),
            boolean("PermissionsApiEnabled", default=True, label="API Enabled"),
            boolean("PermissionsModifyAllData", label="Modify All Data"),
            boolean("PermissionsViewAllData", label="View All Data"),
        ],
        deletable_rows=False,
        createable=False,
    )


def record_type() -> ObjectDef:
    """RecordType (012): record types of an object."""
    return make_object(
        "RecordType",
        "012",
        [
            text("Name", 80, nillable=False, required=True),
            text("DeveloperName", 80, nillable=False, required=True),
            text("NamespacePrefix", 15),
            textarea("Description", 255),
            text("SobjectType", 40, nillable=False, required=True),
            boolean("IsActive", default=True),
        ],
        deletable_rows=False,
    )


def apex_class() -> ObjectDef:
    """ApexClass (01p): compiled classes; the async runtime names jobs after them."""
    return make_object("ApexClass", "01p", _code_fields(), deletable_rows=False)


def apex_trigger() -> ObjectDef:
    """ApexTrigger (01q): triggers and the events they fire on."""
    usage = [
        boolean(name)
        for name in (
            "UsageBeforeInsert",
            "UsageAfterInsert",
            "UsageBeforeUpdate",
            "UsageAfterUpdate",
            "UsageBeforeDelete",
            "UsageAfterDelete",
            "UsageAfterUndelete",
            "UsageIsBulk",
        )
    ]
    return make_object(
        "ApexTrigger",
        "01q",
        [*_code_fields(), text("TableEnumOrId", 40, label="Object"), *usage],
        deletable_rows=False,
    )


def _code_fields() -> list[FieldDef]:
    return [
        text("Name", 255, nillable=False, required=True),
        text("NamespacePrefix", 15),
        textarea("Body", 1000000),
        picklist(
            "Status", ("Inactive", "Active", "Deleted"), nillable=False, default_value="Active"
        ),
        number("ApiVersion", "double", precision=18, scale=1, nillable=False, default_value=59.0),
        boolean("IsValid", default=True),
        number("LengthWithoutComments", "int", precision=9),
    ]


def async_apex_job() -> ObjectDef:
    """AsyncApexJob (707): batch, queueable, future and scheduled executions; read-only."""
    return make_object(
        "AsyncApexJob",
        "707",
        [
            readonly(picklist("JobType", ASYNC_JOB_TYPES)),
            readonly(picklist("Status", ASYNC_JOB_STATUSES)),
            readonly(reference("ApexClassId", "ApexClass", "ApexClass")),
            readonly(text("MethodName", 255)),
            readonly(datetime_field("CompletedDate")),
            readonly(number("JobItemsProcessed", "int", precision=9)),
            readonly(number("TotalJobItems", "int", precision=9)),
            readonly(number("NumberOfErrors", "int", precision=9)),
            readonly(text("ExtendedStatus", 255)),
            readonly(reference("ParentJobId", "AsyncApexJob", None)),
            readonly(text("LastProcessed", 15)),
            readonly(number("LastProcessedOffset", "int", precision=9)),
            readonly(reference("CronTriggerId", "CronTrigger", "CronTrigger")),
        ],
        deletable_rows=False,
        last_modified=False,
        createable=False,
        updateable=False,
        deletable=False,
        name_field=None,
    )


def cron_job_detail() -> ObjectDef:
    """CronJobDetail (08a): the job a CronTrigger fires (``JobType`` '7' = scheduled Apex)."""
    return make_object(
        "CronJobDetail",
        "08a",
        [
            readonly(text("Name", 255)),
            readonly(picklist("JobType", ("1", "3", "4", "6", "7", "8", "9", "A"))),
        ],
        deletable_rows=False,
        audit=False,
        createable=False,
        updateable=False,
        deletable=False,
    )


def cron_trigger() -> ObjectDef:
    """CronTrigger (08e): a scheduled job's schedule and state; read-only."""
    return make_object(
        "CronTrigger",
        "08e",
        [
            readonly(text("CronExpression", 255)),
            readonly(reference("CronJobDetailId", "CronJobDetail", "CronJobDetail")),
            readonly(datetime_field("NextFireTime")),
            readonly(datetime_field("PreviousFireTime")),
            readonly(datetime_field("StartTime")),
            readonly(datetime_field("EndTime")),
            readonly(
                picklist(
                    "State",
                    (
                        "WAITING",
                        "ACQUIRED",
                        "EXECUTING",
                        "COMPLETE",
                        "ERROR",
                        "DELETED",
                        "PAUSED",
                        "BLOCKED",
                        "PAUSED_BLOCKED",
                    ),
                    length=16,
                )
            ),
            readonly(number("TimesTriggered", "int", precision=9)),
            readonly(text("TimeZoneSidKey", 40)),
            readonly(owner_field()),
        ],
        deletable_rows=False,
        createable=False,
        updateable=False,
        deletable=False,
        name_field=None,
    )


def permission_set() -> ObjectDef:
    """PermissionSet (0PS): a named set of permissions; profiles own one each."""
    return make_object(
        "PermissionSet",
        "0PS",
        [
            text("Name", 80, nillable=False, required=True),
            text("Label", 80, nillable=False, required=True),
            textarea("Description", 255),
            readonly(boolean("IsOwnedByProfile")),
            readonly(reference("ProfileId", "Profile", "Profile")),
            text("NamespacePrefix", 15),
            boolean("PermissionsApiEnabled", label="API Enabled"),
            boolean("PermissionsViewAllData", label="View All Data"),
            boolean("PermissionsModifyAllData", label="Modify All Data"),
        ],
        deletable_rows=False,
    )


def permission_set_assignment() -> ObjectDef:
    """PermissionSetAssignment (0Pa): a permission set given to a user."""
    return make_object(
        "PermissionSetAssignment",
        "0Pa",
        [
            reference(
                "AssigneeId",
                "User",
                "Assignee",
                "PermissionSetAssignments",
                nillable=False,
                required=True,
                updateable=False,
            ),
            reference(
                "PermissionSetId",
                "PermissionSet",
                "PermissionSet",
                "Assignments",
                nillable=False,
                required=True,
                updateable=False,
            ),
        ],
        deletable_rows=False,
        last_modified=False,
        name_field=None,
    )


def custom_notification_type() -> ObjectDef:
    """CustomNotificationType (0ML): notification types for custom notifications."""
    return make_object(
        "CustomNotificationType",
        "0ML",
        [
            text("DeveloperName", 40, nillable=False, required=True),
            text("MasterLabel", 80, nillable=False, required=True),
            text("CustomNotifTypeName", 80),
            textarea("Description", 255),
            boolean("Desktop", default=True),
            boolean("Mobile", default=True),
            text("NamespacePrefix", 15),
        ],
        deletable_rows=False,
        name_field="MasterLabel",
    )


def platform_objects() -> list[ObjectDef]:
    """Fresh definitions of the platform objects."""
    return [
        user(),
        organization(),
        group(),
        profile(),
        record_type(),
        apex_class(),
        apex_trigger(),
        async_apex_job(),
        cron_job_detail(),
        cron_trigger(),
        permission_set(),
        permission_set_assignment(),
        custom_notification_type(),
    ]
