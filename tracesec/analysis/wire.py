"""Reading the stored wire dicts (spans and events as ``GET /v1/spans`` / ``/v1/events`` return them).

Every analysis reads who, what and when through these few functions, so a change of attribute names is made
in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

NANOS_PER_SECOND = 1_000_000_000


def actor_key(attributes: Mapping[str, Any]) -> str | None:
    """``"<kind>:<id>"`` as the agent names actors in sketches (``tracesec.actor.kind`` and ``.id``), else
    ``user:<enduser.id>``, else ``ip:<client.address>``; None when the record says nothing about who."""
    kind, actor_id = attributes.get("tracesec.actor.kind"), attributes.get("tracesec.actor.id")
    if isinstance(kind, str) and isinstance(actor_id, str) and kind and actor_id:
        return f"{kind}:{actor_id}"
    user = attributes.get("enduser.id")
    if isinstance(user, (str, int)) and not isinstance(user, bool) and str(user):
        return f"user:{user}"
    address = attributes.get("client.address")
    if isinstance(address, str) and address:
        return f"ip:{address}"
    return None


def server_route(span: Mapping[str, Any]) -> str | None:
    """``"METHOD /route/{template}"`` of a server span with an ``http.route``; None for any other span
    (raw paths are not used: their object IDs would make every actor look unique)."""
    if span.get("kind") != "server":
        return None
    attributes = span.get("attributes") or {}
    route = attributes.get("http.route")
    if not isinstance(route, str) or not route:
        return None
    method = attributes.get("http.request.method")
    return f"{method} {route}" if isinstance(method, str) and method else route


def span_actor(span: Mapping[str, Any]) -> str | None:
    return actor_key(span.get("attributes") or {})


def span_start_seconds(span: Mapping[str, Any]) -> float:
    return int(span["start_time_unix_nano"]) / NANOS_PER_SECOND


def response_bytes(span: Mapping[str, Any]) -> float:
    """``http.response.body.size`` (0 when absent or not a number)."""
    size = (span.get("attributes") or {}).get("http.response.body.size")
    return float(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else 0.0


def span_actors(spans: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """span_id -> actor key, to attribute events that name a span but carry no actor attributes (sink
    detections)."""
    index: dict[str, str] = {}
    for span in spans:
        actor = span_actor(span)
        if actor is not None and isinstance(span.get("span_id"), str):
            index[span["span_id"]] = actor
    return index


def event_actor(event: Mapping[str, Any], actors_by_span: Mapping[str, str] | None = None) -> str | None:
    """The actor of an event: its own attributes, else the actor of the span it names."""
    actor = actor_key(event.get("attributes") or {})
    if actor is None and actors_by_span is not None and isinstance(event.get("span_id"), str):
        actor = actors_by_span.get(event["span_id"])
    return actor
