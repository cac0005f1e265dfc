"""Shape comparison against the createsend-python fixtures (same keys, same value types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    """A createsend-python fixture body (the shape oracle)."""
    return json.loads((FIXTURES / name).read_text("utf-8"))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "object"


def shape_errors(
    actual: Any, expected: Any, path: str = "$", extra: frozenset[str] = frozenset()
) -> list[str]:
    """Differences in keys and value types between ``actual`` and the fixture ``expected``.

    Dict keys must be the same, apart from the documented simulator ``extra`` keys.
    Every item of a list must have the shape of some item of the fixture's list.
    """
    if _kind(actual) != _kind(expected):
        return [f"{path}: {_kind(actual)} != {_kind(expected)}"]
    if isinstance(expected, dict):
        errors = []
        missing = set(expected) - set(actual)
        unexpected = set(actual) - set(expected) - extra
        if missing:
            errors.append(f"{path}: missing keys {sorted(missing)}")
        if unexpected:
            errors.append(f"{path}: unexpected keys {sorted(unexpected)}")
        for key in set(expected) & set(actual):
            errors += shape_errors(actual[key], expected[key], f"{path}.{key}", extra)
        return errors
    if isinstance(expected, list) and expected:
        errors = []
        for i, item in enumerate(actual):
            candidates = [shape_errors(item, e, f"{path}[{i}]", extra) for e in expected]
            if all(candidates):
                errors += min(candidates, key=len)
        return errors
    return []
