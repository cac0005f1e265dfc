"""JSON text the engine stores in Salesforce fields: readable UTF-8, stable key order.

Python's ``json.dumps`` escapes every non-ASCII character by default (``é`` becomes
``\\u00e9``), which makes ``Custom_Fields__c`` and the audit log unreadable for anyone
whose data is not English and wastes field length. Everything the engine writes as JSON
goes through :func:`to_json`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["to_json"]


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
"""Made once: ``json.dumps`` with options makes an encoder per call (every membership
with custom fields goes through here)."""


def to_json(value: Any) -> str:
    """``value`` as compact-enough JSON text: keys sorted, non-ASCII kept as itself."""
    return _ENCODER.encode(value)
