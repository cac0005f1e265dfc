"""SOQL text → :class:`~sf_sim.soql.ast.Query`, with every failure as MALFORMED_QUERY.

The grammar (``grammar.lark``, package data) is parsed by lark's LALR(1) parser with a
contextual lexer, so field names that look like keywords still lex as names where a
name is expected. :class:`_Builder` turns the parse tree into the dataclasses of
:mod:`sf_sim.soql.ast` without recursion (deeply nested input cannot exhaust the
stack), decoding string escapes and date/datetime literals on the way.

Errors keep the platform's shape: the fragment, a caret line, ``ERROR at
Row:r:Column:c`` and ``unexpected token: 'x'`` (``'<EOF>'`` at the end), or for a
character no token can start with, ``line r:c no viable alternative at character 'x'``.

Analysing the grammar into LALR tables takes seconds, which every ``cmsf`` or ``sf-sim``
process would pay before its first query; lark keeps the tables in a cache file in the
user's own cache folder (``$XDG_CACHE_HOME/cmsf``, else ``~/.cache/cmsf``) and checks
it against a digest of the grammar and options, so a changed grammar rebuilds it. A
cache that cannot be written or read is skipped: the tables are then built as before.
"""

from __future__ import annotations

import functools
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, Transformer_NonRecursive, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from sf_sim.exceptions import QueryError
from sf_sim.soql import ast
from sf_sim.soql.errors import MALFORMED_QUERY, QUERY_TOO_COMPLICATED, query_error
from sf_sim.soql.literals import make_literal

__all__ = ["MAX_NESTING", "MAX_QUERY_LENGTH", "parse"]

MAX_QUERY_LENGTH = 100_000
"""Longest SOQL statement accepted, in characters (the platform's default limit)."""

MAX_NESTING = 50
"""Deepest nesting of parentheses and NOTs in a condition the engine evaluates."""

PARSED_QUERIES = 512
"""How many distinct statements keep their parsed tree (least recently used go first)."""

_TOO_COMPLICATED = (
    "Query is either selecting too many fields or the filter conditions are too complicated."
)


