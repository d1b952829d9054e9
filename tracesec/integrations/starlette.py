"""Starlette and FastAPI: ``Starlette.__call__`` goes through the ASGI core; ``Route.handle`` names the
matched template, prefixed by the paths of the ``Mount``s it sits under."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec.asgi import call_app
from tracesec.context import current
from tracesec.patching import Args, Kwargs, Patcher, Wrapped

_PREFIX = "starlette.mount_prefix"


def patch_application(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.Starlette, "__call__", _application_call)


def patch_routing(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.Route, "handle", _route_handle)
    patcher.wrap(module.Mount, "handle", _mount_handle)


def patch_fastapi_routing(module: ModuleType, patcher: Patcher) -> None:
    """FastAPI's APIRoute.handle serves routes of included routers itself, without Route.handle."""
    patcher.wrap(module.APIRoute, "handle", _api_route_handle)


def _template(route: Any) -> str:
    """The route as OpenTelemetry names it: ``/users/{uid}``, without Starlette's ``:int`` converters."""
    return str(getattr(route, "path_format", None) or getattr(route, "path", ""))


def _application_call(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if len(args) != 3 or kwargs:
        return wrapped(*args, **kwargs)  # e.g. uvicorn's factory probe app(): its TypeError, unchanged
    scope, receive, send = args
    return call_app(wrapped, scope, receive, send, "starlette")


def _route_handle(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    ctx = current()
    if ctx is not None:
        ctx.route = ctx.state.get(_PREFIX, "") + _template(instance)
        ctx.path_params = args[0].get("path_params") if args else None
    return wrapped(*args, **kwargs)


def _api_route_handle(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    ctx = current()
    if ctx is not None:
        scope = args[0] if args else {}
        path = _template(instance)
        effective = _fastapi_effective_route(scope)
        if getattr(effective, "original_route", None) is instance:
            path = _template(effective) or path  # the path with include_router's prefix
        ctx.route = ctx.state.get(_PREFIX, "") + path
        ctx.path_params = scope.get("path_params")
    return wrapped(*args, **kwargs)


def _fastapi_effective_route(scope: Any) -> Any:
    from fastapi import routing

    lookup = getattr(routing, "_get_scope_effective_route_context", None)  # FastAPI >= 0.116
    return lookup(scope) if lookup is not None else None


def _mount_handle(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    ctx = current()
    if ctx is not None:
        # A Mount's path_format ends in the catch-all it hands on: /api/{path}
        ctx.state[_PREFIX] = ctx.state.get(_PREFIX, "") + _template(instance).removesuffix("/{path}")
    return wrapped(*args, **kwargs)
