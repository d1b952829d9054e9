"""The baseline job in a real collector: a minute-bucket series with one request spike and one response
size spike (the ground truth), fed by the periodic job; GET /v1/baselines shows every bucket against its
band, the spikes become service-side events and incidents, and the state survives a restart."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from collector_client import get, post_batch
from payloads import NS, batch, server_span

from tests.support.keys import COLLECTOR_API_KEY as API_KEY
from tracesec.collector.process import CollectorProcess

BUCKET = 60
EXTRA_ARGS = ["--baseline-bucket-seconds", str(BUCKET), "--analysis-interval", "0.3", "--retention-days", "0"]


def _series(now: float) -> tuple[list[dict[str, Any]], int, int]:
    """40 closed minutes and 5 still to come of steady traffic on two endpoints (30 requests of 1 kB and
    20 of 2 kB a minute); ten minutes ago /api/items got 270 extra requests with empty bodies, five
    minutes ago /api/export returned 200 kB per request. Returns the spans and the two spike buckets."""
    current = math.floor(now / BUCKET) * BUCKET
    spike, leak = current - 10 * BUCKET, current - 5 * BUCKET
    spans = []
    for bucket in range(current - 40 * BUCKET, current + 5 * BUCKET, BUCKET):
        items = 300 if bucket == spike else 30
        for n in range(items):
            size = 1000 if n < 30 else 0
            spans.append(_span("/api/items", bucket, n, size))
        for n in range(20):
            spans.append(_span("/api/export", bucket, n, 200_000 if bucket == leak else 2000))
    return spans, spike, leak


def _span(route: str, bucket: int, n: int, size: int) -> dict[str, Any]:
    start = bucket * NS + n * 100_000_000
    return server_span("jwt:ann", route, "198.51.100.1", start, **{"http.response.body.size": size})


def _baselines(collector: CollectorProcess, **params: Any) -> dict[str, Any]:
    reply = get(collector, "/v1/baselines", service="shop", **params)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def _fed_until(collector: CollectorProcess, bucket: int, since_ns: int = 0) -> dict[str, Any]:
    """The answer once a run of the job that ended after ``since_ns`` has fed both endpoints up to
    ``bucket`` (bounded: about 15 s)."""
    for _ in range(150):
        answer = _baselines(collector, buckets=168)
        fed = [
            (endpoint["next_bucket"], endpoint["updated_at_unix_nano"]) for endpoint in answer["baselines"]
        ]
        if len(fed) == 2 and all(next_bucket > bucket and updated > since_ns for next_bucket, updated in fed):
            return answer
        time.sleep(0.1)
    raise AssertionError(f"the baseline job never got past {bucket}: {answer}")


def _events(collector: CollectorProcess, event_type: str) -> list[dict[str, Any]]:
    reply = get(collector, "/v1/events", type=event_type)
    assert reply.status_code == 200, reply.text
    events: list[dict[str, Any]] = reply.json()["events"]
    return events


def test_the_job_finds_the_spikes_and_keeps_its_state(tmp_path: Path) -> None:
    db = tmp_path / "collector.sqlite"
    spans, spike, leak = _series(time.time())
    with CollectorProcess(db, api_key=API_KEY, extra_args=EXTRA_ARGS) as collector:
        assert post_batch(collector, batch(spans=spans), compress=True).status_code == 202
        answer = _fed_until(collector, leak)
        assert (answer["service"], answer["bucket_seconds"]) == ("shop", BUCKET)
        export, items = answer["baselines"]
        assert (export["route"], items["route"]) == ("GET /api/export", "GET /api/items")
        assert [(a["metric"], a["bucket_start"], a["direction"]) for a in items["anomalies"]] == [
            ("requests", spike, "above")
        ]
        assert [(a["metric"], a["bucket_start"], a["direction"]) for a in export["anomalies"]] == [
            ("response_bytes", leak, "above")
        ]
        requests = {bucket["bucket_start"]: bucket for bucket in items["metrics"]["requests"]["buckets"]}
        assert requests[spike]["value"] == 300
        assert requests[spike]["low"] <= 30 <= requests[spike]["high"] < 300
        assert all(b["low"] <= b["value"] <= b["high"] for start, b in requests.items() if start > spike)
        assert items["metrics"]["requests"]["seasonal"] is True  # more than 24 buckets seen
        recent = _baselines(collector, buckets=5)["baselines"][1]["metrics"]["requests"]["buckets"]
        assert len(recent) == 5

        (rate,) = _events(collector, "rate_anomaly")
        (leaked,) = _events(collector, "exfiltration")
        assert (rate["time_unix_nano"], leaked["time_unix_nano"]) == (spike * NS, leak * NS)
        assert rate["instance_id"] == leaked["instance_id"] == "tracesec-collector"
        assert rate["attributes"]["http.route"] == "/api/items"
        assert rate["attributes"]["http.request.method"] == "GET"
        assert rate["attributes"]["tracesec.detector"] == "collector.baseline"
        assert rate["attributes"]["tracesec.baseline.value"] == 300
        assert leaked["attributes"]["tracesec.baseline.metric"] == "response_bytes"
        assert rate["severity"] == "high"
        incidents = get(collector, "/v1/incidents").json()["incidents"]
        assert {"rate_anomaly", "exfiltration"} <= {
            kind
            for incident in incidents
            if incident["subject"] == "service:shop"
            for kind in incident["types"]
        }
        fed_before = {endpoint["route"]: endpoint["next_bucket"] for endpoint in answer["baselines"]}

    restarted = time.time_ns()
    with CollectorProcess(db, api_key=API_KEY, extra_args=EXTRA_ARGS) as collector:
        after = _fed_until(collector, leak, since_ns=restarted)
        for endpoint in after["baselines"]:
            assert endpoint["next_bucket"] >= fed_before[endpoint["route"]]
            requests = endpoint["metrics"]["requests"]
            fed = (endpoint["next_bucket"] - requests["buckets"][0]["bucket_start"]) // BUCKET
            assert requests["observed"] == len(requests["buckets"]) == fed >= 39  # each bucket fed once
        assert len(_events(collector, "rate_anomaly")) == len(_events(collector, "exfiltration")) == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [({}, "service: required"), ({"service": "shop", "buckets": "0"}, "buckets")],
)
def test_bad_parameters_are_400(collector: CollectorProcess, params: dict[str, str], message: str) -> None:
    reply = get(collector, "/v1/baselines", **params)
    assert reply.status_code == 400
    assert message in reply.json()["error"]


def test_an_unknown_service_has_no_baselines(collector: CollectorProcess) -> None:
    assert get(collector, "/v1/baselines", service="nobody").json()["baselines"] == []
