"""Describe results rendered from the schema, with the real attribute names.

``describe_global`` answers ``GET sobjects`` (``encoding``, ``maxBatchSize``, ``sobjects``),
``basic_info`` answers ``GET sobjects/X`` (``objectDescribe``, ``recentItems``) and
``describe_object`` answers ``GET sobjects/X/describe`` (object attributes, ``fields``
with every per-field attribute the platform reports, ``childRelationships``,
``recordTypeInfos``, ``urls``). Fields and objects hidden from the running user are
left out, as they are on the platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sf_sim.schema import TEXT_TYPES, FieldDef, ObjectDef

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["basic_info", "describe_field", "describe_global", "describe_object"]

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
_AUDIT = {
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "OwnerId",
    "IsDeleted",
}


def _object_flags(definition: ObjectDef, org: Org) -> dict[str, Any]:
    control = org.control
    name = definition.name
    has_bin = definition.field("IsDeleted") is not None
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": definition.createable and control.object_allowed(name, "create"),
        "custom": definition.custom,
        "customSetting": definition.custom_setting,
        "deepCloneable": False,
        "deletable": definition.deletable and control.object_allowed(name, "delete"),
        "deprecatedAndHidden": False,
        "feedEnabled": name in ("Account", "Contact", "Lead", "Campaign", "User"),
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": definition.key_prefix,
        "label": definition.label,
        "labelPlural": definition.label_plural,
        "layoutable": not definition.custom_setting,
        "mergeable": name in ("Account", "Contact", "Lead"),
        "mruEnabled": not definition.custom_setting,
        "name": name,
        "queryable": definition.queryable,
        "replicateable": has_bin,
        "retrieveable": True,
        "searchable": not definition.custom_setting,
        "triggerable": True,
        "undeletable": has_bin and definition.deletable,
        "updateable": definition.updateable and control.object_allowed(name, "edit"),
    }


def _urls(definition: ObjectDef, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{definition.name}"
    return {
        "rowTemplate": base + "/{ID}",
        "defaultValues": base + "/defaultValues?recordTypeId&fields",
        "describe": base + "/describe",
        "sobject": base,
    }


def describe_global(org: Org, version: str) -> dict[str, Any]:
    """The ``GET sobjects`` body."""
    sobjects = []
    for definition in sorted(org.schema, key=lambda item: item.name.lower()):
        if not org.control.object_visible(definition.name):
            continue
        sobjects.append({**_object_flags(definition, org), "urls": _urls(definition, version)})
    return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}


def basic_info(org: Org, definition: ObjectDef, version: str) -> dict[str, Any]:
    """The ``GET sobjects/X`` body."""
    return {
        "objectDescribe": {**_object_flags(definition, org), "urls": _urls(definition, version)},
        "recentItems": [],
    }


def describe_field(
    definition: ObjectDef, item: FieldDef, *, writable: bool = True
) -> dict[str, Any]:
    """One entry of ``fields`` in an object describe."""
    text = item.type in TEXT_TYPES and item.type not in ("id", "reference")
    length = item.length if item.type not in ("reference", "id") else 18
    calculated = item.formula is not None
    name_field = definition.name_field is not None and item.name == definition.name_field
    return {
        "aggregatable": item.type not in ("textarea",) or item.length <= 255,
        "aiPredictionField": False,
        "autoNumber": item.auto_number,
        "byteLength": length * 3 if text or item.type in ("reference", "id") else 0,
        "calculated": calculated,
        "calculatedFormula": item.formula,
        "cascadeDelete": item.cascade_delete,
        "caseSensitive": item.case_sensitive,
        "compoundFieldName": "Name"
        if item.name in ("FirstName", "LastName", "Salutation") and definition.field("Name")
        else None,
        "controllerName": None,
        "createable": item.createable and writable,
        "custom": item.custom,
        "defaultValue": None if item.type in ("picklist", "multipicklist") else item.default_value,
        "defaultValueFormula": None,
        "defaultedOnCreate": item.default_value is not None
        or item.name in _AUDIT
        or item.name == "Id",
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": item.precision if item.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": item.external_id,
        "extraTypeInfo": "personname"
        if item.name in ("FirstName", "LastName") and definition.field("Name")
        else None,
        "filterable": item.type != "textarea" or item.length <= 255,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": item.type not in ("double", "currency", "percent", "datetime", "textarea"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": item.name == "Id"
        or item.external_id
        or item.unique
        or item.name in ("Email", "Username"),
        "inlineHelpText": None,
        "label": item.label,
        "length": length if text or item.type in ("reference", "id") else 0,
        "mask": None,
        "maskType": None,
        "name": item.name,
        "nameField": name_field,
        "namePointing": item.is_reference and len(item.reference_to) > 1,
        "nillable": item.nillable,
        "permissionable": item.nillable and item.name not in _AUDIT and item.createable,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": value == item.default_value,
                "label": value,
                "validFor": None,
                "value": value,
            }
            for value in item.picklist_values
        ],
        "polymorphicForeignKey": item.is_reference and len(item.reference_to) > 1,
        "precision": item.precision if item.type in ("double", "currency", "percent") else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(item.reference_to),
        "relationshipName": item.relationship_name,
        "relationshipOrder": 0 if item.cascade_delete else None,
        "restrictedDelete": False,
        "restrictedPicklist": item.restricted_picklist,
        "scale": item.scale if item.type in ("double", "currency", "percent") else 0,
        "searchPrefilterable": item.is_reference,
        "soapType": _SOAP_TYPES.get(item.type, "xsd:string"),
        "sortable": item.type != "multipicklist"
        and (item.type != "textarea" or item.length <= 255),
        "type": item.type,
        "unique": item.unique,
        "updateable": item.updateable and writable,
        "writeRequiresMasterRead": item.cascade_delete,
    }


def describe_object(org: Org, definition: ObjectDef, version: str) -> dict[str, Any]:
    """The ``GET sobjects/X/describe`` body."""
    control = org.control
    fields = [
        describe_field(
            definition, item, writable=control.field_writable(definition.name, item.name)
        )
        for item in definition.iter_fields()
        if control.field_visible(definition.name, item.name)
    ]
    children = []
    for relationship in sorted(
        definition.child_relationships.values(), key=lambda r: (r.child_object, r.field)
    ):
        child = org.schema.object(relationship.child_object)
        field_def = child.field(relationship.field) if child else None
        children.append(
            {
                "cascadeDelete": bool(field_def and field_def.cascade_delete),
                "childSObject": relationship.child_object,
                "deprecatedAndHidden": False,
                "field": relationship.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": relationship.name,
                "restrictedDelete": False,
            }
        )
    base = f"/services/data/v{version}/sobjects/{definition.name}"
    urls = {
        **_urls(definition, version),
        "compactLayouts": base + "/describe/compactLayouts",
        "approvalLayouts": base + "/describe/approvalLayouts",
        "uiDetailTemplate": f"https://{org.host}/{{ID}}",
        "uiEditTemplate": f"https://{org.host}/{{ID}}/e",
        "quickActions": base + "/quickActions",
        "layouts": base + "/describe/layouts",
        "uiNewRecord": f"https://{org.host}/{definition.key_prefix}/e",
    }
    return {
        **_object_flags(definition, org),
        "actionOverrides": [],
        "childRelationships": children,
        "compactLayoutable": not definition.custom_setting,
        "defaultImplementation": None,
        "extendedBy": None,
        "extendsInterfaces": None,
        "fields": fields,
        "implementedBy": None,
        "implementsInterfaces": None,
        "listviewable": None,
        "lookupLayoutable": None,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "recordTypeInfos": [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": True,
                "developerName": "Master",
                "master": True,
                "name": "Master",
                "recordTypeId": "012000000000000AAA",
                "urls": {"layout": base + "/describe/layouts/012000000000000AAA"},
            }
        ],
        "searchLayoutable": not definition.custom_setting,
        "sobjectDescribeOption": "FULL",
        "supportedScopes": [{"label": "All records", "name": "everything"}],
        "urls": urls,
    }
