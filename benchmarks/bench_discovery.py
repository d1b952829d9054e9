"""Cost of API discovery per finished request on the export worker: sampled (parsed and inferred) and
unsampled (only counted) requests, for a routed JSON endpoint and for an unrouted raw path."""

from __future__ import annotations

import json

from benchmarks.harness import interleaved, report, row
from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext
from tracesec.discovery import Discovery

CONFIG = Config.load({}, service="bench")
SAMPLED_BUDGET_US = 50.0
UNSAMPLED_BUDGET_US = 2.0


def order_request(route: str | None) -> RequestContext:
    """A typical JSON API call: a path id, two query parameters, a bearer JWT, a JSON body and response."""
    environ = {
        "HTTP_AUTHORIZATION": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
        "HTTP_USER_AGENT": "bench/1.0",
        "HTTP_ACCEPT": "application/json",
        "HTTP_X_REQUEST_ID": "4bf92f3577b34da6",
        "CONTENT_TYPE": "application/json",
    }
    ctx = RequestContext(
        CONFIG,
        "bench",
        "POST",
        "http",
        "shop.example",
        "/users/42/orders",
        "expand=items&limit=10",
        EnvironHeaders(environ),
        "93.184.216.34",
        50000,
    )
    ctx.route = route
    ctx.path_params = {"uid": 42} if route else None
    body = {
        "item_id": 7,
        "quantity": 2,
        "email": "ann@example.com",
        "shipping": {"street": "1 Main Street", "postcode": "12345", "country": "DE"},
        "gift": False,
    }
    ctx.request_body = bytearray(json.dumps(body).encode())
    ctx.request_body_size = len(ctx.request_body)
    ctx.status_code = 201
    ctx.response_headers = [("content-type", "application/json")]
    response = {"order_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "total": 39.0, "status": "created"}
    ctx.response_body = bytearray(json.dumps(response).encode())
    ctx.response_body_size = len(ctx.response_body)
    return ctx


def main() -> None:
    routed, unrouted = order_request("/users/<int:uid>/orders"), order_request(None)
    always = Discovery(sample_first=0, sample_every=1)
    never = Discovery(sample_first=0, sample_every=10**9)
    figures = interleaved(
        {
            "sampled, routed": lambda: always.process(routed),
            "sampled, raw path": lambda: always.process(unrouted),
            "unsampled, routed": lambda: never.process(routed),
            "unsampled, raw path": lambda: never.process(unrouted),
        },
        number=2000,
    )
    report(
        "discovery",
        [
            row(
                f"process(), {name}",
                values,
                budget_us=SAMPLED_BUDGET_US if "unsampled" not in name else UNSAMPLED_BUDGET_US,
            )
            for name, values in figures.items()
        ],
    )


if __name__ == "__main__":
    main()
