"""The Id generator's fast path gives the Ids the plain algorithm gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sf_sim.ids import IdGenerator, _suffix, is_valid_id

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _plain(key_prefix: str, instance: str, serial: int) -> str:
    number, digits = serial, []
    for _ in range(9):
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
    id15 = key_prefix + instance + "0" + "".join(reversed(digits))
    return id15 + _suffix(id15)


@given(
    prefix=st.text(alphabet=_BASE62, min_size=3, max_size=3),
    instance=st.text(alphabet=_BASE62, min_size=2, max_size=2),
    start=st.integers(min_value=0, max_value=62**9 + 10_000),
)
def test_generated_ids_match_the_plain_algorithm(prefix: str, instance: str, start: int) -> None:
    generator = IdGenerator(instance, start)
    for offset in range(5):
        made = generator.next(prefix)
        assert made == _plain(prefix, instance, start + offset)
        assert is_valid_id(made)


def test_ids_across_the_two_digit_boundary_stay_sequential_and_valid() -> None:
    generator = IdGenerator("5g", 62 * 62 - 3)
    made = [generator.next("003") for _ in range(8)]
    assert made == [_plain("003", "5g", 62 * 62 - 3 + i) for i in range(8)]
    assert made == sorted(made) and len(set(made)) == 8
