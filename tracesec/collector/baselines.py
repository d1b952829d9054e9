"""Endpoint baselines in the collector: each run of the baseline job feeds every closed bucket since the
last run to the endpoints' models (:class:`tracesec.analysis.EndpointBaseline`), keeps each bucket's value
against its forecast band for GET /v1/baselines, and stores a value above its band as a service-side
event (``rate_anomaly`` for requests, ``exfiltration`` for response bytes), which incidents and endpoint
risk then count like the agents' events.

The job reads on a read-only connection (``advance_stored_baselines``, in the analysis thread) and writes
through the writer thread (``save_run``), so the seconds a first run over a week of spans may take never
hold up ingest. Traffic per bucket is counted in SQL: a run costs one grouped query, however many spans.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracesec.analysis import (
    Anomaly,
    BucketTotals,
    Endpoint,
    EndpointBaseline,
    SeasonalBaseline,
    Verdict,
    service_event,
)
from tracesec.analysis.endpoints import bucket_start
from tracesec.analysis.wire import NANOS_PER_SECOND, server_route
from tracesec.collector.query import QueryError, offset_page, required_service
from tracesec.collector.store import dumps, insert_events

log = logging.getLogger("tracesec.collector")

HISTORY_BUCKETS = 168
"""Buckets kept per endpoint and metric for the picture (a week of hours), and the furthest back a run
reaches: after a longer pause the models resume at that point instead of learning a week of zeros."""
LATE_SECONDS = 30.0
"""A bucket is fed this long after it closed (half a bucket when that is shorter), so the agents' last
spans of it have arrived."""
COLLECTOR_INSTANCE = "tracesec-collector"
"""The instance id of the events the collector raises itself."""
EVENT_TYPES = {"requests": "rate_anomaly", "response_bytes": "exfiltration"}
"""The event type of a value above its band, per metric (a drop below the band is shown, not raised)."""
DEFAULT_BUCKETS_SHOWN = 48


@dataclass(frozen=True)
class BucketVerdict:
    endpoint: Endpoint
    metric: str
    bucket_start: int
    verdict: Verdict


@dataclass
class BaselineRun:
    """What one run computed, for ``save_run`` to store in one transaction."""

    bucket_seconds: int
    until: int
    states: dict[Endpoint, dict[str, Any]] = field(default_factory=dict)
    buckets: list[BucketVerdict] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(service, event) pairs."""


def advance_stored_baselines(
    conn: sqlite3.Connection, now_seconds: float, bucket_seconds: int
) -> BaselineRun:
    """Feed every bucket closed since the last run (at most ``HISTORY_BUCKETS`` back) to the stored
    models and to the models of endpoints seen for the first time."""
    until = bucket_start(now_seconds - min(LATE_SECONDS, bucket_seconds / 2), bucket_seconds)
    oldest = until - HISTORY_BUCKETS * bucket_seconds
    baselines = _load_states(conn, bucket_seconds)
    resume = min((b.next_bucket for b in baselines.values() if b.next_bucket is not None), default=oldest)
    start = max(resume, oldest)
    traffic, names = _traffic(conn, start, until, bucket_seconds)
    run = BaselineRun(bucket_seconds, until)
    for endpoint in sorted(set(baselines) | set(traffic)):
        baseline = baselines.get(endpoint) or EndpointBaseline()
        if baseline.next_bucket is not None and baseline.next_bucket < start:
            baseline.next_bucket = start  # paused longer than the history: skip the gap
        buckets = traffic.get(endpoint, {})
        run.buckets += _bucket_verdicts(endpoint, baseline, buckets, until, bucket_seconds)
        for anomaly in baseline.advance(endpoint, buckets, until, bucket_seconds):
            if anomaly.verdict.score > 0:
                run.events.append((endpoint.service, anomaly_event(anomaly, names[endpoint], bucket_seconds)))
        run.states[endpoint] = baseline.to_json()
    return run


