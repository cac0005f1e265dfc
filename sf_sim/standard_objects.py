"""The standard-object catalogue: the CRM objects an email integration touches.

Contact, Lead, Account, Campaign, CampaignMember, CampaignMemberStatus and Task with
their real API names, describe types, lengths, picklist values, key prefixes, parent
relationship names and child relationship names. The platform's own objects (User,
Organization, Group, Profile, RecordType, async Apex, permissions) live in
:mod:`sf_sim.platform_objects`; :func:`standard_schema` puts both together.

Every call builds fresh :class:`~sf_sim.schema.ObjectDef` values, so an org may add
custom fields to its copy without touching anyone else's.
"""

from __future__ import annotations

from sf_sim.catalogue import (
    boolean,
    date_field,
    datetime_field,
    email,
    make_object,
    number,
    owner_field,
    phone,
    picklist,
    readonly,
    reference,
    text,
    textarea,
    url,
)
from sf_sim.platform_objects import platform_objects
from sf_sim.schema import FieldDef, ObjectDef, Schema
from sf_sim.view_objects import view_objects

__all__ = [
    "CAMPAIGN_STATUSES",
    "CAMPAIGN_TYPES",
    "LEAD_STATUSES",
    "crm_objects",
    "standard_objects",
    "standard_schema",
]

SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
"""The LeadStatus values of a new org; the first is the default."""
INDUSTRIES = (
    "Agriculture",
    "Banking",
    "Consulting",
    "Education",
    "Energy",
    "Finance",
    "Government",
    "Healthcare",
    "Media",
    "Retail",
    "Technology",
    "Other",
)
CAMPAIGN_TYPES = (
    "Advertisement",
    "Banner Ads",
    "Conference",
    "Direct Mail",
    "Email",
    "Partners",
    "Public Relations",
    "Referral Program",
    "Telemarketing",
    "Trade Show",
    "Webinar",
    "Other",
)
CAMPAIGN_STATUSES = ("Planned", "In Progress", "Completed", "Aborted")
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")


def _address(prefix: str) -> list[FieldDef]:
    return [
        textarea(f"{prefix}Street", 255),
        text(f"{prefix}City", 40),
        text(f"{prefix}State", 80),
        text(f"{prefix}PostalCode", 20),
        text(f"{prefix}Country", 80),
    ]


def _person_name() -> list[FieldDef]:
    return [
        text("LastName", 80, nillable=False, required=True),
        text("FirstName", 40),
        picklist("Salutation", SALUTATIONS),
        readonly(text("Name", 121, label="Full Name")),
    ]


def _bounce() -> list[FieldDef]:
    return [
        text("EmailBouncedReason", 255),
        datetime_field("EmailBouncedDate"),
        readonly(boolean("IsEmailBounced")),
    ]


def contact() -> ObjectDef:
    """Contact (003): a person related to an account."""
    return make_object(
        "Contact",
        "003",
        [
            readonly(reference("MasterRecordId", "Contact", "MasterRecord")),
            reference("AccountId", "Account", "Account", "Contacts"),
            *_person_name(),
            *_address("Mailing"),
            phone("Phone", label="Business Phone"),
            phone("MobilePhone"),
            phone("HomePhone"),
            email(),
            text("Title", 128),
            text("Department", 80),
            picklist("LeadSource", LEAD_SOURCES),
            date_field("Birthdate"),
            textarea("Description", 32000, label="Contact Description"),
            owner_field(),
            boolean("HasOptedOutOfEmail", label="Email Opt Out"),
            boolean("DoNotCall"),
            readonly(date_field("LastActivityDate")),
            *_bounce(),
        ],
    )


def lead() -> ObjectDef:
    """Lead (00Q): a prospect; ``Company`` and ``Status`` required, polymorphic owner."""
    return make_object(
        "Lead",
        "00Q",
        [
            readonly(reference("MasterRecordId", "Lead", "MasterRecord")),
            *_person_name(),
            text("Title", 128),
            text("Company", 255, nillable=False, required=True),
            *_address(""),
            phone("Phone"),
            phone("MobilePhone"),
            email(),
            url("Website"),
            textarea("Description", 32000),
            picklist("LeadSource", LEAD_SOURCES),
            picklist("Status", LEAD_STATUSES, nillable=False, default_value=LEAD_STATUSES[0]),
            picklist("Industry", INDUSTRIES),
            picklist("Rating", ("Hot", "Warm", "Cold")),
            number("AnnualRevenue", "currency"),
            number("NumberOfEmployees", "int", precision=8),
            owner_field(("Group", "User")),
            boolean("HasOptedOutOfEmail", label="Email Opt Out"),
            readonly(boolean("IsConverted", label="Converted")),
            readonly(date_field("ConvertedDate")),
            readonly(reference("ConvertedAccountId", "Account", "ConvertedAccount")),
            readonly(reference("ConvertedContactId", "Contact", "ConvertedContact")),
            readonly(reference("ConvertedOpportunityId", "Opportunity", None)),
            boolean("IsUnreadByOwner", default=True),
            boolean("DoNotCall"),
            readonly(date_field("LastActivityDate")),
            *_bounce(),
        ],
    )


