"""Smart email mappings: how a record of Salesforce becomes a smart email's recipient and data.

A mapping is a ``CMSF_Smart_Email_Mapping__c`` record: the smart email (a
``CMSF_Smart_Email__c`` the primary sync copied from Campaign Monitor), the root object
(``Contact``, ``Lead``, ``Account``, a custom object), the recipient field (an email field
of the root object or of a parent: ``Email``, ``Contact__r.Email``), the variable map, and
whether a Task records each send. The variable map (``Variable_Map__c``) is JSON: each
smart email variable names the field whose value it takes, parent fields included::

    {"firstname": "FirstName", "company": "Account.Name", "owner": "Owner.Email"}

Consent to track: ``Consent_Field__c`` names a field of the root object (a checkbox, or
Yes/No text) whose value becomes the send's ``ConsentToTrack``; when it is empty (or not
set) ``Consent_To_Track__c`` (``Unchanged`` by default) is sent.

:func:`load_mappings` reads mappings and their smart emails' variables in one
``composite/batch`` request; :func:`validate` checks a mapping against the smart email's
variables and the objects' describes (cached for the gateway's life), so a mistake is a
message naming the mapping and what to fix, never a refused send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmsf_core.errors import CmsfError
from cmsf_core.matching import soql_quote
from cmsf_core.push.mappings import ConversionError, consent_value, field_value

if TYPE_CHECKING:
    from cmsf_core.salesforce import BatchQuery, SalesforceGateway

__all__ = [
    "ITEM_VARIABLE",
    "MAPPING",
    "SmartEmailMapping",
    "load_mappings",
    "mapping_queries",
    "parse_variable_map",
    "read_mappings",
    "resolve",
    "validate",
]

MAPPING = "CMSF_Smart_Email_Mapping__c"
VARIABLE = "CMSF_Smart_Email_Variable__c"
ITEM_VARIABLE = "cmsf_queue_item"
"""The data key every send carries: its queue item's Id, by which a send whose answer was
lost is found again in Campaign Monitor's message log (templates ignore it)."""
MAX_DATA_BYTES = 100 * 1024
"""Campaign Monitor's limit on a send's ``Data`` (Code 996)."""
MAPPING_FIELDS = (
    "Id, Name, Active__c, Root_Object__c, Recipient_Field__c, Variable_Map__c, Create_Task__c, "
    "Consent_To_Track__c, Consent_Field__c, Smart_Email__c, Smart_Email__r.Name, "
    "Smart_Email__r.CM_Id__c, Smart_Email__r.Status__c, Smart_Email__r.Client__r.CM_Id__c"
)
CONSENTS = ("Yes", "No", "Unchanged")
MAX_PARENTS = 5
"""SOQL follows at most five parent relationships in a field path."""
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_TEXT_TYPES = {"string", "email", "picklist", "textarea", "phone", "url", "id", "reference"}


@dataclass(frozen=True)
class SmartEmailMapping:
    """One smart email mapping as stored in Salesforce.

    Attributes:
        id: Its Salesforce Id.
        name: Its name (messages name it).
        active: Only active mappings send for queue items (Run Test sends either way).
        root_object: The object whose records are sent for.
        recipient_field: Field path of the recipient's address.
        variables: Smart email variable -> field path (empty when the map is unreadable).
        map_problem: Why ``Variable_Map__c`` could not be read, if it could not.
        create_task: Record each send as a Task on the record.
        consent: ``ConsentToTrack`` when no consent field gives a value.
        consent_field: Field path whose value is the send's ``ConsentToTrack``.
        smart_email_sf_id: The ``CMSF_Smart_Email__c`` record.
        smart_email_id: The smart email's Campaign Monitor id.
        smart_email_name: Its name.
        smart_email_status: ``Active`` or ``Draft`` as last synced.
        client_id: The Campaign Monitor client of the smart email.
        known_variables: The smart email's variables as last synced.
    """

    id: str
    name: str
    active: bool
    root_object: str
    recipient_field: str
    variables: Mapping[str, str]
    map_problem: str | None
    create_task: bool
    consent: str
    consent_field: str
    smart_email_sf_id: str
    smart_email_id: str
    smart_email_name: str
    smart_email_status: str
    client_id: str
    known_variables: frozenset[str] = field(default_factory=frozenset)

    def fields(self) -> list[str]:
        """Every field path the mapping reads, once each (case ignored), recipient first."""
        paths = [self.recipient_field, *self.variables.values()]
        if self.consent_field:
            paths.append(self.consent_field)
        seen: dict[str, str] = {}
        for path in paths:
            if path:
                seen.setdefault(path.lower(), path)
        return list(seen.values())


