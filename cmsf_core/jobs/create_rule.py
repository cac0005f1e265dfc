"""The create rule: make a Contact or Lead for a subscriber nobody in Salesforce matches.

When a list's ``Create_Rule__c`` is ``Contact`` or ``Lead``, the subscribers job calls
:func:`create_people` for active subscribers whose email matches no Contact or Lead. The
new record takes the subscriber's name and email, the list's field mappings
(``CMSF_Field_Mapping__c`` rows in the Campaign Monitor to Salesforce direction), and
the client's security owner. Values are converted to the target field's type from the
object's describe. Records Salesforce refuses (a restricted picklist value, a validation
rule, a field the sync user may not edit) become one maintenance message with the
reasons; the membership is still synced, unlinked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.writer import report_failures
from cmsf_core.push.capture import note_engine_write

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext, ListInfo

__all__ = ["CREATE_GUARD", "create_guard", "create_people", "custom_field_values", "split_name"]

CREATE_GUARD = "create_guard"
"""``ctx.extras`` key of a lock (a context manager factory) that serialises the create rule
between processes (the distributed runtime's workers; one process needs none)."""

LEAD_COMPANY_DEFAULT = "[not provided]"
STANDARD_KEYS = {"name", "emailaddress", "mobilenumber", "consenttotrack", "consenttosendsms"}


def split_name(name: str | None, email: str) -> tuple[str | None, str]:
    """Split a subscriber name into (FirstName, LastName); the email's local part if none."""
    parts = (name or "").split()
    if not parts:
        return None, email.split("@", 1)[0][:80] or email[:80]
    if len(parts) == 1:
        return None, parts[0][:80]
    return " ".join(parts[:-1])[:40], parts[-1][:80]


def custom_field_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A subscriber's custom fields by lower-cased key; multi-valued fields as lists."""
    values: dict[str, Any] = {}
    for item in row.get("CustomFields") or []:
        key = str(item.get("Key", "")).strip("[]").lower()
        value = item.get("Value")
        if key in values:
            existing = values[key]
            values[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            values[key] = value
    return values


def _coerce(value: Any, field: Mapping[str, Any]) -> Any:
    """Convert a Campaign Monitor value to the type of a Salesforce field."""
    if value is None or value == "":
        return None
    kind = field.get("type")
    if isinstance(value, list):
        return ";".join(str(v) for v in value) if kind == "multipicklist" else str(value[-1])
    text = str(value).strip()
    if kind == "boolean":
        return text.lower() in {"true", "yes", "1", "y"}
    if kind in {"int"}:
        return int(float(text))
    if kind in {"double", "currency", "percent"}:
        return float(text)
    if kind == "date":
        return date.fromisoformat(text[:10]).isoformat()
    return text


def _mappings(ctx: JobContext, lst: ListInfo, target: str) -> list[tuple[str, str]]:
    cache: dict[tuple[str, str], list[tuple[str, str]]] = ctx.extras.setdefault("mappings", {})
    key = (lst.sf_id, target)
    if key not in cache:
        cache[key] = [
            (str(row["CM_Field__c"]), str(row["Salesforce_Field__c"]))
            for row in ctx.sf.query(
                "SELECT CM_Field__c, Salesforce_Field__c FROM CMSF_Field_Mapping__c "
                f"WHERE List__c = '{lst.sf_id}' AND Object__c = '{target}' "
                "AND Direction__c != 'Salesforce To Campaign Monitor' ORDER BY Name"
            )
            if row.get("CM_Field__c") and row.get("Salesforce_Field__c")
        ]
    return cache[key]


def _mapped_value(row: Mapping[str, Any], cm_field: str) -> Any:
    key = cm_field.strip("[]").lower().replace(" ", "")
    standard = {
        "name": row.get("Name"),
        "emailaddress": row.get("EmailAddress"),
        "mobilenumber": row.get("MobileNumber"),
        "consenttotrack": row.get("ConsentToTrack"),
        "consenttosendsms": row.get("ConsentToSendSms"),
    }
    if key in STANDARD_KEYS:
        return standard[key]
    fields = custom_field_values(row)
    for name, value in fields.items():
        if name.replace(" ", "") == key:
            return value
    return None


def create_guard(ctx: JobContext) -> AbstractContextManager[Any]:
    """The lock serialising the create rule between processes (none in one process).

    Under it, the caller matches its unmatched people again (:meth:`PersonMatcher.refresh`)
    before creating them: another worker may have created the same person meanwhile.
    """
    guard = ctx.extras.get(CREATE_GUARD)
    return nullcontext() if guard is None else cast(AbstractContextManager[Any], guard())


def create_people(
    ctx: JobContext, job: str, lst: ListInfo, rows: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Create a Contact or Lead (per the list's rule) for each subscriber row.

    Returns:
        The new record's Id by lower-cased email, for the rows that were created.
    """
    target = lst.create_rule
    if target not in {"Contact", "Lead"} or not rows:
        return {}
    what = f"the {target} create rule (list '{lst.name}')"
    if not ctx.sf.access.usable(target):
        ctx.sf.access.skip(target, what)
        return {}
    try:
        fields = {f["name"]: f for f in ctx.sf.describe(target).get("fields", [])}
    except NotFoundError:  # the sync user cannot see the object at all (a limited license)
        if target != "Lead":
            raise
        ctx.sf.access.skip(target, what)
        return {}
    mappings = _mappings(ctx, lst, target)
    records: list[dict[str, Any]] = []
    emails: list[str] = []
    for row in rows:
        email = str(row["EmailAddress"])
        first, last = split_name(row.get("Name"), email)
        record: dict[str, Any] = {"LastName": last, "Email": email}
        if first:
            record["FirstName"] = first
        if target == "Lead":
            record["Company"] = lst.lead_company or LEAD_COMPANY_DEFAULT
        if lst.client.owner_id:
            record["OwnerId"] = lst.client.owner_id
        for cm_field, sf_field in mappings:
            value = _mapped_value(row, cm_field)
            if value is None:
                continue
            try:
                record[sf_field] = _coerce(value, fields.get(sf_field, {}))
            except ValueError:
                record[sf_field] = str(value)  # let Salesforce say why it does not fit
        records.append(record)
        emails.append(email.lower())
    result = ctx.sf.create(target, records)
    created: dict[str, str] = {}
    for index, sf_id in enumerate(result.ids):
        if sf_id is not None:
            created[emails[index]] = sf_id
    ctx.matcher.remember_many(
        (email, sf_id, None) if target == "Contact" else (email, None, sf_id)
        for email, sf_id in created.items()
    )
    ctx.stats.wrote(target, result.ids)
    # What the engine created is not a Salesforce change to send back to Campaign Monitor.
    note_engine_write(
        ctx,
        target,
        {
            sf_id: {"HasOptedOutOfEmail": False, "IsDeleted": False, "IsConverted": False}
            | records[index]
            for index, sf_id in enumerate(result.ids)
            if sf_id is not None
        },
        created=True,
    )
    if result.failures:
        ctx.stats.failed[target] += len(result.failures)
        report_failures(
            ctx,
            job,
            target,
            result.failures,
            code="CMSF-REC-CREATE",
            summary=f"The create rule of list '{lst.name}' could not create "
            f"{len(result.failures)} {target}(s)",
        )
    return created
