"""Payloads and results: Python data <-> msgpack through rc::Value (retire_cluster._core)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retire_cluster import _core

INT64_MIN, UINT64_MAX = -(2**63), 2**64 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=INT64_MIN, max_value=UINT64_MAX)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
)
keys = st.none() | st.booleans() | st.integers(INT64_MIN, UINT64_MAX) | st.text() | st.binary()
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)


def roundtrip(v: Any) -> Any:
    return _core.decode(_core.encode(v))


@given(values)
def test_plain_data_survives_a_round_trip(v: Any) -> None:
    assert roundtrip(v) == v


@pytest.mark.parametrize("v", [INT64_MIN, -1, 0, 2**63 - 1, 2**63, UINT64_MAX])
def test_integers_across_the_whole_64_bit_range(v: int) -> None:
    out = roundtrip(v)
    assert out == v
    assert type(out) is int


def test_types_are_kept_apart() -> None:
    out = roundtrip([True, 1, 1.0, "1", b"1", None])
    assert [type(x) for x in out] == [bool, int, float, str, bytes, type(None)]
    assert math.isnan(roundtrip(float("nan")))


def test_tuples_travel_as_lists_and_byte_likes_as_bytes() -> None:
    assert roundtrip({"t": (1, (2, 3))}) == {"t": [1, [2, 3]]}
    assert roundtrip([bytearray(b"ab"), memoryview(b"cd")]) == [b"ab", b"cd"]


def test_non_string_keys_are_kept() -> None:
    d = {1: "int", None: "none", 2.5: "float", b"k": "bytes", (1, "a"): "tuple", "s": "str"}
    assert roundtrip(d) == d


@pytest.mark.parametrize("v", [2**64, INT64_MIN - 1, 10**30])
def test_integers_beyond_64_bits_are_a_clear_value_error(v: int) -> None:
    with pytest.raises(ValueError, match=r"does not fit in 64 bits"):
        _core.encode({"data": [0, v]})


def test_the_error_names_where_the_bad_value_is() -> None:
    with pytest.raises(ValueError, match=r"at \['data'\]\[1\]"):
        _core.encode({"data": [0, 2**70]})
    with pytest.raises(TypeError, match=r"type set at \['a'\]\[0\]"):
        _core.encode({"a": [{1, 2}]})


@pytest.mark.parametrize("v", [object(), {1, 2}, 1j, frozenset()])
def test_other_types_are_a_type_error(v: object) -> None:
    with pytest.raises(TypeError, match="cannot send a value of type"):
        _core.encode(v)


def test_nesting_is_bounded_and_cycles_are_refused() -> None:
    deep: Any = "leaf"
    for _ in range(60):
        deep = [deep]
    assert roundtrip(deep) == deep
    for _ in range(10):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        _core.encode(deep)
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="contains itself"):
        _core.encode(cycle)


def test_empty_bytes_decode_to_none_and_garbage_is_refused() -> None:
    assert _core.decode(b"") is None
    with pytest.raises(ValueError, match="undecodable"):
        _core.decode(b"\xc1")
