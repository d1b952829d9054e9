"""Django: the WSGI and ASGI handlers go through the request-path cores, ``resolve_request`` names the
route, and ``TracesecMiddleware`` serves projects that prefer an explicit entry in MIDDLEWARE."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from tracesec import agent as agent_module
from tracesec import asgi, wsgi
from tracesec.capture import keep_response_chunk, keeps_request_body, response_cap
from tracesec.context import RequestContext, _current, current, wsgi_string
from tracesec.events import BLOCKED_STATUS, Blocked, blocked_body
from tracesec.failsafe import guarded, note_internal_error
from tracesec.hooks import HOOKS, run_request_hooks
from tracesec.patching import Args, Kwargs, Patcher, Wrapped
from tracesec.serving import finish_request


def patch_wsgi_handler(module: ModuleType, patcher: Patcher) -> None:
    patcher.replace(module.WSGIHandler, "__call__", _traced_wsgi_handler)


def patch_asgi_handler(module: ModuleType, patcher: Patcher) -> None:
    patcher.wrap(module.ASGIHandler, "__call__", _asgi_call)


def patch_route_resolution(module: ModuleType, patcher: Patcher) -> None:
    patcher.replace(module.BaseHandler, "resolve_request", _traced_resolve_request)


def patch_exceptions(module: ModuleType, patcher: Patcher) -> None:
    """Django answers a view's exception with its own 500 before the core sees it: record it here."""
    patcher.wrap(module, "response_for_exception", _response_for_exception)


def _response_for_exception(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    ctx = current()
    exception = args[1] if len(args) > 1 else kwargs.get("exc")
    if ctx is not None and isinstance(exception, BaseException):
        ctx.record_exception(exception)
    return wrapped(*args, **kwargs)


def _suggest_project_name() -> None:
    agent = agent_module._agent
    if agent is not None and agent.service_hint is None:
        agent.suggest_service_name(os.environ.get("DJANGO_SETTINGS_MODULE", "").split(".", 1)[0])


def _traced_wsgi_handler(original: Wrapped) -> Wrapped:
    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        _suggest_project_name()
        return wsgi.call_app(original.__get__(self), environ, start_response, "django", _body_in_memory)

    return __call__


def _body_in_memory(result: Any) -> Iterable[bytes] | None:
    """An HttpResponse holds its content, and iterating it runs no app code; streaming responses (and
    the server's file wrapper) are left to the core's wrapper."""
    return result if getattr(result, "streaming", None) is False else None


def _asgi_call(wrapped: Wrapped, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    _suggest_project_name()
    if len(args) != 3 or kwargs:
        return wrapped(*args, **kwargs)  # e.g. uvicorn's factory probe app(): its TypeError, unchanged
    scope, receive, send = args
    return asgi.call_app(wrapped, scope, receive, send, "django")


def _traced_resolve_request(original: Wrapped) -> Wrapped:
    def resolve_request(self: Any, request: Any) -> Any:
        match = original(self, request)
        ctx = _current.get()
        if ctx is not None:
            _name_route(ctx, match)
        return match

    return resolve_request


def _name_route(ctx: RequestContext, match: Any) -> None:
    route = getattr(match, "route", None)
    if route is not None:
        ctx.route = "/" + route.lstrip("^/")
    ctx.path_params = getattr(match, "kwargs", None)


class TracesecMiddleware:
    """``"tracesec.integrations.django.TracesecMiddleware"`` in MIDDLEWARE (first is best). Installs the agent
    if nothing did. When the handler is already auto-instrumented it simply passes requests on."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        from tracesec.agent import install

        install()
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self._serve_async(request)
        ctx = self._start(request)
        if ctx is None:
            return self.get_response(request)
        with _Serving(ctx) as serving:
            serving.start()
            serving.response = self.get_response(request)
        return self._finish(ctx, request, serving.response)

    async def _serve_async(self, request: Any) -> Any:
        ctx = self._start(request)
        if ctx is None:
            return await self.get_response(request)
        with _Serving(ctx) as serving:
            serving.start()
            serving.response = await self.get_response(request)
        return self._finish(ctx, request, serving.response)

    @staticmethod
    def _start(request: Any) -> RequestContext | None:
        try:
            ctx = wsgi.start_context(request.META, "django", getattr(request, "scope", None))
        except Exception as exc:
            note_internal_error("django.start", exc)
            return None
        if ctx is not None:
            ctx.path = wsgi_string(request.path)
        return ctx

    @staticmethod
    def _finish(ctx: RequestContext, request: Any, response: Any) -> Any:
        if ctx.blocked is not None:
            from django.http import HttpResponse

            response = HttpResponse(
                blocked_body(ctx.blocked), status=BLOCKED_STATUS, content_type="application/json"
            )
        try:
            _record_response(ctx, request, response)
        except Exception as exc:
            note_internal_error("django.record", exc)
        guarded("django.finish", finish_request, ctx)
        return response


class _Serving:
    """What the middleware's sync and async paths share around the view: the request's context set, the
    request-start checks run, a block decision kept (the view's response is then None), and any other
    exception recorded on the span before it propagates."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self.response: Any = None

    def __enter__(self) -> _Serving:
        self._token = _current.set(self.ctx)
        return self

    def start(self) -> None:
        """The request-start checks; a block decision here skips the view (handled in __exit__)."""
        run_request_hooks(HOOKS.request_start, self.ctx, "request_start")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _trace: Any) -> bool:
        _current.reset(self._token)
        if isinstance(exc, Blocked):
            self.ctx.blocked = exc.event
            return True
        if exc is not None:
            self.ctx.record_exception(exc)
            guarded("django.finish", finish_request, self.ctx)
        return False


def _record_response(ctx: RequestContext, request: Any, response: Any) -> None:
    """Status, headers and (for non-streaming textual responses) the first bytes of both bodies."""
    cap = ctx.config.max_body_bytes
    ctx.status_code = response.status_code
    if ctx.route is None and getattr(request, "resolver_match", None) is not None:
        _name_route(ctx, request.resolver_match)
    ctx.response_headers = list(response.items())
    body = getattr(request, "_body", None)  # set once the view read request.body or request.POST
    if isinstance(body, bytes) and keeps_request_body(ctx.config, ctx.headers.get("content-type")):
        ctx.request_body = bytearray(body[:cap])
        ctx.request_body_size = len(body)
        ctx.request_body_truncated = len(body) > cap
    if not getattr(response, "streaming", False):
        keep_response_chunk(ctx, response.content, response_cap(ctx.config))
