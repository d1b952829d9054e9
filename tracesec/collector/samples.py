"""Valid batches shaped like a busy JSON API's traffic: the load of the collector benchmark and the
fixtures of the collector and transport tests."""

from __future__ import annotations

import os
import random
import time
import uuid
from typing import Any

from tracesec import __version__

_ROUTES = ("/api/users/{id}", "/api/orders", "/api/orders/{id}", "/login", "/api/search")
_USERS = 500  # distinct callers, each from many addresses: the costly case for the actor tables


def sample_batch(
    spans: int = 10,
    events: int = 0,
    *,
    service: str = "shop",
    instance_id: str = "instance-1",
    seed: int | None = None,
) -> dict[str, Any]:
    """A batch of ``spans`` server spans (each with one database child in every other trace) and
    ``events`` SQL-injection events, with a fresh batch_id."""
    rng = random.Random(seed)
    now = time.time_ns()
    span_list: list[dict[str, Any]] = []
    while len(span_list) < spans:
        trace_id = f"{rng.getrandbits(128) | 1:032x}"
        server = _span(rng, trace_id, None, now, "server")
        span_list.append(server)
        if len(span_list) < spans and len(span_list) % 2:
            span_list.append(_span(rng, trace_id, server["span_id"], now, "client"))
    batch: dict[str, Any] = {
        "protocol_version": 1,
        "batch_id": uuid.uuid4().hex,
        "sent_at_unix_nano": now,
        "resource": {
            "service.name": service,
            "service.instance.id": instance_id,
            "host.name": "localhost",
            "process.pid": os.getpid(),
            "telemetry.sdk.name": "tracesec",
            "telemetry.sdk.version": __version__,
        },
        "spans": span_list,
        "metrics": {"dropped": {"queue_full": 0, "network": 0, "rejected": 0}, "internal_errors": {}},
    }
    if events:
        batch["events"] = [_event(rng, now, span_list) for _ in range(events)]
    return batch


def _span(rng: random.Random, trace_id: str, parent: str | None, now: int, kind: str) -> dict[str, Any]:
    start = now - rng.randrange(1_000_000, 5_000_000_000)  # within one flush interval
    route = rng.choice(_ROUTES)
    if kind == "server":
        name = f"GET {route}"
        attributes: dict[str, Any] = {
            "http.request.method": "GET",
            "url.path": route.replace("{id}", str(rng.randrange(1, 10_000))),
            "http.route": route,
            "http.response.status_code": rng.choice((200, 200, 200, 201, 404)),
            "client.address": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Example/1.0",
            "tracesec.actor.kind": "jwt",
            "tracesec.actor.id": f"user-{rng.randrange(_USERS)}",
            "tracesec.dependencies": ["sqlite:shop"],
        }
    else:
        name = "SELECT shop"
        attributes = {
            "db.system": "sqlite",
            "db.query.text": "SELECT id, name, email FROM users WHERE id = ?",
            "server.address": "localhost",
        }
    return {
        "trace_id": trace_id,
        "span_id": f"{rng.getrandbits(64) | 1:016x}",
        "parent_span_id": parent,
        "name": name,
        "kind": kind,
        "start_time_unix_nano": start,
        "end_time_unix_nano": start + rng.randrange(50_000, 5_000_000),
        "status": "unset",
        "status_message": None,
        "attributes": attributes,
    }


def _event(rng: random.Random, now: int, spans: list[dict[str, Any]]) -> dict[str, Any]:
    span = rng.choice(spans) if spans else None
    return {
        "event_id": f"{rng.getrandbits(128):032x}",
        "type": "sql_injection",
        "severity": "high",
        "blocked": False,
        "time_unix_nano": now,
        "trace_id": None if span is None else span["trace_id"],
        "span_id": None if span is None else span["span_id"],
        "attributes": {"http.route": "/api/search", "tracesec.input": "' OR 1=1 --"},
    }
