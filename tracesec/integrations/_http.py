"""What every HTTP-client integration shares: one logical call per client request (redirects included),
its outbound sink check, span, service-map entry and traceparent policy, and URL redaction.

Clients sit on each other (requests -> urllib3 -> http.client), so the outermost one opens the call and
every layer below sees ``in_outbound_call()`` and stays out of the way: one span, one check per call.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType
from urllib.parse import SplitResult, urlsplit, urlunsplit

from tracesec.config import Config
from tracesec.context import instrumentation_suppressed
from tracesec.hooks import check_sink
from tracesec.integrations._client_spans import (
    ClientSpan,
    SpanScope,
    current_config,
    note_dependency,
    start_client_span,
)
from tracesec.redaction import REDACTED, redact_query
from tracesec.spans import format_traceparent

TRACEPARENT = "traceparent"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class OutboundCall:
    """The client call in progress: its URL (read by the connect-phase check) and its span, if any."""

    __slots__ = ("span", "url")

    def __init__(self, url: str, span: ClientSpan | None) -> None:
        self.url = url
        self.span = span


_outbound: ContextVar[OutboundCall | None] = ContextVar("tracesec_outbound_call", default=None)


def in_outbound_call() -> bool:
    """True inside a client call already opened by an outer layer, or on tracesec's own threads."""
    return _outbound.get() is not None or instrumentation_suppressed()


def outbound_call_url() -> str | None:
    """The URL of the HTTP-client call in progress, for checks made deeper down (DNS, connect)."""
    call = _outbound.get()
    return None if call is None else call.url


def start_http_span(method: str, url: str, client: str) -> ClientSpan | None:
    """Check the outbound sink (which may raise Blocked before anything is sent; ``client`` is the
    client method events name as the sink, e.g. ``httpx.Client.send``), then start the span and note
    the dependency; None when nothing is recorded."""
    check_sink("outbound", url, {"phase": "request", "method": method, "sink": client})
    span = start_client_span(method)
    if span is not None:
        parts = urlsplit(url)
        host, port = parts.hostname or "", _port_of(parts)
        span.attributes["http.request.method"] = method
        span.attributes["server.address"] = host
        if port is not None:
            span.attributes["server.port"] = port
        span.defer("url.full", redact_url, url)
        note_dependency("http", f"{host}:{port}" if port is not None else host)
    return span


class OutboundScope:
    """Makes ``call`` the call in progress for the duration of a ``with`` block."""

    __slots__ = ("_token", "call")

    def __init__(self, call: OutboundCall) -> None:
        self.call = call
        self._token: Token[OutboundCall | None] | None = None

    def __enter__(self) -> OutboundCall:
        self._token = _outbound.set(self.call)
        return self.call

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _outbound.reset(self._token)


class HttpCall:
    """``with HttpCall(method, url, client) as span:`` around one logical client call made by the
    ``client`` method (``httpx.Client.send``): sink check, span, and the call kept in context for the
    layers below."""

    __slots__ = ("_outbound", "_span", "client", "method", "url")

    def __init__(self, method: str, url: str, client: str) -> None:
        self.method = method.upper()
        self.url = url
        self.client = client
        self._span = SpanScope(None)
        self._outbound: OutboundScope | None = None

    def __enter__(self) -> ClientSpan | None:
        span = start_http_span(self.method, self.url, self.client)
        self._span = SpanScope(span)
        self._outbound = OutboundScope(OutboundCall(self.url, span))
        self._outbound.__enter__()
        return span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._outbound is not None:
            self._outbound.__exit__(exc_type, exc, tb)
        self._span.__exit__(exc_type, exc, tb)


def describe_response(
    span: ClientSpan | None, status: int, request_size: int | None, response_size: int | None
) -> None:
    """Status and sizes of a finished call; 4xx and 5xx mark a client span as an error (OpenTelemetry)."""
    if span is None:
        return
    span.attributes["http.response.status_code"] = status
    if request_size is not None:
        span.attributes["http.request.body.size"] = request_size
    if response_size is not None:
        span.attributes["http.response.body.size"] = response_size
    if status >= 400:
        span.status = "error"
        span.attributes["error.type"] = str(status)


def body_size(body: object) -> int | None:
    """Bytes in a request body the client holds whole; None for streams and files."""
    if body is None:
        return 0
    if isinstance(body, (bytes, bytearray, memoryview)):
        return len(body)
    if isinstance(body, str):
        return len(body.encode())
    return None


def size_from_header(value: str | bytes | None) -> int | None:
    """A Content-Length header as a number, None when absent or malformed."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def traceparent_for(host: str | None) -> str | None:
    """The traceparent to send to ``host`` for the call in progress, or None when there is no span or the
    host is excluded by ``traceparent_allow_hosts`` / ``traceparent_deny_hosts``."""
    call = _outbound.get()
    span = None if call is None else call.span
    if span is None or host is None:
        return None
    config = current_config()
    if config is None or not propagates_to(host, config):
        return None
    return format_traceparent(span.trace_id, span.span_id)


def propagates_to(host: str, config: Config) -> bool:
    host = host.lower().rstrip(".")
    if config.traceparent_deny_hosts and _host_matches(host, config.traceparent_deny_hosts):
        return False
    return not config.traceparent_allow_hosts or _host_matches(host, config.traceparent_allow_hosts)


def _host_matches(host: str, patterns: frozenset[str]) -> bool:
    """Exact names, or ``*.example.com`` for any name under example.com."""
    if host in patterns:
        return True
    labels = host.split(".")
    return any(f"*.{'.'.join(labels[i:])}" in patterns for i in range(1, len(labels)))


def _port_of(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:
        return None
    return port if port is not None else _DEFAULT_PORTS.get(parts.scheme.lower())


def redact_url(url: str) -> str:
    """The URL without user:password and with sensitive query values replaced; the fragment is dropped
    since it never leaves the client anyway."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    return urlunsplit((parts.scheme, netloc, parts.path, redact_query(parts.query), ""))
