"""httpx, sync and async: ``Client.send`` is one logical call (redirects included); each hop
(``_send_single_request``) carries the traceparent while it is sent, so a redirect to an excluded host
never inherits it and the caller's Request is left as it was."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.integrations._client_spans import ClientSpan
from tracesec.integrations._http import (
    TRACEPARENT,
    HttpCall,
    describe_response,
    in_outbound_call,
    size_from_header,
    traceparent_for,
)
from tracesec.patching import Args, Kwargs, Patcher, Wrapped


def patch(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.Client, "send", _send)
    patcher.wrap(module.AsyncClient, "send", _send_async)
    patcher.wrap(module.Client, "_send_single_request", _send_hop)
    patcher.wrap(module.AsyncClient, "_send_single_request", _send_hop_async)


def _request_of(args: Args, kwargs: Kwargs) -> Any:
    return args[0] if args else kwargs["request"]


def _send(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_outbound_call():
        return wrapped(*args, **kwargs)
    request = _request_of(args, kwargs)
    with HttpCall(request.method, str(request.url), "httpx.Client.send") as span:
        response = wrapped(*args, **kwargs)
        _describe(span, request, response)
    return response


async def _send_async(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_outbound_call():
        return await wrapped(*args, **kwargs)
    request = _request_of(args, kwargs)
    with HttpCall(request.method, str(request.url), "httpx.AsyncClient.send") as span:
        response = await wrapped(*args, **kwargs)
        _describe(span, request, response)
    return response


def _describe(span: ClientSpan | None, request: Any, response: Any) -> None:
    received = size_from_header(response.headers.get("content-length"))
    if received is None and response.is_stream_consumed:
        received = response.num_bytes_downloaded
    describe_response(
        span, response.status_code, size_from_header(request.headers.get("content-length")), received
    )


def _add_traceparent(request: Any) -> bool:
    """Add the call's traceparent for this hop's host unless the caller set one; True when added."""
    value = traceparent_for(request.url.host)
    if value is None or TRACEPARENT in request.headers:
        return False
    request.headers[TRACEPARENT] = value
    return True


def _send_hop(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    request = _request_of(args, kwargs)
    added = _add_traceparent(request)
    try:
        return wrapped(*args, **kwargs)
    finally:
        if added:
            del request.headers[TRACEPARENT]


async def _send_hop_async(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    request = _request_of(args, kwargs)
    added = _add_traceparent(request)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        if added:
            del request.headers[TRACEPARENT]
