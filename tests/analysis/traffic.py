"""Synthetic stored records (span and event wire dicts, as the collector's query API returns them) for
the analysis tests and benchmark."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

NS = 1_000_000_000
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, on an hour boundary
_ids = itertools.count(1)


def span(
    actor: str,
    route: str,
    seconds: float,
    *,
    method: str = "GET",
    response_bytes: int = 1000,
    service: str = "shop",
) -> dict[str, Any]:
    kind, _, actor_id = actor.partition(":")
    return {
        "trace_id": f"{next(_ids):032x}",
        "span_id": f"{next(_ids):016x}",
        "parent_span_id": None,
        "name": f"{method} {route}",
        "kind": "server",
        "start_time_unix_nano": int(seconds * NS),
        "end_time_unix_nano": int(seconds * NS) + 1_000_000,
        "status": "unset",
        "status_message": None,
        "attributes": {
            "http.request.method": method,
            "http.route": route,
            "http.response.body.size": response_bytes,
            "client.address": "203.0.113.7",
            "tracesec.actor.kind": kind,
            "tracesec.actor.id": actor_id,
        },
        "service": service,
        "instance_id": "i-1",
    }


def event(
    event_type: str,
    seconds: float,
    *,
    actor: str | None = "jwt:mallory",
    severity: str = "high",
    blocked: bool = False,
    route: str = "/api/search",
    user_input: str | None = None,
    event_id: str | None = None,
    span_id: str | None = None,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {"http.route": route}
    if actor is not None:
        kind, _, actor_id = actor.partition(":")
        attributes |= {"tracesec.actor.kind": kind, "tracesec.actor.id": actor_id}
    if user_input is not None:
        attributes["tracesec.input"] = user_input
    return {
        "event_id": event_id or f"{next(_ids):032x}",
        "type": event_type,
        "severity": severity,
        "blocked": blocked,
        "time_unix_nano": int(seconds * NS),
        "trace_id": None,
        "span_id": span_id,
        "attributes": attributes,
        "service": "shop",
    }


def daily_series(seed: int, days: int = 30, base: float = 200.0, amplitude: float = 150.0) -> list[float]:
    """Hourly request counts: a daily cycle, a slow upward trend and Poisson-like noise."""
    rng = random.Random(seed)
    values = []
    for hour in range(days * 24):
        mean = base + amplitude * math.sin(2 * math.pi * hour / 24) + 0.2 * hour / 24
        values.append(float(max(0, round(rng.gauss(mean, math.sqrt(mean))))))
    return values


GROUPS = {
    "shopper": ["/", "/products", "/products/{id}", "/cart", "/cart/items", "/checkout", "/orders"],
    "admin": ["/admin", "/admin/users", "/admin/users/{id}", "/admin/audit", "/admin/settings"],
    "integration": [
        "/api/v2/sync",
        "/api/v2/items",
        "/api/v2/items/{id}",
        "/api/v2/webhooks",
        "/api/v2/status",
    ],
}


def group_sessions(
    rng: random.Random, group: str, actor: str, start: float, sessions: int = 4
) -> list[dict[str, Any]]:
    """Sessions of an actor of ``group``: walks over most of the group's routes, in mostly the group's
    order, an hour apart."""
    routes = GROUPS[group]
    spans = []
    for number in range(sessions):
        t = start + number * 7200
        walk = [route for route in routes if rng.random() < 0.85] or routes[:2]
        for route in walk:
            spans.append(span(actor, route, t))
            t += rng.uniform(1, 20)
    return spans