def _bucket_verdicts(
    endpoint: Endpoint,
    baseline: EndpointBaseline,
    buckets: Mapping[int, BucketTotals],
    until: int,
    bucket_seconds: int,
) -> list[BucketVerdict]:
    """Each bucket ``advance`` is about to feed, against its band. ``advance`` reports only anomalies, so
    the same updates run on copies of the models first: same library code, same verdicts."""
    first = baseline.next_bucket if baseline.next_bucket is not None else min(buckets, default=until)
    copies = {
        metric: SeasonalBaseline.from_json(model.to_json()) for metric, model in baseline.metrics.items()
    }
    verdicts = []
    for bucket in range(first, until, bucket_seconds):
        totals = buckets.get(bucket, BucketTotals())
        values = {"requests": float(totals.requests), "response_bytes": totals.response_bytes}
        for metric, model in copies.items():
            verdicts.append(BucketVerdict(endpoint, metric, bucket, model.update(values[metric])))
    return verdicts


def anomaly_event(anomaly: Anomaly, name: tuple[str | None, str], bucket_seconds: int) -> dict[str, Any]:
    """A value above its band as an event of the endpoint, timed at the start of its bucket; high when
    it is more than twice the band's upper edge."""
    method, route = name
    verdict = anomaly.verdict
    attributes: dict[str, Any] = {
        "http.route": route,
        "tracesec.detector": "collector.baseline",
        "tracesec.baseline.metric": anomaly.metric,
        "tracesec.baseline.bucket_start": anomaly.bucket_start,
        "tracesec.baseline.bucket_seconds": bucket_seconds,
        "tracesec.baseline.value": verdict.value,
        "tracesec.baseline.forecast": round(verdict.forecast, 3),
        "tracesec.baseline.high": round(verdict.high, 3),
        "tracesec.baseline.score": round(verdict.score, 3),
    }
    if method is not None:
        attributes["http.request.method"] = method
    severity = "high" if verdict.value > 2 * verdict.high else "medium"
    time_ns = anomaly.bucket_start * NANOS_PER_SECOND
    return service_event(EVENT_TYPES[anomaly.metric], severity, time_ns, attributes)


def _load_states(conn: sqlite3.Connection, bucket_seconds: int) -> dict[Endpoint, EndpointBaseline]:
    """The stored models of this bucket width (another width's models start afresh); a damaged one is
    logged and started afresh too."""
    baselines = {}
    for service, route, state in conn.execute(
        "SELECT service, route, state FROM baselines WHERE bucket_seconds = ?", (bucket_seconds,)
    ):
        try:
            baselines[Endpoint(service, route)] = EndpointBaseline.from_json(json.loads(state))
        except ValueError as exc:
            log.warning("tracesec collector: baseline of %s %s restarted: %s", service, route, exc)
    return baselines


def _traffic(
    conn: sqlite3.Connection, start: int, until: int, bucket_seconds: int
) -> tuple[dict[Endpoint, dict[int, BucketTotals]], dict[Endpoint, tuple[str | None, str]]]:
    """Requests and response bytes per endpoint and bucket in [start, until), counted by SQLite, and the
    (method, http.route) each endpoint name stands for."""
    traffic: dict[Endpoint, dict[int, BucketTotals]] = defaultdict(dict)
    names: dict[Endpoint, tuple[str | None, str]] = {}
    rows = conn.execute(
        "SELECT service, route, json_extract(attributes, '$.\"http.request.method\"') AS method,"
        " start_time_unix_nano / ? AS bucket, count(*),"
        " total(json_extract(attributes, '$.\"http.response.body.size\"'))"
        " FROM spans WHERE start_time_unix_nano >= ? AND start_time_unix_nano < ?"
        " AND kind = 'server' AND route IS NOT NULL GROUP BY service, route, method, bucket",
        (bucket_seconds * NANOS_PER_SECOND, start * NANOS_PER_SECOND, until * NANOS_PER_SECOND),
    )
    for service, route, method_attribute, bucket, requests, response_bytes in rows:
        method = method_attribute if isinstance(method_attribute, str) and method_attribute else None
        attributes = {"http.route": route} | ({"http.request.method": method} if method else {})
        endpoint = Endpoint(service, server_route({"kind": "server", "attributes": attributes}) or route)
        names[endpoint] = (method, route)
        traffic[endpoint][bucket * bucket_seconds] = BucketTotals(requests, response_bytes)
    return traffic, names


