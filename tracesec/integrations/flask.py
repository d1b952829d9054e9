"""Flask: every ``Flask.wsgi_app`` call goes through the WSGI core (so a ProxyFix the user wraps around it
has already fixed the environ), and ``dispatch_request`` names the matched route template."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec import agent as agent_module
from tracesec.context import current
from tracesec.patching import Args, Kwargs, Patcher, Wrapped
from tracesec.wsgi import call_app


def patch(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.Flask, "wsgi_app", _wsgi_app)
    patcher.wrap(module.Flask, "dispatch_request", _dispatch_request)


def _wsgi_app(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    agent = agent_module._agent
    if agent is not None:
        agent.suggest_service_name(getattr(instance, "import_name", ""))
    environ, start_response = _wsgi_arguments(args, kwargs)
    return call_app(wrapped, environ, start_response, "flask")


def _wsgi_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    if len(args) == 2:
        return args[0], args[1]
    return kwargs.get("environ", args[0] if args else None), kwargs.get("start_response")


def _dispatch_request(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    ctx = current()
    if ctx is not None:
        from flask import request

        rule = request.url_rule
        if rule is not None:
            ctx.route = rule.rule
            ctx.path_params = request.view_args
    return wrapped(*args, **kwargs)
