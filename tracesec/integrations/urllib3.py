"""urllib3: ``PoolManager.urlopen`` (cross-host redirects re-enter it) and ``HTTPConnectionPool.urlopen``
for pools used directly; under requests or a PoolManager the pool call is an inner layer and records
nothing. The traceparent is added per hop by the http.client layer underneath (see ``urllib``)."""

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


def patch_pool_manager(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.PoolManager, "urlopen", _pool_manager_urlopen)


def patch_connection_pool(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.HTTPConnectionPool, "urlopen", _connection_pool_urlopen)


def _pool_manager_urlopen(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_outbound_call():
        return wrapped(*args, **kwargs)
    method, url = _method_and_url(args, kwargs)
    return _call(wrapped, args, kwargs, "urllib3.PoolManager.urlopen", method, url, kwargs.get("body"))


def _connection_pool_urlopen(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if in_outbound_call():
        return wrapped(*args, **kwargs)
    method, path = _method_and_url(args, kwargs)
    host = f"[{instance.host}]" if ":" in instance.host else instance.host
    url = path if "://" in path else f"{instance.scheme}://{host}:{instance.port}{path}"
    body = args[2] if len(args) > 2 else kwargs.get("body")
    return _call(wrapped, args, kwargs, "urllib3.HTTPConnectionPool.urlopen", method, url, body)


def _method_and_url(args: Args, kwargs: Kwargs) -> tuple[str, str]:
    method = args[0] if args else kwargs["method"]
    url = args[1] if len(args) > 1 else kwargs["url"]
    return str(method), str(url)


def _call(
    wrapped: Wrapped, args: Args, kwargs: Kwargs, client: str, method: str, url: str, body: object
) -> Any:
    with HttpCall(method, url, client) as span:
        response = wrapped(*args, **kwargs)
        describe_response(
            span, response.status, body_size(body), size_from_header(response.headers.get("content-length"))
        )
    return response
