"""Objects behind sharing, reports and list views: UserRole, Report and ListView.

``UserRole`` (00E) forms the role hierarchy :mod:`sf_sim.sharing` reads (``User.UserRoleId``
puts a user in it). ``Report`` (00O) and ``ListView`` (00B) are the queryable records of
the definitions that :mod:`sf_sim.reports` and :mod:`sf_sim.list_views` keep: as on the
platform, they are read through SOQL and the Analytics and list view resources, and made
in Setup (here: the scenario-facing ``org.reports`` and ``org.list_views``), not through
the REST API.
"""

from __future__ import annotations

from sf_sim.catalogue import (
    boolean,
    datetime_field,
    make_object,
    owner_field,
    picklist,
    readonly,
    reference,
    text,
    textarea,
)
from sf_sim.schema import ObjectDef

__all__ = ["REPORT_FORMATS", "view_objects"]

REPORT_FORMATS = ("Tabular", "Summary", "Matrix", "MultiBlock")
"""``Report.Format`` values (only tabular reports are run by the simulator)."""


def user_role() -> ObjectDef:
    """UserRole (00E): a node of the role hierarchy."""
    return make_object(
        "UserRole",
        "00E",
        [
            text("Name", 80, nillable=False, required=True),
            text("DeveloperName", 80),
            reference("ParentRoleId", "UserRole", None, label="Parent Role ID"),
            text("RollupDescription", 80),
            picklist(
                "OpportunityAccessForAccountOwner", ("None", "Read", "Edit"), default_value="None"
            ),
        ],
        deletable_rows=False,
    )


def report() -> ObjectDef:
    """Report (00O): a saved report's record (its definition lives in ``org.reports``)."""
    return make_object(
        "Report",
        "00O",
        [
            readonly(text("Name", 40, nillable=False)),
            readonly(text("DeveloperName", 80)),
            readonly(text("NamespacePrefix", 15)),
            readonly(textarea("Description", 255)),
            readonly(picklist("Format", REPORT_FORMATS)),
            readonly(text("FolderName", 80)),
            readonly(datetime_field("LastRunDate")),
            readonly(datetime_field("LastViewedDate")),
            readonly(owner_field(("User",))),
        ],
        createable=False,
        updateable=False,
        deletable=False,
    )


def list_view() -> ObjectDef:
    """ListView (00B): a list view's record (its definition lives in ``org.list_views``)."""
    return make_object(
        "ListView",
        "00B",
        [
            readonly(text("Name", 40, nillable=False)),
            readonly(text("DeveloperName", 80)),
            readonly(text("NamespacePrefix", 15)),
            readonly(text("SobjectType", 40)),
            readonly(boolean("IsSoqlCompatible", default=True)),
            readonly(datetime_field("LastViewedDate")),
            readonly(datetime_field("LastReferencedDate")),
        ],
        deletable_rows=False,
        createable=False,
        updateable=False,
        deletable=False,
    )


def view_objects() -> list[ObjectDef]:
    """Fresh definitions of UserRole, Report and ListView."""
    return [user_role(), report(), list_view()]
