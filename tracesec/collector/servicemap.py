"""The service map: which hosts, databases and processes each service depends on, kept up to date at ingest
and read by GET /v1/service-map.

A server span's ``tracesec.dependencies`` (``"postgresql:appdb"``, ``"http:api.example.com:443"``) names
what one request used; it is the source, counted once per request. Client spans are counted only in traces
whose server span listed no dependencies (an agent that did not record them), named ``"<db.system>:<
server.address>"`` for a database call and ``"http:<server.address>[:<server.port>]"`` otherwise.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any


def fold_dependencies(conn: sqlite3.Connection, service: str, spans: Iterable[Mapping[str, Any]]) -> None:
    """Count a batch's dependencies, inside the caller's transaction."""
    uses: dict[str, list[int]] = {}  # target -> [calls, first, last]
    described: set[str] = set()  # traces whose server span listed its dependencies
    clients: list[Mapping[str, Any]] = []
    for span in spans:
        if span["kind"] == "client":
            clients.append(span)
            continue
        targets = span["attributes"].get("tracesec.dependencies")
        if span["kind"] == "server" and type(targets) is list and targets:
            described.add(span["trace_id"])
            for target in targets:
                _use(uses, str(target), span["start_time_unix_nano"])
    for span in clients:
        target = _client_target(span["attributes"])
        if target is not None and span["trace_id"] not in described:
            _use(uses, target, span["start_time_unix_nano"])
    conn.executemany(
        "INSERT INTO dependencies VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, target) DO UPDATE SET"
        " calls = calls + excluded.calls,"
        " first_seen_unix_nano = min(first_seen_unix_nano, excluded.first_seen_unix_nano),"
        " last_seen_unix_nano = max(last_seen_unix_nano, excluded.last_seen_unix_nano)",
        [(service, target, *figures) for target, figures in uses.items()],
    )


def _use(uses: dict[str, list[int]], target: str, time_ns: int) -> None:
    figures = uses.get(target)
    if figures is None:
        uses[target] = [1, time_ns, time_ns]
    else:
        figures[0] += 1
        figures[1] = min(figures[1], time_ns)
        figures[2] = max(figures[2], time_ns)


def _client_target(attributes: Mapping[str, Any]) -> str | None:
    address = attributes.get("server.address")
    system = attributes.get("db.system")
    if type(system) is str and system:
        return f"{system}:{address}" if type(address) is str and address else system
    if type(address) is not str or not address:
        return None
    port = attributes.get("server.port")
    return f"http:{address}:{port}" if type(port) is int else f"http:{address}"


def service_map(conn: sqlite3.Connection) -> dict[str, Any]:
    """``{"services": [{"name", "hosts", "instances"}], "edges": [{"source", "target", "kind", "calls",
    "first_seen_unix_nano", "last_seen_unix_nano"}]}``: nodes for every reporting service, edges to
    what they call (``kind`` is the target's prefix: ``http``, ``postgresql``, ``process``...)."""
    services: dict[str, dict[str, Any]] = {}
    for name, host, instances in conn.execute(
        "SELECT service, json_extract(resource, '$.\"host.name\"'), count(*) FROM instances"
        " GROUP BY service, 2 ORDER BY service, 2"
    ):
        node = services.setdefault(name, {"name": name, "hosts": [], "instances": 0})
        node["hosts"].append(host)
        node["instances"] += instances
    edges = [
        {
            "source": source,
            "target": target,
            "kind": target.partition(":")[0],
            "calls": calls,
            "first_seen_unix_nano": first_seen,
            "last_seen_unix_nano": last_seen,
        }
        for source, target, calls, first_seen, last_seen in conn.execute(
            "SELECT service, target, calls, first_seen_unix_nano, last_seen_unix_nano FROM dependencies"
            " ORDER BY service, calls DESC, target"
        )
    ]
    return {"services": list(services.values()), "edges": edges}
