"""Reading the merged inventory back: GET /v1/apis (endpoints with their risk) and
GET /v1/openapi.json (the service's inferred OpenAPI document)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from tracesec.collector.query import QueryError, offset_page
from tracesec.discovery import build_openapi, risk
from tracesec.discovery.records import PARAMETER_LOCATIONS
from tracesec.discovery.shapes import iter_fields, resolved_types

RECENT_ATTACKS_NS = 24 * 3600 * 1_000_000_000
"""Attack and anomaly events on an endpoint within this long count towards its risk."""
_SORTS = {
    "risk": lambda api: (-api["risk"]["score"], api["service"], api["route"], api["method"]),
    "calls": lambda api: (-api["calls"], api["service"], api["route"], api["method"]),
    "last_seen": lambda api: (-api["last_seen_unix_nano"], api["service"], api["route"], api["method"]),
    "route": lambda api: (api["service"], api["route"], api["method"]),
}


class UnknownService(LookupError):
    """No endpoint of this service was ever reported."""


def list_apis(conn: sqlite3.Connection, params: Mapping[str, str], now_ns: int) -> dict[str, Any]:
    """``{"apis": [...], "next_cursor": ...}``: merged endpoints, riskiest first unless ``sort`` says."""
    sort = params.get("sort", "risk")
    if sort not in _SORTS:
        raise QueryError(f"sort: expected one of {', '.join(_SORTS)}, got {sort!r}")
    service = params.get("service")
    rows = conn.execute(
        "SELECT record FROM endpoints WHERE ? IS NULL OR service = ?", (service, service)
    ).fetchall()
    attacks = _recent_attacks(conn, service, now_ns - RECENT_ATTACKS_NS)
    apis = [_api(record, attacks) for record in (json.loads(row[0]) for row in rows)]
    apis.sort(key=_SORTS[sort])
    return offset_page("apis", apis, params)


def openapi_document(conn: sqlite3.Connection, service: str) -> dict[str, Any]:
    rows = conn.execute("SELECT record FROM endpoints WHERE service = ?", (service,)).fetchall()
    if not rows:
        raise UnknownService(f"no API inventory for service {service!r}: no agent of it reported one yet")
    return build_openapi(service, [json.loads(row[0]) for row in rows])


def _recent_attacks(
    conn: sqlite3.Connection, service: str | None, since_ns: int
) -> dict[tuple[str, str], int]:
    """(service, route) -> attack or anomaly events since ``since_ns`` (drift is no attack)."""
    rows = conn.execute(
        "SELECT service, json_extract(attributes, '$.\"http.route\"') AS route, count(*) FROM events"
        " WHERE time_unix_nano >= ? AND (? IS NULL OR service = ?) AND type != 'api_drift'"
        " AND route IS NOT NULL GROUP BY service, route",
        (since_ns, service, service),
    ).fetchall()
    return {(service, route): count for service, route, count in rows}


def _api(record: Mapping[str, Any], attacks: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    recent = attacks.get((record["service"], record["route"]), 0)
    score, reasons = risk(record, recent)
    return {
        "service": record["service"],
        "method": record["method"],
        "route": record["route"],
        "route_source": record["route_source"],
        "first_seen_unix_nano": record["first_seen_unix_nano"],
        "last_seen_unix_nano": record["last_seen_unix_nano"],
        "calls": record["calls"],
        "status_codes": record["status_codes"],
        "auth": record["auth"],
        "parameters": _parameters(record),
        "labels": record["labels"],
        "downstream": [":".join(pair) for pair in record["downstream"]],
        "recent_attacks": recent,
        "risk": {"score": score, "reasons": reasons},
    }


def _parameters(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Parameters by location, then request-body fields (location ``body``, dotted names)."""
    found = [
        _parameter(location, name, shape)
        for location in PARAMETER_LOCATIONS
        for name, shape in record["parameters"][location].items()
    ]
    for media_type, body in record["request_bodies"].items():
        found += [_parameter("body", name, shape, media_type) for name, shape in iter_fields(body)]
    return found


def _parameter(
    location: str, name: str, shape: Mapping[str, Any], media_type: str | None = None
) -> dict[str, Any]:
    parameter = {
        "in": location,
        "name": name,
        "types": resolved_types(shape),
        "formats": sorted(shape.get("formats", ())),
        "labels": sorted(shape.get("labels", ())),
    }
    if media_type is not None:
        parameter["media_type"] = media_type
    return parameter
