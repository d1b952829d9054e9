"""Actors: who called each service, kept up to date at ingest and read by GET /v1/actors.

An actor is named as the agent names it in its sketches, ``"<kind>:<id>"`` (see
:func:`tracesec.analysis.wire.actor_key`), and counted per service. Each batch is folded in with one
upsert per distinct actor, (actor, route) and (actor, address), not per span, so a busy batch from a few
callers costs little. Risk is recomputed only for actors a batch brought events for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from tracesec.analysis import actor_key
from tracesec.collector.behaviour import Behaviour
from tracesec.collector.query import page_window
from tracesec.collector.sketches import LatestWindows
from tracesec.events import SEVERITIES

SEVERITY_POINTS = {"low": 5, "medium": 15, "high": 30, "critical": 50}
"""Risk points of an event type, by the highest severity seen for it; the sum is capped at 100."""
_ROUTES_SHOWN = 20
_CREDENTIAL_KINDS = frozenset({"api_key", "token", "session"})  # actors whose id is the credential hash


def fold_activity(
    conn: sqlite3.Connection,
    service: str,
    spans: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
) -> None:
    """Count a batch's server spans and events against their actors, inside the caller's transaction."""
    seen: dict[str, list[int]] = {}  # actor -> [first, last, requests]
    routes: dict[tuple[str, str], int] = {}
    addresses: set[tuple[str, str]] = set()
    for span in spans:
        if span["kind"] != "server":
            continue
        attributes = span["attributes"]
        actor = actor_key(attributes)
        if actor is None:
            continue
        _saw(seen, actor, span["start_time_unix_nano"], 1)
        route = attributes.get("http.route")
        if type(route) is str:
            routes[actor, route] = routes.get((actor, route), 0) + 1
        address = attributes.get("client.address")
        if type(address) is str and not actor.startswith("ip:"):
            addresses.add((actor, address))
    flagged: dict[tuple[str, str], list[int]] = {}  # (actor, type) -> [count, severity rank, last]
    for event in events:
        actor = actor_key(event["attributes"])
        if actor is None:
            continue
        time_ns = event["time_unix_nano"]
        _saw(seen, actor, time_ns, 0)
        counts = flagged.setdefault((actor, event["type"]), [0, 0, time_ns])
        counts[0] += 1
        counts[1] = max(counts[1], SEVERITIES.index(event["severity"]))
        counts[2] = max(counts[2], time_ns)
    conn.executemany(
        "INSERT INTO actors VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (service, actor) DO UPDATE SET"
        " first_seen_unix_nano = min(first_seen_unix_nano, excluded.first_seen_unix_nano),"
        " last_seen_unix_nano = max(last_seen_unix_nano, excluded.last_seen_unix_nano),"
        " requests = requests + excluded.requests",
        [(service, actor, first, last, requests) for actor, (first, last, requests) in seen.items()],
    )
    conn.executemany(
        "INSERT INTO actor_routes VALUES (?, ?, ?, ?) ON CONFLICT (service, actor, route) DO UPDATE SET"
        " requests = requests + excluded.requests",
        [(service, actor, route, count) for (actor, route), count in routes.items()],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO actor_addresses VALUES (?, ?, ?)",
        [(service, actor, address) for actor, address in addresses],
    )
    conn.executemany(
        "INSERT INTO actor_events VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (service, actor, type) DO UPDATE SET"
        " count = count + excluded.count, severity_rank = max(severity_rank, excluded.severity_rank),"
        " last_seen_unix_nano = max(last_seen_unix_nano, excluded.last_seen_unix_nano)",
        [(service, actor, kind, *counts) for (actor, kind), counts in flagged.items()],
    )
    for actor in {actor for actor, _ in flagged}:
        score, _ = actor_risk(_event_counts(conn, service, actor))
        conn.execute("UPDATE actors SET risk = ? WHERE service = ? AND actor = ?", (score, service, actor))


def _saw(seen: dict[str, list[int]], actor: str, time_ns: int, requests: int) -> None:
    known = seen.get(actor)
    if known is None:
        seen[actor] = [time_ns, time_ns, requests]
    else:
        known[0] = min(known[0], time_ns)
        known[1] = max(known[1], time_ns)
        known[2] += requests


def actor_risk(event_counts: Mapping[str, tuple[int, str]]) -> tuple[int, list[str]]:
    """(0..100, reasons) from {event type: (count, highest severity)}: each type adds the points of its
    highest severity, so one actor tripping several detectors ranks above one tripping one many times."""
    score = 0
    reasons = []
    for kind, (count, severity) in sorted(event_counts.items()):
        points = SEVERITY_POINTS[severity]
        score += points
        reasons.append(f"{count} {kind} event(s), up to {severity} (+{points})")
    return min(score, 100), reasons


def _event_counts(conn: sqlite3.Connection, service: str, actor: str) -> dict[str, tuple[int, str]]:
    rows = conn.execute(
        "SELECT type, count, severity_rank FROM actor_events WHERE service = ? AND actor = ?",
        (service, actor),
    ).fetchall()
    return {kind: (count, SEVERITIES[rank]) for kind, count, rank in rows}


def list_actors(
    conn: sqlite3.Connection, params: Mapping[str, str], behaviour: Behaviour, now_ns: int
) -> dict[str, Any]:
    """``{"actors": [...], "next_cursor": ...}``, riskiest first, then most recently seen; each with its
    cluster (behaviour.py) and its deviation from its route's actors (actor_deviation.py)."""
    offset, limit = page_window(params)
    service = params.get("service")
    rows = conn.execute(
        "SELECT service, actor, first_seen_unix_nano, last_seen_unix_nano, requests FROM actors"
        " WHERE ? IS NULL OR service = ? ORDER BY risk DESC, last_seen_unix_nano DESC, service, actor"
        " LIMIT ? OFFSET ?",
        (service, service, limit + 1, offset),
    ).fetchall()
    windows: dict[str, LatestWindows] = {}
    actors = []
    for row in rows[:limit]:
        actor = _actor(conn, windows.setdefault(row[0], LatestWindows(conn, row[0])), *row)
        actor["cluster"] = behaviour.analysis(conn, actor["service"], now_ns).actors.get(actor["actor"])
        actor["baseline"] = behaviour.deviations(conn, actor["service"]).get(actor["actor"])
        actors.append(actor)
    return {"actors": actors, "next_cursor": str(offset + limit) if len(rows) > limit else None}


