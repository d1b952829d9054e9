"""Per-actor baselines from the merged sketches: in the newest ``actor_route_calls`` window (all processes
and hosts together), how far each actor's calls on a route lie outside what that route's actors did in
the same window. The route's population is every actor the collector saw since the window started, its
count estimated from the sketch (:func:`tracesec.analysis.sketch_counts`), ranked with
:class:`tracesec.analysis.ActorCountDistribution`. Each actor is reported on its most unusual route.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from typing import Any

from tracesec.analysis import ActorCountDistribution, ActorDeviation, sketch_counts
from tracesec.analysis.wire import NANOS_PER_SECOND
from tracesec.collector.sketches import LatestWindows

MAX_PAIRS = 50_000
"""(actor, route) pairs estimated per computation at most (the most recently seen actors' first)."""


def route_deviations(conn: sqlite3.Connection, service: str) -> dict[str, dict[str, Any]]:
    """actor -> its deviation on its most unusual route in the newest window; empty without a window."""
    entry = LatestWindows(conn, service).entry("actor_route_calls")
    if entry is None:
        return {}
    pairs = conn.execute(
        "SELECT r.actor, r.route FROM actor_routes r JOIN actors a ON a.service = r.service"
        " AND a.actor = r.actor WHERE r.service = ? AND a.last_seen_unix_nano >= ?"
        " ORDER BY a.last_seen_unix_nano DESC LIMIT ?",
        (service, int(entry["window_start"] * NANOS_PER_SECOND), MAX_PAIRS),
    ).fetchall()
    by_route: dict[str, dict[str, int]] = defaultdict(dict)
    for (actor, route), count in sketch_counts(entry, pairs).items():
        if count > 0:
            by_route[route][actor] = count
    worst: dict[str, dict[str, Any]] = {}
    for route, counts in by_route.items():
        distribution = ActorCountDistribution.from_counts(counts.values())
        for actor, count in counts.items():
            deviation = distribution.assess(count)
            if actor not in worst or deviation.robust_z > worst[actor]["robust_z"]:
                worst[actor] = _as_json(entry, route, len(counts), deviation)
    return worst


def _as_json(entry: dict[str, Any], route: str, actors: int, deviation: ActorDeviation) -> dict[str, Any]:
    return {
        "window_start": entry["window_start"],
        "window_seconds": entry["window_seconds"],
        "route": route,
        "calls": deviation.value,
        "route_actors": actors,
        "percentile": deviation.percentile,
        "route_p95": deviation.reference,
        "ratio": deviation.ratio if math.isfinite(deviation.ratio) else None,
        "robust_z": deviation.robust_z,
        "outside": deviation.outside,
    }
