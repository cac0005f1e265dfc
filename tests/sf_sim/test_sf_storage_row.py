""":meth:`sf_sim.dml.Dml._storage_row` stores each value as :func:`sf_sim.schema.to_storage`
would (text and canonical datetimes as they are), whatever the field's type and spelling."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sf_sim import Org
from sf_sim.schema import BOOLEAN_TYPES, DATE_TYPES, NUMBER_TYPES, FieldDef, to_storage

_CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
VALUES: list[Any] = [
    None,
    "",
    "text",
    "2026-01-01T00:00:00.000+0000",
    "2026-01-01T01:00:00+01:00",
    "2026-01-01",
    True,
    False,
    0,
    1,
    2.5,
    "1",
    "é ✓ \u2028",
]


def _reference(item: FieldDef, value: Any) -> Any:
    """The rule: None stays None, text of a text field and a canonical datetime's text
    stay as they are, anything else goes through to_storage."""
    if value is None:
        return None
    if type(value) is str and item.type not in BOOLEAN_TYPES | NUMBER_TYPES | DATE_TYPES:
        return value
    if item.type == "datetime" and isinstance(value, str) and _CANONICAL.match(value):
        return value
    return to_storage(item, value)


@pytest.mark.parametrize("object_name", ["Contact", "Lead", "CampaignMember", "Campaign"])
def test_every_field_and_value_is_stored_as_to_storage_says(
    metadata_dir: Path, object_name: str
) -> None:
    org = Org(metadata=[metadata_dir])
    definition = org.schema.object(object_name)
    assert definition is not None
    kinds = set()
    for item in definition.iter_fields():
        kinds.add(item.type)
        for value in VALUES:
            for spelled in (item.name, item.name.lower()):
                try:
                    expected: Any = {item.name: _reference(item, value)}
                except (ValueError, TypeError) as exc:
                    expected = type(exc)
                try:
                    got: Any = org.dml._storage_row(definition, {spelled: value})
                except (ValueError, TypeError) as exc:
                    got = type(exc)
                assert got == expected, (item.name, item.type, value)
                if isinstance(expected, dict):
                    assert type(got[item.name]) is type(expected[item.name])
    assert {"boolean", "datetime", "string"} <= kinds
    assert org.dml._storage_row(definition, {"No_Such_Field__c": 1}) == {}
