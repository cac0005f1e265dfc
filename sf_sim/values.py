"""Field values on the way in: type coercion and the platform's per-field checks.

Two sources of values reach DML. JSON bodies (REST, collections, composite) carry
typed values; a value of the wrong JSON type fails the whole request with
``JSON_PARSER_ERROR``, as Jackson does on the platform. CSV (Bulk API 2.0) carries
text; an empty cell means "not given", ``#N/A`` means null, and a value of the wrong
shape fails only its row with ``INVALID_TYPE_ON_FIELD_IN_RECORD``.

After coercion, :func:`check_value` applies the field rules every source shares:
length (``STRING_TOO_LONG``), e-mail syntax (``INVALID_EMAIL_ADDRESS``), restricted
picklists (``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``), numeric range
(``NUMBER_OUTSIDE_VALID_RANGE``) and Id syntax (``MALFORMED_ID``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from sf_sim.exceptions import RecordError, SalesforceApiError
from sf_sim.ids import IdError, to_18
from sf_sim.schema import (
    BOOLEAN_TYPES,
    DATE_TYPES,
    NUMBER_TYPES,
    FieldDef,
    format_datetime,
    parse_datetime,
)

__all__ = ["CSV_TYPED", "Source", "check_value", "coerce_value", "is_valid_email"]

Source = Literal["json", "csv"]

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$"
)
_JAVA_TYPES = {
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "date",
    "datetime": "datetime",
}


def is_valid_email(value: str) -> bool:
    """True if ``value`` is an address the platform's e-mail check accepts."""
    local = value.split("@", 1)[0]
    return bool(_EMAIL.match(value)) and not local.startswith(".") and ".." not in local


def _json_error(definition: FieldDef, token: str, value: Any) -> SalesforceApiError:
    java = _JAVA_TYPES.get(definition.type, "string")
    shown = value if isinstance(value, str) else repr(value)
    return SalesforceApiError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {java} from {token} value {shown} or request may be "
        f"missing a required field at [line:1, column:1]",
        400,
    )


def _csv_error(definition: FieldDef, value: str) -> RecordError:
    return RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{definition.label}: value not of required type: {value}",
        fields=[definition.name],
    )


def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int | float):
        return "VALUE_NUMBER_INT" if isinstance(value, int) else "VALUE_NUMBER_FLOAT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, dict):
        return "START_OBJECT"
    return "VALUE_STRING"