def account() -> ObjectDef:
    """Account (001): a company; ``Name`` required."""
    return make_object(
        "Account",
        "001",
        [
            readonly(reference("MasterRecordId", "Account", "MasterRecord")),
            text("Name", 255, nillable=False, required=True, label="Account Name"),
            picklist(
                "Type",
                ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"),
                label="Account Type",
            ),
            reference("ParentId", "Account", "Parent", "ChildAccounts"),
            *_address("Billing"),
            *_address("Shipping"),
            phone("Phone", label="Account Phone"),
            phone("Fax", label="Account Fax"),
            url("Website"),
            picklist("Industry", INDUSTRIES),
            number("AnnualRevenue", "currency"),
            number("NumberOfEmployees", "int", precision=8, label="Employees"),
            text("AccountNumber", 40),
            text("Site", 80, label="Account Site"),
            picklist("AccountSource", LEAD_SOURCES),
            textarea("Description", 32000, label="Account Description"),
            owner_field(),
            readonly(date_field("LastActivityDate")),
        ],
    )


def campaign() -> ObjectDef:
    """Campaign (701): roll-up counts are read-only and maintained by the org."""
    rollups = [
        readonly(number(name, "int", precision=9, nillable=False, default_value=0))
        for name in (
            "NumberOfLeads",
            "NumberOfConvertedLeads",
            "NumberOfContacts",
            "NumberOfResponses",
            "NumberOfOpportunities",
            "NumberOfWonOpportunities",
        )
    ]
    amounts = [
        readonly(number(name, "currency", nillable=False, default_value=0.0))
        for name in ("AmountAllOpportunities", "AmountWonOpportunities")
    ]
    return make_object(
        "Campaign",
        "701",
        [
            text("Name", 80, nillable=False, required=True, label="Campaign Name"),
            reference("ParentId", "Campaign", "Parent", "ChildCampaigns"),
            picklist("Type", CAMPAIGN_TYPES),
            picklist("Status", CAMPAIGN_STATUSES, default_value=CAMPAIGN_STATUSES[0]),
            date_field("StartDate"),
            date_field("EndDate"),
            number("ExpectedRevenue", "currency"),
            number("BudgetedCost", "currency"),
            number("ActualCost", "currency"),
            number("ExpectedResponse", "percent", precision=10, scale=2),
            number("NumberSent", "double", precision=18, scale=0, label="Num Sent"),
            boolean("IsActive", label="Active"),
            textarea("Description", 32000),
            *rollups,
            *amounts,
            owner_field(),
            readonly(date_field("LastActivityDate")),
        ],
    )


def campaign_member() -> ObjectDef:
    """CampaignMember (00v): a lead or contact in a campaign, with a campaign status."""
    return make_object(
        "CampaignMember",
        "00v",
        [
            reference(
                "CampaignId",
                "Campaign",
                "Campaign",
                "CampaignMembers",
                nillable=False,
                required=True,
                updateable=False,
            ),
            reference("LeadId", "Lead", "Lead", "CampaignMembers", updateable=False),
            reference("ContactId", "Contact", "Contact", "CampaignMembers", updateable=False),
            text("Status", 40),
            readonly(boolean("HasResponded", label="Responded")),
            readonly(date_field("FirstRespondedDate")),
            readonly(reference("LeadOrContactId", ("Contact", "Lead"), None)),
            readonly(text("Type", 40)),
            readonly(text("FirstName", 40)),
            readonly(text("LastName", 80)),
            readonly(text("Name", 121)),
            readonly(email()),
            readonly(text("CompanyOrAccount", 255)),
        ],
    )


def campaign_member_status() -> ObjectDef:
    """CampaignMemberStatus (01Y): the statuses a campaign's members may hold."""
    return make_object(
        "CampaignMemberStatus",
        "01Y",
        [
            reference(
                "CampaignId", "Campaign", None, nillable=False, required=True, updateable=False
            ),
            text("Label", 765, nillable=False, required=True, label="Member Status"),
            number("SortOrder", "int", precision=9),
            boolean("IsDefault", label="Default"),
            boolean("HasResponded", label="Responded"),
        ],
        label="Campaign Member Status",
        label_plural="Campaign Member Statuses",
        name_field=None,
    )


def task() -> ObjectDef:
    """Task (00T): an activity; ``WhoId`` and ``WhatId`` are polymorphic."""
    return make_object(
        "Task",
        "00T",
        [
            reference("WhoId", ("Contact", "Lead"), "Who", "Tasks", label="Name ID"),
            reference("WhatId", ("Account", "Campaign"), "What", "Tasks", label="Related To ID"),
            text("Subject", 255),
            date_field("ActivityDate", label="Due Date Only"),
            picklist("Status", TASK_STATUSES, nillable=False, default_value=TASK_STATUSES[0]),
            picklist("Priority", ("High", "Normal", "Low"), nillable=False, default_value="Normal"),
            readonly(boolean("IsHighPriority", label="High Priority")),
            owner_field(("Group", "User")),
            textarea("Description", 32000, label="Description"),
            picklist("Type", ("Call", "Email", "Meeting", "Other")),
            picklist("TaskSubtype", ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")),
            readonly(boolean("IsClosed", label="Closed")),
            readonly(datetime_field("CompletedDateTime")),
            readonly(boolean("IsArchived", label="Archived")),
        ],
        name_field="Subject",
    )


def crm_objects() -> list[ObjectDef]:
    """Fresh definitions of the CRM standard objects."""
    return [
        account(),
        contact(),
        lead(),
        campaign(),
        campaign_member(),
        campaign_member_status(),
        task(),
    ]


def standard_objects() -> list[ObjectDef]:
    """Fresh definitions of every standard object the simulator knows."""
    return crm_objects() + platform_objects() + view_objects()


def standard_schema() -> Schema:
    """A new :class:`~sf_sim.schema.Schema` holding every standard object, relationships wired."""
    return Schema(standard_objects())
