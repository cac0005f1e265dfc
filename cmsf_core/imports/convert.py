"""From a source row to a Campaign Monitor subscriber, through the push's conversions.

An import's mappings name, for a source column (its API name, field path or label, any
case), a Campaign Monitor field: ``EmailAddress``, ``Name``, ``MobileNumber``,
``ConsentToTrack``, ``ConsentToSendSms`` or a custom field of the list (by name or key).
Without mappings the defaults are the source's email column to ``EmailAddress`` and its
name (``Name``, or first and last name) to ``Name``; a ``Name`` not mapped is also taken
from first and last name columns when the source has them.

Values are converted exactly as the push converts mapped fields
(:mod:`cmsf_core.push.mappings`): custom fields to the list field's type, mobile numbers
to E.164 for the SMS country (with SMS enabled; otherwise those mappings are ignored and
said so), consent from checkboxes or Yes/No text. A value that does not fit its field is
left out of that subscriber (the rest is imported) and named in the run's failures; a
row without a usable email address is not imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmsf_core.imports.sources import Column, Row
from cmsf_core.imports.spec import STANDARD_TARGETS, ImportConfigError, ImportSpec, target_key
from cmsf_core.push.mappings import (
    SMS_TARGETS,
    ConversionError,
    FieldMapping,
    ListFields,
    consent_value,
    custom_values,
    e164,
)

if TYPE_CHECKING:
    from cmsf_core.settings import Settings

__all__ = ["Converted", "SubscriberPlan", "plan_subscribers"]

MAX_NAME = 255
"""Longest subscriber name sent (longer is left out and named, never cut)."""
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_FIRST = ("firstname", "first_name")
_LAST = ("lastname", "last_name")


@dataclass
class Converted:
    """One row as a subscriber (``body`` None when it cannot be imported)."""

    body: dict[str, Any] | None
    address: str
    problems: list[str] = field(default_factory=list)


@dataclass
class SubscriberPlan:
    """How this run turns rows into subscribers.

    Attributes:
        email: The column read as the address.
        name: Columns joined into the name (one for a mapped name).
        mobile: The column read as the mobile number (SMS enabled only).
        consent: Columns read as ``ConsentToTrack`` / ``ConsentToSendSms``.
        custom: Custom field mappings: column and the converted field.
        ignored: Mappings left out (SMS not enabled), for a message.
    """

    email: str
    name: list[str] = field(default_factory=list)
    mobile: str | None = None
    consent: dict[str, str] = field(default_factory=dict)
    custom: list[tuple[str, FieldMapping]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    sms_country: str = "US"

    def convert(self, row: Row) -> Converted:
        """One row as a subscriber body, with the problems of its values."""
        values = _Lookup(row.values)
        address = str(values.get(self.email) or "").strip()
        if not _EMAIL.match(address) or len(address) > 254:
            shown = "no email address" if not address else "not an email address"
            return Converted(None, address, [f"{self.email}: {shown}"])
        body: dict[str, Any] = {"EmailAddress": address, "ConsentToTrack": "Unchanged"}
        problems: list[str] = []
        if self.name:
            parts = [str(values.get(c) or "").strip() for c in self.name]
            name = " ".join(p for p in parts if p)
            if len(name) > MAX_NAME:
                problems.append(
                    f"{'+'.join(self.name)} -> Name: {len(name)} characters; Campaign Monitor "
                    f"takes {MAX_NAME}"
                )
            else:
                body["Name"] = name
        try:
            if self.mobile is not None:
                body["MobileNumber"] = e164(values.get(self.mobile), self.sms_country)
        except ConversionError as exc:
            problems.append(f"{self.mobile} -> MobileNumber: {exc}")
        for target, column in self.consent.items():
            try:
                body[target] = consent_value(values.get(column))
            except ConversionError as exc:
                problems.append(f"{column} -> {target}: {exc}")
        custom: list[dict[str, Any]] = []
        for column, mapping in self.custom:
            try:
                custom += custom_values(mapping, values.get(column))
            except ConversionError as exc:
                problems.append(f"{column} -> {mapping.target}: {exc}")
        if custom:
            body["CustomFields"] = custom
        if "ConsentToSendSms" in body and "MobileNumber" not in body:
            body.pop("ConsentToSendSms")
        return Converted(body, address, problems)


class _Lookup:
    """Row values by column name, any case; a path through an empty parent is empty."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = {k.lower(): v for k, v in values.items()}

    def get(self, column: str) -> Any:
        return self.values.get(column.lower())


