"""Sketch estimates stay within their error bounds, merges behave like one sketch fed both streams, and
every sketch survives its binary and JSON forms."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracesec.sketches import (
    CountMin,
    HyperLogLog,
    MinHash,
    QuantileSketch,
    SketchFormatError,
    merge,
    sketch_from_bytes,
)

keys = st.lists(st.text(min_size=1, max_size=12), max_size=300)
values = st.lists(st.floats(min_value=0.0, max_value=1e9, allow_nan=False), min_size=1, max_size=400)


def count_min(items: list[str], width: int = 64) -> CountMin:
    sketch = CountMin(width, 4)
    for item in items:
        sketch.add(item)
    return sketch


@given(keys)
def test_count_min_never_undercounts_and_stays_within_its_bound(items: list[str]) -> None:
    sketch = count_min(items)
    truth = Counter(items)
    bound = math.e / sketch.width * len(items)
    over_bound = [k for k, n in truth.items() if sketch.estimate(k) - n > bound]
    assert all(sketch.estimate(k) >= n for k, n in truth.items())
    assert len(over_bound) <= max(1, len(truth) // 10)
    assert sketch.total == len(items)


@given(keys, keys, keys)
def test_count_min_merge_is_the_sketch_of_both_streams_in_any_order(a: list[str], b: list[str], c: list[str]):
    left = merge(merge(count_min(a), count_min(b)), count_min(c))
    right = merge(count_min(c), merge(count_min(b), count_min(a)))
    whole = count_min(a + b + c)
    for key in set(a + b + c) | {"absent"}:
        assert left.estimate(key) == right.estimate(key) == whole.estimate(key)  # type: ignore[attr-defined]
    assert left.to_bytes() == whole.to_bytes()


@given(keys)
def test_count_min_round_trips(items: list[str]) -> None:
    sketch = count_min(items)
    for copy in (CountMin.from_bytes(sketch.to_bytes()), CountMin.from_json(sketch.to_json())):
        assert all(copy.estimate(k) == sketch.estimate(k) for k in set(items))
        assert copy.total == sketch.total
    assert isinstance(sketch_from_bytes(sketch.to_bytes()), CountMin)


def hll(items: list[str], precision: int = 10) -> HyperLogLog:
    sketch = HyperLogLog(precision)
    for item in items:
        sketch.add(item)
    return sketch


@settings(max_examples=40)
@given(st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=1000))
def test_hyperloglog_estimate_is_within_five_standard_errors(distinct: int, offset: int) -> None:
    items = [f"actor-{offset + i}" for i in range(distinct)] * 2
    sketch = hll(items)
    assert abs(sketch.estimate() - distinct) <= 5 * sketch.standard_error * distinct + 1


@given(keys, keys, keys)
def test_hyperloglog_merge_is_the_union_in_any_order(a: list[str], b: list[str], c: list[str]) -> None:
    left = merge(merge(hll(a), hll(b)), hll(c))
    right = merge(hll(c), merge(hll(b), hll(a)))
    assert left.to_bytes() == right.to_bytes() == hll(a + b + c).to_bytes()


@given(keys)
def test_hyperloglog_round_trips(items: list[str]) -> None:
    sketch = hll(items)
    assert HyperLogLog.from_bytes(sketch.to_bytes()).estimate() == sketch.estimate()
    assert HyperLogLog.from_json(sketch.to_json()).registers == sketch.registers


def quantiles(items: list[float]) -> QuantileSketch:
    sketch = QuantileSketch(0.01)
    for item in items:
        sketch.add(item)
    return sketch


@given(values, st.sampled_from([0.0, 0.25, 0.5, 0.9, 0.99, 1.0]))
def test_quantiles_are_within_the_relative_accuracy(items: list[float], q: float) -> None:
    sketch = quantiles(items)
    truth = sorted(items)[math.floor(q * (len(items) - 1))]
    estimate = sketch.quantile(q)
    assert estimate is not None
    if truth <= 1e-9:
        assert estimate == 0.0
    else:
        assert abs(estimate - truth) <= 0.01 * truth * (1 + 1e-9)


@given(values, values, values)
def test_quantile_merge_is_the_sketch_of_both_streams_in_any_order(
    a: list[float], b: list[float], c: list[float]
):
    left = merge(merge(quantiles(a), quantiles(b)), quantiles(c))
    right = merge(quantiles(c), merge(quantiles(b), quantiles(a)))
    assert left.to_bytes() == right.to_bytes() == quantiles(a + b + c).to_bytes()


@given(values)
def test_quantiles_round_trip(items: list[float]) -> None:
    sketch = quantiles(items)
    copy = QuantileSketch.from_json(sketch.to_json())
    assert [copy.quantile(q) for q in (0, 0.5, 0.99)] == [sketch.quantile(q) for q in (0, 0.5, 0.99)]
    assert copy.count == sketch.count == len(items)


def test_quantile_memory_is_bounded_and_high_quantiles_stay_accurate() -> None:
    sketch = QuantileSketch(0.01, max_bins=128)
    items = [1.05**i for i in range(2000)]
    for item in items:
        sketch.add(item)
    assert len(sketch.bins) <= 128
    truth = sorted(items)[math.floor(0.99 * (len(items) - 1))]
    assert abs((sketch.quantile(0.99) or 0) - truth) <= 0.01 * truth


def test_quantile_sketch_refuses_negative_values() -> None:
    with pytest.raises(ValueError):
        QuantileSketch().add(-1.0)


def minhash(items: set[str]) -> MinHash:
    sketch = MinHash(256)
    sketch.update(sorted(items))
    return sketch


@settings(max_examples=30)
@given(st.integers(min_value=1, max_value=400), st.integers(min_value=0, max_value=400))
def test_minhash_jaccard_is_within_five_standard_errors(size: int, overlap_shift: int) -> None:
    a = {f"/route/{i}" for i in range(size)}
    b = {f"/route/{i + overlap_shift}" for i in range(size)}
    truth = len(a & b) / len(a | b)
    error = 5 * math.sqrt(max(truth * (1 - truth), 0.01) / 256)
    assert abs(minhash(a).jaccard(minhash(b)) - truth) <= error


@given(st.sets(st.text(max_size=8), min_size=1), st.sets(st.text(max_size=8)), st.sets(st.text(max_size=8)))
def test_minhash_merge_is_the_union_in_any_order(a: set[str], b: set[str], c: set[str]) -> None:
    left = merge(merge(minhash(a), minhash(b)), minhash(c))
    right = merge(minhash(c), merge(minhash(b), minhash(a)))
    assert left.to_bytes() == right.to_bytes() == minhash(a | b | c).to_bytes()
    assert MinHash.from_bytes(left.to_bytes()).jaccard(minhash(a | b | c)) == 1.0


def test_empty_sets_share_nothing() -> None:
    assert MinHash(256).jaccard(minhash({"x"})) == 0.0


# Factories, not instances: a DataSketches object pytest kept alive until exit makes nanobind print
# leak warnings after the test summary.
@pytest.mark.parametrize(
    "make",
    [lambda: CountMin(64), lambda: HyperLogLog(8), lambda: MinHash(16), QuantileSketch],
    ids=["count-min", "hyperloglog", "minhash", "quantiles"],
)
def test_damaged_bytes_are_refused_with_a_format_error(make: Callable[[], object]) -> None:
    sketch = make()
    data = sketch.to_bytes()  # type: ignore[attr-defined]
    kind = type(sketch)
    for damaged in (b"", b"XX" + data[2:], data[:6], data[:-3] + b"!!!"):
        with pytest.raises(SketchFormatError):
            kind.from_bytes(damaged)  # type: ignore[attr-defined]
    other = HyperLogLog if kind is not HyperLogLog else CountMin
    with pytest.raises(SketchFormatError):
        other.from_bytes(data)


def test_sketches_with_different_parameters_do_not_merge() -> None:
    with pytest.raises(ValueError):
        CountMin(64).merged(CountMin(128))
    with pytest.raises(ValueError):
        HyperLogLog(8).merged(HyperLogLog(10))


def test_json_form_is_compact_for_a_sparse_sketch() -> None:
    sketch = count_min([f"k{i}" for i in range(100)], width=8192)
    assert len(sketch.to_json()["data"]) < 4096
