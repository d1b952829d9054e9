"""Endpoint records: what is known about one endpoint (service, method, route), as a JSON-friendly dict.

The agent ships records as deltas (what it saw since its last export); the collector folds them together
with :func:`merge_endpoint_records`, which is exact because every figure is a count, a min/max or a set.
The format is documented in docs/discovery.md.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from tracesec.discovery.shapes import Shape, add_counts, iter_fields, merge_shape_maps

RECORD_VERSION = 1
PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")
MAX_DOWNSTREAM = 50
"""Distinct downstream dependencies kept per endpoint."""

EndpointRecord = dict[str, Any]


def new_record(service: str, method: str, route: str, route_source: str, time_ns: int) -> EndpointRecord:
    return {
        "version": RECORD_VERSION,
        "service": service,
        "method": method,
        "route": route,
        "route_source": route_source,
        "first_seen_unix_nano": time_ns,
        "last_seen_unix_nano": time_ns,
        "calls": 0,
        "samples": 0,
        "status_codes": {},
        "auth": {},
        "clients": {},
        "parameters": {location: {} for location in PARAMETER_LOCATIONS},
        "request_bodies": {},
        "responses": {},
        "downstream": [],
        "labels": {"request": [], "response": []},
    }


def endpoint_key(record: Mapping[str, Any]) -> tuple[str, str, str]:
    return (record["service"], record["method"], record["route"])


def add_downstream(record: EndpointRecord, pairs: Iterable[Iterable[str]]) -> None:
    known: list[list[str]] = record["downstream"]
    for pair in pairs:
        entry = list(pair)
        if entry not in known and len(known) < MAX_DOWNSTREAM:
            known.append(entry)


def summarise_labels(record: EndpointRecord) -> None:
    """Refresh ``labels``: the sensitive labels anywhere in the request side and in the responses."""
    request: set[str] = set()
    for parameters in record["parameters"].values():
        for shape in parameters.values():
            request.update(_labels_within(shape))
    for shape in record["request_bodies"].values():
        request.update(_labels_within(shape))
    response: set[str] = set()
    for bodies in record["responses"].values():
        for shape in bodies.values():
            response.update(_labels_within(shape))
    record["labels"] = {"request": sorted(request), "response": sorted(response)}


def _labels_within(shape: Shape) -> set[str]:
    found = set(shape.get("labels", ()))
    for _, field in iter_fields(shape):
        found.update(field.get("labels", ()))
    return found


def merge_endpoint_records(records: Iterable[Mapping[str, Any]]) -> EndpointRecord:
    """One record from many records of the same endpoint (from several processes, hosts or exports):
    counts add, first/last seen take the min/max, shapes merge, labels and dependencies unite."""
    pending = iter(records)
    first = next(pending, None)
    if first is None:
        raise ValueError("merge_endpoint_records needs at least one record")
    merged: EndpointRecord = copy.deepcopy(dict(first))
    key = endpoint_key(merged)
    for record in pending:
        if endpoint_key(record) != key:
            raise ValueError(f"cannot merge records of different endpoints: {key} and {endpoint_key(record)}")
        _merge_into(merged, record)
    summarise_labels(merged)
    return merged


def _merge_into(target: EndpointRecord, source: Mapping[str, Any]) -> None:
    target["first_seen_unix_nano"] = min(target["first_seen_unix_nano"], source["first_seen_unix_nano"])
    target["last_seen_unix_nano"] = max(target["last_seen_unix_nano"], source["last_seen_unix_nano"])
    if source["route_source"] == "framework":
        target["route_source"] = "framework"
    target["calls"] += source["calls"]
    target["samples"] += source["samples"]
    for counts in ("status_codes", "auth", "clients"):
        add_counts(target[counts], source[counts])
    for location in PARAMETER_LOCATIONS:
        merge_shape_maps(target["parameters"][location], source["parameters"][location])
    merge_shape_maps(target["request_bodies"], source["request_bodies"])
    for status, bodies in source["responses"].items():
        merge_shape_maps(target["responses"].setdefault(status, {}), bodies)
    add_downstream(target, source["downstream"])
