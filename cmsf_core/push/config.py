"""The push's configuration for one run: rules, mappings, lists, and what to watch.

Read once per run, in the same ``composite/batch`` request as the change counts of the
capture window (:func:`load`), so a quiet run costs the org one API call. Problems with
rules or mappings (an invalid condition, an unknown custom field) are collected here and
raised as one maintenance message per run that names each rule and mapping
(:meth:`PushConfig.report_problems`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant
from cmsf_core.push.mappings import (
    MAPPING_FIELDS,
    SMS_TARGETS,
    FieldMapping,
    ListFields,
    mappings_from_rows,
)
from cmsf_core.push.rules import RULE_FIELDS, Rule, rules_from_rows

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext

__all__ = ["CORE_FIELDS", "PushConfig", "config_queries", "load_config"]

CORE_FIELDS: dict[str, tuple[str, ...]] = {
    "Contact": ("Email", "FirstName", "LastName", "HasOptedOutOfEmail"),
    "Lead": ("Email", "FirstName", "LastName", "HasOptedOutOfEmail", "IsConverted"),
}
"""Fields every push reads: who the person is, their address, their opt-out."""
STATE_FIELDS = ("IsDeleted", "MasterRecordId")
RULE_OBJECT = "CMSF_Subscriber_Rule__c"
MAPPING_OBJECT = "CMSF_Field_Mapping__c"
LIST_OBJECT = "CMSF_List__c"
EXTRA_KEY = "push_config"


@dataclass
class PushConfig:
    """Rules, mappings and lists as the push uses them in this run.

    Attributes:
        rules: Every rule (usable or not).
        mappings: Usable Salesforce to Campaign Monitor mappings.
        lists: Campaign Monitor list id by ``CMSF_List__c`` Id (lists of selected clients).
        problems: Lines naming unusable rules and mappings.
        sms_ignored: Mappings skipped because SMS is not enabled.
    """

    rules: list[Rule] = field(default_factory=list)
    mappings: list[FieldMapping] = field(default_factory=list)
    lists: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sms_ignored: list[str] = field(default_factory=list)
    reported: bool = False

    def usable_rules(self, sobject: str | None = None) -> list[Rule]:
        """Active rules without problems (of one object)."""
        return [r for r in self.rules if r.usable and (sobject is None or r.sobject == sobject)]

    def usable(self, rule_id: str) -> bool:
        """Whether the rule is (still) usable in this run."""
        return any(r.id == rule_id and r.usable for r in self.rules)

    def mapped_fields(self, sobject: str) -> list[str]:
        """Salesforce fields the mappings of ``sobject`` read, each once."""
        return list(dict.fromkeys(m.sf_field for m in self.mappings if m.sobject == sobject))

    def fields(self, sobject: str) -> list[str]:
        """Every field the push reads of ``sobject``: core, state and mapped fields."""
        seen = {f.lower() for f in ("Id", *CORE_FIELDS[sobject], *STATE_FIELDS)}
        mapped = [f for f in self.mapped_fields(sobject) if f.lower() not in seen]
        return [*CORE_FIELDS[sobject], *STATE_FIELDS, *mapped]

    def mapped_since(self, sobject: str) -> dict[str, datetime]:
        """When each mapped field of ``sobject`` became mapped (its latest mapping change)."""
        out: dict[str, datetime] = {}
        for mapping in self.mappings:
            if mapping.sobject != sobject or not mapping.modified:
                continue
            when = parse_instant(_iso(mapping.modified))
            if mapping.sf_field not in out or when > out[mapping.sf_field]:
                out[mapping.sf_field] = when
        return out

    def list_mappings(self, list_sf_id: str, sobject: str) -> list[FieldMapping]:
        """The mappings of one list and object."""
        return [m for m in self.mappings if m.list_sf_id == list_sf_id and m.sobject == sobject]

    def managed_lists(self, sobject: str) -> set[str]:
        """Lists (``CMSF_List__c`` Ids) whose subscribers the push keeps current for ``sobject``.

        A list is managed when it has mappings or a usable rule for the object: there the
        subscriber's name and mapped fields follow the record.
        """
        out = {m.list_sf_id for m in self.mappings if m.sobject == sobject}
        out |= {r.list_sf_id for r in self.usable_rules(sobject) if r.list_sf_id}
        return out

    def rule_broken(self, rule: Rule, problem: str) -> None:
        """Mark a rule unusable for the rest of the run (Salesforce refused its condition)."""
        self.rules = [r.broken(problem) if r.id == rule.id else r for r in self.rules]
        self.problems.append(f"- rule '{rule.name}' ({rule.id}): {problem}")

    def report_problems(self, ctx: JobContext, job: str) -> None:
        """One maintenance message per run naming every unusable rule and mapping."""
        if self.reported:
            return
        self.reported = True
        rule_lines = [
            f"- rule '{r.name}' ({r.id}): {r.problem}" for r in self.rules if r.active and r.problem
        ]
        lines = list(dict.fromkeys([*rule_lines, *self.problems]))
        if lines:
            ctx.log.raise_message(
                "Warning",
                job,
                "CMSF-RULE-INVALID",
                f"{len(lines)} subscriber rule(s) or field mapping(s) cannot be applied",
                "\n".join(lines),
            )
        if self.sms_ignored:
            ctx.log.raise_message(
                "Info",
                job,
                "CMSF-SMS-OFF",
                f"{len(self.sms_ignored)} SMS field mapping(s) ignored: SMS is not enabled",
                "\n".join(f"- mapping '{name}'" for name in self.sms_ignored),
            )


def config_queries() -> list[tuple[str, bool]]:
    """The queries :func:`load_config` needs (rules, mappings, lists), for a batch."""
    return [
        (f"SELECT {RULE_FIELDS} FROM {RULE_OBJECT} ORDER BY Id", False),
        (f"SELECT {MAPPING_FIELDS} FROM {MAPPING_OBJECT} ORDER BY Name, Id", False),
        (f"SELECT Id, CM_Id__c, Client__c, Custom_Fields__c FROM {LIST_OBJECT} ORDER BY Id", False),
    ]


def load_config(
    ctx: JobContext,
    rule_rows: Sequence[Mapping[str, Any]],
    mapping_rows: Sequence[Mapping[str, Any]],
    list_rows: Sequence[Mapping[str, Any]],
) -> PushConfig:
    """Build the run's configuration from the rows of :func:`config_queries`."""
    selected = {c.sf_id for c in ctx.directory.clients()}
    lists: dict[str, str] = {}
    fields: dict[str, ListFields] = {}
    for row in list_rows:
        if row.get("Client__c") in selected and row.get("CM_Id__c"):
            lists[str(row["Id"])] = str(row["CM_Id__c"])
            fields[str(row["Id"])] = ListFields.from_json(row.get("Custom_Fields__c"))
    mappings, problems = mappings_from_rows(mapping_rows, fields)
    ignored = []
    if not ctx.settings.sms_enabled:
        ignored = [m.name for m in mappings if m.target in SMS_TARGETS]
        mappings = [m for m in mappings if m.target not in SMS_TARGETS]
    config = PushConfig(
        rules=rules_from_rows(rule_rows, lists),
        mappings=mappings,
        lists=lists,
        problems=problems,
        sms_ignored=ignored,
    )
    ctx.extras[EXTRA_KEY] = config
    return config


def cached_config(ctx: JobContext) -> PushConfig:
    """The run's configuration, read now if no job of this run read it yet."""
    config = ctx.extras.get(EXTRA_KEY)
    if isinstance(config, PushConfig):
        return config
    results = ctx.sf.query_batch(config_queries())
    rows = [list(r.records()) for r in results]
    return load_config(ctx, rows[0], rows[1], rows[2])


def _iso(value: str) -> str:
    """Salesforce's ``+0000`` offset as ``+00:00``."""
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        return value[:-2] + ":" + value[-2:]
    return value
