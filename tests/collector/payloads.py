"""Batch sections as real agents produce them: endpoint records learnt by tracesec.discovery from
requests, sketch entries of tracesec.sketches, behavioural events, and server spans with actors."""

from __future__ import annotations

import uuid
from typing import Any

from tests.discovery.conftest import build_request
from tracesec.collector.samples import sample_batch
from tracesec.discovery import Discovery
from tracesec.sketches import CountMin, snapshot_entry

Payload = dict[str, Any]
NS = 1_000_000_000


def batch(service: str = "shop", instance: str = "instance-1", **sections: Any) -> Payload:
    """A batch with no spans but the given sections (spans, events, inventory, sketches)."""
    sent = sample_batch(spans=0, service=service, instance_id=instance)
    sent.update(sections)
    return sent


def endpoint_record(method: str, path: str, route: str, **request: Any) -> Payload:
    """The inventory record one process ships after serving one request (see build_request)."""
    discovery = Discovery()
    discovery.process(build_request(method, path, route=route, **request))
    (record,) = discovery.snapshot()["inventory"]
    return dict(record)


def event(
    event_type: str, *, actor: str = "ip:203.0.113.9", severity: str = "high", **attributes: Any
) -> Payload:
    kind, _, actor_id = actor.partition(":")
    return {
        "event_id": uuid.uuid4().hex,
        "type": event_type,
        "severity": severity,
        "blocked": event_type == "blocked_actor",
        "time_unix_nano": attributes.pop("time_unix_nano", 1_700_000_000 * NS),
        "trace_id": None,
        "span_id": None,
        "attributes": {
            "tracesec.actor.kind": kind,
            "tracesec.actor.id": actor_id,
            "client.address": actor_id if kind == "ip" else "198.51.100.1",
            **attributes,
        },
    }


def server_span(actor: str, route: str, client: str, start_ns: int, **attributes: Any) -> Payload:
    kind, _, actor_id = actor.partition(":")
    return {
        "trace_id": uuid.uuid4().hex,
        "span_id": uuid.uuid4().hex[:16],
        "parent_span_id": None,
        "name": f"GET {route}",
        "kind": "server",
        "start_time_unix_nano": start_ns,
        "end_time_unix_nano": start_ns + 1000,
        "status": "unset",
        "status_message": None,
        "attributes": {
            "http.request.method": "GET",
            "http.route": route,
            "client.address": client,
            "tracesec.actor.kind": kind,
            "tracesec.actor.id": actor_id,
            **attributes,
        },
    }


def calls_entry(process: str, counts: dict[str, int], window_start: float = 1_700_000_040.0) -> Payload:
    """An ``actor_route_calls`` snapshot entry of one process (keys ``"<actor>\\x1f<route>"``)."""
    sketch = CountMin(width=1024)
    for key, count in counts.items():
        sketch.add(key, count)
    return snapshot_entry(
        "actor_route_calls", sketch, window_start=window_start, window_seconds=60.0, process_id=process
    )
