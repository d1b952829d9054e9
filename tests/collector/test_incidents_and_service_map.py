"""GET /v1/incidents (events grouped per subject, deduplicated into a timeline) and GET /v1/service-map
(services and what they call), over HTTP; and which paths a browser may load without the key."""

from __future__ import annotations

import time
from typing import Any

import httpx
from collector_client import get, post_batch
from payloads import NS, batch, event, server_span

from tracesec.collector.process import CollectorProcess

MINUTE = 60 * NS


def _incidents(collector: CollectorProcess, **params: Any) -> list[dict[str, Any]]:
    reply = get(collector, "/v1/incidents", **params)
    assert reply.status_code == 200, reply.text
    incidents: list[dict[str, Any]] = reply.json()["incidents"]
    return incidents


def test_events_of_one_actor_become_one_incident_with_a_deduplicated_timeline(
    collector: CollectorProcess,
) -> None:
    now = time.time_ns()
    orders = {"http.route": "/orders/{id}"}
    ann = [
        event("enumeration", actor="jwt:ann", time_unix_nano=now - 9 * MINUTE, **orders),
        event("enumeration", actor="jwt:ann", time_unix_nano=now - 9 * MINUTE + 20 * NS, **orders),
        event("exfiltration", actor="jwt:ann", severity="critical", time_unix_nano=now - 7 * MINUTE),
    ]
    earlier = event("scanner", actor="jwt:ann", time_unix_nano=now - 120 * MINUTE)  # gap: its own incident
    other = event("scanner", actor="ip:203.0.113.9", time_unix_nano=now - MINUTE)
    assert post_batch(collector, batch(events=[earlier, *ann])).status_code == 202
    assert post_batch(collector, batch(instance="web-2", events=[other])).status_code == 202
    latest, main, first = _incidents(collector)
    assert latest["subject"] == "ip:203.0.113.9"
    assert (main["subject"], main["severity"], main["event_count"]) == ("jwt:ann", "critical", 3)
    assert (main["types"], main["detections"], main["service"]) == (
        ["enumeration", "exfiltration"],
        2,
        "shop",
    )
    timeline = [(entry["type"], entry["count"]) for entry in main["timeline"]]
    assert timeline == [("enumeration", 2), ("exfiltration", 1)]
    assert main["timeline"][0]["event_id"] == ann[0]["event_id"]
    assert main["timeline"][0]["evidence"]["http.route"] == "/orders/{id}"
    assert main["routes"] == ["/orders/{id}"]
    assert (main["first_seen_unix_nano"], main["last_seen_unix_nano"]) == (now - 9 * MINUTE, now - 7 * MINUTE)
    assert (first["subject"], first["event_count"]) == ("jwt:ann", 1)
    recent = _incidents(collector, since=now - 60 * MINUTE)
    assert [incident["subject"] for incident in recent] == ["ip:203.0.113.9", "jwt:ann"]
    assert _incidents(collector, service="billing") == []
    assert get(collector, "/v1/incidents", since="yesterday").status_code == 400


def test_service_map_lists_services_and_what_they_call(collector: CollectorProcess) -> None:
    start = time.time_ns()
    described = server_span("ip:10.0.0.1", "/orders", "10.0.0.1", start)
    described["attributes"]["tracesec.dependencies"] = ["http:api.stripe.com:443", "postgresql:shop"]
    described_db_call = {
        **server_span("ip:10.0.0.1", "/orders", "10.0.0.1", start),
        "kind": "client",
        "trace_id": described["trace_id"],
        "attributes": {"db.system": "postgresql", "server.address": "db.internal"},
    }
    bare_call = {
        **server_span("ip:10.0.0.1", "/orders", "10.0.0.1", start),
        "kind": "client",
        "attributes": {"server.address": "api.example.com", "server.port": 443},
    }
    sent = batch(spans=[described, described_db_call, bare_call])
    assert post_batch(collector, sent).status_code == 202
    assert post_batch(collector, batch(service="billing", instance="b-1")).status_code == 202
    graph = get(collector, "/v1/service-map").json()
    assert [(s["name"], s["hosts"], s["instances"]) for s in graph["services"]] == [
        ("billing", ["localhost"], 1),
        ("shop", ["localhost"], 1),
    ]
    edges = {(e["source"], e["target"]): (e["kind"], e["calls"]) for e in graph["edges"]}
    assert edges == {
        ("shop", "http:api.stripe.com:443"): ("http", 1),
        ("shop", "postgresql:shop"): ("postgresql", 1),
        ("shop", "http:api.example.com:443"): ("http", 1),
    }


def test_a_browser_loads_pages_without_the_key_but_not_the_api(collector: CollectorProcess) -> None:
    for path in ("/", "/dashboard/app.js"):
        assert httpx.get(collector.url + path).status_code == 200, path
    for path in ("/v1/actors", "/v1/apis", "/v1/incidents", "/v1/service-map", "/v1", "/v1/blocklist"):
        assert httpx.get(collector.url + path).status_code == 401, path