def parse_variable_map(text: str | None) -> tuple[dict[str, str], str | None]:
    """Read ``Variable_Map__c``: JSON of smart email variable -> field path.

    Returns:
        The map, and why it could not be read (None when it could). An empty value is an
        empty map (a smart email without variables).
    """
    if text is None or not text.strip():
        return {}, None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, f"Variable_Map__c is not JSON ({exc.msg} at character {exc.pos})"
    except RecursionError:
        return {}, "Variable_Map__c is not JSON (nested too deeply)"
    if not isinstance(data, dict):
        return {}, 'Variable_Map__c must be a JSON object such as {"firstname": "FirstName"}'
    out: dict[str, str] = {}
    for variable, path in data.items():
        shown = str(variable)[:40]
        if not _VARIABLE.match(str(variable)):
            return {}, f"Variable_Map__c: {shown!r} is not a smart email variable name"
        if not isinstance(path, str) or not path.strip():
            return {}, f"Variable_Map__c: variable {shown!r} must name a field, such as FirstName"
        out[str(variable)] = path.strip()
    return out, None


def mapping_queries(mapping_ids: Iterable[str]) -> list[tuple[str, bool]]:
    """The queries reading mappings and their smart emails' variables (none for no Ids).

    :func:`read_mappings` turns their answers into mappings; a caller may add queries of
    its own to the same ``composite/batch`` request.
    """
    ids = sorted({i for i in mapping_ids if i and i.isalnum()})
    if not ids:
        return []
    listed = ",".join(soql_quote(i) for i in ids)
    return [
        (f"SELECT {MAPPING_FIELDS} FROM {MAPPING} WHERE Id IN ({listed})", False),
        (
            f"SELECT Name, Smart_Email__c FROM {VARIABLE} WHERE Smart_Email__c IN "
            f"(SELECT Smart_Email__c FROM {MAPPING} WHERE Id IN ({listed}))",
            False,
        ),
    ]


def read_mappings(results: Sequence[BatchQuery]) -> dict[str, SmartEmailMapping]:
    """Mappings from the answers to :func:`mapping_queries`, by 18- and 15-character Id."""
    if not results:
        return {}
    mappings, variables = results
    by_email: dict[str, set[str]] = {}
    for row in variables.records():
        by_email.setdefault(str(row.get("Smart_Email__c")), set()).add(str(row.get("Name")))
    out: dict[str, SmartEmailMapping] = {}
    for row in mappings.records():
        mapping = from_row(row, by_email.get(str(row.get("Smart_Email__c")), set()))
        out[mapping.id] = mapping
        out[mapping.id[:15]] = mapping
    return out


def load_mappings(
    gateway: SalesforceGateway, mapping_ids: Iterable[str]
) -> dict[str, SmartEmailMapping]:
    """The mappings with these Ids (absent ones are left out), with their smart emails' variables.

    One ``composite/batch`` request (one API call) reads both.
    """
    queries = mapping_queries(mapping_ids)
    return read_mappings(gateway.query_batch(queries)) if queries else {}


def from_row(row: Mapping[str, Any], known_variables: Iterable[str]) -> SmartEmailMapping:
    """A mapping from its ``CMSF_Smart_Email_Mapping__c`` row (see ``MAPPING_FIELDS``)."""
    smart = row.get("Smart_Email__r") or {}
    client = smart.get("Client__r") or {}
    variables, problem = parse_variable_map(row.get("Variable_Map__c"))
    consent = str(row.get("Consent_To_Track__c") or "Unchanged")
    return SmartEmailMapping(
        id=str(row["Id"]),
        name=str(row.get("Name") or row["Id"]),
        active=bool(row.get("Active__c")),
        root_object=str(row.get("Root_Object__c") or "").strip(),
        recipient_field=str(row.get("Recipient_Field__c") or "").strip(),
        variables=variables,
        map_problem=problem,
        create_task=bool(row.get("Create_Task__c")),
        consent=consent if consent in CONSENTS else "Unchanged",
        consent_field=str(row.get("Consent_Field__c") or "").strip(),
        smart_email_sf_id=str(row.get("Smart_Email__c") or ""),
        smart_email_id=str(smart.get("CM_Id__c") or ""),
        smart_email_name=str(smart.get("Name") or ""),
        smart_email_status=str(smart.get("Status__c") or ""),
        client_id=str(client.get("CM_Id__c") or ""),
        known_variables=frozenset(known_variables),
    )


# ----------------------------------------------------------------------------- validation


