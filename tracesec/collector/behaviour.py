"""What actors of a service did lately, from its recent server spans and attack events, through
:mod:`tracesec.analysis`: sessions, the API flow graph, MinHash + LSH clusters of actors, outliers and the
attackers who behave like a clean cluster. Read by GET /v1/flows, GET /v1/clusters and GET /v1/actors.

Bounds, so one computation stays within about a second: the spans of the last ``window_seconds``, at most
``MAX_SPANS`` of them (the newest); at most ``MAX_ACTORS`` actors clustered (those with attack events
first, then the busiest); at most ``MAX_EVENTS`` attack events. The result is cached per service (see
cache.py) and says what it covered, so a reader can tell when a bound cut the window.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracesec.analysis import (
    ATTACK_TYPES,
    Clustering,
    Session,
    actor_sessions,
    attack_events_by_actor,
    behaviour_shingles,
    cluster_actors,
    flow_graph,
    lookalike_attackers,
    span_actors,
)
from tracesec.analysis.wire import NANOS_PER_SECOND
from tracesec.collector.actor_deviation import route_deviations
from tracesec.collector.cache import RefreshingCache
from tracesec.collector.query import required_service

MAX_SPANS = 100_000
MAX_ACTORS = 5_000
MAX_EVENTS = 20_000
MAX_EDGES = 500
"""Flow graph edges answered (the most followed)."""
MEMBERS_SHOWN = 50
TOP_ROUTES = 5
_ATTACK_TYPES = sorted(ATTACK_TYPES)


@dataclass(frozen=True)
class BehaviourAnalysis:
    service: str
    coverage: dict[str, Any]
    """The window read and whether a bound cut it."""
    flows: dict[str, Any]
    clusters: list[dict[str, Any]]
    outliers: list[dict[str, Any]]
    lookalike_attackers: list[dict[str, Any]]
    actors: dict[str, dict[str, Any]]
    """Per clustered actor: ``cluster_id`` (None for an outlier), ``outlier``, ``nearest_cluster``,
    ``similarity`` and ``lookalike_attacker``."""


def analyse_behaviour(
    conn: sqlite3.Connection, service: str, now_ns: int, window_seconds: float
) -> BehaviourAnalysis:
    since = now_ns - int(window_seconds * NANOS_PER_SECOND)
    spans = _recent_spans(conn, service, since)
    actors_by_span = span_actors(spans)
    events = _attack_events(conn, service, since)
    attackers = attack_events_by_actor(events, actors_by_span)
    sessions = actor_sessions(spans)
    clustered = _bounded_actors(sessions, attackers)
    clustering = cluster_actors({actor: behaviour_shingles(sessions[actor]) for actor in clustered})
    lookalikes = lookalike_attackers(clustering, events, actors_by_span=actors_by_span)
    flows = flow_graph(session for actor in sorted(sessions) for session in sessions[actor]).to_json()
    coverage = {
        "since_unix_nano": since,
        "until_unix_nano": now_ns,
        "spans": len(spans),
        "spans_limited": len(spans) == MAX_SPANS,
        "actors": len(sessions),
        "actors_clustered": len(clustered),
        "attack_events": len(events),
    }
    return BehaviourAnalysis(
        service=service,
        coverage=coverage,
        flows={
            "nodes": flows["nodes"],
            "edges": flows["edges"][:MAX_EDGES],
            "edge_count": len(flows["edges"]),
        },
        clusters=_clusters(clustering, sessions, attackers),
        outliers=[outlier._asdict() for outlier in clustering.outliers],
        lookalike_attackers=[lookalike.to_json() for lookalike in lookalikes],
        actors=_actor_clusters(clustering, {lookalike.actor for lookalike in lookalikes}),
    )


def _recent_spans(conn: sqlite3.Connection, service: str, since: int) -> list[dict[str, Any]]:
    """The newest routed server spans of the window, oldest first, in the wire shape the analysis reads."""
    rows = conn.execute(
        "SELECT span_id, start_time_unix_nano, attributes FROM spans WHERE service = ?"
        " AND start_time_unix_nano >= ? AND kind = 'server' AND route IS NOT NULL"
        " ORDER BY start_time_unix_nano DESC LIMIT ?",
        (service, since, MAX_SPANS),
    ).fetchall()
    return [
        {
            "span_id": span_id,
            "kind": "server",
            "start_time_unix_nano": start,
            "attributes": json.loads(attributes),
        }
        for span_id, start, attributes in reversed(rows)
    ]


def _attack_events(conn: sqlite3.Connection, service: str, since: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT event_id, type, time_unix_nano, span_id, attributes FROM events WHERE service = ?"
        f" AND time_unix_nano >= ? AND type IN ({', '.join('?' * len(_ATTACK_TYPES))})"
        " ORDER BY time_unix_nano DESC LIMIT ?",
        (service, since, *_ATTACK_TYPES, MAX_EVENTS),
    ).fetchall()
    return [
        {
            "event_id": event_id,
            "type": kind,
            "time_unix_nano": time_ns,
            "span_id": span_id,
            "attributes": json.loads(attributes),
        }
        for event_id, kind, time_ns, span_id, attributes in reversed(rows)
    ]


def _bounded_actors(sessions: Mapping[str, Sequence[Session]], attackers: Mapping[str, Any]) -> list[str]:
    """At most MAX_ACTORS actors: those who attacked first (the look-alike check needs them), then the
    busiest."""

    def rank(actor: str) -> tuple[bool, int, str]:
        return (actor not in attackers, -sum(len(s.routes) for s in sessions[actor]), actor)

    return sorted(sessions, key=rank)[:MAX_ACTORS]


def _clusters(
    clustering: Clustering, sessions: Mapping[str, Sequence[Session]], attackers: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each cluster with its size, first members, most called routes and how many members attacked."""
    answer = []
    for cluster in clustering.clusters:
        routes = Counter(route for actor in cluster.members for s in sessions[actor] for route in s.routes)
        answer.append(
            {
                "cluster_id": cluster.cluster_id,
                "size": len(cluster.members),
                "members": list(cluster.members[:MEMBERS_SHOWN]),
                "top_routes": [
                    {"route": route, "calls": calls}
                    for route, calls in sorted(routes.items(), key=lambda item: (-item[1], item[0]))[
                        :TOP_ROUTES
                    ]
                ],
                "attackers": sum(actor in attackers for actor in cluster.members),
            }
        )
    return answer