def _resolve(column: str, columns: Sequence[Column], present: set[str]) -> str | None:
    """The source column a mapping names (by API name, path or label), or None."""
    wanted = column.strip().lower()
    for item in columns:
        if item.name.lower() == wanted or item.label.lower() == wanted:
            return item.name
    if wanted in present:
        return column.strip()
    head = wanted.split(".")[0]
    if "." in wanted and head in present:  # a parent that is empty in the rows read
        return column.strip()
    return None


def plan_subscribers(
    spec: ImportSpec,
    columns: Sequence[Column],
    list_fields: ListFields,
    settings: Settings,
    list_sf_id: str,
) -> SubscriberPlan:
    """Compile an import's mappings against its source's columns and list's fields.

    Raises:
        ImportConfigError: For a mapping naming a column the source does not have or a
            field the list does not have, or no email column.
    """
    present = {c.name.lower() for c in columns}
    mappings = dict(spec.mappings)
    if not any(target_key(t) == "emailaddress" for t in mappings.values()):
        email = next((c.name for c in columns if c.name.lower().split(".")[-1] == "email"), None)
        if email is None:
            raise ImportConfigError(
                f"import '{spec.name}': no column is mapped to EmailAddress and the source "
                'has no Email column; map one, e.g. {"Email": "EmailAddress"}'
            )
        mappings[email] = "EmailAddress"
    plan = SubscriberPlan(email="", sms_country=settings.sms_country)
    unknown_columns: list[str] = []
    for column, target in mappings.items():
        resolved = _resolve(column, columns, present)
        if resolved is None:
            unknown_columns.append(column)
            continue
        key = target_key(target)
        standard = STANDARD_TARGETS.get(key)
        if standard == "EmailAddress":
            plan.email = resolved
        elif standard == "Name":
            plan.name = [resolved]
        elif standard in SMS_TARGETS and not settings.sms_enabled:
            plan.ignored.append(f"{column} -> {standard}")
        elif standard == "MobileNumber":
            plan.mobile = resolved
        elif standard is not None:
            plan.consent[standard] = resolved
        else:
            definition = list_fields.find(target)
            if definition is None:
                raise ImportConfigError(
                    f"import '{spec.name}': the list has no custom field {target!r} "
                    f"(mapped from {column!r})"
                )
            plan.custom.append(
                (
                    resolved,
                    FieldMapping(
                        id=spec.id,
                        name=f"{spec.name}: {column}",
                        list_sf_id=list_sf_id,
                        sobject="",
                        sf_field=column,
                        target=str(definition["FieldName"]),
                        data_type=str(definition.get("DataType") or "Text"),
                        options=tuple(str(o) for o in definition.get("FieldOptions") or ()),
                    ),
                )
            )
    if unknown_columns and columns:
        shown = ", ".join(repr(c) for c in unknown_columns[:5])
        known = ", ".join(c.name for c in list(columns)[:15])
        raise ImportConfigError(
            f"import '{spec.name}': the source has no column {shown} (its columns: {known})"
        )
    if not plan.name:
        plan.name = _default_name(columns)
    return plan


def _default_name(columns: Sequence[Column]) -> list[str]:
    """First and last name columns (or a Name column) of the person the row stands for."""
    simple: dict[str, str] = {}
    for column in columns:
        head, _, tail = column.name.rpartition(".")
        if head and head.lower() not in ("contact", "lead"):
            continue  # a parent's field (Account.Name) is not the person's name
        simple.setdefault(tail.lower(), column.name)
    first = next((simple[k] for k in _FIRST if k in simple), None)
    last = next((simple[k] for k in _LAST if k in simple), None)
    if first or last:
        return [c for c in (first, last) if c]
    return [simple["name"]] if "name" in simple else []
