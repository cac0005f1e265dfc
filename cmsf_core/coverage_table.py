"""Renders a simulator's route table and coverage list as the README's coverage table.

Both simulators keep a coverage list (``sf_sim.coverage``, ``cm_sim.coverage``) keyed like
their route tables; ``python -m sf_sim.coverage`` and ``python -m cm_sim.coverage`` print
one Markdown row per route, with its path made readable (``(?P<type>…)`` → ``{type}``,
an unnamed group → ``{id}``, a choice of words → ``{a|b}``), and ``tests/test_docs.py`` checks
that the README shows exactly these rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["markdown_table", "readable_path"]

_NAMED = re.compile(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)")
_WORDS = re.compile(r"^\w+(?:\|\w+)*$")
_OPTIONAL = re.compile(r"\(\?:([^()]*)\)(\?|\{\d,\d\})")
_GROUP = re.compile(r"\((?:\?:)?([^()]*)\)")


def _named(match: re.Match[str]) -> str:
    name, body = match.group(1), match.group(2)
    if _WORDS.match(body):  # a literal word or a choice of words: show them
        return body if "|" not in body else "{" + body + "}"
    return "{" + name + "}"


def readable_path(pattern: str) -> str:
    """A route regex as a reader writes the path (``/sobjects/{type}/{id}``)."""
    text = pattern.removeprefix("^").removesuffix("$").removesuffix("/?")
    text = _NAMED.sub(_named, text)
    text = _OPTIONAL.sub(lambda m: "[" + m.group(1) + "]", text)
    text = _GROUP.sub(lambda m: "{" + (m.group(1) if "|" in m.group(1) else "id") + "}", text)
    return text.replace("[A-Za-z0-9]*", "…").replace("\\", "")


def markdown_table(rows: Iterable[tuple[str, str, str]]) -> str:
    """``| Method | Path | What is modelled |`` rows from ``(method, pattern, description)``."""
    lines = ["| Method | Path | What is modelled |", "|---|---|---|"]
    for method, pattern, description in rows:
        text = description.replace("``", "`").replace("|", "\\|")
        lines.append(f"| {method} | `{readable_path(pattern)}` | {text} |")
    return "\n".join(lines) + "\n"
