"""The WSGI request-path core: every WSGI framework integration, and the explicit middleware, end here.

Per request it starts a server span, keeps the first bytes of textual bodies, streams the response
through untouched, and hands the finished request to the exporter: as the app returns when its body is
already in memory, else once the body is exhausted or closed. A block decision (from a sink or a
request-start check) becomes the contract's 403, whatever the framework made of the exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tracesec.capture import BodyTee, keep_response_chunk, keeps_request_body, response_cap
from tracesec.context import EnvironHeaders, RequestContext, _current
from tracesec.events import BLOCKED_HEADERS, BLOCKED_STATUS, Blocked, blocked_body
from tracesec.failsafe import note_internal_error
from tracesec.hooks import HOOKS, run_request_hooks
from tracesec.serving import finish_request, serving_agent

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]
BodyInMemory = Callable[[Iterable[bytes]], Iterable[bytes] | None]
"""The chunks of the app's response when the framework's response object holds them in memory, so that
handing them to the server runs no app code: the request then finishes as the app returns, with no
wrapper around the body's iteration (the span ends when the response is handed over, not when the
server has written it). None otherwise. A list or tuple, any WSGI app's in-memory body, needs no such
function."""

_BLOCKED_STATUS_LINE = f"{BLOCKED_STATUS} Forbidden"


def start_context(environ: dict[str, Any], framework: str, identity: Any = None) -> RequestContext | None:
    """A context for this request, or None when tracesec is off or this request is already traced.
    ``identity`` is the server's request object when it is not ``environ`` itself (Django under ASGI)."""
    raw = environ if identity is None else identity
    agent = serving_agent(raw)
    if agent is None:
        return None
    config = agent.config
    ctx = RequestContext(
        config,
        framework,
        environ.get("REQUEST_METHOD", "GET"),
        environ.get("wsgi.url_scheme", "http"),
        environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
        environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        EnvironHeaders(environ),
        environ.get("REMOTE_ADDR", ""),
        environ.get("REMOTE_PORT"),
        raw,
        environ.get("HTTP_TRACEPARENT"),
    )
    content_type = environ.get("CONTENT_TYPE")
    if content_type and keeps_request_body(config, content_type) and "wsgi.input" in environ:
        ctx.request_body = bytearray()
        environ["wsgi.input"] = BodyTee(environ["wsgi.input"], ctx, config.max_body_bytes)
    else:  # a body not worth keeping is still counted: its declared size, as OpenTelemetry defines it
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit():
            ctx.request_body_size = int(length)
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
    app: WSGIApp,
    environ: dict[str, Any],
    start_response: StartResponse,
    framework: str,
    body_in_memory: BodyInMemory | None = None,
) -> Iterable[bytes]:
    """Serve one request through ``app`` with tracesec around it (the whole WSGI core). Framework
    integrations pass ``body_in_memory`` when the framework's own response object tells more than a list."""
    try:
        ctx = start_context(environ, framework)
    except Exception as exc:
        note_internal_error("wsgi.start", exc)
        ctx = None
    if ctx is None:
        return app(environ, start_response)

    exchange = _Exchange(ctx, start_response)
    token = _current.set(ctx)
    try:
        if HOOKS.request_start:
            run_request_hooks(HOOKS.request_start, ctx, "request_start")
        result = app(environ, exchange)
    except Blocked as blocked:
        ctx.blocked = blocked.event
        return exchange.answer_blocked()
    except BaseException as exc:
        if ctx.blocked is not None:
            return exchange.answer_blocked()
        ctx.record_exception(exc)
        ctx.status_code = ctx.status_code or 500
        exchange.close()
        raise
    finally:
        _current.reset(token)
    if ctx.blocked is not None:
        _close(result)
        return exchange.answer_blocked()
    file_wrapper = environ.get("wsgi.file_wrapper")
    if isinstance(file_wrapper, type) and isinstance(result, file_wrapper):
        ctx.response_body = None
        exchange.close()
        return result  # keep the server's sendfile path; its size is not counted
    try:
        if type(result) is list or type(result) is tuple:
            chunks: Iterable[bytes] | None = result
        else:
            chunks = None if body_in_memory is None else body_in_memory(result)
        if chunks is not None:
            cap = response_cap(ctx.config)
            for chunk in chunks:
                keep_response_chunk(ctx, chunk, cap)
    except Exception as exc:
        note_internal_error("wsgi.body_in_memory", exc)
        chunks = None
    if chunks is not None:
        exchange.finish()
        return result
    exchange.result = result
    return exchange


class _Exchange:
    """One request's two WSGI halves: the start_response the app calls (recording status and headers,
    holding them back when blocked) and the iterable the server consumes (the app's chunks, passed on one
    by one, never buffered). The span finishes when the body is exhausted or closed, whichever is first."""

    __slots__ = ("_finished", "_start_response", "ctx", "result", "sent")

    def __init__(self, ctx: RequestContext, start_response: StartResponse) -> None:
        self.ctx = ctx
        self._start_response = start_response
        self.result: Iterable[bytes] = ()
        self.sent = False
        self._finished = False

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        ctx = self.ctx
        try:
            ctx.status_code = int(status[:3])
            ctx.response_headers = headers
        except Exception as exc:
            note_internal_error("wsgi.start_response", exc)
        if ctx.blocked is not None:
            return _discard
        self.sent = True
        return self._start_response(status, headers, exc_info)

    def answer_blocked(self) -> list[bytes]:
        """The 403 now; the request is finished and its context released."""
        response = self._start_blocked()
        self.close()
        return response

    def _start_blocked(self) -> list[bytes]:
        replace, self.sent = self.sent, True
        return blocked_response(self.ctx, self._start_response, replace)

    def __iter__(self) -> Iterator[bytes]:
        ctx = self.ctx
        # Set once for the generator's life (app code may run while chunks are produced), not per chunk.
        token = _current.set(ctx)
        cap = response_cap(ctx.config)
        try:
            for chunk in self.result:
                try:
                    keep_response_chunk(ctx, chunk, cap)
                except Exception as exc:
                    note_internal_error("wsgi.response_chunk", exc)
                yield chunk
        except Blocked as blocked:
            ctx.blocked = blocked.event
            if not self.sent:
                yield from self._start_blocked()
            # else the headers are out: the stream ends here and the event says why
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):
                ctx.record_exception(exc)
            raise
        finally:
            try:  # noqa: SIM105 (contextlib.suppress would cost this path about half a microsecond)
                _current.reset(token)
            except ValueError:
                pass  # finalised from another context than the one that iterated
        self.finish()  # also when a non-compliant server never calls close()

    def close(self) -> None:
        try:
            _close(self.result)
        finally:
            self.finish()

    def finish(self) -> None:
        if not self._finished:
            self._finished = True
            try:
                finish_request(self.ctx)
            except Exception as exc:
                note_internal_error("wsgi.finish", exc)


def _discard(_data: bytes) -> None:
    """The legacy write() of a blocked response goes nowhere."""


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


class TracesecMiddleware:
    """Explicit WSGI middleware: ``app.wsgi_app = TracesecMiddleware(app.wsgi_app)``. Installs the agent
    (from the environment) if nothing did; a request already traced by an auto-integration passes through."""

    def __init__(self, app: WSGIApp, **settings: Any) -> None:
        from tracesec.agent import install

        self.app = app
        install(**settings)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return call_app(self.app, environ, start_response, "wsgi")
