"""The test- and scenario-facing side of an org: automation, faults, permissions, logs.

Kept apart from the emulated API, as the conventions ask. Through ``org.control``:

- **triggers** (:meth:`Control.add_trigger`): bulk Python callables run inside the DML
  transaction for ``before``/``after`` ``insert``/``update``/``delete``/``undelete``.
  ``ctx.add_error(record, message)`` fails one record with
  ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` (Apex ``addError``); an exception escaping the
  trigger fails every record of the call with ``CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY``
  ("<Trigger>: execution of AfterUpdate caused by: ...") unless it is a
  :class:`~sf_sim.exceptions.RecordError`, whose own code and text are used.
- **validation rules** (:meth:`Control.add_validation_rule`): per-record callables that
  return an error message (or raise ``RecordError``) → ``FIELD_CUSTOM_VALIDATION_EXCEPTION``.
- **record locking** (:meth:`Control.lock`): ``UNABLE_TO_LOCK_ROW`` for chosen records
  or whole objects, for N attempts or until a virtual instant.
- **unavailability** (:meth:`Control.unavailable`): the next N API requests (or those until
  a virtual instant) answer 503 ``SERVER_UNAVAILABLE`` or 500 ``UNKNOWN_EXCEPTION`` and
  change nothing, as during a maintenance window or an instance fault.
- **field-level security and object permissions** of the running user.
- **users and credentials**, **storage**, **outbox** and **request log** live in
  :mod:`sf_sim.control_accounts` (same ``org.control`` object).
- **storage**: ~2 KB a record (Campaign 8 KB, CampaignMember 1 KB) against the data
  storage limit → ``STORAGE_LIMIT_EXCEEDED``.
- **outbox** of the standard e-mail action and the **request log** (method, path, status,
  virtual time, API cost; never a session id).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sf_sim.apex_limits import SYNC_LIMITS, ApexTransaction, LimitException, apex_exception_name
from sf_sim.control_accounts import AccountHooks, RequestLogEntry
from sf_sim.exceptions import RecordError
from sf_sim.records import normalise_id

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = [
    "Control",
    "Lock",
    "Outage",
    "RequestLogEntry",
    "Trigger",
    "TriggerContext",
]

_EVENTS = {
    f"{timing} {event}"
    for timing in ("before", "after")
    for event in ("insert", "update", "delete")
}
_EVENTS.add("after undelete")
MAX_TRIGGER_DEPTH = 16


@dataclass
class TriggerContext:
    """What a trigger sees: like Apex ``Trigger.new``/``Trigger.old``.

    Attributes:
        org: The org (DML from here joins the same transaction).
        object_name: The object the trigger is on.
        timing: ``before`` or ``after``.
        event: ``insert``, ``update``, ``delete`` or ``undelete``.
        new: The records being written (API values by field name; change them in
            ``before`` triggers); empty for deletes.
        old: The stored records before the change (None for inserts).
    """

    org: Org
    object_name: str
    timing: str
    event: str
    new: list[dict[str, Any]]
    old: list[dict[str, Any] | None]
    errors: dict[int, RecordError] = field(default_factory=dict)

    def add_error(
        self, record: int | dict[str, Any], message: str, field_name: str | None = None
    ) -> None:
        """Fail one record (by position or the record itself), as Apex ``addError`` does."""
        records = self.new or [r for r in self.old if r is not None]
        index = (
            record
            if isinstance(record, int)
            else next(i for i, r in enumerate(records) if r is record)
        )
        self.errors[index] = RecordError(
            "FIELD_CUSTOM_VALIDATION_EXCEPTION", message, fields=[field_name] if field_name else []
        )

    def use_cpu(self, milliseconds: int) -> None:
        """Declare Apex CPU time this trigger used (counts against the transaction's limit).

        Raises:
            LimitException: "Apex CPU time limit exceeded" past the limit.
        """
        self.org.control.count_apex("cpu_ms", int(milliseconds))

    def use_heap(self, size: int) -> None:
        """Declare heap this trigger holds, in bytes (counts against the transaction's limit).

        Raises:
            LimitException: "Apex heap size too large: N" past the limit.
        """
        self.org.control.count_apex("heap", int(size))


@dataclass
class Trigger:
    """A registered trigger.

    Attributes:
        name: The trigger's name (errors start with it).
        object_name: The object it is on.
        events: ``"before insert"`` and so on.
        fn: The trigger body.
        cpu_ms_per_record: Apex CPU time each record of an invocation costs.
        heap_per_record: Heap each record of an invocation holds, in bytes.
    """

    name: str
    object_name: str
    events: frozenset[str]
    fn: Callable[[TriggerContext], None]
    cpu_ms_per_record: int = 0
    heap_per_record: int = 0


@dataclass
class Lock:
    """An injected lock: ``UNABLE_TO_LOCK_ROW`` for the next ``attempts`` writes or until ``until``."""

    object_name: str | None
    record_ids: frozenset[str]
    attempts: int | None
    until: datetime | None


@dataclass
class Outage:
    """An injected outage: ``status`` for the next ``requests`` API requests or until ``until``."""

    status: int
    requests: int | None
    until: datetime | None


OUTAGE_BODIES = {
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "0000000-0000 (sf_sim outage)",
    ),
}
"""The error body of each outage status: ``(errorCode, message)``."""


class Control(AccountHooks):
    """Scenario-facing hooks of one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.triggers: list[Trigger] = []
        self.validation_rules: dict[str, list[tuple[str, Callable[..., Any], str | None]]] = {}
        self.locks: list[Lock] = []
        self.outages: list[Outage] = []
        self.hidden_fields: set[tuple[str, str]] = set()
        self.read_only_fields: set[tuple[str, str]] = set()
        self.object_permissions: dict[str, dict[str, bool]] = {}
        self.request_log: deque[RequestLogEntry] = deque(maxlen=100_000)
        self.apex: ApexTransaction | None = None
        self._depth = 0

    def reset(self) -> None:
        """Remove every trigger, rule, lock and permission change; clear the request log."""
        self.__init__(self.org)  # type: ignore[misc]

    # ------------------------------------------------------------------ automation

    def add_trigger(
        self,
        object_name: str,
        events: str | Iterable[str],
        fn: Callable[[TriggerContext], None],
        *,
        name: str | None = None,
        cpu_ms_per_record: int = 0,
        heap_per_record: int = 0,
    ) -> Trigger:
        """Register ``fn`` for events such as ``"before insert"`` or ``["after update", "after insert"]``.

        Args:
            object_name: The object.
            events: One event or several.
            fn: The trigger body (``ctx.new``, ``ctx.old``, ``ctx.add_error``).
            name: The trigger's name (default ``<Object>Trigger``).
            cpu_ms_per_record: Apex CPU time each record costs, counted before ``fn`` runs
                (10,000 ms a synchronous transaction, 60,000 ms in Bulk API and async).
            heap_per_record: Heap each record holds, in bytes (6 MB / 12 MB).

        Raises:
            ValueError: For an unknown object or event, or a negative cost.
        """
        definition = self.org.schema.object(object_name)
        wanted = frozenset([events] if isinstance(events, str) else events)
        if definition is None:
            raise ValueError(f"unknown object {object_name!r}")
        if not wanted or not wanted <= _EVENTS:
            raise ValueError(f"events must be among {sorted(_EVENTS)}, got {sorted(wanted)}")
        if cpu_ms_per_record < 0 or heap_per_record < 0:
            raise ValueError("a trigger's CPU and heap costs cannot be negative")
        trigger = Trigger(
            name or f"{definition.name}Trigger",
            definition.name,
            wanted,
            fn,
            cpu_ms_per_record=int(cpu_ms_per_record),
            heap_per_record=int(heap_per_record),
        )
        self.triggers.append(trigger)
        return trigger

    def remove_trigger(self, trigger: Trigger | str, object_name: str | None = None) -> bool:
        """Unregister a trigger, given itself or by name (of one object, or of any).

        Returns:
            True if a trigger was removed.
        """
        if isinstance(trigger, Trigger):
            if trigger not in self.triggers:
                return False
            self.triggers.remove(trigger)
            return True
        definition = self.org.schema.object(object_name) if object_name else None
        kept = [
            t
            for t in self.triggers
            if t.name.lower() != trigger.lower()
            or (definition is not None and t.object_name != definition.name)
        ]
        removed = len(kept) != len(self.triggers)
        self.triggers[:] = kept
        return removed

    def add_validation_rule(
        self,
        object_name: str,
        name: str,
        rule: Callable[[dict[str, Any], dict[str, Any] | None], str | None],
        *,
        field_name: str | None = None,
    ) -> None:
        """Register a rule ``rule(new, old) -> error message or None`` (may raise RecordError)."""
        definition = self.org.schema.object(object_name)
        if definition is None:
            raise ValueError(f"unknown object {object_name!r}")
        self.validation_rules.setdefault(definition.name, []).append((name, rule, field_name))

    def remove_validation_rule(self, object_name: str, name: str) -> bool:
        """Deactivate the validation rule ``name`` of an object; True if there was one."""
        definition = self.org.schema.object(object_name)
        rules = self.validation_rules.get(definition.name if definition else object_name, [])
        kept = [entry for entry in rules if entry[0] != name]
        removed = len(kept) != len(rules)
        rules[:] = kept
        return removed

    @contextmanager
    def apex_scope(self, limits: dict[str, int] | None = None) -> Iterator[None]:
        """The Apex transaction of a DML call: triggers it fires share one set of limits.

        Args:
            limits: The limits of a new transaction (default :data:`SYNC_LIMITS`; a Bulk API
                chunk passes :data:`~sf_sim.apex_limits.BULK_LIMITS`). Inside an open
                transaction, DML joins it.
        """
        if self.apex is not None:
            yield
            return
        self.apex = ApexTransaction(dict(limits or SYNC_LIMITS))
        try:
            yield
        finally:
            self.apex = None

    def count_apex(self, name: str, amount: int = 1) -> None:
        """Count work done by trigger code against the transaction's governor limits.

        Raises:
            LimitException: Past a limit (only inside triggers; API calls are not Apex).
        """
        if self._depth > 0 and self.apex is not None:
            self.apex.count(name, amount)

    def run_triggers(
        self,
        object_name: str,
        timing: str,
        event: str,
        new: list[dict[str, Any]],
        old: list[dict[str, Any] | None],
    ) -> dict[int, RecordError]:
        """Run the triggers for one event; returns failures by record position."""
        errors: dict[int, RecordError] = {}
        count = len(new) or len(old)
        for trigger in [
            t
            for t in self.triggers
            if t.object_name == object_name and f"{timing} {event}" in t.events
        ]:
            if self._depth >= MAX_TRIGGER_DEPTH:
                failure = _activate_error(
                    trigger, timing, event, "System.LimitException: Maximum trigger depth exceeded"
                )
                return dict.fromkeys(range(count), failure)
            for start in range(0, count, 200):
                ctx = TriggerContext(
                    self.org,
                    object_name,
                    timing,
                    event,
                    new[start : start + 200],
                    old[start : start + 200],
                )
                self._depth += 1
                try:
                    size = len(ctx.new) or len(ctx.old)
                    if trigger.cpu_ms_per_record:
                        self.count_apex("cpu_ms", trigger.cpu_ms_per_record * size)
                    if trigger.heap_per_record:
                        self.count_apex("heap", trigger.heap_per_record * size)
                    trigger.fn(ctx)
                    if self.apex is not None and self.apex.exceeded:
                        raise LimitException(self.apex.exceeded)
                except RecordError as exc:
                    for index in range(start, min(start + 200, count)):
                        errors.setdefault(index, exc)
                except Exception as exc:  # a trigger's unhandled exception fails its records
                    failure = _activate_error(
                        trigger, timing, event, f"{apex_exception_name(exc)}: {exc}"
                    )
                    for index in range(start, min(start + 200, count)):
                        errors.setdefault(index, failure)
                finally:
                    self._depth -= 1
                for index, error in ctx.errors.items():
                    errors.setdefault(start + index, error)
        return errors

    def run_validation_rules(
        self, object_name: str, new: dict[str, Any], old: dict[str, Any] | None
    ) -> RecordError | None:
        """Run the object's validation rules on one record; the first failure wins."""
        for _name, rule, field_name in self.validation_rules.get(object_name, []):
            try:
                message = rule(new, old)
            except RecordError as exc:
                return exc
            if message:
                return RecordError(
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    str(message),
                    fields=[field_name] if field_name else [],
                )
        return None

    # ------------------------------------------------------------------ locks

    def lock(
        self,
        *,
        records: Iterable[str] = (),
        object_name: str | None = None,
        attempts: int | None = None,
        until: datetime | None = None,
    ) -> Lock:
        """Make writes to ``records`` (or every record of ``object_name``) fail with UNABLE_TO_LOCK_ROW.

        Args:
            records: Record Ids (15 or 18 characters).
            object_name: Lock a whole object instead.
            attempts: Fail this many write attempts per record, then let them through.
            until: Fail until this virtual instant.
        """
        ids = frozenset(filter(None, (normalise_id(r) for r in records)))
        if not ids and object_name is None:
            raise ValueError("lock needs records or an object_name")
        if attempts is None and until is None:
            raise ValueError("lock needs attempts or until")
        lock = Lock(object_name.lower() if object_name else None, ids, attempts, until)
        self.locks.append(lock)
        return lock

    def unavailable(
        self, *, status: int = 503, requests: int | None = None, until: datetime | None = None
    ) -> Outage:
        """Answer API requests with a server error for ``requests`` requests or until ``until``.

        Logins and every other resource fail alike; nothing is charged or changed.

        Raises:
            ValueError: For another status than 500 or 503, or without a count or an end.
        """
        if status not in OUTAGE_BODIES:
            raise ValueError(f"status must be one of {sorted(OUTAGE_BODIES)}, not {status}")
        if requests is None and until is None:
            raise ValueError("unavailable needs requests or until")
        if requests is not None and requests < 1:
            raise ValueError("requests must be at least 1")
        outage = Outage(status, requests, until)
        self.outages.append(outage)
        return outage

    def take_outage(self) -> tuple[int, str, str] | None:
        """The ``(status, errorCode, message)`` this request meets, if an outage covers it."""
        now = self.org.clock.now()
        for outage in list(self.outages):
            if outage.until is not None and now >= outage.until:
                self.outages.remove(outage)
                continue
            if outage.requests is not None:
                outage.requests -= 1
                if outage.requests <= 0:
                    self.outages.remove(outage)
            return (outage.status, *OUTAGE_BODIES[outage.status])
        return None

    def unlock_all(self) -> None:
        """Remove every injected lock."""
        self.locks.clear()

    def check_lock(self, object_name: str, record_id: str) -> None:
        """Raise UNABLE_TO_LOCK_ROW if an injected lock covers this write."""
        now = self.org.clock.now()
        for lock in list(self.locks):
            if lock.until is not None and now >= lock.until:
                self.locks.remove(lock)
                continue
            covered = record_id in lock.record_ids or (
                lock.object_name == object_name.lower() and not lock.record_ids
            )
            if not covered:
                continue
            if lock.attempts is not None:
                lock.attempts -= 1
                if lock.attempts <= 0 and lock.until is None:
                    self.locks.remove(lock)
            raise RecordError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {record_id}",
            )

    # ------------------------------------------------------------------ permissions

    def hide_field(self, object_name: str, field_name: str) -> None:
        """Remove read access to a field: it no longer exists for queries, describe and DML."""
        self.hidden_fields.add((object_name.lower(), field_name.lower()))

    def make_read_only(self, object_name: str, field_name: str) -> None:
        """Remove edit access to a field: writes fail with INVALID_FIELD_FOR_INSERT_UPDATE."""
        self.read_only_fields.add((object_name.lower(), field_name.lower()))

    def set_object_permissions(self, object_name: str, **allowed: bool) -> None:
        """Set object permissions (``read``, ``create``, ``edit``, ``delete``) of the running user."""
        unknown = set(allowed) - {"read", "create", "edit", "delete"}
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        self.object_permissions.setdefault(object_name.lower(), {}).update(allowed)

    def field_visible(self, object_name: str, field_name: str) -> bool:
        """True if the running user can read the field."""
        return (object_name.lower(), field_name.lower()) not in self.hidden_fields

    def field_writable(self, object_name: str, field_name: str) -> bool:
        """True if the running user can edit the field."""
        return (object_name.lower(), field_name.lower()) not in self.read_only_fields

    def object_allowed(self, object_name: str, action: str) -> bool:
        """True if the running user has the object permission ``action``."""
        return self.object_permissions.get(object_name.lower(), {}).get(action, True)

    def object_visible(self, object_name: str) -> bool:
        """True if the running user can read the object at all."""
        return self.object_allowed(object_name, "read")

    def check_object_access(self, object_name: str, action: str) -> None:
        """Raise INSUFFICIENT_ACCESS_OR_READONLY if the running user may not ``action`` the object."""
        if not self.object_allowed(object_name, action):
            raise RecordError(
                "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"
            )


def _activate_error(trigger: Trigger, timing: str, event: str, cause: str) -> RecordError:
    phase = f"{timing.capitalize()}{event.capitalize()}"
    return RecordError(
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        f"{trigger.name}: execution of {phase} caused by: {cause}",
    )
