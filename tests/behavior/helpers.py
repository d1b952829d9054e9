"""Building requests the way the core fills them, for the behaviour engine's tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext

CONFIG = Config.load({})


def request(
    path: str = "/api/orders/1",
    *,
    route: str | None = "/api/orders/{order_id}",
    params: Mapping[str, Any] | None = None,
    ip: str = "203.0.113.7",
    headers: Mapping[str, str] | None = None,
    status: int = 200,
    size: int = 1000,
    user: str | None = None,
    body: bytes = b"",
) -> RequestContext:
    environ = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in (headers or {}).items()}
    ctx = RequestContext(
        CONFIG,
        "test",
        "GET",
        "http",
        "api.example",
        path,
        "",
        EnvironHeaders(environ),
        ip,
        50000,
    )
    ctx.route, ctx.path_params, ctx.status_code, ctx.response_body_size = route, params, status, size
    if user is not None:
        ctx.user = (user, {})
    if body:
        ctx.request_body = bytearray(body)
    return ctx
