"""requests: ``Session.send`` is one logical call; redirects re-enter it and stay inside that call. The
traceparent is added per hop by the http.client layer underneath (see ``urllib``)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.integrations._http import (
    HttpCall,
    body_size,
    describe_response,
    in_outbound_call,
    size_from_header,
)
from tracesec.patching import Args, Kwargs, Patcher, Wrapped


def patch(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.Session, "send", _send)


def _send(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_outbound_call():
        return wrapped(*args, **kwargs)
    request = args[0] if args else kwargs["request"]
    with HttpCall(request.method or "GET", request.url or "", "requests.Session.send") as span:
        response = wrapped(*args, **kwargs)
        received = size_from_header(response.headers.get("content-length"))
        if received is None and not kwargs.get("stream"):
            received = len(response.content or b"")
        describe_response(span, response.status_code, body_size(request.body), received)
    return response
