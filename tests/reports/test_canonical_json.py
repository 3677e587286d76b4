"""The fast canonicaliser (app.services.canonical_json) against the reference: the rfc8785 library.

Byte-identical output, or both refuse: a differential fuzz over >= 100,000 random JSON values and the
5-year payloads the bench signs.
"""

from __future__ import annotations

import math
import random
import struct
import sys
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.canonical_json import CanonicalizationError, canonical_json, ecmascript_number

# Keys whose UTF-16 order differs from their code point order: U+E000..U+FFFF sort after a non-BMP
# character by code point, before it by UTF-16 code units (surrogates are D800..DFFF).
KEY_CHARS = ["a", "B", "_", "é", "\x00", "\x1f", "\u2028", "\ud7ff", "\ue000", "\uff61", "\uffff",
             "\U00010000", "\U0001f600", "\U0010ffff"]
BOUNDARY_FLOATS = [1e21, 9.999999999999999e20, 1e-7, 9.999999999999999e-8, 1e-6, 1.0000000000000002e-6,
                   1e16, 9999999999999998.0, 1e-4, 9.999999999999999e-5, 5e-324, 2.2250738585072014e-308,
                   1.7976931348623157e308, -0.0, 0.0, float(2**53), float(2**53 + 2), 123456789012345680000.0,
                   0.1 + 0.2, 100.0, -1.0, 1.5e300, 5e-7]

TEXT_CHARS = ["\x00", "\x08", "\t", "\n", "\x0c", "\r", "\x1f", '"', "\\", "/", "\x7f", "\u2028", "\U0001f600", "é"]
json_floats = (st.floats(allow_nan=False, allow_infinity=False)
               | st.sampled_from(BOUNDARY_FLOATS)
               | st.integers(-(2**70), 2**70).map(float)  # integral floats, both sides of 2^53 and 1e21
               | st.builds(lambda m, e: m * 10.0**e, st.integers(1, 10**17), st.integers(-330, 300))
               .filter(math.isfinite))
json_ints = st.integers(-(2**53) + 1, 2**53 - 1) | st.sampled_from([0, -1, 2**53 - 1, -(2**53) + 1])
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12) | st.text(
    st.sampled_from(TEXT_CHARS), max_size=8)
keys = st.text(st.sampled_from(KEY_CHARS), max_size=4) | st.text(max_size=6).filter(
    lambda s: not any("\ud800" <= c <= "\udfff" for c in s))
scalars = st.none() | st.booleans() | json_ints | json_floats | texts
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(keys, inner, max_size=5), max_leaves=12)

PER_EXAMPLE = 20
EXAMPLES = 300
BULK_EXAMPLES, BULK_PER_EXAMPLE = 100, 1_000  # hypothesis seeds a fast generator: 100,000 more values
seen = {"values": 0}


def same_as_reference(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        with pytest.raises(CanonicalizationError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected, value


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(json_values, min_size=PER_EXAMPLE, max_size=PER_EXAMPLE))
def test_differential_fuzz_against_rfc8785(values: list[Any]) -> None:
    for value in values:
        same_as_reference(value)
    seen["values"] += len(values)


def random_float(rng: random.Random) -> float:
    pick = rng.random()
    if pick < 0.2:
        return rng.choice(BOUNDARY_FLOATS) * rng.choice([1, -1])
    if pick < 0.4:
        return float(rng.randint(-(2**75), 2**75) >> rng.randint(0, 75))  # integral, any size
    if pick < 0.6:
        return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64) & ~(0x7FF << 52) |
                                               (rng.randint(0, 0x7FE) << 52)))[0]  # any finite bit pattern
    return rng.uniform(-1, 1) * 10.0 ** rng.randint(-25, 25)


def random_text(rng: random.Random, pool: list[str]) -> str:
    return "".join(rng.choice(pool) if rng.random() < 0.6 else chr(rng.choice(
        [rng.randint(0, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0xFFFF), rng.randint(0x10000, 0x10FFFF)]))
        for _ in range(rng.randint(0, 6)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.random() if depth < 3 else rng.random() * 0.8
    if pick < 0.35:
        return random_float(rng)
    if pick < 0.45:
        return rng.randint(-(2**53) + 1, 2**53 - 1) >> rng.randint(0, 53)
    if pick < 0.6:
        return random_text(rng, TEXT_CHARS)
    if pick < 0.7:
        return rng.choice([None, True, False])
    if pick < 0.8:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {random_text(rng, KEY_CHARS): random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


@settings(max_examples=BULK_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(st.integers(0, 2**64))
def test_bulk_differential_fuzz_against_rfc8785(seed: int) -> None:
    rng = random.Random(seed)  # hypothesis picks (and reports) the seed; the draws run at native speed
    for _ in range(BULK_PER_EXAMPLE):
        same_as_reference(random_value(rng))
    seen["values"] += BULK_PER_EXAMPLE


def test_the_fuzz_covered_at_least_100_000_values() -> None:
    # Runs after the fuzz tests in this file (pytest keeps file order; --dist loadfile keeps a file together).
    if seen["values"] == 0:
        pytest.skip("run together with the differential fuzz tests above")
    assert seen["values"] >= 100_000


@pytest.mark.parametrize("value", BOUNDARY_FLOATS + [-x for x in BOUNDARY_FLOATS])
def test_boundary_numbers(value: float) -> None:
    same_as_reference(value)
    assert ecmascript_number(value).encode() == rfc8785.dumps(value)


def test_keys_are_ordered_by_utf16_code_units_not_code_points() -> None:
    value = {"\U0001f600": 1, "\ue000": 2, "a": 3}
    assert canonical_json(value) == rfc8785.dumps(value) == '{"a":3,"😀":1,"\ue000":2}'.encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 2**53, -(2**53), 10**30,
                                   {1: "int key"}, {"x": {None: 1}}, "\ud800", {"\udfff": 1},
                                   {"b": b"bytes"}, {"s": {1, 2}}, [object()]])
def test_refusals_match_the_reference(value: Any) -> None:
    with pytest.raises((rfc8785.CanonicalizationError, UnicodeEncodeError)):
        rfc8785.dumps(value)
    with pytest.raises(CanonicalizationError):
        canonical_json(value)


def test_subclasses_are_read_as_the_reference_reads_them() -> None:
    import enum
    from collections import OrderedDict, namedtuple

    class Colour(enum.StrEnum):
        RED = "red"

    class Size(enum.IntEnum):
        BIG = 3

    class Ratio(float):
        pass

    point = namedtuple("point", "x y")
    value = {"c": Colour.RED, "s": Size.BIG, "r": Ratio(2.0), "o": OrderedDict(z=1, a=2), "p": point(1e-9, True)}
    assert canonical_json(value) == rfc8785.dumps(value)


def test_a_string_carrying_a_placeholder_lookalike_is_kept_verbatim() -> None:
    # Tiny floats go through a placeholder; user text that looks like one must not be touched.
    value = {"n": 1e-9, "s": "00000000000000000000000000000000" + "0", "t": '"x0"'}
    assert canonical_json(value) == rfc8785.dumps(value)


def test_deep_nesting_is_refused_cleanly() -> None:
    value: Any = 1.5
    for _ in range(sys.getrecursionlimit() + 10):
        value = [value]
    with pytest.raises(CanonicalizationError):
        canonical_json(value)


def test_every_five_year_bench_payload_matches_the_reference() -> None:
    from app.bench.reports import five_year_inputs, five_year_payload

    inputs = five_year_inputs()
    for i in range(3):
        payload = five_year_payload(i, *inputs)
        assert canonical_json(payload) == rfc8785.dumps(payload)
