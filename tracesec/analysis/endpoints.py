"""Per-endpoint baselines of request volume and response bytes, driven bucket by bucket from spans.

The collector's baseline job keeps one ``EndpointBaseline`` state (JSON) per endpoint, and on each run
hands ``advance_baselines`` the stored states and the server spans since the last run; every closed bucket
up to ``until`` is fed in order (a bucket without traffic counts as zero), so the states can be saved and
the run repeated later without double counting.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from tracesec.analysis.seasonal import BaselineSettings, SeasonalBaseline, Verdict
from tracesec.analysis.wire import response_bytes, server_route, span_start_seconds

METRICS = ("requests", "response_bytes")


class Endpoint(NamedTuple):
    service: str
    route: str
    """``"METHOD /template"`` as ``wire.server_route`` gives it."""


@dataclass
class BucketTotals:
    requests: int = 0
    response_bytes: float = 0.0


class Anomaly(NamedTuple):
    """One metric of one endpoint outside its band in one bucket."""

    endpoint: Endpoint
    metric: str
    bucket_start: int
    """Unix seconds."""
    verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.endpoint.service,
            "route": self.endpoint.route,
            "metric": self.metric,
            "bucket_start": self.bucket_start,
            **self.verdict._asdict(),
        }


def bucket_traffic(
    spans: Iterable[Mapping[str, Any]], bucket_seconds: int
) -> dict[Endpoint, dict[int, BucketTotals]]:
    """Requests and response bytes per endpoint and bucket (start in Unix seconds, aligned on the epoch).
    Server spans without ``http.route`` are skipped; a span without ``service`` counts under ``""``."""
    totals: dict[Endpoint, dict[int, BucketTotals]] = defaultdict(lambda: defaultdict(BucketTotals))
    for span in spans:
        route = server_route(span)
        if route is None:
            continue
        service = span.get("service")
        bucket = bucket_start(span_start_seconds(span), bucket_seconds)
        slot = totals[Endpoint(service if isinstance(service, str) else "", route)][bucket]
        slot.requests += 1
        slot.response_bytes += response_bytes(span)
    return {endpoint: dict(buckets) for endpoint, buckets in totals.items()}


def bucket_start(seconds: float, bucket_seconds: int) -> int:
    return math.floor(seconds / bucket_seconds) * bucket_seconds


class EndpointBaseline:
    """The two baselines of one endpoint and the next bucket they expect."""

    def __init__(self, settings: BaselineSettings | None = None, next_bucket: int | None = None) -> None:
        self.metrics = {metric: SeasonalBaseline(settings) for metric in METRICS}
        self.next_bucket = next_bucket

    def advance(
        self, endpoint: Endpoint, buckets: Mapping[int, BucketTotals], until: int, bucket_seconds: int
    ) -> list[Anomaly]:
        """Feed every bucket from ``next_bucket`` (or the first bucket with traffic) up to ``until``
        (exclusive: only closed buckets); buckets before ``next_bucket`` were already counted and are
        ignored."""
        start = self.next_bucket if self.next_bucket is not None else min(buckets, default=until)
        anomalies = []
        for bucket in range(start, until - bucket_seconds + 1, bucket_seconds):
            totals = buckets.get(bucket, BucketTotals())
            values = {"requests": float(totals.requests), "response_bytes": totals.response_bytes}
            for metric, baseline in self.metrics.items():
                verdict = baseline.update(values[metric])
                if verdict.anomaly:
                    anomalies.append(Anomaly(endpoint, metric, bucket, verdict))
            self.next_bucket = bucket + bucket_seconds
        return anomalies

    def to_json(self) -> dict[str, Any]:
        return {
            "next_bucket": self.next_bucket,
            "metrics": {metric: baseline.to_json() for metric, baseline in self.metrics.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> EndpointBaseline:
        if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
            raise ValueError("endpoint baseline state must be an object with metrics")  # noqa: TRY004
        next_bucket = data.get("next_bucket")
        if next_bucket is not None and (isinstance(next_bucket, bool) or not isinstance(next_bucket, int)):
            raise ValueError("endpoint baseline state: next_bucket must be an integer or null")
        baseline = cls(next_bucket=next_bucket)
        missing = set(METRICS) - set(data["metrics"])
        if missing:
            raise ValueError(f"endpoint baseline state: missing metrics {sorted(missing)}")
        baseline.metrics = {metric: SeasonalBaseline.from_json(data["metrics"][metric]) for metric in METRICS}
        return baseline


def advance_baselines(
    states: Mapping[Endpoint, Mapping[str, Any]],
    spans: Iterable[Mapping[str, Any]],
    *,
    until: int,
    bucket_seconds: int = 3600,
    settings: BaselineSettings | None = None,
) -> tuple[dict[Endpoint, dict[str, Any]], list[Anomaly]]:
    """One run of the baseline job. ``states``: the JSON saved by the previous run per endpoint (empty the
    first time); ``spans``: server spans from the oldest unfinished bucket on (older ones are ignored per
    endpoint); ``until``: Unix seconds, only buckets ending at or before it are fed. Returns the states to
    save (every endpoint seen, old or new) and the anomalies found, ordered by bucket then endpoint.
    New endpoints start at their first bucket with traffic and use ``settings``."""
    traffic = bucket_traffic(spans, bucket_seconds)
    saved: dict[Endpoint, dict[str, Any]] = {}
    anomalies: list[Anomaly] = []
    for endpoint in sorted(set(states) | set(traffic)):
        state = states.get(endpoint)
        baseline = EndpointBaseline(settings) if state is None else EndpointBaseline.from_json(state)
        anomalies += baseline.advance(endpoint, traffic.get(endpoint, {}), until, bucket_seconds)
        saved[endpoint] = baseline.to_json()
    anomalies.sort(key=lambda anomaly: (anomaly.bucket_start, anomaly.endpoint, anomaly.metric))
    return saved, anomalies
