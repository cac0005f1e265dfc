"""Datetime text and Ids are coerced through caches: the answers must not change.

:func:`sf_sim.values._datetime_text` and :func:`sf_sim.values._id_18` remember good
values only; a bad value raises every time, with the error of its own field.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sf_sim import Org
from sf_sim.exceptions import RecordError
from sf_sim.ids import to_18
from sf_sim.records import RecordChecker
from sf_sim.schema import FieldDef, format_datetime, parse_datetime
from sf_sim.values import CSV_TYPED, _datetime_text, _id_18, check_value, coerce_value

WHEN = FieldDef(name="When__c", type="datetime", label="When")
OTHER = FieldDef(name="Other__c", type="datetime", label="Other")
PARENT = FieldDef(name="Parent__c", type="reference", label="Parent", reference_to=("Account",))


def _reference_text(text: str) -> str:
    """What a CSV datetime became before the cache (parse, then render)."""
    stripped = text.strip()
    if len(stripped) == 10:
        return format_datetime(datetime.fromisoformat(stripped + "T00:00:00+00:00"))
    return format_datetime(parse_datetime(stripped))


GOOD = [
    "2026-11-26T16:00:00.000+0000",
    "2026-11-26T16:00:00Z",
    " 2026-11-26T18:00:00+02:00 ",
    "2026-11-26T10:00:00.123-0600",
    "2026-11-26",
    "2024-02-29T23:59:59.999+0000",
]
BAD = ["", "  ", "2026-02-30T00:00:00Z", "2026-11-26T16:00:00", "yesterday", "2026-13-01", "\x00"]


@pytest.mark.parametrize("text", GOOD)
def test_good_datetimes_are_rendered_as_before_every_time(text: str) -> None:
    expected = _reference_text(text)
    for _ in range(3):  # the first answer computes, the next ones are remembered
        assert coerce_value(WHEN, text, "csv") == expected
    assert _datetime_text(text.strip()) == expected


@pytest.mark.parametrize("text", BAD)
def test_bad_datetimes_fail_every_time_with_their_own_field(text: str) -> None:
    for definition in (WHEN, OTHER, WHEN):
        with pytest.raises(RecordError) as exc:
            coerce_value(definition, text, "csv")
        assert exc.value.error_code == "INVALID_TYPE_ON_FIELD_IN_RECORD"
        assert exc.value.fields == [definition.name]
        assert exc.value.message == f"{definition.label}: value not of required type: {text}"


def test_ids_are_normalised_as_before_and_bad_ones_always_fail() -> None:
    good = "001000000000001"
    for _ in range(2):
        assert check_value(PARENT, good) == to_18(good)
        assert check_value(PARENT, to_18(good)) == to_18(good)
    assert _id_18(good) == to_18(good)
    for bad in ("001000000000001AAB", "nonsense", "001000000000001ZZZ"):
        for _ in range(2):
            with pytest.raises(RecordError) as exc:
                check_value(PARENT, bad)
            assert exc.value.error_code == "MALFORMED_ID"
            assert exc.value.message == f"Parent: id value of incorrect type: {bad}"


def test_csv_text_of_an_untyped_field_is_the_value_itself(metadata_dir: Path) -> None:
    """What lets a Bulk API record skip coercion for such fields (``CSV_TYPED``)."""
    org = Org(metadata=[metadata_dir])
    types = {item.type for d in org.schema for item in d.iter_fields()}
    assert types - CSV_TYPED >= {"string", "email", "reference", "picklist", "textarea"}
    for kind in sorted(types - CSV_TYPED):
        definition = FieldDef(name="F__c", type=kind, label="F")
        for text in ("", " padded ", "#N/A", "é ✓ \u2028", "x" * 300, "1,5", "true"):
            assert coerce_value(definition, text, "csv") is text
    for kind in sorted(CSV_TYPED):  # and every typed one does convert (or refuse)
        definition = FieldDef(name="F__c", type=kind, label="F")
        with pytest.raises(RecordError):
            coerce_value(definition, "not a value", "csv")


def test_a_bulk_record_keeps_text_and_converts_typed_values(metadata_dir: Path) -> None:
    org = Org(metadata=[metadata_dir])
    definition = org.schema.object("Contact")
    assert definition is not None
    checker = RecordChecker(org, definition)
    values = checker.fields_of(
        {"LastName": " Lee ", "Email": "", "HasOptedOutOfEmail": "TRUE", "Birthdate": "#N/A"},
        creating=True,
        source="csv",
    )
    assert values == {"LastName": " Lee ", "HasOptedOutOfEmail": True, "Birthdate": None}
