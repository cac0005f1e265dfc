"""Field mappings from Salesforce to Campaign Monitor, and the values they produce.

A mapping is a ``CMSF_Field_Mapping__c`` record with ``Direction__c`` "Salesforce To
Campaign Monitor" or "Both": for one list and one object (``Contact`` or ``Lead``) it names
a Salesforce field (``Salesforce_Field__c``, e.g. ``Title``, or a parent field of a
Contact such as ``Account.Industry``) and a Campaign Monitor field (``CM_Field__c``): a
custom field of the list by name or key (``Plan`` or ``[plan]``), or one of the
subscriber's own fields: ``Name``, ``MobileNumber``, ``ConsentToTrack``,
``ConsentToSendSms``.

Values are converted to the list field's type (:func:`custom_values`): text (at most 250
characters), numbers, dates (``YYYY-MM-DD``, 1900-01-01 to 2076-06-06), one option of a
select-one field, options of a select-many field (a multi-select picklist's ``a;b``), a
country or US state name. An empty Salesforce value clears the Campaign Monitor value.
A value that cannot be converted is a problem for that record only: the rest of its data
is still sent. With SMS enabled, mobile numbers become E.164 for the settings' SMS
country with :mod:`phonenumbers` (``(555) 555-1234`` in the United States is
``+15555551234``); consent fields map from checkboxes (true/false) or from Yes/No text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import phonenumbers

__all__ = [
    "MAPPING_FIELDS",
    "STANDARD_TARGETS",
    "ConversionError",
    "FieldMapping",
    "ListFields",
    "consent_value",
    "custom_values",
    "e164",
    "mappings_from_rows",
]

MAPPING_FIELDS = (
    "Id, Name, List__c, Object__c, CM_Field__c, Salesforce_Field__c, Direction__c, SystemModstamp"
)
"""Fields of ``CMSF_Field_Mapping__c`` the push reads."""

PUSH_DIRECTIONS = ("Salesforce To Campaign Monitor", "Both")
STANDARD_TARGETS = {
    "name": "Name",
    "mobilenumber": "MobileNumber",
    "consenttotrack": "ConsentToTrack",
    "consenttosendsms": "ConsentToSendSms",
}
"""Subscriber fields a mapping may target (by their key: lower case, no spaces)."""
SMS_TARGETS = ("MobileNumber", "ConsentToSendSms")
MAX_VALUE = 250
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2076, 6, 6)
_FIELD_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79})?$")


class ConversionError(ValueError):
    """A Salesforce value does not fit the Campaign Monitor field (one record's problem)."""


@dataclass(frozen=True)
class FieldMapping:
    """One Salesforce to Campaign Monitor field mapping.

    Attributes:
        id: Salesforce Id of the mapping record.
        name: Its name (for messages).
        list_sf_id: Its ``CMSF_List__c``.
        sobject: ``Contact`` or ``Lead``.
        sf_field: The Salesforce field (API name, or ``Account.Field`` on Contacts).
        target: ``Name``, ``MobileNumber``, ``ConsentToTrack``, ``ConsentToSendSms`` or
            the custom field's name as the list defines it.
        data_type: The custom field's type (``Text``, ``Number``, ``Date``, ...), or
            ``Standard`` for the subscriber's own fields.
        options: A select field's options.
        modified: When the mapping record last changed (``SystemModstamp``).
    """

    id: str
    name: str
    list_sf_id: str
    sobject: str
    sf_field: str
    target: str
    data_type: str
    options: tuple[str, ...] = ()
    modified: str = ""


@dataclass(frozen=True)
class ListFields:
    """The custom fields of one list, as ``CMSF_List__c.Custom_Fields__c`` holds them."""

    by_key: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | None) -> ListFields:
        """Parse the JSON the configuration job stores (Campaign Monitor's definitions)."""
        try:
            rows = json.loads(text) if text else []
        except json.JSONDecodeError:
            rows = []
        return cls.from_rows(rows if isinstance(rows, list) else [])

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> ListFields:
        """From Campaign Monitor's definitions (``GET lists/{id}/customfields.json``)."""
        by_key: dict[str, Mapping[str, Any]] = {}
        for row in rows:
            if isinstance(row, dict) and row.get("FieldName"):
                by_key[_key(str(row["FieldName"]))] = row
                if row.get("Key"):
                    by_key[_key(str(row["Key"]))] = row
        return cls(by_key)

    def find(self, name: str) -> Mapping[str, Any] | None:
        """The definition named or keyed ``name`` (any case, brackets optional)."""
        return self.by_key.get(_key(name))


def _key(name: str) -> str:
    return re.sub(r"[\s\[\]]", "", name).lower()


