from __future__ import annotations

from pathlib import Path

import pytest

from sf_sim import Org, RecordError
from sf_sim.metadata import MetadataError, custom_key_prefix, load_metadata
from sf_sim.standard_objects import standard_schema


def test_custom_objects_get_sorted_deterministic_prefixes(metadata_dir: Path) -> None:
    created = load_metadata([metadata_dir], standard_schema())
    assert [(o.name, o.key_prefix) for o in created] == [
        ("CMSF_List__c", "a00"),
        ("CMSF_Member__c", "a01"),
        ("CMSF_Settings__c", "a02"),
    ]


def test_field_types_and_attributes_are_loaded(metadata_dir: Path) -> None:
    schema = standard_schema()
    load_metadata([metadata_dir], schema)
    lists = schema.object("cmsf_list__c")
    assert lists is not None and lists.custom and lists.label == "CM List"
    kinds = {f.name: f.type for f in lists.iter_fields() if f.custom}
    assert kinds == {
        "Campaign__c": "reference",
        "Last_Sync__c": "datetime",
        "ListId__c": "string",
        "Notes__c": "textarea",
        "Open_Rate__c": "percent",
        "Owner_Email__c": "email",
        "Status__c": "picklist",
        "Subscribers__c": "double",
        "Sync_Enabled__c": "boolean",
        "Tags__c": "multipicklist",
    }
    list_id = lists.field("ListId__c")
    assert list_id is not None and list_id.external_id and list_id.unique and list_id.length == 32
    status = lists.field("Status__c")
    assert status is not None and status.restricted_picklist and status.required
    assert status.picklist_values == ("Active", "Archived") and status.default_value == "Active"
    sync = lists.field("Sync_Enabled__c")
    assert sync is not None and sync.default_value is True


def test_master_detail_wires_child_relationship_and_drops_owner(metadata_dir: Path) -> None:
    schema = standard_schema()
    load_metadata([metadata_dir], schema)
    members = schema.object("CMSF_Member__c")
    assert members is not None and members.field("OwnerId") is None
    master = members.field("List__c")
    assert master is not None and master.cascade_delete and master.relationship_name == "List__r"
    child = schema.object("CMSF_List__c").child_relationship("Members__r")  # type: ignore[union-attr]
    assert child is not None and child.child_object == "CMSF_Member__c"
    name = members.field("Name")
    assert name is not None and name.auto_number and name.display_format == "M-{00000}"


def test_custom_field_on_standard_object(metadata_dir: Path) -> None:
    schema = standard_schema()
    load_metadata([metadata_dir], schema)
    key = schema.object("Contact").field("CMSF_Subscriber_Key__c")  # type: ignore[union-attr]
    assert key is not None and key.external_id and key.custom


def test_activity_fields_appear_on_task_and_event(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "objects/Activity/fields/Message_Id__c.field-meta.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<fullName>Message_Id__c</fullName><label>Message Id</label><length>64</length>"
        "<type>Text</type></CustomField>",
    )
    schema = standard_schema()
    assert load_metadata([tmp_path], schema) == []
    task = schema.object("Task")
    assert task is not None and task.field("Message_Id__c") is not None
    event = schema.object("Event")
    assert event is None or event.field("Message_Id__c") is not None


def test_hierarchy_custom_setting_has_setup_owner(metadata_dir: Path) -> None:
    schema = standard_schema()
    load_metadata([metadata_dir], schema)
    settings = schema.object("CMSF_Settings__c")
    assert settings is not None and settings.custom_setting
    assert settings.field("SetupOwnerId") is not None
    frequency = settings.field("Frequency__c")
    assert frequency is not None and frequency.default_value == "Hourly"


def test_org_loads_metadata_and_enforces_it(metadata_dir: Path) -> None:
    org = Org(metadata=[metadata_dir])
    list_id = org.create("CMSF_List__c", {"Name": "Newsletter", "ListId__c": "abc"})
    member = org.create("CMSF_Member__c", {"List__c": list_id, "Joined__c": "2026-01-02"})
    assert org.get("CMSF_Member__c", member)["Name"] == "M-00001"
    record = org.get("CMSF_List__c", list_id)
    assert record["Status__c"] == "Active" and record["Sync_Enabled__c"] is True
    with pytest.raises(RecordError) as exc:
        org.create("CMSF_List__c", {"Name": "Dup", "ListId__c": "ABC"})
    assert exc.value.error_code == "DUPLICATE_VALUE"


