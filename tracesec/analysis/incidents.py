"""Incidents: an actor's security events (from agents and from the service's own detections) merged,
deduplicated and grouped in time, with a severity, a timeline and the evidence.

Rules, in order:

- **dedup**: an event id seen before is dropped; an event with the same actor, type, route, sink and input
  as one kept less than ``dedup_seconds`` earlier joins that timeline entry (``occurrences`` + 1);
- **grouping**: per actor, events closer than ``gap_seconds`` to the previous one belong to the same
  incident; events with no actor form incidents of their own (actor ``None``);
- **severity**: the highest event severity, then escalations, each named in ``escalations``:
  ``unblocked_sink_attack`` (an injection, traversal or SSRF reached its sink unblocked: at least high),
  ``many_detections`` (``escalate_detections`` or more timeline entries: one level up),
  ``many_attack_types`` (``critical_attack_types`` or more distinct attack types: critical);
- **id**: a digest of the actor and the incident's first event, so the same events give the same ids
  whatever their order, and an incident keeps its id while it grows.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, NamedTuple

from tracesec.analysis.lookalikes import ATTACK_TYPES
from tracesec.analysis.wire import NANOS_PER_SECOND, event_actor
from tracesec.events import SEVERITIES

SINK_OF_TYPE = {
    "sql_injection": "sql",
    "shell_injection": "shell",
    "path_traversal": "path",
    "ssrf": "outbound",
}
"""Sink kinds (``tracesec.hooks.SINK_KINDS``) of the sink detections, for events without ``tracesec.sink``."""


@dataclass(frozen=True)
class IncidentSettings:
    gap_seconds: float = 3600.0
    dedup_seconds: float = 60.0
    critical_attack_types: int = 3
    escalate_detections: int = 50
    max_timeline: int = 200
    """Timeline entries kept per incident (the first ones); the counts cover all."""
    max_evidence_values: int = 20
    """Distinct routes, sinks, inputs, services and addresses kept per incident."""


class TimelineEntry(NamedTuple):
    time_unix_nano: int
    event_id: str
    type: str
    severity: str
    blocked: bool
    """Whether any of its occurrences was blocked."""
    route: str | None
    sink: str | None
    input: str | None
    occurrences: int


class Incident(NamedTuple):
    incident_id: str
    actor: str | None
    severity: str
    escalations: tuple[str, ...]
    first_seen_unix_nano: int
    last_seen_unix_nano: int
    detections: int
    """Timeline entries after dedup (``event_types`` counts them per type)."""
    event_types: dict[str, int]
    blocked: int
    """Detections blocked at least once; ``detections - blocked`` were not."""
    routes: tuple[str, ...]
    sinks: tuple[str, ...]
    inputs: tuple[str, ...]
    services: tuple[str, ...]
    client_addresses: tuple[str, ...]
    timeline: tuple[TimelineEntry, ...]

    def to_json(self) -> dict[str, Any]:
        data = self._asdict()
        for name in ("escalations", "routes", "sinks", "inputs", "services", "client_addresses"):
            data[name] = list(data[name])
        data["timeline"] = [entry._asdict() for entry in self.timeline]
        return data


def service_event(
    type: str, severity: str, time_unix_nano: int, attributes: Mapping[str, Any], *, blocked: bool = False
) -> dict[str, Any]:
    """A service-side detection in the event wire shape, with an id derived from its content so that
    running the same detection twice yields one event."""
    content = json.dumps(
        [type, severity, time_unix_nano, dict(attributes), blocked], sort_keys=True, default=str
    )
    return {
        "event_id": hashlib.blake2b(content.encode(), digest_size=16).hexdigest(),
        "type": type,
        "severity": severity,
        "blocked": blocked,
        "time_unix_nano": time_unix_nano,
        "trace_id": None,
        "span_id": None,
        "attributes": dict(attributes),
    }


def build_incidents(
    events: Iterable[Mapping[str, Any]],
    *,
    actors_by_span: Mapping[str, str] | None = None,
    settings: IncidentSettings | None = None,
) -> list[Incident]:
    """Incidents from event wire dicts (agent events and ``service_event`` detections, in any order),
    oldest first (ties by id). ``actors_by_span`` (``wire.span_actors``) attributes events that carry
    no actor attributes through the span they name."""
    settings = settings or IncidentSettings()
    unique: dict[str, Mapping[str, Any]] = {}
    for event in events:
        unique.setdefault(str(event["event_id"]), event)
    by_actor: dict[str | None, list[Mapping[str, Any]]] = defaultdict(list)
    for event in sorted(unique.values(), key=lambda e: (int(e["time_unix_nano"]), str(e["event_id"]))):
        by_actor[event_actor(event, actors_by_span)].append(event)
    incidents = [
        _incident(actor, group, settings)
        for actor, actor_events in by_actor.items()
        for group in _split_by_gap(actor_events, settings.gap_seconds)
    ]
    incidents.sort(key=lambda incident: (incident.first_seen_unix_nano, incident.incident_id))
    return incidents


def _split_by_gap(events: list[Mapping[str, Any]], gap_seconds: float) -> list[list[Mapping[str, Any]]]:
    gap = gap_seconds * NANOS_PER_SECOND
    groups: list[list[Mapping[str, Any]]] = [[events[0]]]
    for previous, event in pairwise(events):
        if int(event["time_unix_nano"]) - int(previous["time_unix_nano"]) > gap:
            groups.append([])
        groups[-1].append(event)
    return groups


def _incident(actor: str | None, events: list[Mapping[str, Any]], settings: IncidentSettings) -> Incident:
    timeline = _deduplicated(events, settings.dedup_seconds)
    severity = max((_severity_rank(entry.severity) for entry in timeline), default=0)
    escalations = []
    attack_types = {entry.type for entry in timeline if entry.type in ATTACK_TYPES}
    if any(entry.type in SINK_OF_TYPE and not entry.blocked for entry in timeline):
        escalations.append("unblocked_sink_attack")
        severity = max(severity, SEVERITIES.index("high"))
    if len(timeline) >= settings.escalate_detections:
        escalations.append("many_detections")
        severity = min(severity + 1, len(SEVERITIES) - 1)
    if len(attack_types) >= settings.critical_attack_types:
        escalations.append("many_attack_types")
        severity = len(SEVERITIES) - 1
    first = timeline[0]
    return Incident(
        incident_id=hashlib.blake2b(f"{actor}\x1f{first.event_id}".encode(), digest_size=16).hexdigest(),
        actor=actor,
        severity=SEVERITIES[severity],
        escalations=tuple(escalations),
        first_seen_unix_nano=first.time_unix_nano,
        last_seen_unix_nano=int(events[-1]["time_unix_nano"]),
        detections=len(timeline),
        event_types=dict(sorted(Counter(entry.type for entry in timeline).items())),
        blocked=sum(entry.blocked for entry in timeline),
        routes=_evidence((entry.route for entry in timeline), settings),
        sinks=_evidence((entry.sink for entry in timeline), settings),
        inputs=_evidence((entry.input for entry in timeline), settings),
        services=_evidence((_text(event.get("service")) for event in events), settings),
        client_addresses=_evidence(
            (_text((event.get("attributes") or {}).get("client.address")) for event in events), settings
        ),
        timeline=tuple(timeline[: settings.max_timeline]),
    )


def _deduplicated(events: list[Mapping[str, Any]], dedup_seconds: float) -> list[TimelineEntry]:
    window = dedup_seconds * NANOS_PER_SECOND
    timeline: list[TimelineEntry] = []
    latest: dict[tuple[Any, ...], int] = {}
    for event in events:
        attributes = event.get("attributes") or {}
        event_type = str(event["type"])
        route = _text(attributes.get("http.route"))
        sink = _text(attributes.get("tracesec.sink")) or SINK_OF_TYPE.get(event_type)
        user_input = _text(attributes.get("tracesec.input"))
        time = int(event["time_unix_nano"])
        identity = (event_type, route, sink, user_input)
        index = latest.get(identity)
        if index is not None and time - timeline[index].time_unix_nano < window:
            kept = timeline[index]
            timeline[index] = kept._replace(
                occurrences=kept.occurrences + 1,
                blocked=kept.blocked or event.get("blocked") is True,
                severity=SEVERITIES[
                    max(_severity_rank(kept.severity), _severity_rank(event.get("severity")))
                ],
            )
            continue
        latest[identity] = len(timeline)
        timeline.append(
            TimelineEntry(
                time,
                str(event["event_id"]),
                event_type,
                SEVERITIES[_severity_rank(event.get("severity"))],
                event.get("blocked") is True,
                route,
                sink,
                user_input,
                1,
            )
        )
    return timeline


def _severity_rank(severity: Any) -> int:
    """Index in SEVERITIES; an unknown severity counts as low."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _evidence(values: Iterable[str | None], settings: IncidentSettings) -> tuple[str, ...]:
    return tuple(sorted({value for value in values if value is not None})[: settings.max_evidence_values])
