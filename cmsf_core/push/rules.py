"""Subscriber rules (automatic subscriptions): read, checked, and turned into SOQL.

A rule is a ``CMSF_Subscriber_Rule__c`` record: a list (``List__c``), an object
(``Object__c``: ``Contact`` or ``Lead``), a SOQL condition over the object's fields and,
for Contacts, its Account's (``Criteria__c``, for example
``LeadSource = 'Web' AND Account.Industry = 'Technology'``), ``Active__c`` and
``Unsubscribe_When_Not_Met__c``. A record that meets an active rule is added to the list;
one that stops meeting it is unsubscribed when the rule says so.

The condition is run by Salesforce itself, always wrapped in parentheses after the
engine's own conditions (``WHERE Id IN (...) AND (<criteria>)``). Before that it is checked
here, so that it can only ever narrow the engine's query: it must be non-empty, at most
:data:`MAX_CRITERIA` characters, have balanced parentheses outside string literals,
terminated strings and no ``;``. What Salesforce then refuses (an unknown field, a syntax
error) makes the rule invalid for the run. An invalid rule is skipped with a maintenance
message naming it (support code ``CMSF-RULE-INVALID``), never a failed run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cmsf_core.shadow import digest

__all__ = [
    "MAX_CRITERIA",
    "RULE_FIELDS",
    "RULE_OBJECTS",
    "Rule",
    "check_criteria",
    "rules_from_rows",
    "uses_account",
]

RULE_OBJECTS = ("Contact", "Lead")
MAX_CRITERIA = 4000
"""Longest condition accepted (it travels in a query URL with up to 200 record Ids)."""

RULE_FIELDS = "Id, Name, List__c, Object__c, Criteria__c, Active__c, Unsubscribe_When_Not_Met__c"
"""Fields of ``CMSF_Subscriber_Rule__c`` the engine reads."""

_ACCOUNT_PATH = re.compile(r"\bAccount\s*\.", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """One subscriber rule as the engine uses it.

    Attributes:
        id: Salesforce Id of the rule record.
        name: Its name (used in messages).
        list_sf_id: Salesforce Id of its ``CMSF_List__c``.
        list_id: Campaign Monitor id of the list (None when the list is unknown).
        sobject: ``Contact`` or ``Lead``.
        criteria: The SOQL condition.
        active: Whether it applies.
        unsubscribe: Unsubscribe records that stop meeting it.
        problem: Why it cannot be applied (None when it can).
    """

    id: str
    name: str
    list_sf_id: str | None
    list_id: str | None
    sobject: str
    criteria: str
    active: bool
    unsubscribe: bool
    problem: str | None = None

    @property
    def digest(self) -> str:
        """What makes a rule a different rule: list, object, condition, unsubscribe flag."""
        return digest(
            {
                "list": self.list_sf_id,
                "object": self.sobject,
                "criteria": " ".join(self.criteria.split()),
                "unsubscribe": self.unsubscribe,
            }
        )[:16]

    @property
    def usable(self) -> bool:
        """Active and free of problems."""
        return self.active and self.problem is None

    def where(self, *conditions: str) -> str:
        """A WHERE clause: the engine's ``conditions`` and this rule's criteria."""
        return " AND ".join([*conditions, f"({self.criteria})"])

    def broken(self, problem: str) -> Rule:
        """This rule marked unusable for ``problem``."""
        return replace(self, problem=problem)


def check_criteria(criteria: str | None) -> str | None:
    """Why a condition cannot be used, or None when it can (Salesforce judges the rest)."""
    text = (criteria or "").strip()
    if not text:
        return "the criteria are empty (write a condition such as Email != null)"
    if len(text) > MAX_CRITERIA:
        return f"the criteria are longer than {MAX_CRITERIA} characters"
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "'":
            index += 1
            while index < len(text) and text[index] != "'":
                index += 2 if text[index] == "\\" else 1
            if index >= len(text):
                return "a string literal in the criteria is not closed"
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return "the criteria close a parenthesis they did not open"
        elif char == ";":
            return "the criteria contain ';'"
        index += 1
    if depth:
        return "the criteria leave a parenthesis open"
    return None


def uses_account(rules: Iterable[Rule]) -> bool:
    """Whether a usable Contact rule's criteria read the Contact's Account fields."""
    return any(
        r.usable and r.sobject == "Contact" and _ACCOUNT_PATH.search(r.criteria) for r in rules
    )


def rules_from_rows(rows: Iterable[Mapping[str, Any]], lists: Mapping[str, str]) -> list[Rule]:
    """Rules from ``CMSF_Subscriber_Rule__c`` rows, each checked.

    Args:
        rows: The records (see :data:`RULE_FIELDS`).
        lists: Campaign Monitor list id by ``CMSF_List__c`` Id, for lists of selected clients.
    """
    rules = []
    for row in rows:
        sobject = str(row.get("Object__c") or "")
        list_sf_id = row.get("List__c") or None
        rule = Rule(
            id=str(row["Id"]),
            name=str(row.get("Name") or row["Id"]),
            list_sf_id=list_sf_id,
            list_id=lists.get(list_sf_id) if list_sf_id else None,
            sobject=sobject,
            criteria=str(row.get("Criteria__c") or "").strip(),
            active=bool(row.get("Active__c")),
            unsubscribe=bool(row.get("Unsubscribe_When_Not_Met__c")),
        )
        if sobject not in RULE_OBJECTS:
            rule = rule.broken(f"its object must be Contact or Lead, not {sobject or 'empty'}")
        elif not list_sf_id:
            rule = rule.broken("it names no subscriber list")
        elif rule.list_id is None:
            rule = rule.broken("its list is not a synced list of a selected client")
        else:
            problem = check_criteria(rule.criteria)
            if problem is not None:
                rule = rule.broken(problem)
        rules.append(rule)
    return sorted(rules, key=lambda r: r.id)