def save_run(conn: sqlite3.Connection, run: BaselineRun, now_ns: int) -> None:
    """Store a run's models, bucket verdicts and events in one transaction (on the writer's connection),
    and drop bucket verdicts older than the history."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "INSERT OR REPLACE INTO baselines VALUES (?, ?, ?, ?, ?)",
            [
                (endpoint.service, endpoint.route, run.bucket_seconds, dumps(state), now_ns)
                for endpoint, state in run.states.items()
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO baseline_buckets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (b.endpoint.service, b.endpoint.route, b.metric, b.bucket_start, *_figures(b.verdict))
                for b in run.buckets
            ],
        )
        conn.execute(
            "DELETE FROM baseline_buckets WHERE bucket_start < ?",
            (run.until - HISTORY_BUCKETS * run.bucket_seconds,),
        )
        for service, event in run.events:
            insert_events(conn, service, COLLECTOR_INSTANCE, [event])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _figures(verdict: Verdict) -> tuple[float, float, float, float, float, bool]:
    return verdict.value, verdict.forecast, verdict.low, verdict.high, verdict.score, verdict.anomaly


def list_baselines(
    conn: sqlite3.Connection, params: Mapping[str, str], bucket_seconds: int
) -> dict[str, Any]:
    """``{"service", "bucket_seconds", "baselines": [...], "next_cursor"}``: per endpoint of the service
    (by route), its recent buckets per metric against their bands, and the anomalies among them."""
    service = required_service(params, "/v1/baselines")
    shown = _buckets_shown(params.get("buckets"))
    route = params.get("route")
    rows = conn.execute(
        "SELECT route, state, updated_at_unix_nano FROM baselines WHERE service = ? AND bucket_seconds = ?"
        " AND (? IS NULL OR route = ?) ORDER BY route",
        (service, bucket_seconds, route, route),
    ).fetchall()
    answer = offset_page("baselines", rows, params)
    answer["baselines"] = [
        _endpoint_baseline(conn, service, route, json.loads(state), shown, bucket_seconds)
        | {"updated_at_unix_nano": updated}
        for route, state, updated in answer["baselines"]
    ]
    return {"service": service, "bucket_seconds": bucket_seconds, **answer}


def _buckets_shown(text: str | None) -> int:
    if text is None:
        return DEFAULT_BUCKETS_SHOWN
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= HISTORY_BUCKETS:
        raise QueryError(f"buckets: expected a whole number from 1 to {HISTORY_BUCKETS}, got {text!r}")
    return int(text)


def _endpoint_baseline(
    conn: sqlite3.Connection, service: str, route: str, state: Any, shown: int, bucket_seconds: int
) -> dict[str, Any]:
    baseline = EndpointBaseline.from_json(state)
    next_bucket = baseline.next_bucket or 0
    metrics: dict[str, dict[str, Any]] = {
        metric: {
            "observed": model.observed,
            "seasonal": model.is_seasonal,
            "forecast_next": model.forecast(),
            "buckets": [],
        }
        for metric, model in baseline.metrics.items()
    }
    anomalies = []
    for metric, start, value, forecast, low, high, score, anomaly in conn.execute(
        "SELECT metric, bucket_start, value, forecast, low, high, score, anomaly FROM baseline_buckets"
        " WHERE service = ? AND route = ? AND bucket_start >= ? ORDER BY bucket_start",
        (service, route, next_bucket - shown * bucket_seconds),
    ):
        bucket = {
            "bucket_start": start,
            "value": value,
            "forecast": forecast,
            "low": low,
            "high": high,
            "score": score,
            "anomaly": bool(anomaly),
        }
        metrics[metric]["buckets"].append(bucket)
        if anomaly:
            anomalies.append({"metric": metric, "direction": "above" if score > 0 else "below", **bucket})
    return {
        "route": route,
        "next_bucket": baseline.next_bucket,
        "metrics": metrics,
        "anomalies": anomalies,
    }