def _actor_clusters(clustering: Clustering, lookalikes: set[str]) -> dict[str, dict[str, Any]]:
    actors: dict[str, dict[str, Any]] = {}
    for cluster in clustering.clusters:
        for actor in cluster.members:
            actors[actor] = {
                "cluster_id": cluster.cluster_id,
                "outlier": False,
                "nearest_cluster": cluster.cluster_id,
                "similarity": clustering.similarity(actor, cluster.cluster_id),
                "lookalike_attacker": actor in lookalikes,
            }
    for outlier in clustering.outliers:
        actors[outlier.actor] = {
            "cluster_id": None,
            "outlier": True,
            "nearest_cluster": outlier.nearest_cluster,
            "similarity": outlier.similarity,
            "lookalike_attacker": outlier.actor in lookalikes,
        }
    return actors


class Behaviour:
    """The cached analyses behind GET /v1/flows, GET /v1/clusters and the cluster and baseline fields of
    GET /v1/actors."""

    def __init__(self, window_seconds: float, max_age_seconds: float) -> None:
        self.window_seconds = window_seconds
        self._analyses: RefreshingCache[BehaviourAnalysis] = RefreshingCache(max_age_seconds)
        self._deviations: RefreshingCache[dict[str, dict[str, Any]]] = RefreshingCache(max_age_seconds)

    def analysis(self, conn: sqlite3.Connection, service: str, now_ns: int) -> BehaviourAnalysis:
        return self._analyses.get(
            service, lambda: analyse_behaviour(conn, service, now_ns, self.window_seconds)
        )

    def deviations(self, conn: sqlite3.Connection, service: str) -> dict[str, dict[str, Any]]:
        """actor -> how far outside its route's population it is in the newest sketch window."""
        return self._deviations.get(service, lambda: route_deviations(conn, service))

    def flows(self, conn: sqlite3.Connection, params: Mapping[str, str], now_ns: int) -> dict[str, Any]:
        """``{"service", "coverage", "nodes": [{route, calls, entries, exits}], "edges": [{from, to,
        count}], "edge_count"}``."""
        analysis = self.analysis(conn, required_service(params, "/v1/flows"), now_ns)
        return {"service": analysis.service, "coverage": analysis.coverage, **analysis.flows}

    def clusters(self, conn: sqlite3.Connection, params: Mapping[str, str], now_ns: int) -> dict[str, Any]:
        """``{"service", "coverage", "clusters", "outliers", "lookalike_attackers"}``."""
        analysis = self.analysis(conn, required_service(params, "/v1/clusters"), now_ns)
        return {
            "service": analysis.service,
            "coverage": analysis.coverage,
            "clusters": analysis.clusters,
            "outliers": analysis.outliers,
            "lookalike_attackers": analysis.lookalike_attackers,
        }