def test_auto_numbers_run_on_across_calls_and_a_rolled_back_call_uses_none(
    metadata_dir: Path,
) -> None:
    org = Org(metadata=[metadata_dir])
    list_id = org.create("CMSF_List__c", {"Name": "L", "ListId__c": "l1"})
    first = org.insert("CMSF_Member__c", [{"List__c": list_id} for _ in range(3)])
    refused = org.insert(
        "CMSF_Member__c",
        [{"List__c": list_id}, {"List__c": "a00000000000000AAA"}],  # no such list
        all_or_none=True,
    )
    assert not any(r.success for r in refused)
    second = org.insert("CMSF_Member__c", [{"List__c": list_id} for _ in range(2)])
    names = [org.get("CMSF_Member__c", r.id)["Name"] for r in [*first, *second]]
    assert names == ["M-00001", "M-00002", "M-00003", "M-00004", "M-00005"]


def test_deleting_master_deletes_details(metadata_dir: Path) -> None:
    org = Org(metadata=[metadata_dir])
    list_id = org.create("CMSF_List__c", {"Name": "L", "ListId__c": "l1"})
    member = org.create("CMSF_Member__c", {"List__c": list_id})
    org.delete(list_id)
    assert org.count("CMSF_Member__c") == 0
    org.undelete(list_id)
    assert org.get("CMSF_Member__c", member)["Id"] == member


def test_key_prefix_sequence_uses_base62() -> None:
    assert [custom_key_prefix(i) for i in (0, 9, 10, 61, 62)] == ["a00", "a09", "a0A", "a0z", "a10"]


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


_NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
_OBJECT = f"<CustomObject {_NS}><label>X</label><nameField><label>N</label><type>Text</type></nameField></CustomObject>"


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"objects/X__c/X__c.object-meta.xml": "<CustomObject"}, "not well-formed XML"),
        ({"objects/X__c/X__c.object-meta.xml": f"<CustomField {_NS}/>"}, "expected <CustomObject>"),
        (
            {
                "objects/X__c/X__c.object-meta.xml": f"<CustomObject {_NS}><label>X</label></CustomObject>"
            },
            "<nameField> is required",
        ),
        (
            {
                "objects/X__c/X__c.object-meta.xml": _OBJECT,
                "objects/X__c/fields/A__c.field-meta.xml": f"<CustomField {_NS}><fullName>A__c</fullName><type>Blob</type></CustomField>",
            },
            "unsupported field <type> 'Blob'",
        ),
        (
            {
                "objects/X__c/X__c.object-meta.xml": _OBJECT,
                "objects/X__c/fields/A__c.field-meta.xml": f"<CustomField {_NS}><fullName>A__c</fullName><type>Text</type><length>300</length></CustomField>",
            },
            "<length> 300 is outside 1..255",
        ),
        (
            {
                "objects/X__c/X__c.object-meta.xml": _OBJECT,
                "objects/X__c/fields/A__c.field-meta.xml": f"<CustomField {_NS}><fullName>A__c</fullName><type>Lookup</type><referenceTo>Nope__c</referenceTo></CustomField>",
            },
            "unknown object 'Nope__c'",
        ),
        (
            {
                "objects/X__c/X__c.object-meta.xml": _OBJECT,
                "objects/X__c/fields/A__c.field-meta.xml": f"<CustomField {_NS}><fullName>B__c</fullName><type>Text</type></CustomField>",
            },
            "does not match the file name",
        ),
        (
            {
                "objects/Y__c/fields/A__c.field-meta.xml": f"<CustomField {_NS}><fullName>A__c</fullName><type>Date</type></CustomField>"
            },
            "unknown object 'Y__c'",
        ),
    ],
    ids=[
        "broken-xml",
        "wrong-root",
        "no-name-field",
        "unknown-type",
        "too-long",
        "dangling-lookup",
        "name-mismatch",
        "orphan-field",
    ],
)
def test_malformed_metadata_names_file_and_problem(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    for relative, text in files.items():
        _write(tmp_path, relative, text)
    with pytest.raises(MetadataError) as exc:
        load_metadata([tmp_path], standard_schema())
    assert problem in str(exc.value)
    assert str(tmp_path) in str(exc.value)


def test_missing_metadata_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="does not exist"):
        load_metadata([tmp_path / "nowhere"], standard_schema())
