"""How far one actor's count (calls, bytes, object IDs in a window, on one route) lies outside what the
route's actors usually do.

The distribution is a ``QuantileSketch`` of per-actor window totals: merged from shipped quantile
sketches, or built here from counts (exact counts from spans, or count-min estimates from the merged
``actor_route_calls`` snapshots for the actors the collector knows). Comparison is on a log scale, since
per-actor activity is heavy-tailed: a power user doing 5x the median is common, 50x is not.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from tracesec.analysis.wire import span_actor, span_start_seconds
from tracesec.sketches import CountMin, QuantileSketch, entry_sketch

ROUTE_SEPARATOR = "\x1f"
"""Between actor key and route in the agent's ``actor_route_calls`` / ``actor_route_bytes`` keys."""


class ActorDeviation(NamedTuple):
    value: float
    """The actor's window total that was assessed."""
    percentile: float
    """Share of actor-windows in the distribution at or below ``value`` (0 to 1)."""
    reference: float
    """The distribution's ``reference_quantile`` value (e.g. its p95)."""
    ratio: float
    """value / reference (inf when the reference is 0 and the value is not)."""
    robust_z: float
    """(log1p(value) - log1p(median)) / (IQR of log1p values / 1.349): deviations above the median."""
    outside: bool
    """ratio >= factor and value >= min_count."""


class ActorCountDistribution:
    """A route's distribution of per-actor window totals, ready to rank many actors against."""

    def __init__(self, sketch: QuantileSketch) -> None:
        if sketch.count == 0:
            raise ValueError("an actor count distribution needs at least one value")
        self.sketch = sketch
        gamma = (1 + sketch.relative_accuracy) / (1 - sketch.relative_accuracy)
        keys = sorted(sketch.bins)
        # The value a bin stands for, as QuantileSketch.quantile answers it.
        self._values = [2 * gamma**key / (gamma + 1) for key in keys]
        self._cumulative: list[int] = []
        running = sketch.zero_count
        for key in keys:
            running += sketch.bins[key]
            self._cumulative.append(running)
        self._median = float(sketch.quantile(0.5) or 0.0)
        low, high = sketch.quantile(0.25) or 0.0, sketch.quantile(0.75) or 0.0
        self._log_scale = max((math.log1p(high) - math.log1p(low)) / 1.349, math.log1p(1.0) / 1.349)

    @classmethod
    def from_counts(cls, counts: Iterable[float], relative_accuracy: float = 0.01) -> ActorCountDistribution:
        sketch = QuantileSketch(relative_accuracy)
        for count in counts:
            sketch.add(count)
        return cls(sketch)

    def percentile(self, count: float) -> float:
        at_or_below = self.sketch.zero_count if count >= 0 else 0
        index = bisect.bisect_right(self._values, count)
        if index:
            at_or_below = self._cumulative[index - 1]
        return at_or_below / self.sketch.count

    def assess(
        self, count: float, *, reference_quantile: float = 0.95, factor: float = 10.0, min_count: float = 30.0
    ) -> ActorDeviation:
        """Defaults mirror the agent's inline rate check (10 x the route's p95, at least 30)."""
        reference = float(self.sketch.quantile(reference_quantile) or 0.0)
        ratio = count / reference if reference > 0 else (math.inf if count > 0 else 0.0)
        robust_z = (math.log1p(count) - math.log1p(self._median)) / self._log_scale
        outside = ratio >= factor and count >= min_count
        return ActorDeviation(count, self.percentile(count), reference, ratio, robust_z, outside)


def window_counts(
    spans: Iterable[Mapping[str, Any]], window_seconds: float
) -> dict[str, dict[tuple[str, float], int]]:
    """Exact calls per ``http.route``, then per (actor, window start): the counts the agent's
    ``actor_route_calls`` sketch estimates, from stored server spans."""
    counts: dict[str, dict[tuple[str, float], int]] = defaultdict(lambda: defaultdict(int))
    for span in spans:
        route = (span.get("attributes") or {}).get("http.route")
        actor = span_actor(span)
        if span.get("kind") != "server" or not isinstance(route, str) or actor is None:
            continue
        window = math.floor(span_start_seconds(span) / window_seconds) * window_seconds
        counts[route][(actor, float(window))] += 1
    return {route: dict(per_actor) for route, per_actor in counts.items()}


def sketch_counts(
    entry: Mapping[str, Any], actor_routes: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Estimates from one merged ``actor_route_calls`` (or ``actor_route_bytes``) snapshot entry for
    known (actor key, ``http.route``) pairs; raises SketchFormatError on a bad entry."""
    sketch = entry_sketch(entry)
    if not isinstance(sketch, CountMin):
        raise TypeError(f"snapshot entry {entry.get('name')!r} holds no count-min sketch")
    return {
        (actor, route): sketch.estimate(f"{actor}{ROUTE_SEPARATOR}{route}") for actor, route in actor_routes
    }
