"""Segment rule evaluation (the subset the simulator models).

A segment's ``RuleGroups`` are ANDed; the ``Rules`` inside one group are ORed. A rule
is ``{"RuleType": "EmailAddress"|"Name"|"[customfieldkey]", "Clause": "OP value"}``
with OP one of ``EQUALS``, ``NOT_EQUALS``, ``CONTAINS``, ``NOT_CONTAINS``,
``PROVIDED``, ``NOT_PROVIDED``, ``GREATER_THAN``, ``LESS_THAN`` (numbers). String
comparisons ignore case. Rules on other types (dates, campaign activity) do not match.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["matches_rules"]


def _value(row: dict[str, Any], defs: list[dict[str, Any]], rule_type: str) -> list[str]:
    if rule_type.lower() == "emailaddress":
        return [str(row["email"])]
    if rule_type.lower() == "name":
        return [str(row["name"] or "")]
    stored = json.loads(row["fields"])
    for field in defs:
        if field["key"].lower() == rule_type.lower():
            value = stored.get(str(field["id"]))
            if value is None:
                return []
            return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return []


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _rule(row: dict[str, Any], defs: list[dict[str, Any]], rule: Any) -> bool:
    if not isinstance(rule, dict):
        return False
    clause = str(rule.get("Clause", "")).strip()
    op, _, arg = clause.partition(" ")
    op, arg = op.upper(), arg.strip().lower()
    values = [v.lower() for v in _value(row, defs, str(rule.get("RuleType", "")))]
    if op == "PROVIDED":
        return any(values)
    if op == "NOT_PROVIDED":
        return not any(values)
    if op == "EQUALS":
        return arg in values
    if op == "NOT_EQUALS":
        return arg not in values
    if op == "CONTAINS":
        return any(arg in v for v in values)
    if op == "NOT_CONTAINS":
        return not any(arg in v for v in values)
    if op in ("GREATER_THAN", "LESS_THAN"):
        bound = _number(arg)
        nums = [n for n in (_number(v) for v in values) if n is not None]
        if bound is None or not nums:
            return False
        return (
            any(n > bound for n in nums) if op == "GREATER_THAN" else any(n < bound for n in nums)
        )
    return False


def matches_rules(row: dict[str, Any], defs: list[dict[str, Any]], groups: Any) -> bool:
    """Whether a subscriber row satisfies a segment's rule groups (no groups: everyone)."""
    if not isinstance(groups, list):
        return False
    for group in groups:
        rules = group.get("Rules", []) if isinstance(group, dict) else []
        if rules and not any(_rule(row, defs, r) for r in rules):
            return False
    return True