def grammar_cache() -> str | bool:
    """The file lark keeps the analysed grammar in, or False when there is no cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "cmsf"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    python = f"{sys.version_info.major}{sys.version_info.minor}"
    return str(folder / f"soql-lalr-lark{lark.__version__}-py{python}.cache")


@functools.cache
def _lark() -> Lark:
    grammar = resources.files("sf_sim.soql").joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        start="start",
        maybe_placeholders=False,
        cache=grammar_cache(),
    )


def parse(soql: str) -> ast.Query:
    """Parse a SOQL statement.

    Args:
        soql: The statement as the client sent it.

    Returns:
        The syntax tree, names as spelled.

    Raises:
        QueryError: MALFORMED_QUERY for anything that is not a statement of the
            supported subset, with the platform's message shape.
    """
    if not isinstance(soql, str):
        raise query_error(MALFORMED_QUERY, "", None, "unexpected token: '<EOF>'")
    if len(soql) > MAX_QUERY_LENGTH:
        raise query_error(
            MALFORMED_QUERY,
            soql,
            None,
            f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH:,} characters.",
        )
    if not soql.strip():
        raise query_error(MALFORMED_QUERY, soql, len(soql), "unexpected token: '<EOF>'")
    return _parse(soql)


@functools.lru_cache(maxsize=PARSED_QUERIES)
def _parse(soql: str) -> ast.Query:
    """:func:`parse` of a statement of a sane size; the tree is immutable, so a statement
    clients send again (counts, lookups, a query's pages) is parsed once."""
    try:
        tree = _lark().parse(soql)
    except UnexpectedInput as exc:
        raise _syntax_error(soql, exc) from None
    except LarkError as exc:  # pragma: no cover - lark reports every input error above
        raise query_error(MALFORMED_QUERY, soql, 0, f"unexpected token: '{exc}'") from None
    try:
        query = _Builder(soql).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise
    assert isinstance(query, ast.Query)
    _check_nesting(soql, query)
    return query


def _syntax_error(soql: str, exc: UnexpectedInput) -> Exception:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = soql[pos] if pos < len(soql) else "<EOF>"
        column = pos - (soql.rfind("\n", 0, pos) + 1) + 1
        row = soql.count("\n", 0, pos) + 1
        return query_error(
            MALFORMED_QUERY,
            soql,
            pos,
            f"line {row}:{column} no viable alternative at character '{char}'",
        )
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        pos = token.start_pos if token.start_pos is not None else len(soql)
        return query_error(
            MALFORMED_QUERY, soql, pos, f"unexpected token: '{token}'", len(str(token))
        )
    return query_error(MALFORMED_QUERY, soql, len(soql.rstrip()), "unexpected token: '<EOF>'")


def _check_nesting(soql: str, query: ast.Query) -> None:
    """Refuse conditions nested deeper than :data:`MAX_NESTING` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(query.where, 0), (query.having, 0)]
    while stack:
        node, depth = stack.pop()
        if node is None:
            continue
        if depth > MAX_NESTING:
            raise query_error(QUERY_TOO_COMPLICATED, soql, None, _TOO_COMPLICATED)
        if isinstance(node, ast.And | ast.Or):
            stack.extend((item, depth + 1) for item in node.items)
        elif isinstance(node, ast.Not):
            stack.append((node.item, depth + 1))
        elif isinstance(node, ast.SemiJoin):
            stack.append((node.query.where, depth + 1))
    for item in query.select:
        if isinstance(item, ast.SubqueryItem):
            _check_nesting(soql, item.query)


def _pos(token: Any) -> int:
    return int(token.start_pos) if isinstance(token, Token) and token.start_pos is not None else 0


class _Builder(Transformer_NonRecursive[Token, Any]):
    """Parse tree → AST; one method per grammar rule."""

    def __init__(self, soql: str) -> None:
        super().__init__()
        self.soql = soql

    # ------------------------------------------------------------------ select

    def start(self, children: list[Any]) -> ast.Query:
        query: ast.Query = children[0]
        return query

    def query(self, children: list[Any]) -> ast.Query:
        select_token, items, _from, name = children[:4]
        clauses: dict[str, Any] = {}
        for kind, value in children[4:]:
            clauses[kind] = value
        offset, offset_pos = clauses.pop("offset", (None, 0))
        return ast.Query(
            select=tuple(items),
            object_name=str(name),
            object_pos=_pos(name),
            offset=offset,
            offset_pos=offset_pos,
            pos=_pos(select_token),
            **clauses,
        )

    def select_list(self, children: list[Any]) -> list[Any]:
        return children

    def field_item(self, children: list[Any]) -> ast.FieldItem:
        alias, alias_pos = children[1] if len(children) > 1 else (None, 0)
        return ast.FieldItem(children[0], alias, alias_pos)

    def aggregate_item(self, children: list[Any]) -> ast.AggregateItem:
        alias, alias_pos = children[1] if len(children) > 1 else (None, 0)
        return ast.AggregateItem(children[0], alias, alias_pos)

    def subquery_item(self, children: list[Any]) -> ast.SubqueryItem:
        return ast.SubqueryItem(children[1], _pos(children[0]))

    def alias(self, children: list[Any]) -> tuple[str, int]:
        return str(children[0]), _pos(children[0])

    def path(self, children: list[Any]) -> ast.Path:
        return ast.Path(
            tuple(str(token) for token in children),
            _pos(children[0]),
            tuple(_pos(token) for token in children),
        )

    def aggregate(self, children: list[Any]) -> ast.Aggregate:
        name = children[0]
        function = str(name).upper()
        if function not in ast.AGGREGATE_FUNCTIONS:
            raise query_error(
                MALFORMED_QUERY,
                self.soql,
                _pos(name),
                f"Unknown function: {name}. Supported here: COUNT, COUNT_DISTINCT, SUM, "
                "AVG, MIN, MAX.",
                len(name),
            )
        arg = children[2] if len(children) > 2 else None
        if arg is None and function != "COUNT":
            raise query_error(
                MALFORMED_QUERY, self.soql, _pos(children[1]) + 1, "unexpected token: ')'"
            )
        return ast.Aggregate(function, arg, _pos(name), str(name))

    # ------------------------------------------------------------------ clauses

    def scope_clause(self, children: list[Any]) -> tuple[str, str]:
        return "scope", str(children[2])

    def where_clause(self, children: list[Any]) -> tuple[str, ast.Condition]:
        return "where", children[1]

    def with_clause(self, children: list[Any]) -> tuple[str, bool]:
        return "security_enforced", True

    def group_clause(self, children: list[Any]) -> tuple[str, tuple[ast.Path, ...]]:
        return "group_by", tuple(children[2:])

    def having_clause(self, children: list[Any]) -> tuple[str, ast.Condition]:
        return "having", children[1]

    def order_clause(self, children: list[Any]) -> tuple[str, tuple[ast.OrderItem, ...]]:
        return "order_by", tuple(children[2:])

    def order_item(self, children: list[Any]) -> ast.OrderItem:
        descending = False
        nulls_last: bool | None = None
        for extra in children[1:]:
            if isinstance(extra, tuple) and extra[0] == "direction":
                descending = extra[1]
            elif isinstance(extra, tuple) and extra[0] == "nulls":
                nulls_last = extra[1]
        return ast.OrderItem(children[0], descending, nulls_last)

    def direction(self, children: list[Any]) -> tuple[str, bool]:
        return "direction", children[0].type == "DESC"

    def nulls(self, children: list[Any]) -> tuple[str, bool]:
        return "nulls", children[1].type == "LAST"

    def limit_clause(self, children: list[Any]) -> tuple[str, int]:
        return "limit", int(children[1])

    def offset_clause(self, children: list[Any]) -> tuple[str, tuple[int, int]]:
        return "offset", (int(children[1]), _pos(children[1]))

    def for_clause(self, children: list[Any]) -> tuple[str, str]:
        return "for_clause", children[1].type

    # ------------------------------------------------------------------ conditions

    def and_chain(self, children: list[Any]) -> ast.And:
        return ast.And(tuple(children), _node_pos(children[0]))

    def or_chain(self, children: list[Any]) -> ast.Or:
        return ast.Or(tuple(children), _node_pos(children[0]))

    def not_cond(self, children: list[Any]) -> ast.Not:
        return ast.Not(children[1], _pos(children[0]))

    def paren(self, children: list[Any]) -> ast.Condition:
        condition: ast.Condition = children[1]
        return condition

    def comparison(self, children: list[Any]) -> ast.Comparison:
        left, op, value = children
        symbol = "!=" if str(op) == "<>" else str(op)
        return ast.Comparison(left, symbol, value, _node_pos(left), _pos(op))

    def like(self, children: list[Any]) -> ast.Comparison:
        left, op, value = children
        return ast.Comparison(left, "LIKE", value, _node_pos(left), _pos(op))

    def in_list(self, children: list[Any]) -> ast.InList:
        return ast.InList(
            children[0], tuple(children[3]), False, _node_pos(children[0]), _pos(children[1])
        )

    def not_in_list(self, children: list[Any]) -> ast.InList:
        return ast.InList(
            children[0], tuple(children[4]), True, _node_pos(children[0]), _pos(children[1])
        )

    def semi_join(self, children: list[Any]) -> ast.SemiJoin:
        return self._join(children[0], children[3], False, children[1])

    def anti_join(self, children: list[Any]) -> ast.SemiJoin:
        return self._join(children[0], children[4], True, children[1])

    def _join(self, left: Any, query: ast.Query, negated: bool, op: Token) -> ast.SemiJoin:
        if not isinstance(left, ast.Path):
            raise query_error(MALFORMED_QUERY, self.soql, _pos(op), f"unexpected token: '{op}'")
        return ast.SemiJoin(left, query, negated, left.pos, _pos(op))

    def includes(self, children: list[Any]) -> ast.Includes:
        return self._includes(children, excludes=False)

    def excludes(self, children: list[Any]) -> ast.Includes:
        return self._includes(children, excludes=True)

    def _includes(self, children: list[Any], *, excludes: bool) -> ast.Includes:
        left, op = children[0], children[1]
        if not isinstance(left, ast.Path):
            raise query_error(MALFORMED_QUERY, self.soql, _pos(op), f"unexpected token: '{op}'")
        return ast.Includes(left, tuple(children[3]), excludes, left.pos, _pos(op))

    def value_list(self, children: list[Any]) -> list[ast.Literal]:
        return children

    def value(self, children: list[Any]) -> ast.Literal:
        return make_literal(self.soql, children[0])

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:  # pragma: no cover
        return Tree(data, children, meta)


def _node_pos(node: Any) -> int:
    position = getattr(node, "pos", 0)
    return int(position)
