"""Finished requests built the way the request-path cores leave them for the export worker."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext

CONFIG = Config.load({}, service="shop")

MakeRequest = Callable[..., RequestContext]


def build_request(
    method: str = "GET",
    path: str = "/",
    *,
    route: str | None = None,
    path_params: Mapping[str, Any] | None = None,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    body: bytes | None = None,
    content_type: str | None = None,
    truncated: bool = False,
    status: int = 200,
    response: Any = None,
    response_type: str = "application/json",
    client: str = "93.184.216.34",
    downstream: Iterable[tuple[str, str]] = (),
) -> RequestContext:
    environ: dict[str, Any] = {}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    if json_body is not None:
        body = json.dumps(json_body).encode()
        content_type = content_type or "application/json"
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    ctx = RequestContext(
        CONFIG,
        "test",
        method,
        "http",
        "shop.example",
        path,
        query,
        EnvironHeaders(environ),
        client,
        50000,
    )
    ctx.route = route
    ctx.path_params = path_params
    if body is not None:
        ctx.request_body = bytearray(body)
        ctx.request_body_size = len(body)
        ctx.request_body_truncated = truncated
    ctx.status_code = status
    ctx.response_headers = [("content-type", response_type)]
    if response is not None:
        ctx.response_body = bytearray(json.dumps(response).encode())
        ctx.response_body_size = len(ctx.response_body)
    for kind, name in downstream:
        ctx.add_dependency(kind, name)
    return ctx


@pytest.fixture
def make_request() -> MakeRequest:
    return build_request
