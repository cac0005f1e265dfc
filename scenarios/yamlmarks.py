"""Load YAML with the line of every node, so errors can point at the line that is wrong.

PyYAML's composer gives each node a start mark; :func:`load_with_lines` builds the plain
Python value (safe types only) and a map from the document path of every key and item
(``("timeline", 2, "at")``) to its 1-based line. Duplicate keys, which PyYAML would
silently collapse, are reported as errors, and so is a document whose aliases would
expand it past :data:`MAX_NODES` values.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from scenarios.errors import FormatProblem, ScenarioFormatError

__all__ = ["MAX_NODES", "LineMap", "describe_path", "expanded_size", "load_with_lines"]

PathKey = tuple[str | int, ...]
MAX_NODES = 50_000
"""Largest document accepted, in values after alias expansion (a "billion laughs" guard)."""


class LineMap:
    """Lines of a YAML document's nodes by document path."""

    def __init__(self) -> None:
        self._lines: dict[PathKey, int] = {}

    def add(self, path: PathKey, line: int) -> None:
        """Remember the line of ``path`` (the first one seen wins)."""
        self._lines.setdefault(path, line)

    def line(self, path: PathKey) -> int:
        """The line of ``path``, or of its nearest ancestor that has one (0 if none)."""
        for end in range(len(path), -1, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return 0

    def __iter__(self) -> Iterator[PathKey]:
        return iter(self._lines)


def describe_path(path: PathKey) -> str:
    """``("timeline", 2, "at")`` as ``timeline[2].at``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def expanded_size(node: yaml.Node, memo: dict[int, int] | None = None) -> int:
    """How many nodes the document has once aliases are expanded (computed without expanding)."""
    memo = {} if memo is None else memo
    key = id(node)
    if key not in memo:
        memo[key] = 1  # a node that contains itself counts once
        if isinstance(node, yaml.MappingNode):
            memo[key] = 1 + sum(
                expanded_size(k, memo) + expanded_size(v, memo) for k, v in node.value
            )
        elif isinstance(node, yaml.SequenceNode):
            memo[key] = 1 + sum(expanded_size(item, memo) for item in node.value)
    return memo[key]


def _walk(
    node: yaml.Node,
    path: PathKey,
    lines: LineMap,
    problems: list[FormatProblem],
    file: str,
    seen: set[int],
) -> None:
    if id(node) in seen:
        return  # an alias of a node already walked: its lines are those of the anchor
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in first_lines:
                problems.append(
                    FormatProblem(
                        file,
                        line,
                        describe_path(path),
                        f"duplicate key {key!r} (first on line {first_lines[key]})",
                    )
                )
                continue
            first_lines[key] = line
            lines.add((*path, key), line)
            _walk(value_node, (*path, key), lines, problems, file, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.add((*path, index), item.start_mark.line + 1)
            _walk(item, (*path, index), lines, problems, file, seen)


def load_with_lines(text: str, path: Path | str) -> tuple[Any, LineMap]:
    """Parse one YAML document and map its paths to lines.

    Args:
        text: The YAML text.
        path: The file name, for messages.

    Returns:
        ``(value, lines)``; the value is built with PyYAML's safe constructors.

    Raises:
        ScenarioFormatError: For a YAML syntax error (with its line and column), more than
            one document, an empty file or duplicate keys.
    """
    file = str(path)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioFormatError.single(file, 1, "", "the file is empty")
        size = expanded_size(node)
        if size > MAX_NODES:
            raise ScenarioFormatError.single(
                file,
                1,
                "",
                f"too big: {size:,} values once YAML aliases are expanded (at most {MAX_NODES:,})",
            )
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        column = f", column {mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise ScenarioFormatError.single(
            file, line, "", f"YAML syntax error{column}: {problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioFormatError.single(file, 0, "", f"not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioFormatError.single(
            file, 1, "", "nested too deeply to be a scenario"
        ) from None
    finally:
        loader.dispose()
    lines = LineMap()
    lines.add((), node.start_mark.line + 1)
    problems: list[FormatProblem] = []
    _walk(node, (), lines, problems, file, set())
    if problems:
        raise ScenarioFormatError(problems)
    return value, lines
