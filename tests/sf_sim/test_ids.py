from __future__ import annotations

import pytest

from sf_sim.ids import IdError, IdGenerator, is_valid_id, to_15, to_18


@pytest.mark.parametrize(
    ("id15", "id18"),
    [("001D000000I8mIm", "001D000000I8mImIAJ"), ("003e0000003GuNX", "003e0000003GuNXAA0")],
    ids=["account", "contact"],
)
def test_checksum_matches_real_ids(id15: str, id18: str) -> None:
    assert to_18(id15) == id18
    assert to_15(id18) == id15


def test_generated_ids_are_valid_unique_and_prefixed() -> None:
    generator = IdGenerator()
    ids = [generator.next("003") for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(i.startswith("0035g0") and len(i) == 18 and is_valid_id(i) for i in ids)


@pytest.mark.parametrize(
    "value",
    ["", "003", "003e0000003GuNXAA1", "003e0000003GuN!", "003e0000003GuNXaa0"],
    ids=["empty", "short", "bad-suffix", "bad-char", "lowercase-suffix"],
)
def test_malformed_ids_are_rejected(value: str) -> None:
    assert not is_valid_id(value)
    with pytest.raises(IdError):
        to_18(value)
