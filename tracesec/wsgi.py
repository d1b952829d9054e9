"""The WSGI request-path core: every WSGI framework integration, and the explicit middleware, end here.

Per request it starts a server span, keeps the first bytes of textual bodies, streams the response
through untouched, and on close hands the finished request to the exporter. A block decision (from a sink
or a request-start check) becomes the contract's 403, whatever the framework made of the exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tracesec.capture import BodyTee, is_textual, keep_response_chunk
from tracesec.context import EnvironHeaders, RequestContext, _current
from tracesec.events import BLOCKED_HEADERS, BLOCKED_STATUS, Blocked, blocked_body
from tracesec.failsafe import guarded, note_internal_error
from tracesec.hooks import HOOKS, run_request_hooks
from tracesec.serving import finish_request, open_server_span, serving_agent

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]

_BLOCKED_STATUS_LINE = f"{BLOCKED_STATUS} Forbidden"


def start_context(environ: dict[str, Any], framework: str) -> RequestContext | None:
    """A context for this request, or None when tracesec is off or this request is already traced."""
    agent = serving_agent()
    if agent is None:
        return None
    config = agent.config
    headers = EnvironHeaders(environ)
    method = environ.get("REQUEST_METHOD", "GET")
    span = open_server_span(method, environ.get("HTTP_TRACEPARENT"))
    port = environ.get("REMOTE_PORT")
    ctx = RequestContext(
        config,
        span,
        framework,
        method,
        environ.get("wsgi.url_scheme", "http"),
        environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
        environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        headers,
        environ.get("REMOTE_ADDR", ""),
        int(port) if port and str(port).isdigit() else None,
    )
    span.ctx = ctx
    if config.capture_bodies and is_textual(environ.get("CONTENT_TYPE")) and "wsgi.input" in environ:
        environ["wsgi.input"] = BodyTee(environ["wsgi.input"], ctx, config.max_body_bytes)
    return ctx


def blocked_response(ctx: RequestContext, start_response: StartResponse, replace: bool) -> list[bytes]:
    """The 403 in place of whatever the app answered; ``replace`` when the app had already started its
    response (WSGI lets headers be replaced, via exc_info, until the first body bytes go out)."""
    event = ctx.blocked
    assert event is not None
    ctx.status_code = BLOCKED_STATUS
    ctx.response_body = None
    body = blocked_body(event)
    headers = [*BLOCKED_HEADERS, ("content-length", str(len(body)))]
    ctx.response_headers = headers
    exc_info = (Blocked, Blocked(event), None) if replace else None
    start_response(_BLOCKED_STATUS_LINE, headers, exc_info)
    return [body]


def call_app(
    app: WSGIApp, environ: dict[str, Any], start_response: StartResponse, framework: str
) -> Iterable[bytes]:
    """Serve one request through ``app`` with tracesec around it (the whole WSGI core)."""
    try:
        ctx = start_context(environ, framework)
    except Exception as exc:
        note_internal_error("wsgi.start", exc)
        ctx = None
    if ctx is None:
        return app(environ, start_response)

    token = _current.set(ctx)
    starter = _ResponseStarter(ctx, start_response)
    try:
        run_request_hooks(HOOKS.request_start, ctx, "request_start")
        result = app(environ, starter)
    except Blocked as blocked:
        ctx.blocked = blocked.event
        response: Iterable[bytes] = starter.start_blocked()
        finish_request(ctx)
        return response
    except BaseException as exc:
        if ctx.blocked is not None:
            response = starter.start_blocked()
            finish_request(ctx)
            return response
        ctx.span.record_exception(exc)
        ctx.status_code = ctx.status_code or 500
        guarded("wsgi.finish", finish_request, ctx)
        raise
    finally:
        _current.reset(token)
    if ctx.blocked is not None:
        _close(result)
        response = starter.start_blocked()
        finish_request(ctx)
        return response
    file_wrapper = environ.get("wsgi.file_wrapper")
    if isinstance(file_wrapper, type) and isinstance(result, file_wrapper):
        ctx.response_body = None
        guarded("wsgi.finish", finish_request, ctx)
        return result  # keep the server's sendfile path; its size is not counted
    return ResponseStream(result, ctx, starter)


class _ResponseStarter:
    """The start_response the app sees: records status and headers, holds them back when blocked."""

    __slots__ = ("_ctx", "_start_response", "sent")

    def __init__(self, ctx: RequestContext, start_response: StartResponse) -> None:
        self._ctx = ctx
        self._start_response = start_response
        self.sent = False

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        ctx = self._ctx
        try:
            ctx.status_code = int(status[:3])
            ctx.response_headers = headers
            if ctx.config.capture_bodies:
                for name, value in headers:
                    if name.lower() == "content-type":
                        if is_textual(value):
                            ctx.response_body = bytearray()
                        break
        except Exception as exc:
            note_internal_error("wsgi.start_response", exc)
        if ctx.blocked is not None:
            return _discard
        self.sent = True
        return self._start_response(status, headers, exc_info)

    def start_blocked(self) -> list[bytes]:
        replace, self.sent = self.sent, True
        return blocked_response(self._ctx, self._start_response, replace)


def _discard(_data: bytes) -> None:
    """The legacy write() of a blocked response goes nowhere."""


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


class ResponseStream:
    """The app's response iterable, passed through chunk by chunk (never buffered). Iteration runs in the
    request's context, so a generator that reaches a sink is still checked; close() finishes the span."""

    __slots__ = ("_ctx", "_finished", "_iterator", "_result", "_starter")

    def __init__(self, result: Iterable[bytes], ctx: RequestContext, starter: _ResponseStarter) -> None:
        self._result = result
        self._ctx = ctx
        self._starter = starter
        self._iterator: Iterator[bytes] | None = None
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        ctx = self._ctx
        token = _current.set(ctx)
        try:
            if self._iterator is None:
                self._iterator = iter(self._result)
            chunk = next(self._iterator)
        except StopIteration:
            self._finish()  # also when a non-compliant server never calls close()
            raise
        except Blocked as blocked:
            ctx.blocked = blocked.event
            if self._starter.sent:
                raise StopIteration from None  # headers are out: end the stream; the event says why
            self._iterator = iter(self._starter.start_blocked())
            return next(self._iterator)
        except BaseException as exc:
            ctx.span.record_exception(exc)
            raise
        finally:
            _current.reset(token)
        try:
            keep_response_chunk(ctx, chunk, ctx.config.max_body_bytes)
        except Exception as exc:
            note_internal_error("wsgi.response_chunk", exc)
        return chunk

    def close(self) -> None:
        try:
            _close(self._result)
        finally:
            self._finish()

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            guarded("wsgi.finish", finish_request, self._ctx)


class TracesecMiddleware:
    """Explicit WSGI middleware: ``app.wsgi_app = TracesecMiddleware(app.wsgi_app)``. Installs the agent
    (from the environment) if nothing did; a request already traced by an auto-integration passes through."""

    def __init__(self, app: WSGIApp, **settings: Any) -> None:
        from tracesec.agent import install

        self.app = app
        install(**settings)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return call_app(self.app, environ, start_response, "wsgi")
