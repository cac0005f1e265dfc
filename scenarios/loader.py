"""Read a scenario file into a :class:`~scenarios.spec.Scenario`, or say exactly what is wrong.

Checks, in order: the file is readable UTF-8 text of reasonable size; it is one YAML
document without duplicate keys; it fits :data:`~scenarios.schema.SCENARIO_SCHEMA`; every
event, invariant and figure name is known (the message lists the known ones) and its
arguments fit its own schema; settings are valid engine settings; the world is a valid
world; a live scenario uses only steps that real platforms allow; hooks exist. Every
problem found is reported at once, each as ``file:line: where: what``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from cmsf_core.clock import DEFAULT_EPOCH, ClockError, parse_instant
from scenarios import events_account as _events_account  # noqa: F401 - registers account events
from scenarios import events_faults as _events_faults  # noqa: F401 - registers fault events
from scenarios import events_imports as _events_imports  # noqa: F401 - registers the imports'
from scenarios import events_org as _events_org  # noqa: F401 - registers org people events
from scenarios import events_platform as _events_platform  # noqa: F401 - registers the org's trouble
from scenarios import events_push as _events_push  # noqa: F401 - registers the push events
from scenarios import events_sf as _events_sf  # noqa: F401 - registers the Salesforce events
from scenarios import events_tx as _events_tx  # noqa: F401 - registers the transactional events
from scenarios import invariants_platform as _invariants_platform  # noqa: F401 - registers admin views
from scenarios import invariants_push as _invariants_push  # noqa: F401 - registers them
from scenarios import invariants_records as _invariants_records  # noqa: F401 - record invariants
from scenarios import invariants_runs as _invariants_runs  # noqa: F401 - registers run invariants
from scenarios import invariants_tx as _invariants_tx  # noqa: F401 - registers them
from scenarios.errors import FormatProblem, ScenarioFormatError
from scenarios.events import EVENTS, validate_settings
from scenarios.figures import BOUND_KEYS, FIGURES
from scenarios.invariants import INVARIANTS
from scenarios.registry import Entry, Registry
from scenarios.schema import SCENARIO_SCHEMA, problems
from scenarios.spec import Check, ConnectSpec, FigureBound, Scenario, Step, parse_duration
from scenarios.world import WorldSpec
from scenarios.yamlmarks import LineMap, describe_path, load_with_lines

__all__ = ["MAX_FILE_BYTES", "load_hook_module", "load_scenario", "parse_scenario"]

MAX_FILE_BYTES = 256 * 1024
"""Scenario files larger than this are refused (they are meant to be read by people)."""
WORLD_FIELDS = set(WorldSpec.__dataclass_fields__)
STEP_KINDS = ("event", "run", "check", "call")


def _plain(value: Any) -> Any:
    """YAML timestamps and dates as ISO text, so schemas see strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _Checker:
    """Collects problems while building the scenario."""

    def __init__(self, file: str, lines: LineMap) -> None:
        self.file = file
        self.lines = lines
        self.found: list[FormatProblem] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        """Record a problem at the line of ``path``."""
        self.found.append(
            FormatProblem(self.file, self.lines.line(path), describe_path(path), message)
        )

    def args(
        self, registry: Registry[Any], name: str, value: Any, path: tuple[str | int, ...]
    ) -> tuple[Entry[Any] | None, dict[str, Any]]:
        """Look an entry up and validate its arguments; problems are recorded."""
        entry = registry.get(name)
        if entry is None:
            self.add(path, registry.unknown(name))
            return None, {}
        args = entry.normalise(value)
        if "" in args:
            self.add(path, f"{registry.kind} {name!r} takes arguments as a mapping, not {value!r}")
            return entry, {}
        self.found += problems(entry.schema, args, file=self.file, lines=self.lines, prefix=path)
        return entry, args

    def check(self, item: Any, path: tuple[str | int, ...]) -> Check | None:
        """One expectation: ``name`` or ``{name: args}``."""
        name, value = (item, None) if isinstance(item, str) else next(iter(item.items()))
        inner = path if isinstance(item, str) else (*path, name)
        entry, args = self.args(INVARIANTS, str(name), value, inner)
        return Check(str(name), args, self.lines.line(path)) if entry else None


