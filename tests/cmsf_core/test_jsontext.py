"""JSON text in and out: ``from_json`` reads every text exactly as ``json.loads`` does
(it only reads the common ones faster), and ``to_json`` writes what ``json.dumps`` does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsf_core.jsontext import from_json, to_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with ints and floats kept apart (``1 == 1.0`` would hide a changed type)."""
    return repr(a) == repr(b)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.booleans())
def test_from_json_reads_what_json_loads_reads(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _same(from_json(text), json.loads(text))
    assert _same(from_json(text, text.encode("utf-8")), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "[Infinity, -Infinity]",
        "[1e400, -1e400, 1e-400]",
        '"\\ud800"',  # a lone surrogate escape
        "123456789012345678901234567890",  # past 64 bits: stays an exact int
        "-9223372036854775809",
        "18446744073709551615",
        '{"a": 1, "a": 2}',  # the last of a repeated key wins
        " \n[1, 2.0, -0.0, 5e-324] \t",
        '{"Name": "Zoë", "City": "東京"}',
        '"1234567890123456789012"',  # a long digit run in a string
    ],
)
def test_from_json_edge_texts(text: str) -> None:
    assert _same(from_json(text), json.loads(text))


def test_from_json_bytes_that_are_not_utf8_read_as_the_decoded_text() -> None:
    raw = b'{"Name": "\xff\xfe"}'
    text = raw.decode("utf-8", "replace")
    assert from_json(text, raw) == {"Name": "\ufffd\ufffd"}


@pytest.mark.parametrize("text", ["", " ", "{", "[1,]", "nul", '{"a" 1}', "<html>502</html>"])
def test_from_json_unreadable_text_raises_json_decode_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        from_json(text)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_to_json_writes_what_json_dumps_writes(value: Any) -> None:
    assert to_json(value) == json.dumps(value, sort_keys=True, ensure_ascii=False)
