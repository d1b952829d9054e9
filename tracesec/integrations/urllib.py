"""The standard library's HTTP clients. ``OpenerDirector.open`` is one logical urllib.request call
(redirects re-enter it). ``http.client.HTTPConnection`` is the layer every client but httpx ends on: its
``endheaders`` adds the traceparent per hop, so each redirect target is judged by its own host; used on
its own, a connection's request is a call from ``putrequest`` to ``getresponse``."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.integrations._client_spans import finish_client_span
from tracesec.integrations._http import (
    TRACEPARENT,
    HttpCall,
    OutboundCall,
    OutboundScope,
    body_size,
    describe_response,
    in_outbound_call,
    size_from_header,
    start_http_span,
    traceparent_for,
)
from tracesec.patching import Args, Kwargs, Patcher, Wrapped

_RAW_CALL = "_tracesec_call"
_TRACEPARENT_LINE = TRACEPARENT.encode() + b":"


def patch_urllib_request(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.OpenerDirector, "open", _opener_open)


def patch_http_client(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.HTTPConnection, "putrequest", _putrequest)
    patcher.wrap(module.HTTPConnection, "endheaders", _endheaders)
    patcher.wrap(module.HTTPConnection, "getresponse", _getresponse)


def _opener_open(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_outbound_call():
        return wrapped(*args, **kwargs)
    from urllib.error import HTTPError

    target = args[0] if args else kwargs["fullurl"]
    data = args[1] if len(args) > 1 else kwargs.get("data")
    if isinstance(target, str):
        url, method = target, "POST" if data is not None else "GET"
    else:
        url, method = target.full_url, target.get_method()
        data = target.data if data is None else data
    with HttpCall(method, url, "urllib.request.OpenerDirector.open") as span:
        try:
            response = wrapped(*args, **kwargs)
        except HTTPError as error:
            describe_response(span, error.code, body_size(data), None)
            raise
        describe_response(
            span, response.status, body_size(data), size_from_header(response.headers.get("content-length"))
        )
    return response


def _host_of(connection: Any) -> str:
    """The origin server's name, also when the connection tunnels through a proxy."""
    return str(getattr(connection, "_tunnel_host", None) or connection.host)


def _putrequest(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_outbound_call():
        return wrapped(*args, **kwargs)
    method = str(args[0] if args else kwargs["method"])
    target = str(args[1] if len(args) > 1 else kwargs["url"])
    scheme = "https" if instance.default_port == 443 else "http"
    host = _host_of(instance)
    url = target if "://" in target else f"{scheme}://{host}:{instance.port}{target}"
    call = OutboundCall(url, start_http_span(method, url, "http.client.HTTPConnection.putrequest"))
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        if call.span is not None:
            finish_client_span(call.span, exc)
        raise
    setattr(instance, _RAW_CALL, call)
    return result


def _endheaders(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    raw: OutboundCall | None = instance.__dict__.get(_RAW_CALL)
    if raw is None:
        _add_traceparent(instance)
        return wrapped(*args, **kwargs)
    with OutboundScope(raw):
        _add_traceparent(instance)
        try:
            return wrapped(*args, **kwargs)
        except BaseException as exc:
            del instance.__dict__[_RAW_CALL]
            if raw.span is not None:
                finish_client_span(raw.span, exc)
            raise


def _add_traceparent(connection: Any) -> None:
    value = traceparent_for(_host_of(connection))
    if value is None:
        return
    lines = getattr(connection, "_buffer", ())
    if not any(line[: len(_TRACEPARENT_LINE)].lower() == _TRACEPARENT_LINE for line in lines):
        connection.putheader(TRACEPARENT, value)


def _getresponse(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    raw: OutboundCall | None = instance.__dict__.pop(_RAW_CALL, None)
    if raw is None or raw.span is None:
        return wrapped(*args, **kwargs)
    try:
        response = wrapped(*args, **kwargs)
    except BaseException as exc:
        finish_client_span(raw.span, exc)
        raise
    describe_response(raw.span, response.status, None, size_from_header(response.getheader("content-length")))
    finish_client_span(raw.span)
    return response
