"""Named events, invariants and figures, each with a JSON Schema for its arguments.

A scenario names what happens (events), what must hold (invariants) and what is measured
(figures); the loader checks every name against these registries and every argument
object against the entry's schema, so a typo is a format error with a line number, not a
failure halfway through a run. Entries declare themselves with :meth:`Registry.register`.

Schema helpers (:func:`arg_schema` and the ``*_ARG`` fragments) keep declarations short.
"""

from __future__ import annotations

import dis
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "ALIAS_ARG",
    "BOOL_ARG",
    "COUNT_ARG",
    "DURATION_ARG",
    "EMAILS_ARG",
    "EMAIL_ARG",
    "OBJECT_ARG",
    "RUN_ARG",
    "TEXT_ARG",
    "Entry",
    "Registry",
    "arg_schema",
]

F = TypeVar("F", bound=Callable[..., Any])

DURATION_PATTERN = r"^\+?([0-9]+[smhd])+$"

TEXT_ARG: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
ALIAS_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z][A-Za-z0-9_-]{0,63}$",
    "x-message": "must be a name such as list1, client2 or one given with 'as'",
}
EMAIL_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "maxLength": 254,
    "x-message": "must be an email address",
}
EMAILS_ARG: dict[str, Any] = {
    "oneOf": [
        {"type": "array", "items": EMAIL_ARG, "minItems": 1, "maxItems": 1000},
        ALIAS_ARG,
    ],
    "x-message": "must be a list of email addresses or the name of a group given with 'as'",
}
COUNT_ARG: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 10_000}
BOOL_ARG: dict[str, Any] = {"type": "boolean"}
DURATION_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "x-message": "must be a duration such as 15m, 2h, 1d or 1h30m",
}
OBJECT_ARG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z][A-Za-z0-9_]{0,79}$",
    "x-message": "must be a Salesforce object API name such as Contact or CMSF_List__c",
}
RUN_ARG: dict[str, Any] = {
    "oneOf": [
        {"enum": ["first", "last", "each", "all"]},
        {"type": "integer", "minimum": 1, "maximum": 1000},
    ],
    "x-message": "must be first, last, each, all or a run number (1 is the first run)",
}


def arg_schema(required: tuple[str, ...] = (), **properties: Mapping[str, Any]) -> dict[str, Any]:
    """An object schema with these properties, no others, and these required."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": dict(properties),
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


@dataclass(frozen=True)
class Entry(Generic[F]):
    """A registered event, invariant or figure.

    Attributes:
        name: The name used in scenario files.
        fn: What runs.
        summary: One line for ``scenario list`` and the README.
        schema: JSON Schema of the argument object.
        shorthand: Argument a scalar value stands for (``run_status: completed``).
        live: Whether it can run against real platforms (no simulator control needed).
    """

    name: str
    fn: F
    summary: str
    schema: dict[str, Any] = field(default_factory=lambda: arg_schema())
    shorthand: str | None = None
    live: bool = False

    @property
    def names_something(self) -> bool:
        """Whether an event's ``as:`` means anything: its code reads the name it is given."""
        return any(
            i.argval == "alias" and i.opname.startswith(("LOAD", "STORE", "MAKE_CELL"))
            for i in dis.get_instructions(self.fn)
        )

    def normalise(self, value: Any) -> dict[str, Any]:
        """The argument object for a scalar shorthand, ``None`` or an object."""
        if value is None:
            return {}
        if isinstance(value, dict):
            return dict(value)
        if self.shorthand is not None:
            return {self.shorthand: value}
        return {"": value}  # fails the schema: no such property


class Registry(Generic[F]):
    """Entries of one kind by name.

    Args:
        kind: ``event``, ``invariant`` or ``figure`` (for messages).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[F]] = {}

    def register(
        self,
        name: str,
        summary: str,
        schema: dict[str, Any] | None = None,
        *,
        shorthand: str | None = None,
        live: bool = False,
    ) -> Callable[[F], F]:
        """Decorator registering ``fn`` under ``name``.

        Raises:
            ValueError: If the name is taken.
        """

        def wrap(fn: F) -> F:
            """Register ``fn`` and return it unchanged."""
            if name in self._entries:
                raise ValueError(f"two {self.kind}s are named {name!r}")
            self._entries[name] = Entry(
                name, fn, summary, schema or arg_schema(), shorthand=shorthand, live=live
            )
            return fn

        return wrap

    def get(self, name: str) -> Entry[F] | None:
        """The entry named ``name``, if any."""
        return self._entries.get(name)

    def names(self) -> list[str]:
        """Every name, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[Entry[F]]:
        """Every entry, sorted by name."""
        return [self._entries[n] for n in self.names()]

    def unknown(self, name: str) -> str:
        """The message for an unknown name, listing the known ones."""
        return f"unknown {self.kind} {name!r}; known {self.kind}s: {', '.join(self.names())}"
