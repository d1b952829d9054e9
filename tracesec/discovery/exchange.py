"""Folding one sampled request/response into its endpoint record.

The request side (parameters, body, auth, clients) is learnt only from requests the app accepted (status
below 400): a scanner's junk parameters and a client's forgotten ones answered with 4xx say nothing about
the API. Responses are learnt for every status, since error bodies are part of the API too.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from tracesec.discovery.auth import auth_schemes, cookie_names, credential_parameters
from tracesec.discovery.records import MAX_DOWNSTREAM, EndpointRecord, add_downstream
from tracesec.discovery.shapes import (
    MAX_PROPERTIES,
    Shape,
    increment,
    new_shape,
    observe,
    observe_kind,
    observe_presence,
    observe_text,
    observe_unknown,
)

if TYPE_CHECKING:
    from tracesec.context import RequestContext

MAX_PARSED_BODY = 256 * 1024
"""Bodies larger than this are counted but not parsed: inference must stay cheap on the worker."""

# Headers every client or proxy sends: they describe the transport, not the API.
_TRANSPORT_HEADERS = frozenset(
    (
        *("host", "connection", "keep-alive", "upgrade", "te", "trailer", "transfer-encoding", "expect"),
        *("content-type", "content-length", "content-encoding", "authorization", "cookie", "priority"),
        *("user-agent", "accept", "accept-encoding", "accept-language", "accept-charset", "dnt"),
        *("cache-control", "pragma", "origin", "referer", "range", "purpose", "upgrade-insecure-requests"),
        *("if-none-match", "if-modified-since", "if-match", "if-range", "if-unmodified-since"),
        *("via", "forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip"),
        *("x-forwarded-port", "x-request-start", "x-amzn-trace-id", "x-requested-with"),
        *("traceparent", "tracestate", "baggage"),
    )
)
_TRANSPORT_HEADER_PREFIXES = ("sec-", "cf-", "x-envoy-", "x-b3-", "proxy-")
_MULTIPART_FIELD = re.compile(rb'content-disposition:\s*form-data;\s*name="([^"]*)"(;\s*filename=)?', re.I)


def media_type(content_type: str | None) -> str | None:
    """``application/json`` from ``application/json; charset=utf-8``."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def observe_exchange(
    record: EndpointRecord, ctx: RequestContext, path_values: Mapping[str, Any] | None, enums: bool
) -> None:
    status = ctx.status_code or 500
    _observe_response(record, ctx, str(status), enums)
    if status < 400:
        record["samples"] += 1
        _count_client(record, ctx.client_ip)
        if ctx.downstream and len(record["downstream"]) < MAX_DOWNSTREAM:
            add_downstream(record, ctx.downstream)
        _observe_parameters(record, ctx, path_values, enums)
        _observe_request_body(record, ctx, enums)


def _observe_parameters(
    record: EndpointRecord, ctx: RequestContext, path_values: Mapping[str, Any] | None, enums: bool
) -> None:
    """Path, query, header and cookie parameters, and the auth schemes; the headers, query parameters
    and cookies that carried credentials are counted under their scheme, not as parameters."""
    header_names = [name for name, _ in ctx.headers.items()]
    query = parse_qsl(ctx.query_string, keep_blank_values=True) if ctx.query_string else []
    cookies = cookie_names(ctx.headers.get("cookie"))
    schemes = auth_schemes(ctx.headers.get("authorization"), header_names, cookies, (k for k, _ in query))
    for scheme in schemes:
        increment(record["auth"], scheme)
    credentials = credential_parameters(schemes)
    parameters = record["parameters"]
    for name, value in (path_values or {}).items():
        shape = _parameter(parameters["path"], name)
        if shape is not None:
            if isinstance(value, str):
                observe_text(shape, value, name, enums)
            else:
                observe(shape, value, name, enums)
    _observe_query(
        parameters["query"], [pair for pair in query if ("query", pair[0]) not in credentials], enums
    )
    for name in dict.fromkeys(header_names):
        if (
            name not in _TRANSPORT_HEADERS
            and not name.startswith(_TRANSPORT_HEADER_PREFIXES)
            and ("header", name) not in credentials
        ):
            _observe_name(parameters["header"], name)
    for name in dict.fromkeys(cookies):
        if ("cookie", name) not in credentials:
            _observe_name(parameters["cookie"], name)


def _parameter(parameters: dict[str, Shape], name: str) -> Shape | None:
    shape = parameters.get(name)
    if shape is None and len(parameters) < MAX_PROPERTIES:
        shape = parameters[name] = new_shape()
    return shape


def _observe_name(parameters: dict[str, Shape], name: str) -> None:
    shape = _parameter(parameters, name)
    if shape is not None:
        observe_presence(shape, name)


def _observe_query(parameters: dict[str, Shape], pairs: list[tuple[str, str]], enums: bool) -> None:
    """A name given once is a scalar; given several times, an array (``?tag=a&tag=b``), as frameworks
    document list parameters."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    for name, values in grouped.items():
        shape = _parameter(parameters, name)
        if shape is None:
            continue
        if len(values) == 1:
            observe_text(shape, values[0], name, enums)
        else:
            observe_kind(shape, "array")
            items = shape.setdefault("items", new_shape())
            for value in values:
                observe_text(items, value, name, enums)


def _observe_request_body(record: EndpointRecord, ctx: RequestContext, enums: bool) -> None:
    media = media_type(ctx.headers.get("content-type"))
    if media is None or (not ctx.request_body and not ctx.request_body_size):
        return
    shape = record["request_bodies"].setdefault(media, new_shape())
    body = ctx.request_body
    if body is None or ctx.request_body_truncated or len(body) > MAX_PARSED_BODY:
        observe_unknown(shape)
    elif is_json(media):
        _observe_json(shape, body, enums)
    elif media == "application/x-www-form-urlencoded":
        observe_kind(shape, "object")
        fields = shape.setdefault("properties", {})
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        for name, value in dict(form).items():
            field = _parameter(fields, name)
            if field is not None:
                observe_text(field, value, name, enums)
    elif media == "multipart/form-data":
        _observe_multipart(shape, body)
    else:
        observe_unknown(shape)


def _observe_multipart(shape: Shape, body: bytearray) -> None:
    """Field names and which fields are files; values are not read (they may be large uploads)."""
    observe_kind(shape, "object")
    fields = shape.setdefault("properties", {})
    for match in _MULTIPART_FIELD.finditer(body):
        name = match.group(1).decode("utf-8", "replace")
        field = _parameter(fields, name)
        if field is None:
            continue
        observe_presence(field, name)
        if match.group(2):
            increment(field.setdefault("formats", {}), "binary")


def _observe_response(record: EndpointRecord, ctx: RequestContext, status: str, enums: bool) -> None:
    media = media_type(ctx.response_header("content-type"))
    if media is None:
        return
    shape = record["responses"].setdefault(status, {}).setdefault(media, new_shape())
    body = ctx.response_body
    if not is_json(media) or body is None or ctx.response_body_truncated or len(body) > MAX_PARSED_BODY:
        observe_unknown(shape)
    else:
        _observe_json(shape, body, enums)


def _observe_json(shape: Shape, body: bytes | bytearray, enums: bool) -> None:
    try:
        document = json.loads(body)
    except ValueError:
        observe_unknown(shape)
    else:
        observe(shape, document, "", enums)


def _count_client(record: EndpointRecord, address: str) -> None:
    """Whether callers come from the internet (global addresses) or from inside."""
    try:
        kind = "public" if ipaddress.ip_address(address).is_global else "private"
    except ValueError:
        kind = "unknown"
    increment(record["clients"], kind)
