from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis.traffic import T0, span
from tracesec.analysis import ActorCountDistribution, sketch_counts, window_counts
from tracesec.sketches import CountMin, snapshot_entry

NORMAL_COUNTS = [float(n % 12 + 1) for n in range(400)]  # 1..12 calls per actor-minute


def test_an_actor_far_above_its_routes_actors_is_outside_and_a_usual_one_is_not() -> None:
    distribution = ActorCountDistribution.from_counts(NORMAL_COUNTS)
    card_tester = distribution.assess(150)
    assert card_tester.outside
    assert card_tester.ratio > 10
    assert card_tester.percentile == 1.0
    assert card_tester.robust_z > 3
    usual = distribution.assess(6)
    assert not usual.outside
    assert 0.3 < usual.percentile < 0.7
    assert abs(usual.robust_z) < 1


def test_a_high_ratio_below_the_minimum_count_is_not_outside() -> None:
    distribution = ActorCountDistribution.from_counts([1.0] * 100)
    assert distribution.assess(20).ratio >= 10
    assert not distribution.assess(20).outside
    assert distribution.assess(20, min_count=10).outside


def test_a_distribution_merged_from_sketches_ranks_like_one_built_from_all_counts() -> None:
    first, second = (
        ActorCountDistribution.from_counts(NORMAL_COUNTS[:200]),
        ActorCountDistribution.from_counts(NORMAL_COUNTS[200:]),
    )
    merged = ActorCountDistribution(first.sketch.merged(second.sketch))
    whole = ActorCountDistribution.from_counts(NORMAL_COUNTS)
    for count in (0, 3, 12, 500):
        assert merged.assess(count) == whole.assess(count)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=200),
    a=st.integers(min_value=0, max_value=20_000),
    b=st.integers(min_value=0, max_value=20_000),
)
def test_percentile_grows_with_the_count_and_stays_a_share(counts: list[int], a: int, b: int) -> None:
    distribution = ActorCountDistribution.from_counts(float(c) for c in counts)
    low, high = sorted((a, b))
    assert 0.0 <= distribution.percentile(low) <= distribution.percentile(high) <= 1.0
    assert distribution.percentile(max(counts) * 1.02 + 1) == 1.0
    exact = sum(c <= low for c in counts) / len(counts)
    # Within the sketch's 1 % relative accuracy: counts within 1 % of ``low`` may land either side.
    near = sum(abs(c - low) <= 0.011 * max(low, 1) for c in counts) / len(counts)
    assert math.isclose(distribution.percentile(low), exact, abs_tol=near + 1e-9)


def test_window_counts_are_exact_calls_per_route_actor_and_window() -> None:
    spans = [span("jwt:a", "/charges", T0 + s) for s in (1, 2, 59, 61)] + [span("jwt:b", "/charges", T0 + 3)]
    assert window_counts(spans, 60) == {
        "/charges": {("jwt:a", float(T0)): 3, ("jwt:a", float(T0 + 60)): 1, ("jwt:b", float(T0)): 1}
    }


def test_sketch_counts_read_the_agents_actor_route_calls_keys() -> None:
    calls = CountMin(1024, 4)
    for _ in range(42):
        calls.add("jwt:alice\x1f/api/charges")
    entry = snapshot_entry("actor_route_calls", calls, window_start=T0, window_seconds=60, process_id="p1")
    assert sketch_counts(entry, [("jwt:alice", "/api/charges"), ("jwt:bob", "/api/charges")]) == {
        ("jwt:alice", "/api/charges"): 42,
        ("jwt:bob", "/api/charges"): 0,
    }
