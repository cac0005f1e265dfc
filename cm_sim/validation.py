"""Input rules for subscriber data: e-mail, consent, mobile number, custom field values.

Each function either returns the normalised value or raises the platform error with
its code (1 invalid e-mail, 214/215 consent, 220/221 mobile, 222 SMS consent, 216
custom field value). Custom field rules per data type:

* ``Text``: any scalar, at most 250 characters.
* ``Number``: a decimal number.
* ``Date``: ``YYYY-MM-DD`` (or ``YYYY/MM/DD``); values outside 1900-01-01..2076-06-06
  are ignored, as the docs say; ``0000-00-00`` clears the value.
* ``MultiSelectOne``: exactly one of the field's options; ``MultiSelectMany``: options.
* ``Country``: a name from ``/countries.json``; ``USState``: a US state name.

Unknown keys are ignored (the platform keeps values it is not given). ``Clear: true``
removes a value (or one option of a select-many field).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import phonenumbers

from cm_sim.exceptions import CmApiError, api_error
from cm_sim.times import countries

__all__ = [
    "CONSENT_VALUES",
    "DATA_TYPES",
    "US_STATES",
    "apply_custom_fields",
    "field_key",
    "is_email",
    "normalise_consent",
    "normalise_email",
    "normalise_mobile",
]

DATA_TYPES = ("Text", "Number", "MultiSelectOne", "MultiSelectMany", "Date", "Country", "USState")
CONSENT_VALUES = {"yes": "Yes", "no": "No", "unchanged": "Unchanged"}
US_STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "District of Columbia", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois",
    "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland",
    "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana",
    "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York",
    "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania",
    "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah",
    "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
)  # fmt: skip
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_MIN_DATE, _MAX_DATE = date(1900, 1, 1), date(2076, 6, 6)
MAX_VALUE_LENGTH = 250
MAX_NAME_LENGTH = 255
"""Longest name or title (subscriber, client, list, segment, campaign) the simulator keeps.
The platform's exact caps are unpublished; longer values are refused, never cut."""


def too_long(value: Any) -> bool:
    """True for a string longer than :data:`MAX_NAME_LENGTH`."""
    return isinstance(value, str) and len(value) > MAX_NAME_LENGTH


def is_email(value: Any) -> bool:
    """Whether ``value`` is a syntactically valid e-mail address (at most 254 chars)."""
    return isinstance(value, str) and len(value) <= 254 and bool(_EMAIL_RE.match(value.strip()))


def normalise_email(value: Any, code: int = 1) -> str:
    """The trimmed address, or the error ``code`` (1, or 211 for a new address)."""
    if not is_email(value):
        raise api_error(code)
    return str(value).strip()


def normalise_consent(value: Any, *, missing: int = 214, invalid: int = 215) -> str:
    """``Yes``/``No``/``Unchanged`` from any casing.

    Raises:
        CmApiError: ``missing`` when absent or empty, ``invalid`` otherwise.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise api_error(missing)
    if not isinstance(value, str) or value.strip().lower() not in CONSENT_VALUES:
        raise api_error(invalid)
    return CONSENT_VALUES[value.strip().lower()]


def normalise_mobile(value: Any) -> str:
    """An E.164 number (``""`` clears).

    Raises:
        CmApiError: 220 when the number is not a possible international number.
    """
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise api_error(220)
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise api_error(220) from None
    # The number must be a possible E.164 number (country code and length); whether it is
    # assigned is not checked: the product's own example, (555) 555-1234 sent as
    # +15555551234, is accepted although 555 numbers are fictional.
    if (
        phonenumbers.is_possible_number_with_reason(parsed)
        != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        raise api_error(220)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def field_key(name: str) -> str:
    """The ``[key]`` of a custom field name: lower-cased, letters and digits only."""
    return "[" + re.sub(r"[^0-9a-z]", "", name.lower()) + "]"


def _bad(field: dict[str, Any], value: Any) -> CmApiError:
    return api_error(216, f"Invalid custom field value for '{field['name']}': {str(value)[:60]!r}")


def _check_value(field: dict[str, Any], value: Any) -> str | None:
    """Validate one value; ``None`` means "ignore it" (out-of-range dates)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(field, value)
    text = str(value).strip()
    if len(text) > MAX_VALUE_LENGTH:
        raise _bad(field, value)
    dtype = field["data_type"]
    options: list[str] = field["options_list"]
    if dtype == "Number":
        try:
            float(text)
        except ValueError:
            raise _bad(field, value) from None
        return text
    if dtype == "Date":
        match = re.fullmatch(r"(\d{4})[-/](\d{2})[-/](\d{2})", text)
        if match is None:
            raise _bad(field, value)
        if text in ("0000-00-00", "0000/00/00"):
            return ""
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise _bad(field, value) from None
        return day.isoformat() if _MIN_DATE <= day <= _MAX_DATE else None
    if dtype in ("MultiSelectOne", "MultiSelectMany"):
        lookup = {o.lower(): o for o in options}
        if text.lower() not in lookup:
            raise _bad(field, value)
        return lookup[text.lower()]
    if dtype == "Country":
        lookup = {c.lower(): c for c in countries()}
        if text.lower() not in lookup:
            raise _bad(field, value)
        return lookup[text.lower()]
    if dtype == "USState":
        lookup = {s.lower(): s for s in US_STATES}
        if text.lower() not in lookup:
            raise _bad(field, value)
        return lookup[text.lower()]
    return text


def apply_custom_fields(
    defs: list[dict[str, Any]], items: Any, current: dict[str, Any]
) -> dict[str, Any]:
    """Merge ``CustomFields`` input into a subscriber's stored values.

    Args:
        defs: The list's live field definitions (with ``options_list`` decoded).
        items: The request's ``CustomFields`` value (a list of ``{Key, Value, Clear?}``).
        current: Stored values keyed by field id (``str``); lists for select-many.

    Returns:
        The new stored values (``current`` is not modified).

    Raises:
        CmApiError: 216 for a value of the wrong type, 400 for a malformed list.
    """
    if items is None:
        return dict(current)
    if not isinstance(items, list):
        raise api_error(400, "CustomFields must be a list of {Key, Value} objects")
    by_key: dict[str, dict[str, Any]] = {}
    for definition in defs:
        by_key[definition["key"].lower()] = definition
        by_key[definition["name"].lower()] = definition
    result = dict(current)
    many_seen: dict[str, list[str]] = {}
    for item in items:
        if not isinstance(item, dict):
            raise api_error(400, "CustomFields must be a list of {Key, Value} objects")
        key = item.get("Key")
        field = by_key.get(str(key).strip().lower()) if isinstance(key, str) else None
        if field is None:
            continue
        fid = str(field["id"])
        value = item.get("Value")
        if item.get("Clear") is True:
            if field["data_type"] == "MultiSelectMany" and value not in (None, ""):
                kept = [v for v in result.get(fid, []) if v.lower() != str(value).lower()]
                result[fid] = kept
            else:
                result.pop(fid, None)
            continue
        if value is None or value == "":
            result.pop(fid, None)
            continue
        checked = _check_value(field, value)
        if checked is None:
            continue
        if field["data_type"] == "MultiSelectMany":
            chosen = many_seen.setdefault(fid, [])
            if checked and checked not in chosen:
                chosen.append(checked)
            result[fid] = list(chosen)
        elif checked == "":
            result.pop(fid, None)
        else:
            result[fid] = checked
    return {k: v for k, v in result.items() if v not in ([], "")}
