from __future__ import annotations

import json

from tests.analysis.traffic import T0, daily_series, span
from tracesec.analysis import Endpoint, EndpointBaseline, advance_baselines, bucket_traffic

HOUR = 3600


def hourly_spans(counts: list[float], route: str, response_bytes: int = 500) -> list[dict]:
    return [
        span(f"jwt:user{n % 50}", route, T0 + hour * HOUR + n, response_bytes=response_bytes)
        for hour, count in enumerate(counts)
        for n in range(int(count))
    ]


def test_bucket_traffic_counts_requests_and_bytes_per_endpoint_and_hour() -> None:
    spans = [
        span("jwt:a", "/orders", T0 + 10, response_bytes=100),
        span("jwt:b", "/orders", T0 + 3599, response_bytes=50),
        span("jwt:a", "/orders", T0 + 3600, response_bytes=7),
        span("jwt:a", "/orders", T0 + 20, method="POST", response_bytes=1),
        {**span("jwt:a", "/x", T0), "kind": "client"},
    ]
    traffic = bucket_traffic(spans, HOUR)
    assert set(traffic) == {Endpoint("shop", "GET /orders"), Endpoint("shop", "POST /orders")}
    get = traffic[Endpoint("shop", "GET /orders")]
    assert (get[T0].requests, get[T0].response_bytes) == (2, 150)
    assert (get[T0 + HOUR].requests, get[T0 + HOUR].response_bytes) == (1, 7)


def test_a_traffic_spike_on_one_endpoint_is_reported_in_its_bucket() -> None:
    days = 10
    quiet = [value / 10 for value in daily_series(4, days=days, base=400, amplitude=300)]
    spiky = list(quiet)
    spiky[150] = spiky[150] * 3 + 40
    spans = hourly_spans(quiet, "/products") + hourly_spans(spiky, "/orders", response_bytes=2000)
    _, anomalies = advance_baselines({}, spans, until=T0 + days * 24 * HOUR)
    assert {(a.endpoint.route, a.metric, a.bucket_start) for a in anomalies} == {
        ("GET /orders", "requests", T0 + 150 * HOUR),
        ("GET /orders", "response_bytes", T0 + 150 * HOUR),
    }
    assert all(a.verdict.value > a.verdict.high for a in anomalies)


def test_runs_resumed_from_saved_state_match_one_run_and_count_no_bucket_twice() -> None:
    counts = [value / 10 for value in daily_series(5, days=6, base=400, amplitude=300)]
    counts[100] = 300
    spans = hourly_spans(counts, "/orders")
    until = T0 + len(counts) * HOUR
    whole_states, whole_anomalies = advance_baselines({}, spans, until=until)

    states: dict = {}
    found = []
    for run_end in [*range(T0 + 7 * HOUR, until, 11 * HOUR), until]:
        # Each run re-reads spans from a few hours back; buckets already fed are ignored.
        recent = [s for s in spans if s["start_time_unix_nano"] >= (run_end - 15 * HOUR) * 10**9]
        saved, anomalies = advance_baselines(states, recent, until=run_end)
        states = json.loads(json.dumps(saved_as_list(saved)))
        states = {Endpoint(*key): value for key, value in states}
        found += anomalies
    assert found == whole_anomalies
    assert [(a.metric, a.bucket_start) for a in found] == [
        ("requests", T0 + 100 * HOUR),
        ("response_bytes", T0 + 100 * HOUR),
    ]
    assert states[Endpoint("shop", "GET /orders")] == whole_states[Endpoint("shop", "GET /orders")]


def saved_as_list(saved: dict) -> list:
    return [[list(endpoint), state] for endpoint, state in saved.items()]


def test_an_endpoint_gone_quiet_is_fed_zeros() -> None:
    baseline = EndpointBaseline()
    endpoint = Endpoint("shop", "GET /orders")
    buckets = bucket_traffic(hourly_spans([20.0] * 48, "/orders"), HOUR)[endpoint]
    baseline.advance(endpoint, buckets, T0 + 48 * HOUR, HOUR)
    anomalies = baseline.advance(endpoint, {}, T0 + 50 * HOUR, HOUR)
    assert [(a.metric, a.bucket_start, a.verdict.value) for a in anomalies] == [
        ("requests", T0 + 48 * HOUR, 0.0),
        ("response_bytes", T0 + 48 * HOUR, 0.0),
        ("requests", T0 + 49 * HOUR, 0.0),
        ("response_bytes", T0 + 49 * HOUR, 0.0),
    ]
    assert (
        EndpointBaseline.from_json(json.loads(json.dumps(baseline.to_json()))).next_bucket == T0 + 50 * HOUR
    )
