"""Cost of the collector's batch analysis: baselining 30 days of hourly buckets for 500 endpoints, and
clustering 10,000 actors by behaviour (seconds per whole job, bounded)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from itertools import pairwise

from benchmarks.harness import report, row
from tracesec.analysis import BucketTotals, ClusteringSettings, Endpoint, EndpointBaseline, cluster_actors

HOUR = 3600
DAYS, ENDPOINTS = 30, 500
ACTORS, GROUPS, ROUTES_PER_GROUP = 10_000, 40, 12
BASELINE_BUDGET_S = 10.0
CLUSTERING_BUDGET_S = 10.0
REPEAT = 3


def endpoint_traffic(rng: random.Random) -> dict[int, BucketTotals]:
    base = rng.uniform(5, 2000)
    return {
        hour * HOUR: BucketTotals(
            requests=max(0, round(base * (1 + 0.6 * math.sin(2 * math.pi * hour / 24)))),
            response_bytes=base * rng.uniform(500, 5000),
        )
        for hour in range(DAYS * 24)
    }


def baseline_all(traffic: dict[Endpoint, dict[int, BucketTotals]]) -> int:
    anomalies = 0
    for endpoint, buckets in traffic.items():
        anomalies += len(EndpointBaseline().advance(endpoint, buckets, DAYS * 24 * HOUR, HOUR))
    return anomalies


def actor_shingles(rng: random.Random) -> dict[str, set[str]]:
    """Actors of 40 behaviour groups, each calling most of its group's routes in its order."""
    shingles = {}
    for n in range(ACTORS):
        group = n % GROUPS
        routes = [f"GET /g{group}/r{r}" for r in range(ROUTES_PER_GROUP) if rng.random() < 0.8]
        shingles[f"jwt:user-{n}"] = {f"route:{r}" for r in routes} | {
            f"step:{a} -> {b}" for a, b in pairwise(routes)
        }
    return shingles


def seconds(job: Callable[[], object]) -> list[float]:
    figures = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        job()
        figures.append(time.perf_counter() - start)
    return figures


def main() -> None:
    rng = random.Random(1)
    traffic = {Endpoint("bench", f"GET /e{n}"): endpoint_traffic(rng) for n in range(ENDPOINTS)}
    shingles = actor_shingles(rng)
    clusters = len(cluster_actors(shingles, ClusteringSettings()).clusters)
    report(
        "analysis",
        [
            row(
                f"baselines: {ENDPOINTS} endpoints x {DAYS * 24} hourly buckets x 2 metrics",
                seconds(lambda: baseline_all(traffic)),
                budget_us=BASELINE_BUDGET_S,
                unit="s",
            ),
            row(
                f"clustering: {ACTORS:,} actors, MinHash 128 + LSH",
                seconds(lambda: cluster_actors(shingles)),
                budget_us=CLUSTERING_BUDGET_S,
                unit="s",
                note=f"{clusters} clusters found of {GROUPS} groups",
            ),
        ],
    )


if __name__ == "__main__":
    main()