def _steps(data: dict[str, Any], checker: _Checker) -> list[Step]:
    steps = []
    for index, raw in enumerate(data.get("timeline", [])):
        path: tuple[str | int, ...] = ("timeline", index)
        kinds = [k for k in STEP_KINDS if k in raw]
        if len(kinds) != 1:
            checker.add(path, "a step needs exactly one of: event, run, check, call")
            continue
        kind = kinds[0]
        if "with" in raw and kind not in ("event", "call"):
            checker.add((*path, "with"), f"'with' goes with event or call, not {kind}")
        if "as" in raw and kind != "event":
            checker.add((*path, "as"), "'as' names what an event created or picked")
        offset = parse_duration(raw["at"])
        args: dict[str, Any] = dict(raw.get("with") or {})
        checks: list[Check] = []
        if kind == "event" and EVENTS.get(raw["event"]) is None:
            checker.add((*path, "event"), EVENTS.unknown(raw["event"]))
        elif kind == "event":
            _, args = checker.args(EVENTS, raw["event"], args, (*path, "with"))
            entry = EVENTS.get(raw["event"])
            if "as" in raw and entry is not None and not entry.names_something:
                checker.add(
                    (*path, "as"),
                    f"event {raw['event']!r} names nothing: 'as' names what an event created or "
                    "picked (a list, a campaign, a user, ...), and this one creates or picks "
                    "nothing a later step can refer to",
                )
            if raw["event"] == "settings_changed":
                for name, message in validate_settings(args):
                    checker.add((*path, "with", name), message)
        elif kind == "check":
            for n, item in enumerate(raw["check"]):
                found = checker.check(item, (*path, "check", n))
                if found is not None:
                    checks.append(found)
        name = {"event": raw.get("event"), "run": raw.get("run"), "call": raw.get("call")}.get(
            kind
        ) or "check"
        steps.append(
            Step(
                offset=offset,
                kind=kind,
                name=str(name),
                args=args,
                alias=raw.get("as"),
                checks=tuple(checks),
                note=raw.get("note"),
                line=checker.lines.line(path),
                index=index,
            )
        )
    return sorted(steps, key=lambda s: (s.offset, s.index))


def _figures(data: dict[str, Any], checker: _Checker) -> list[FigureBound]:
    raw = data.get("figures") or {}
    items = list(raw.items()) if isinstance(raw, dict) else [next(iter(i.items())) for i in raw]
    out = []
    for position, (name, value) in enumerate(items):
        path: tuple[str | int, ...] = (
            ("figures", name) if isinstance(raw, dict) else ("figures", position, name)
        )
        if not isinstance(value, dict):
            checker.add(path, "give bounds as a mapping, e.g. {max: 200}")
            continue
        bounds = {k: value[k] for k in BOUND_KEYS if k in value}
        if not bounds:
            checker.add(path, "give at least one of min, max, equals")
        for key, bound in bounds.items():
            if not isinstance(bound, int | float) or isinstance(bound, bool):
                checker.add((*path, key), f"{bound!r} must be a number")
                bounds[key] = 0
        args = {k: v for k, v in value.items() if k not in BOUND_KEYS}
        entry, args = checker.args(FIGURES, str(name), args, path)
        if entry is not None:
            out.append(
                FigureBound(
                    str(name),
                    args,
                    minimum=bounds.get("min"),
                    maximum=bounds.get("max"),
                    equals=bounds.get("equals"),
                    line=checker.lines.line(path),
                )
            )
    return out


def _world(data: dict[str, Any], checker: _Checker) -> tuple[WorldSpec, dict[str, Any]]:
    raw = dict(data.get("world") or {})
    spec_fields = {k: v for k, v in raw.items() if k in WORLD_FIELDS}
    tweaks = {k: v for k, v in raw.items() if k not in WORLD_FIELDS and k != "start"}
    try:
        return WorldSpec(**spec_fields), tweaks
    except (TypeError, ValueError) as exc:
        checker.add(("world",), str(exc))
        return WorldSpec(), tweaks