def coerce_value(definition: FieldDef, value: Any, source: Source = "json") -> Any:
    """Turn an incoming value into the field's API value (bool, int, float, str or None).

    Args:
        definition: The field being written.
        value: The value as the client sent it.
        source: ``json`` for REST bodies, ``csv`` for Bulk API text.

    Returns:
        The value in API form: datetimes as ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` text, dates
        as ``YYYY-MM-DD``, booleans as ``bool``, numbers as ``int``/``float``.

    Raises:
        SalesforceApiError: ``JSON_PARSER_ERROR`` for a JSON value of the wrong type.
        RecordError: ``INVALID_TYPE_ON_FIELD_IN_RECORD`` for a CSV value of the wrong shape.
    """
    if value is None:
        return None
    kind = definition.type
    if source == "csv":
        return _coerce_text(definition, str(value))
    if isinstance(value, list | dict):
        raise _json_error(definition, _token(value), value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _json_error(definition, _token(value), value)
    if kind in ("int", "double", "currency", "percent"):
        if isinstance(value, bool):
            raise _json_error(definition, _token(value), value)
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise _json_error(definition, "VALUE_NUMBER_FLOAT", value)
            return int(value) if kind == "int" else float(value)
        try:
            return _coerce_text(definition, str(value))
        except RecordError as exc:
            raise _json_error(definition, "VALUE_STRING", value) from exc
    if kind in ("date", "datetime"):
        if not isinstance(value, str):
            raise _json_error(definition, _token(value), value)
        try:
            return _coerce_text(definition, value)
        except RecordError as exc:
            raise _json_error(definition, "VALUE_STRING", value) from exc
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


CSV_TYPED = BOOLEAN_TYPES | NUMBER_TYPES | DATE_TYPES
"""Types whose CSV text :func:`coerce_value` converts; of any other type the text is the value."""


def _coerce_text(definition: FieldDef, text: str) -> Any:
    kind = definition.type
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise _csv_error(definition, text)
    if kind in ("int", "double", "currency", "percent"):
        try:
            number = Decimal(text.strip().replace(",", ""))
        except InvalidOperation as exc:
            raise _csv_error(definition, text) from exc
        if not number.is_finite():
            raise _csv_error(definition, text)
        return int(number) if kind == "int" else float(number)
    if kind == "date":
        try:
            return date.fromisoformat(text.strip()[:10]).isoformat()
        except ValueError as exc:
            raise _csv_error(definition, text) from exc
    if kind == "datetime":
        try:
            return _datetime_text(text.strip())
        except ValueError as exc:
            raise _csv_error(definition, text) from exc
    return text


@lru_cache(maxsize=4096)
def _datetime_text(stripped: str) -> str:
    """A datetime's text in API form (a Bulk API upload repeats the same instants: the
    minute of an activity, a batch's own timestamps); a bad one raises, and is not kept.

    Raises:
        ValueError: If the text is not a datetime.
    """
    if len(stripped) == 10:
        return format_datetime(datetime.fromisoformat(stripped + "T00:00:00+00:00"))
    return format_datetime(parse_datetime(stripped))


def _number_in_range(definition: FieldDef, value: float | int) -> bool:
    if definition.precision <= 0:
        return True
    digits = definition.precision - definition.scale
    return abs(value) < 10**digits if digits > 0 else abs(value) < 1


def check_value(definition: FieldDef, value: Any) -> Any:
    """Apply the field's rules to a coerced value and return the value to store.

    Args:
        definition: The field being written.
        value: The coerced API value.

    Returns:
        The value, normalised: Ids in 18-character form, numbers rounded to the scale,
        picklist values in their canonical spelling, multi-select values ``;``-joined.

    Raises:
        RecordError: With the platform code for the first rule the value breaks.
    """
    if value is None:
        return None
    kind = definition.type
    if kind in ("int", "double", "currency", "percent"):
        if not _number_in_range(definition, value):
            raise RecordError(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{definition.label}: value outside of valid range on numeric field: {value}",
                fields=[definition.name],
            )
        return value if kind == "int" else round(float(value), definition.scale)
    if not isinstance(value, str):
        return value
    if kind in ("reference", "id"):
        try:
            return _id_18(value)  # checks the Id once (its form and checksum)
        except IdError:
            raise RecordError(
                "MALFORMED_ID",
                f"{definition.label}: id value of incorrect type: {value}",
                fields=[definition.name],
            ) from None
    if kind == "multipicklist":
        parts = [part.strip() for part in value.split(";") if part.strip()]
        value = ";".join(_picklist_value(definition, part) for part in parts)
    elif kind == "picklist":
        value = _picklist_value(definition, value)
    if definition.length and len(value) > definition.length:
        shown = value if len(value) <= 100 else value[:100] + "..."
        raise RecordError(
            "STRING_TOO_LONG",
            f"{definition.label}: data value too large: {shown} (max length={definition.length})",
            fields=[definition.name],
        )
    if kind == "email" and value and not is_valid_email(value):
        raise RecordError(
            "INVALID_EMAIL_ADDRESS",
            f"{definition.label}: invalid email address: {value}",
            fields=[definition.name],
        )
    return value


@lru_cache(maxsize=8192)
def _id_18(value: str) -> str:
    """:func:`~sf_sim.ids.to_18`, remembered: a batch names the same parents again and
    again (its list, its campaign, its owner). A bad Id raises, and is not kept. Bounded
    (8,192 Ids, about 2 MiB), so memory stays flat.

    Raises:
        IdError: If ``value`` is not a well-formed Id.
    """
    return to_18(value)


def _picklist_value(definition: FieldDef, value: str) -> str:
    for allowed in definition.picklist_values:
        if allowed.lower() == value.lower():
            return allowed
    if definition.restricted_picklist:
        raise RecordError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{definition.label}: bad value for restricted picklist field: {value}",
            fields=[definition.name],
        )
    return value