def _actor(
    conn: sqlite3.Connection,
    windows: LatestWindows,
    service: str,
    actor: str,
    first_seen: int,
    last_seen: int,
    requests: int,
) -> dict[str, Any]:
    kind, _, actor_id = actor.partition(":")
    routes = conn.execute(
        "SELECT route, requests FROM actor_routes WHERE service = ? AND actor = ?"
        " ORDER BY requests DESC, route LIMIT ?",
        (service, actor, _ROUTES_SHOWN),
    ).fetchall()
    (route_count,) = conn.execute(
        "SELECT count(*) FROM actor_routes WHERE service = ? AND actor = ?", (service, actor)
    ).fetchone()
    (address_count,) = conn.execute(
        "SELECT count(*) FROM actor_addresses WHERE service = ? AND actor = ?", (service, actor)
    ).fetchone()
    counts = _event_counts(conn, service, actor)
    score, reasons = actor_risk(counts)
    return {
        "service": service,
        "actor": actor,
        "kind": kind,
        "id": actor_id,
        "first_seen_unix_nano": first_seen,
        "last_seen_unix_nano": last_seen,
        "requests": requests,
        "routes": [{"route": route, "requests": count} for route, count in routes],
        "route_count": route_count,
        "client_addresses": 1 if kind == "ip" else address_count,
        "events": {event_type: count for event_type, (count, _) in counts.items()},
        "risk": {"score": score, "reasons": reasons},
        "last_window": _last_window(windows, actor, kind, actor_id, [route for route, _ in routes]),
    }


def _last_window(
    windows: LatestWindows, actor: str, kind: str, actor_id: str, routes: list[str]
) -> dict[str, Any] | None:
    """Global figures of the newest window the agents' sketches closed, merged over every process:
    the actor's calls and response bytes on its routes, and for a credential the distinct client IPs."""
    window = windows.window("actor_route_calls")
    if window is None:
        return None
    figures: dict[str, Any] = dict(window)
    for name, figure in (("actor_route_calls", "calls"), ("actor_route_bytes", "bytes")):
        estimates = [windows.estimate(name, f"{actor}\x1f{route}") for route in routes]
        figures[figure] = round(sum(estimate or 0.0 for estimate in estimates))
    if kind in _CREDENTIAL_KINDS:
        ips = windows.estimate("credential_ips", key=actor_id)
        figures["credential_ips"] = None if ips is None else round(ips)
    return figures
