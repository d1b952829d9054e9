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


def _application_call(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    scope, receive, send = args
    return call_app(wrapped, scope, receive, send, "starlette")


def _route_handle(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    ctx = current()
    if ctx is not None:
        ctx.route = ctx.state.get(_PREFIX, "") + instance.path
        ctx.path_params = args[0].get("path_params") if args else None
    return wrapped(*args, **kwargs)


def _mount_handle(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    ctx = current()
    if ctx is not None:
        ctx.state[_PREFIX] = ctx.state.get(_PREFIX, "") + instance.path
    return wrapped(*args, **kwargs)