def mappings_from_rows(
    rows: Iterable[Mapping[str, Any]], list_fields: Mapping[str, ListFields]
) -> tuple[list[FieldMapping], list[str]]:
    """Usable mappings, and a problem line for each mapping that cannot be used.

    Args:
        rows: ``CMSF_Field_Mapping__c`` records (see :data:`MAPPING_FIELDS`), any direction.
        list_fields: Custom fields by ``CMSF_List__c`` Id, for lists of selected clients.
    """
    usable: list[FieldMapping] = []
    problems: list[str] = []
    for row in rows:
        if row.get("Direction__c") not in PUSH_DIRECTIONS:
            continue
        name = str(row.get("Name") or row.get("Id"))
        sobject = str(row.get("Object__c") or "")
        sf_field = str(row.get("Salesforce_Field__c") or "").strip()
        target = str(row.get("CM_Field__c") or "").strip()
        list_sf_id = str(row.get("List__c") or "")
        fields = list_fields.get(list_sf_id)
        problem = None
        if sobject not in ("Contact", "Lead"):
            problem = f"its object must be Contact or Lead, not {sobject or 'empty'}"
        elif fields is None:
            problem = "its list is not a synced list of a selected client"
        elif not _FIELD_PATH.match(sf_field) or (sobject == "Lead" and "." in sf_field):
            problem = f"{sf_field or 'an empty name'} is not a field of {sobject}"
        elif not target:
            problem = "it names no Campaign Monitor field"
        elif _key(target) == "emailaddress":
            problem = "the email address always comes from the record's Email"
        if problem is None and fields is not None:
            standard = STANDARD_TARGETS.get(_key(target))
            if standard is not None:
                usable.append(
                    FieldMapping(
                        row["Id"], name, list_sf_id, sobject, sf_field, standard, "Standard"
                    )
                )
                continue
            definition = fields.find(target)
            if definition is None:
                problem = f"the list has no custom field {target!r}"
            else:
                usable.append(
                    FieldMapping(
                        str(row["Id"]),
                        name,
                        list_sf_id,
                        sobject,
                        sf_field,
                        str(definition["FieldName"]),
                        str(definition.get("DataType") or "Text"),
                        tuple(str(o) for o in definition.get("FieldOptions") or ()),
                        modified=str(row.get("SystemModstamp") or ""),
                    )
                )
                continue
        problems.append(f"- mapping '{name}': {problem}")
    return usable, problems


def field_value(record: Mapping[str, Any], path: str) -> Any:
    """A record's value for ``Field`` or ``Parent.Field`` (None when absent)."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        if part in value:  # spelt as Salesforce spells it (a record has one spelling)
            value = value[part]
            continue
        lowered = part.lower()
        value = next((v for k, v in value.items() if k.lower() == lowered), None)
    return value


def custom_values(mapping: FieldMapping, value: Any) -> list[dict[str, Any]]:
    """``CustomFields`` items for one mapped value, converted to the field's type.

    Returns:
        ``[{"Key": name, "Value": v}, ...]`` (several for a select-many field), or a
        ``Clear`` item when the Salesforce value is empty.

    Raises:
        ConversionError: When the value does not fit the field.
    """
    key = mapping.target
    if value is None or (isinstance(value, str) and not value.strip()):
        return [{"Key": key, "Value": "", "Clear": True}]
    kind = mapping.data_type
    if kind == "MultiSelectMany":
        parts = value if isinstance(value, list) else str(value).split(";")
        chosen = [_option(mapping, str(p)) for p in parts if str(p).strip()]
        return [{"Key": key, "Value": v} for v in dict.fromkeys(chosen)]
    return [{"Key": key, "Value": _one_value(mapping, value)}]


def _one_value(mapping: FieldMapping, value: Any) -> str:
    kind = mapping.data_type
    if kind == "Number":
        return _number(value)
    if kind == "Date":
        return _date(value)
    if kind == "MultiSelectOne":
        return _option(mapping, str(value))
    text = _text(value)
    if len(text) > MAX_VALUE:
        raise ConversionError(
            f"{mapping.sf_field} is {len(text)} characters; '{mapping.target}' takes {MAX_VALUE}"
        )
    return text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: Any) -> str:
    if isinstance(value, bool):
        raise ConversionError(f"{value!r} is not a number")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConversionError(f"{str(value)[:40]!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConversionError("the value is not a finite number")
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _date(value: Any) -> str:
    text = str(value).strip()
    try:
        day = (
            datetime.fromisoformat(text.replace("+0000", "+00:00").replace("Z", "+00:00")).date()
            if "T" in text
            else date.fromisoformat(text[:10])
        )
    except ValueError:
        raise ConversionError(f"{text[:40]!r} is not a date") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise ConversionError(f"{day.isoformat()} is outside 1900-01-01..2076-06-06")
    return day.isoformat()


def _option(mapping: FieldMapping, value: str) -> str:
    wanted = value.strip().lower()
    for option in mapping.options:
        if option.lower() == wanted:
            return option
    shown = ", ".join(mapping.options[:10]) or "none"
    raise ConversionError(
        f"{value.strip()[:40]!r} is not an option of '{mapping.target}' ({shown})"
    )


def consent_value(value: Any) -> str:
    """``Yes``/``No``/``Unchanged`` from a checkbox or text.

    Raises:
        ConversionError: For anything else.
    """
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or (isinstance(value, str) and not value.strip()):
        return "Unchanged"
    text = str(value).strip().lower()
    if text in {"yes", "true", "1", "y"}:
        return "Yes"
    if text in {"no", "false", "0", "n"}:
        return "No"
    if text == "unchanged":
        return "Unchanged"
    raise ConversionError(f"{str(value)[:40]!r} is not a consent value (Yes, No or Unchanged)")


def e164(value: Any, country: str) -> str:
    """A mobile number in E.164 for ``country`` (``""`` when empty, which clears it).

    Raises:
        ConversionError: When it is not a valid number there.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        parsed = phonenumbers.parse(str(value), country.upper())
    except phonenumbers.NumberParseException:
        raise ConversionError(f"the mobile number is not a phone number ({country})") from None
    # Possible (right country code and length), not necessarily assigned: the settings
    # guide's own example (555) 555-1234 becomes +15555551234.
    if (
        phonenumbers.is_possible_number_with_reason(parsed)
        != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        raise ConversionError(f"the mobile number is not a valid number for {country}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
