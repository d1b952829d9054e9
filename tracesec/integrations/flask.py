"""Flask: every ``Flask.wsgi_app`` call goes through the WSGI core (so a ProxyFix the user wraps around it
has already fixed the environ), and URL matching names the route template. Matching is hooked rather than
dispatch, because there the rule sits on the request object itself, with no context-local lookups."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tracesec import agent as agent_module
from tracesec.context import _current
from tracesec.patching import Args, Kwargs, Patcher, Wrapped
from tracesec.wsgi import call_app


def patch(module: ModuleType, patcher: Patcher) -> None:
    patcher.replace(module.Flask, "wsgi_app", _traced_wsgi_app)
    patcher.replace(module.ctx.RequestContext, "match_request", _traced_match_request)
    patcher.wrap(module.Flask, "handle_exception", _handle_exception)


def _traced_wsgi_app(original: Wrapped) -> Wrapped:
    def wsgi_app(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        agent = agent_module._agent
        if agent is not None and agent.service_hint is None:
            agent.suggest_service_name(getattr(self, "import_name", ""))
        return call_app(original.__get__(self), environ, start_response, "flask")

    return wsgi_app


def _traced_match_request(original: Wrapped) -> Wrapped:
    def match_request(self: Any) -> Any:
        result = original(self)
        ctx = _current.get()
        if ctx is not None:
            request = self.request
            rule = request.url_rule
            if rule is not None:
                ctx.route = rule.rule
                ctx.path_params = request.view_args
        return result

    return match_request


def _handle_exception(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Flask turns an unhandled view exception into its own 500 before the core sees it: record it."""
    ctx = _current.get()
    exception = args[0] if args else kwargs.get("e")
    if ctx is not None and isinstance(exception, BaseException):
        ctx.record_exception(exception)
    return wrapped(*args, **kwargs)
