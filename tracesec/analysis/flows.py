"""What actors do in order: sessions (runs of requests split by an idle gap) and the API flow graph
(which endpoint follows which, and how often)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any, NamedTuple

from tracesec.analysis.wire import NANOS_PER_SECOND, server_route, span_actor

DEFAULT_IDLE_GAP_SECONDS = 1800.0


class Session(NamedTuple):
    actor: str
    start_unix_nano: int
    end_unix_nano: int
    routes: tuple[str, ...]
    """``"METHOD /template"`` of each request, in time order."""

    def to_json(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "start_unix_nano": self.start_unix_nano,
            "end_unix_nano": self.end_unix_nano,
            "routes": list(self.routes),
        }


def actor_sessions(
    spans: Iterable[Mapping[str, Any]], idle_gap_seconds: float = DEFAULT_IDLE_GAP_SECONDS
) -> dict[str, list[Session]]:
    """Sessions per actor key, oldest first. Only routed server spans with an actor count; a new session
    starts when an actor has been idle for more than ``idle_gap_seconds``. Ties in time keep input order."""
    calls: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for span in spans:
        route, actor = server_route(span), span_actor(span)
        if route is not None and actor is not None:
            calls[actor].append((int(span["start_time_unix_nano"]), route))
    gap = idle_gap_seconds * NANOS_PER_SECOND
    sessions: dict[str, list[Session]] = {}
    for actor in sorted(calls):
        ordered = sorted(calls[actor], key=lambda call: call[0])
        runs: list[list[tuple[int, str]]] = [[ordered[0]]]
        for previous, call in pairwise(ordered):
            if call[0] - previous[0] > gap:
                runs.append([])
            runs[-1].append(call)
        sessions[actor] = [
            Session(actor, run[0][0], run[-1][0], tuple(route for _, route in run)) for run in runs
        ]
    return sessions


class FlowGraph(NamedTuple):
    """Nodes are routes; ``entries``/``exits`` count sessions starting/ending on a route."""

    calls: Counter[str]
    entries: Counter[str]
    exits: Counter[str]
    edges: Counter[tuple[str, str]]

    def to_json(self) -> dict[str, Any]:
        """Nodes by route, edges by count (most followed first), both deterministic."""
        return {
            "nodes": [
                {"route": route, "calls": count, "entries": self.entries[route], "exits": self.exits[route]}
                for route, count in sorted(self.calls.items())
            ],
            "edges": [
                {"from": source, "to": target, "count": count}
                for (source, target), count in sorted(
                    self.edges.items(), key=lambda item: (-item[1], item[0])
                )
            ],
        }


def flow_graph(sessions: Iterable[Session]) -> FlowGraph:
    """Count each consecutive pair of routes within a session as an edge (a route repeated is a self
    edge: pagination, polling)."""
    graph = FlowGraph(Counter(), Counter(), Counter(), Counter())
    for session in sessions:
        routes = session.routes
        graph.calls.update(routes)
        graph.entries[routes[0]] += 1
        graph.exits[routes[-1]] += 1
        graph.edges.update(pairwise(routes))
    return graph
