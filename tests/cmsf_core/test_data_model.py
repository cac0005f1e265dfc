from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from cmsf_core.data_model import OBJECTS_DIR, PERMISSION_SET, expected_fields
from sf_sim import Org

NS = "{http://soap.sforce.com/2006/04/metadata}"


def test_metadata_declares_the_public_object_names() -> None:
    names = set(expected_fields())
    required = {
        "CMSF_Client__c", "CMSF_Campaign__c", "CMSF_List__c", "CMSF_List_Member__c",
        "CMSF_Email_Activity__c", "CMSF_Subscriber_Rule__c", "CMSF_Field_Mapping__c",
        "CMSF_Smart_Email__c", "CMSF_Smart_Email_Mapping__c", "CMSF_Smart_Email_Variable__c",
        "CMSF_Suppression__c", "CMSF_Queue_Item__c", "CMSF_Maintenance_Message__c", "CMSF_Settings__c",
    }  # fmt: skip
    assert required <= names


def test_every_synced_object_has_a_unique_external_id() -> None:
    synced = ["CMSF_Client__c", "CMSF_Campaign__c", "CMSF_List__c", "CMSF_List_Member__c",
              "CMSF_Email_Activity__c", "CMSF_Smart_Email__c", "CMSF_Smart_Email_Variable__c",
              "CMSF_Suppression__c", "CMSF_CM_User__c"]  # fmt: skip
    for name in synced:
        root = ET.parse(OBJECTS_DIR / name / "fields" / "CM_Id__c.field-meta.xml").getroot()
        assert root.findtext(f"{NS}externalId") == "true", name
        assert root.findtext(f"{NS}unique") == "true", name


def test_permission_set_grants_every_custom_field() -> None:
    root = ET.parse(PERMISSION_SET).getroot()
    granted = {fp.findtext(f"{NS}field") for fp in root.iter(f"{NS}fieldPermissions")}
    for obj, fields in expected_fields().items():
        for field in fields:
            assert f"{obj}.{field}" in granted, f"{obj}.{field}"


def test_the_simulator_loads_the_same_metadata() -> None:
    org = Org(metadata=[OBJECTS_DIR])
    for obj, fields in expected_fields().items():
        targets = ["Task", "Event"] if obj == "Activity" else [obj]
        for target in targets:
            definition = org.schema.object(target)
            if definition is None and target == "Event":
                continue
            assert definition is not None, target
            assert all(definition.field(f) is not None for f in fields), target
    member = org.schema.object("CMSF_List_Member__c")
    assert member is not None and member.field("State__c").restricted_picklist  # type: ignore[union-attr]


def test_the_permission_sets_match_the_data_model() -> None:
    from cmsf_core.permission_sets import check

    # A field or object added on any branch makes this fail until
    # `python -m cmsf_core.permission_sets --write` regenerates Full, Standard and Limited.
    assert check() == []


def test_a_new_field_makes_the_permission_sets_stale(tmp_path: Path) -> None:
    from cmsf_core import permission_sets

    permission_sets.write(tmp_path)
    assert permission_sets.check(tmp_path) == []
    stale = tmp_path / "CMSF_Limited_Access.permissionset-meta.xml"
    stale.write_text(stale.read_text().replace("<field>CMSF_List__c.Name__c</field>", ""))
    text = stale.read_text()
    stale.write_text(text.replace("CMSF_List__c.Total_Active__c", "CMSF_List__c.Gone__c"))
    assert permission_sets.check(tmp_path) == ["CMSF_Limited_Access.permissionset-meta.xml"]


def test_the_levels_grant_what_the_faq_says() -> None:
    from cmsf_core.permission_sets import LEVELS, render

    full, standard, limited = (ET.fromstring(render(level)) for level in LEVELS)

    def objects(root: ET.Element) -> dict[str, dict[str, str]]:
        return {
            op.findtext(f"{NS}object") or "": {c.tag.replace(NS, ""): c.text or "" for c in op}
            for op in root.iter(f"{NS}objectPermissions")
        }

    assert objects(full)["CMSF_Settings__c"]["modifyAllRecords"] == "true"
    assert objects(standard)["CMSF_List__c"]["allowEdit"] == "true"
    assert objects(standard)["CMSF_Settings__c"]["allowEdit"] == "false"
    assert all(p["allowEdit"] == "false" for p in objects(limited).values())
    secret = "CMSF_Settings__c.Connection_Key__c"
    assert secret not in render(LEVELS[1]) and secret not in render(LEVELS[2])
