"""API drift: what changed between the stored record of an endpoint and its newly merged one.

Each finding becomes an ``api_drift`` event: a new endpoint, a new parameter or request field, a change
of type in a parameter or a request/response field (integer to number is not a change), or an endpoint
that required authentication now answering requests that carry none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tracesec.discovery.auth import NO_AUTH
from tracesec.discovery.records import PARAMETER_LOCATIONS
from tracesec.discovery.shapes import iter_fields, type_kinds

DriftFinding = dict[str, Any]


def diff_inventory(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[DriftFinding]:
    """Drift findings for one endpoint; ``old`` is None when the endpoint was not known before."""
    if old is None:
        auth = sorted(new["auth"])
        return [_finding(new, "new_endpoint", f"new endpoint, auth seen: {', '.join(auth) or 'unknown'}")]
    findings = []
    old_fields = dict(_fields(old))
    for (location, name), shape in _fields(new):
        before = old_fields.get((location, name))
        if before is None:
            if location != "response":
                message = f"new {location} parameter {name!r}"
                findings.append(_finding(new, "new_parameter", message, location=location, name=name))
            continue
        old_kinds, new_kinds = type_kinds(before), type_kinds(shape)
        if old_kinds and new_kinds != old_kinds:
            findings.append(
                _finding(
                    new,
                    "type_change",
                    f"{location} {name!r} changed type from {_join(old_kinds)} to {_join(new_kinds)}",
                    location=location,
                    name=name,
                    old_types=sorted(old_kinds),
                    new_types=sorted(new_kinds),
                )
            )
    if _required_auth(old) and new["auth"].get(NO_AUTH):
        findings.append(
            _finding(
                new,
                "auth_removed",
                "endpoint that required authentication answered a request without any",
                old_auth=sorted(old["auth"]),
            )
        )
    return findings


def _required_auth(record: Mapping[str, Any]) -> bool:
    return bool(record["auth"]) and not record["auth"].get(NO_AUTH)


def _fields(record: Mapping[str, Any]) -> Iterator[tuple[tuple[str, str], Mapping[str, Any]]]:
    """((location, name), shape) for every parameter, request-body field and response field; body
    fields are named by their dotted path (response ones after their status), whatever the media type."""
    for location in PARAMETER_LOCATIONS:
        for name, shape in record["parameters"][location].items():
            yield (location, name), shape
    for body in record["request_bodies"].values():
        for path, shape in iter_fields(body):
            yield ("body", path), shape
    for status, bodies in record["responses"].items():
        for body in bodies.values():
            for path, shape in iter_fields(body):
                yield ("response", f"{status} {path}"), shape


def _join(kinds: frozenset[str]) -> str:
    return "/".join(sorted(kinds)) or "unknown"


def _finding(record: Mapping[str, Any], drift: str, message: str, **detail: Any) -> DriftFinding:
    return {
        "type": "api_drift",
        "drift": drift,
        "service": record["service"],
        "method": record["method"],
        "route": record["route"],
        "message": message,
        **detail,
    }
