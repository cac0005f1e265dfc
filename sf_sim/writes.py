"""What one DML call carries and how it gives up: options, rollback, all-or-none results.

Shared by :mod:`sf_sim.dml` (insert, update), :mod:`sf_sim.upsert` and the follow-up
writes of :mod:`sf_sim.campaigns`, so none of them needs another to say how a write runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sf_sim.exceptions import RecordError
from sf_sim.records import ROLLED_BACK, SaveResult
from sf_sim.values import Source

__all__ = ["Rollback", "WriteContext", "rolled_back"]


class Rollback(Exception):
    """Internal: abandon the current savepoint (allOrNone failure or partial-save retry)."""


@dataclass
class WriteContext:
    """Options of one DML call.

    Attributes:
        all_or_none: Roll everything back if one record fails.
        source: ``json`` or ``csv`` (how values are coerced).
        system: System context: read-only fields and permissions do not apply.
        triggers: Run triggers and validation rules.
        apex_limits: Governor limits of the Apex transaction the call opens (default
            synchronous; a Bulk API chunk passes ``BULK_LIMITS``).
    """

    all_or_none: bool = False
    source: Source = "json"
    system: bool = False
    triggers: bool = True
    apex_limits: dict[str, int] | None = None


def rolled_back(results: list[SaveResult]) -> list[SaveResult]:
    """All-or-none results: failures keep their errors, the rest ALL_OR_NONE_OPERATION_ROLLED_BACK."""
    code, message = ROLLED_BACK
    out = []
    for result in results:
        if result.success or not result.errors:
            out.append(SaveResult(None, False, [RecordError(code, message)]))
        else:
            out.append(SaveResult(None, False, result.errors))
    return out
