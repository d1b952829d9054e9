"""GET /v1/incidents: the window's security events (the agents' and the collector's own api_drift) grouped
and deduplicated into incidents by :func:`tracesec.analysis.build_incidents` (rules in docs/analysis.md),
shown in the API's shape: a subject, the event types, and per timeline entry its evidence (the first
event's attributes, already redacted by the agent). Events without actor attributes (sink detections) are
attributed through their request's server span."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from tracesec.analysis import Incident, actor_key, build_incidents, span_actors
from tracesec.collector.query import QueryError, offset_page, parse_time

DEFAULT_WINDOW_NS = 24 * 3600 * 1_000_000_000
"""Without ``since``, incidents are built from the last day of events."""
MAX_EVENTS = 20_000
"""Events read per request at most (the newest of the window)."""


def list_incidents(conn: sqlite3.Connection, params: Mapping[str, str], now_ns: int) -> dict[str, Any]:
    """``{"incidents": [...], "next_cursor": ...}``, most recently active first."""
    since = parse_time(params["since"], "since") if "since" in params else now_ns - DEFAULT_WINDOW_NS
    until = parse_time(params["until"], "until") if "until" in params else None
    if until is not None and until <= since:
        raise QueryError("until: must be later than since")
    service = params.get("service")
    rows = conn.execute(
        "SELECT service, event_id, type, severity, blocked, time_unix_nano, trace_id, span_id, attributes"
        " FROM events WHERE time_unix_nano >= ? AND (? IS NULL OR time_unix_nano < ?)"
        " AND (? IS NULL OR service = ?) ORDER BY time_unix_nano DESC, id DESC LIMIT ?",
        (since, until, until, service, service, MAX_EVENTS),
    ).fetchall()
    events = [
        {
            "service": row[0],
            "event_id": row[1],
            "type": row[2],
            "severity": row[3],
            "blocked": bool(row[4]),
            "time_unix_nano": row[5],
            "trace_id": row[6],
            "span_id": row[7],
            "attributes": json.loads(row[8]),
        }
        for row in rows
    ]
    incidents = build_incidents(events, actors_by_span=span_actors(_request_spans(conn, events)))
    incidents.sort(key=lambda incident: (-incident.last_seen_unix_nano, incident.incident_id))
    evidence = {event["event_id"]: event["attributes"] for event in events}
    return offset_page("incidents", [_as_json(incident, evidence) for incident in incidents], params)


def _as_json(incident: Incident, evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The API's shape: who (``subject``: the actor, else ``service:<name>``), what, how bad, and the
    deduplicated timeline with each entry's evidence."""
    service = incident.services[0] if incident.services else None
    return {
        "id": incident.incident_id,
        "service": service,
        "services": list(incident.services),
        "subject": incident.actor or f"service:{service}",
        "severity": incident.severity,
        "escalations": list(incident.escalations),
        "first_seen_unix_nano": incident.first_seen_unix_nano,
        "last_seen_unix_nano": incident.last_seen_unix_nano,
        "event_count": sum(entry.occurrences for entry in incident.timeline),
        "detections": incident.detections,
        "types": list(incident.event_types),
        "blocked": incident.blocked > 0,
        "routes": list(incident.routes),
        "client_addresses": list(incident.client_addresses),
        "timeline": [
            {
                "event_id": entry.event_id,
                "type": entry.type,
                "route": entry.route,
                "sink": entry.sink,
                "input": entry.input,
                "severity": entry.severity,
                "blocked": entry.blocked,
                "count": entry.occurrences,
                "first_seen_unix_nano": entry.time_unix_nano,
                "evidence": evidence.get(entry.event_id, {}),
            }
            for entry in incident.timeline
        ],
    }


def _request_spans(conn: sqlite3.Connection, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The server spans of the traces of events that name no actor themselves."""
    traces = {
        event["trace_id"]
        for event in events
        if event["trace_id"] is not None and actor_key(event["attributes"]) is None
    }
    spans = []
    for trace_id in traces:
        for span_id, attributes in conn.execute(
            "SELECT span_id, attributes FROM spans WHERE trace_id = ? AND kind = 'server'", (trace_id,)
        ):
            spans.append({"span_id": span_id, "kind": "server", "attributes": json.loads(attributes)})
    return spans