def validate(gateway: SalesforceGateway, mapping: SmartEmailMapping) -> list[str]:
    """What is wrong with a mapping (empty when it can send).

    Checks the smart email (synced, active, with the variables mapped), the root object,
    and that each field path exists through the objects' describes (parents included).
    """
    problems: list[str] = []
    if not mapping.smart_email_id:
        problems.append(
            "it names no smart email (or its smart email is not synced from Campaign Monitor yet)"
        )
    elif mapping.smart_email_status and mapping.smart_email_status != "Active":
        problems.append(
            f"its smart email '{mapping.smart_email_name}' is {mapping.smart_email_status} in "
            "Campaign Monitor; only active smart emails send"
        )
    if mapping.map_problem:
        problems.append(mapping.map_problem)
    known = {v.lower() for v in mapping.known_variables}
    for variable in mapping.variables:
        if variable.lower() == ITEM_VARIABLE:
            problems.append(f"variable '{ITEM_VARIABLE}' is reserved (every send carries it)")
        elif mapping.smart_email_id and variable.lower() not in known:
            listed = ", ".join(sorted(mapping.known_variables)) or "none"
            problems.append(
                f"variable '{variable}' is not a variable of smart email "
                f"'{mapping.smart_email_name}' (its variables: {listed})"
            )
    if not _NAME.match(mapping.root_object):
        problems.append("it names no root object (Root_Object__c), such as Contact")
        return problems
    try:
        gateway.describe(mapping.root_object)
    except CmsfError:
        problems.append(f"root object '{mapping.root_object}' is not an object of this org")
        return problems
    if not mapping.recipient_field:
        problems.append("it names no recipient field (Recipient_Field__c), such as Email")
    else:
        kind, problem = field_type(gateway, mapping.root_object, mapping.recipient_field)
        if problem:
            problems.append(f"recipient field: {problem}")
        elif kind not in {"email", "string"}:
            problems.append(
                f"recipient field '{mapping.recipient_field}' is a {kind} field, not an email"
            )
    for variable, path in mapping.variables.items():
        _, problem = field_type(gateway, mapping.root_object, path)
        if problem:
            problems.append(f"variable '{variable}': {problem}")
    if mapping.consent_field:
        kind, problem = field_type(gateway, mapping.root_object, mapping.consent_field)
        if problem:
            problems.append(f"consent field: {problem}")
        elif kind not in {"boolean", *_TEXT_TYPES}:
            problems.append(
                f"consent field '{mapping.consent_field}' is a {kind} field; use a checkbox "
                "or Yes/No text"
            )
    return problems


def field_type(gateway: SalesforceGateway, sobject: str, path: str) -> tuple[str, str | None]:
    """The type of the field a path names (``Email``, ``Account.Owner.Email``), or why none.

    Returns:
        ``(type, None)`` for a field the running user can read, ``("", problem)`` otherwise.
    """
    parts = path.split(".")
    if len(parts) > MAX_PARENTS + 1 or not all(_NAME.match(p) for p in parts):
        return "", f"'{path[:80]}' is not a field path such as Email or Account.Name"
    current = sobject
    for depth, part in enumerate(parts):
        try:
            fields = gateway.describe(current).get("fields") or []
        except CmsfError:
            return "", f"'{path}': object {current} is not readable"
        last = depth == len(parts) - 1
        if last:
            found = next((f for f in fields if str(f.get("name")).lower() == part.lower()), None)
            if found is None:
                return "", f"'{path}': {current} has no field {part}"
            return str(found.get("type") or "string"), None
        parent = next(
            (f for f in fields if str(f.get("relationshipName") or "").lower() == part.lower()),
            None,
        )
        if parent is None:
            return "", f"'{path}': {current} has no parent relationship {part}"
        targets = list(parent.get("referenceTo") or [])
        if len(targets) != 1:
            return "", f"'{path}': {current}.{part} may point at several objects; name a field"
        current = str(targets[0])
    return "", f"'{path}' names no field"  # pragma: no cover - the loop always returns


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Resolved:
    """What one record gives a send.

    Attributes:
        recipient: The address to send to.
        data: Variable -> value (the queue item's key not included).
        consent: ``ConsentToTrack``.
    """

    recipient: str
    data: dict[str, Any]
    consent: str


class ValueProblem(ValueError):
    """A record's values cannot make a send (no address, an oversized variable...)."""


def resolve(mapping: SmartEmailMapping, record: Mapping[str, Any]) -> Resolved:
    """The recipient, data and consent a record gives under a mapping.

    Raises:
        ValueProblem: When the record has no usable address, a consent value that is not
            Yes/No, or data larger than Campaign Monitor takes.
    """
    address = field_value(record, mapping.recipient_field)
    recipient = str(address or "").strip()
    if not recipient:
        raise ValueProblem(f"the record has no address in {mapping.recipient_field}")
    if not _EMAIL.match(recipient):
        raise ValueProblem(f"{mapping.recipient_field} is not an email address")
    data = {
        variable: _plain(field_value(record, path)) for variable, path in mapping.variables.items()
    }
    consent = mapping.consent
    if mapping.consent_field:
        try:
            given = consent_value(field_value(record, mapping.consent_field))
        except ConversionError as exc:
            raise ValueProblem(f"consent field {mapping.consent_field}: {exc}") from None
        if given != "Unchanged":
            consent = given
    size = len(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    if size > MAX_DATA_BYTES - 200:
        raise ValueProblem(
            f"its variables are {size:,} bytes; Campaign Monitor takes at most "
            f"{MAX_DATA_BYTES:,} (Code 996)"
        )
    return Resolved(recipient, data, consent)


def _plain(value: Any) -> Any:
    """A field value as smart email data: text, number or true/false; empty for none."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)
