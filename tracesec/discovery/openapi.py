"""An OpenAPI 3.1 document from endpoint records.

Schemas follow the shape FastAPI (pydantic 2) documents: one ``type`` per schema, ``anyOf`` with
``{"type": "null"}`` for optional values, ``required`` lists in object schemas, path parameters always
required. What only tracesec knows goes in ``x-tracesec-*`` extensions (labels, call counts, first/last
seen), which OpenAPI reserves for tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from tracesec.discovery.auth import NO_AUTH
from tracesec.discovery.records import PARAMETER_LOCATIONS, endpoint_key, merge_endpoint_records
from tracesec.discovery.routes import TEMPLATE_PARAMETER
from tracesec.discovery.shapes import (
    closed_enum,
    required_properties,
    resolved_types,
    uniform_format,
)

OPENAPI_VERSION = "3.1.0"
_COMPONENT_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def build_openapi(service: str, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The service's inferred API; records of the same endpoint are merged first."""
    grouped: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        if record["service"] == service:
            grouped.setdefault(endpoint_key(record), []).append(record)
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, dict[str, Any]] = {}
    for key in sorted(grouped):
        record = merge_endpoint_records(grouped[key])
        paths.setdefault(record["route"], {})[record["method"].lower()] = _operation(record, schemes)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": service,
            "version": "inferred",
            "description": "Inferred by tracesec from observed traffic.",
        },
        "paths": paths,
    }
    if schemes:
        document["components"] = {"securitySchemes": dict(sorted(schemes.items()))}
    return document


def _operation(record: Mapping[str, Any], schemes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    auth_keys = [key for key in record["auth"] if key != NO_AUTH]
    operation: dict[str, Any] = {
        "parameters": _parameters(record),
        "responses": _responses(record),
        "x-tracesec-calls": record["calls"],
        "x-tracesec-first-seen-unix-nano": record["first_seen_unix_nano"],
        "x-tracesec-last-seen-unix-nano": record["last_seen_unix_nano"],
        "x-tracesec-labels": record["labels"],
    }
    if not operation["parameters"]:
        del operation["parameters"]
    body = _request_body(record)
    if body:
        operation["requestBody"] = body
    if record["auth"]:
        requirements: list[dict[str, list[str]]] = []
        for key in sorted(auth_keys):
            name, scheme = _security_scheme(key)
            schemes[name] = scheme
            requirements.append({name: []})
        if record["auth"].get(NO_AUTH):
            requirements.append({})
        operation["security"] = requirements
    return operation


def _parameters(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Path parameters in template order (all required), then query, header and cookie ones."""
    observed = record["parameters"]
    parameters = []
    for name in TEMPLATE_PARAMETER.findall(record["route"]):
        shape = observed["path"].get(name)
        schema = shape_to_schema(shape) if shape else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    for location in PARAMETER_LOCATIONS[1:]:
        for name, shape in observed[location].items():
            parameters.append(
                {
                    "name": name,
                    "in": location,
                    "required": bool(record["samples"]) and shape["seen"] >= record["samples"],
                    "schema": shape_to_schema(shape),
                }
            )
    return parameters


def _request_body(record: Mapping[str, Any]) -> dict[str, Any] | None:
    bodies = record["request_bodies"]
    if not bodies:
        return None
    seen = sum(shape["seen"] for shape in bodies.values())
    return {
        "required": bool(record["samples"]) and seen >= record["samples"],
        "content": {media: {"schema": shape_to_schema(shape)} for media, shape in sorted(bodies.items())},
    }


def _responses(record: Mapping[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in sorted(set(record["status_codes"]) | set(record["responses"])):
        response: dict[str, Any] = {"description": _status_description(status)}
        bodies = record["responses"].get(status)
        if bodies:
            response["content"] = {
                media: {"schema": shape_to_schema(shape)} for media, shape in sorted(bodies.items())
            }
        responses[status] = response
    return responses or {"default": {"description": "No response observed"}}


def _status_description(status: str) -> str:
    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:
        return "Response"


def _security_scheme(key: str) -> tuple[str, dict[str, Any]]:
    """(component name, OpenAPI security scheme) for an auth key from auth.auth_schemes."""
    if key.startswith("api_key:"):
        _, location, name = key.split(":", 2)
        return _component_name(f"apiKey_{location}_{name}"), {"type": "apiKey", "in": location, "name": name}
    if key.startswith("cookie:"):
        name = key.split(":", 1)[1]
        return _component_name(f"cookie_{name}"), {"type": "apiKey", "in": "cookie", "name": name}
    if key == "jwt":
        return "bearerJWT", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    return _component_name(f"http_{key}"), {"type": "http", "scheme": key}


def _component_name(text: str) -> str:
    return _COMPONENT_NAME_UNSAFE.sub("_", text)


def shape_to_schema(shape: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema (OpenAPI 3.1 dialect) of one shape; a shape never seen typed is ``{}``, any."""
    variants = [_typed_schema(shape, kind) for kind in resolved_types(shape)]
    if shape["types"].get("null"):
        variants.append({"type": "null"})
    schema: dict[str, Any]
    if not variants:
        schema = {}
    elif len(variants) == 1:
        schema = variants[0]
    else:
        schema = {"anyOf": variants}
    labels = shape.get("labels")
    if labels:
        schema["x-tracesec-labels"] = sorted(labels)
    return schema


def _typed_schema(shape: Mapping[str, Any], kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if kind == "string":
        fmt = uniform_format(shape)
        if fmt:
            schema["format"] = fmt
        values = closed_enum(shape)
        if values:
            schema["enum"] = values
    elif kind == "object":
        schema["properties"] = {
            name: shape_to_schema(field) for name, field in shape.get("properties", {}).items()
        }
        required = required_properties(shape)
        if required:
            schema["required"] = required
    elif kind == "array" and "items" in shape:
        schema["items"] = shape_to_schema(shape["items"])
    return schema
