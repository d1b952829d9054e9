"""The ASGI request-path core (HTTP only: websocket and lifespan pass through untouched).

``receive`` is wrapped to keep the first bytes of a textual request body as the app reads it, ``send`` to
record status, headers and the first bytes of the response while every message still goes out as it
comes. A block decision becomes the contract's 403 if the response has not started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tracesec.capture import keep_request_chunk, keep_response_chunk, keeps_request_body, response_cap
from tracesec.context import RequestContext, ScopeHeaders, _current, wsgi_string
from tracesec.events import BLOCKED_HEADERS, BLOCKED_STATUS, Blocked, SecurityEvent, blocked_body
from tracesec.failsafe import guarded, note_internal_error
from tracesec.hooks import HOOKS, run_request_hooks
from tracesec.serving import finish_request, serving_agent

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def start_context(scope: Scope, framework: str) -> RequestContext | None:
    """A context for this HTTP request, or None when tracesec is off or the request is already traced."""
    agent = serving_agent(scope)
    if agent is None:
        return None
    raw_headers = scope.get("headers") or ()
    traceparent = content_type = None
    for name, value in raw_headers:
        if name == b"traceparent":
            traceparent = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
    client = scope.get("client") or ("", None)
    ctx = RequestContext(
        agent.config,
        framework,
        scope.get("method", "GET"),
        scope.get("scheme", "http"),
        "",
        wsgi_string(scope.get("path", "")),
        scope.get("query_string", b"").decode("latin-1"),
        ScopeHeaders(raw_headers),
        client[0] or "",
        client[1],
        scope,
        traceparent,
    )
    if keeps_request_body(agent.config, content_type):
        ctx.request_body = bytearray()
    return ctx


def _blocked_in(exc: BaseException) -> SecurityEvent | None:
    """The block decision inside ``exc``, also when a task group wrapped it in an exception group."""
    if isinstance(exc, Blocked):
        return exc.event
    for inner in getattr(exc, "exceptions", ()):
        found = _blocked_in(inner)
        if found is not None:
            return found
    return None


class _Exchange:
    """One request's receive/send pair as the app sees them."""

    __slots__ = ("_receive", "_send", "ctx", "finished", "started")

    def __init__(self, ctx: RequestContext, receive: Receive, send: Send) -> None:
        self.ctx = ctx
        self._receive = receive
        self._send = send
        self.started = False
        self.finished = False

    async def receive(self) -> Message:
        message = await self._receive()
        try:
            kind = message.get("type")
            ctx = self.ctx
            if kind == "http.request":
                keep_request_chunk(ctx, message.get("body", b""), ctx.config.max_body_bytes)
            elif kind == "http.disconnect" and not self.finished:
                ctx.request_body_error = "client disconnected"
        except Exception as exc:
            note_internal_error("asgi.receive", exc)
        return message

    async def send(self, message: Message) -> None:
        ctx = self.ctx
        kind = message.get("type")
        if ctx.blocked is not None and not self.started:
            return  # the framework's answer to a blocked request is replaced by the 403
        last = False
        try:
            if kind == "http.response.start":
                self.started = True
                ctx.status_code = message.get("status")
                headers = message.get("headers") or []
                ctx.response_headers = headers
            elif kind == "http.response.body":
                keep_response_chunk(ctx, message.get("body", b""), response_cap(ctx.config))
                last = not message.get("more_body", False)
        except Exception as exc:
            note_internal_error("asgi.send", exc)
        await self._send(message)
        if last:
            self.finish()

    async def send_blocked(self) -> None:
        ctx = self.ctx
        assert ctx.blocked is not None
        body = blocked_body(ctx.blocked)
        ctx.status_code = BLOCKED_STATUS
        ctx.response_body = None
        headers = [(name.encode(), value.encode()) for name, value in BLOCKED_HEADERS]
        headers.append((b"content-length", str(len(body)).encode()))
        ctx.response_headers = headers
        self.started = True
        await self._send({"type": "http.response.start", "status": BLOCKED_STATUS, "headers": headers})
        await self._send({"type": "http.response.body", "body": body, "more_body": False})
        ctx.response_body_size = len(body)

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            guarded("asgi.finish", finish_request, self.ctx)


async def call_app(app: ASGIApp, scope: Scope, receive: Receive, send: Send, framework: str) -> None:
    """Serve one ASGI connection through ``app`` with tracesec around HTTP requests."""
    if scope.get("type") != "http":
        await app(scope, receive, send)
        return
    try:
        ctx = start_context(scope, framework)
    except Exception as exc:
        note_internal_error("asgi.start", exc)
        ctx = None
    if ctx is None:
        await app(scope, receive, send)
        return

    token = _current.set(ctx)
    exchange = _Exchange(ctx, receive, send)
    try:
        if HOOKS.request_start:
            run_request_hooks(HOOKS.request_start, ctx, "request_start")
        await app(scope, exchange.receive, exchange.send)
        if ctx.blocked is not None and not exchange.finished:
            await _answer_blocked(exchange)
    except BaseException as exc:
        blocked = ctx.blocked or _blocked_in(exc)
        if blocked is None:
            ctx.record_exception(exc)
            ctx.status_code = ctx.status_code or 500
            raise
        ctx.blocked = blocked
        await _answer_blocked(exchange)
    finally:
        _current.reset(token)
        exchange.finish()


async def _answer_blocked(exchange: _Exchange) -> None:
    if not exchange.started:
        await exchange.send_blocked()
    elif not exchange.finished:
        # Headers are out: close the stream cleanly; the event records that it was blocked.
        await exchange._send({"type": "http.response.body", "body": b"", "more_body": False})


class TracesecMiddleware:
    """Explicit ASGI middleware: ``app = TracesecMiddleware(app)`` or Starlette's ``Middleware(...)``.
    Installs the agent (from the environment) if nothing did; requests already traced pass through."""

    def __init__(self, app: ASGIApp, **settings: Any) -> None:
        from tracesec.agent import install

        self.app = app
        install(**settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await call_app(self.app, scope, receive, send, "asgi")
