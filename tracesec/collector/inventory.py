"""Endpoint-record deltas in: checked at ingest, folded into one merged record per (service, method,
route) in the batch's own transaction, with drift findings stored as ``api_drift`` events.

Drift rule: a service's first ``drift_grace`` (measured on the collector's clock from the first batch of
any of its instances) is its learning period: records are merged but nothing is reported, so a first
sighting does not raise one event per endpoint. After it, every finding of
:func:`tracesec.discovery.diff_inventory` (new endpoint, new parameter, type change, auth removed) is
stored as an event.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from tracesec.collector.store import Event, dumps, insert_events
from tracesec.collector.validation import InvalidBatch
from tracesec.discovery import diff_inventory, merge_endpoint_records
from tracesec.discovery.records import PARAMETER_LOCATIONS, RECORD_VERSION
from tracesec.discovery.shapes import MAX_DEPTH

_MAX_INT64 = 2**63 - 1
_ROUTE_SOURCES = frozenset({"framework", "path"})
_COUNT_MAPS = ("status_codes", "auth", "clients")
_DRIFT_SEVERITY = {"auth_removed": "high", "type_change": "medium"}  # others: low


def check_inventory(records: list[Any]) -> None:
    """Raise InvalidBatch naming the first field of an endpoint record that breaks its format
    (docs/discovery.md), so a bad record is refused with the batch instead of failing the merge."""
    for index, record in enumerate(records):
        _check_record(record, f"inventory[{index}]")


def _check_record(record: Mapping[str, Any], path: str) -> None:
    if record.get("version") != RECORD_VERSION:
        raise InvalidBatch(f"{path}.version", f"expected {RECORD_VERSION}")
    for name in ("service", "method", "route"):
        if not isinstance(record.get(name), str) or not record[name]:
            raise InvalidBatch(f"{path}.{name}", "expected a non-empty string")
    if record.get("route_source") not in _ROUTE_SOURCES:
        raise InvalidBatch(f"{path}.route_source", f"expected one of {', '.join(sorted(_ROUTE_SOURCES))}")
    for name in ("first_seen_unix_nano", "last_seen_unix_nano", "calls", "samples"):
        _check_count(record.get(name), f"{path}.{name}")
    for name in _COUNT_MAPS:
        _check_counts(record.get(name), f"{path}.{name}")
    parameters = _object(record.get("parameters"), f"{path}.parameters")
    for location in PARAMETER_LOCATIONS:
        _check_shape_map(parameters.get(location), f"{path}.parameters.{location}", 0)
    _check_shape_map(record.get("request_bodies"), f"{path}.request_bodies", 0)
    for status, bodies in _object(record.get("responses"), f"{path}.responses").items():
        _check_shape_map(bodies, f"{path}.responses[{status!r}]", 0)
    downstream = record.get("downstream")
    if not isinstance(downstream, list) or not all(
        isinstance(pair, list) and all(isinstance(part, str) for part in pair) for pair in downstream
    ):
        raise InvalidBatch(f"{path}.downstream", "expected an array of [kind, name] string pairs")
    _object(record.get("labels"), f"{path}.labels")


def _check_shape_map(value: Any, path: str, depth: int) -> None:
    for name, shape in _object(value, path).items():
        _check_shape(shape, f"{path}[{name!r}]", depth)


def _check_shape(shape: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH + 1:
        raise InvalidBatch(path, f"nested deeper than {MAX_DEPTH}")
    _object(shape, path)
    _check_count(shape.get("seen"), f"{path}.seen")
    _check_counts(shape.get("types"), f"{path}.types")
    for name in ("formats", "labels"):
        if name in shape:
            _check_counts(shape[name], f"{path}.{name}")
    if "enum" in shape and not (
        isinstance(shape["enum"], list) and all(isinstance(value, str) for value in shape["enum"])
    ):
        raise InvalidBatch(f"{path}.enum", "expected an array of strings")
    if "enum_open" in shape and not isinstance(shape["enum_open"], bool):
        raise InvalidBatch(f"{path}.enum_open", "expected true or false")
    if "properties" in shape:
        _check_shape_map(shape["properties"], f"{path}.properties", depth + 1)
    if "items" in shape:
        _check_shape(shape["items"], f"{path}.items", depth + 1)


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidBatch(path, "expected an object")
    return value


def _check_counts(value: Any, path: str) -> None:
    for key, count in _object(value, path).items():
        _check_count(count, f"{path}[{key!r}]")


def _check_count(value: Any, path: str) -> None:
    if type(value) is not int or not 0 <= value <= _MAX_INT64:
        raise InvalidBatch(path, "expected a whole number from 0 to 2**63-1")


def fold_inventory(
    conn: sqlite3.Connection,
    service: str,
    instance: str,
    records: Iterable[dict[str, Any]],
    received_ns: int,
    drift_grace_ns: int,
) -> None:
    """Merge checked records (deltas) into the stored endpoints, inside the caller's transaction. The
    batch's service names the endpoint, whatever the record says."""
    report = _past_grace(conn, service, received_ns, drift_grace_ns)
    drift: list[Event] = []
    for record in records:
        key = (service, record["method"], record["route"])
        delta = {**record, "service": service}
        row = conn.execute(
            "SELECT record FROM endpoints WHERE service = ? AND method = ? AND route = ?", key
        ).fetchone()
        old = None if row is None else json.loads(row[0])
        merged = merge_endpoint_records([delta] if old is None else [old, delta])
        if report:
            drift += [_drift_event(finding, received_ns) for finding in diff_inventory(old, merged)]
        conn.execute(
            "INSERT OR REPLACE INTO endpoints VALUES (?, ?, ?, ?, ?)", (*key, dumps(merged), received_ns)
        )
    insert_events(conn, service, instance, drift)


def _past_grace(conn: sqlite3.Connection, service: str, now_ns: int, grace_ns: int) -> bool:
    (first_seen,) = conn.execute(
        "SELECT min(first_seen_unix_nano) FROM instances WHERE service = ?", (service,)
    ).fetchone()
    return first_seen is not None and now_ns - first_seen >= grace_ns


def _drift_event(finding: Mapping[str, Any], time_ns: int) -> Event:
    """An ``api_drift`` event: the finding's fields as ``tracesec.drift.*`` attributes (``drift`` as
    ``tracesec.drift.kind``), the endpoint under the OpenTelemetry names."""
    attributes: dict[str, Any] = {
        "http.request.method": finding["method"],
        "http.route": finding["route"],
        "tracesec.drift.kind": finding["drift"],
    }
    for name, value in finding.items():
        if name not in ("type", "drift", "service", "method", "route"):
            attributes[f"tracesec.drift.{name}"] = value
    return {
        "event_id": uuid.uuid4().hex,
        "type": "api_drift",
        "severity": _DRIFT_SEVERITY.get(finding["drift"], "low"),
        "blocked": False,
        "time_unix_nano": time_ns,
        "trace_id": None,
        "span_id": None,
        "attributes": attributes,
    }