def load_hook_module(path: Path) -> ModuleType | None:
    """Import the scenario's sibling ``<name>.py``, if there is one.

    Raises:
        ScenarioFormatError: If importing it fails (the message names the file).
    """
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(
        f"scenario_hook_{path.stem.replace('-', '_')}", path
    )
    if spec is None or spec.loader is None:
        raise ScenarioFormatError.single(path, 0, "", "cannot be imported as a hook module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a hook module is user code: report, never crash the loader
        raise ScenarioFormatError.single(
            path, 0, "", f"the hook module failed to import: {type(exc).__name__}: {exc}"
        ) from None
    return module


def _hooks(
    data: dict[str, Any], path: Path, checker: _Checker, steps: list[Step], expect: list[Check]
) -> None:
    hook = data.get("hook")
    if hook and ":" in hook:
        module_name, function = hook.split(":", 1)
        try:
            imported = importlib.import_module(module_name)
        except ImportError as exc:
            checker.add(("hook",), f"cannot import {module_name}: {exc}")
        else:
            if not callable(getattr(imported, function, None)):
                checker.add(("hook",), f"{module_name} has no function {function!r}")
    local: list[tuple[tuple[str | int, ...], str]] = (
        [(("hook",), hook)] if hook and ":" not in hook else []
    )
    local += [(("timeline", s.index, "call"), s.name) for s in steps if s.kind == "call"]
    local += [
        (("expect",), str(c.args.get("function")))
        for c in [*expect, *(c for s in steps for c in s.checks)]
        if c.name == "call"
    ]
    if not local:
        return
    sibling = path.with_suffix(".py")
    try:
        module = load_hook_module(sibling)
    except ScenarioFormatError as exc:
        checker.found += exc.problems
        return
    for where, function in local:
        if module is None:
            checker.add(where, f"needs {sibling.name} next to the scenario")
        elif not callable(getattr(module, function, None)):
            checker.add(where, f"{sibling.name} has no function {function!r}")


def parse_scenario(text: str, path: Path) -> Scenario:
    """Build a scenario from YAML text (``path`` names it in messages and finds hooks).

    Raises:
        ScenarioFormatError: Listing every problem found.
    """
    try:
        return _parse(text, path)
    except RecursionError:
        raise ScenarioFormatError.single(
            path, 1, "", "nested too deeply to be a scenario"
        ) from None


def _parse(text: str, path: Path) -> Scenario:
    file = str(path)
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise ScenarioFormatError.single(file, 0, "", f"larger than {MAX_FILE_BYTES // 1024} KB")
    value, lines = load_with_lines(text, file)
    if not isinstance(value, dict):
        raise ScenarioFormatError.single(
            file, lines.line(()), "", "a scenario is a mapping with name, purpose, timeline, ..."
        )
    data = _plain(value)
    found = problems(SCENARIO_SCHEMA, data, file=file, lines=lines)
    if found:
        raise ScenarioFormatError(found)
    checker = _Checker(file, lines)
    if re.search(r"[.!?]\s+[A-Z]", data["purpose"]):
        checker.add(("purpose",), "must be one sentence")
    world, tweaks = _world(data, checker)
    try:
        start = parse_instant(data["world"]["start"]) if "start" in data.get("world", {}) else None
    except ClockError as exc:
        checker.add(("world", "start"), str(exc))
        start = None
    for name, message in validate_settings(dict(data.get("settings") or {})):
        checker.add(("settings", name), message)
    steps = _steps(data, checker)
    expect = [
        c for n, i in enumerate(data.get("expect", [])) if (c := checker.check(i, ("expect", n)))
    ]
    figures = _figures(data, checker)
    _hooks(data, path, checker, steps, expect)
    if data.get("live"):
        _live(checker, steps, expect)
        for key in sorted(tweaks):
            checker.add(("world", key), "a live scenario cannot change the org: it is a real one")
    if checker.found:
        raise ScenarioFormatError(checker.found)
    connect = data.get("connect") or {}
    clients = connect.get("clients", "*")
    return Scenario(
        name=data["name"],
        purpose=data["purpose"],
        path=path,
        world=world,
        org=tweaks,
        start=start or DEFAULT_EPOCH,
        settings=dict(data.get("settings") or {}),
        connect=ConnectSpec(
            clients=("*",) if clients == "*" else tuple(clients),
            test_account=connect.get("test_account"),
        ),
        timeline=tuple(steps),
        expect=tuple(expect),
        figures=tuple(figures),
        live=bool(data.get("live", False)),
        known_issue=data.get("known_issue"),
        hook=data.get("hook"),
        lines={str(k): lines.line((k,)) for k in data},
    )


def _live(checker: _Checker, steps: list[Step], expect: list[Check]) -> None:
    for step in steps:
        entry = EVENTS.get(step.name) if step.kind == "event" else None
        if step.kind == "call" or (entry is not None and not entry.live):
            checker.add(
                ("timeline", step.index),
                f"a live scenario cannot use {step.name!r}: it needs a simulator",
            )
    for check in [*expect, *(c for s in steps for c in s.checks)]:
        invariant = INVARIANTS.get(check.name)
        if invariant is not None and not invariant.live:
            checker.found.append(
                FormatProblem(
                    checker.file,
                    check.line,
                    "expect",
                    f"a live scenario cannot check {check.name!r}: it reads simulator state",
                )
            )


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioFormatError: For an unreadable file or any problem in it.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioFormatError.single(path, 0, "", f"cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioFormatError.single(path, 0, "", f"larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFormatError.single(
            path, 0, "", f"is not UTF-8 text (byte {exc.start})"
        ) from None
    return parse_scenario(text, path)
