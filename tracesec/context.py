"""The per-request context, kept in a ContextVar so threads and asyncio tasks never see each other's.

The request thread only records raw facts here (references, counters, captured bytes); everything that
costs (header dicts, redaction, parsing) is derived lazily or later on the export worker.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from tracesec.capture import server_attributes
from tracesec.spans import Span, new_trace_id, parse_traceparent

if TYPE_CHECKING:
    from tracesec.config import Config
    from tracesec.events import SecurityEvent

_current: ContextVar[RequestContext | None] = ContextVar("tracesec_request", default=None)
_suppressed: ContextVar[bool] = ContextVar("tracesec_suppressed", default=False)


def current() -> RequestContext | None:
    """The request being served on this thread or task, if any."""
    return _current.get()


def instrumentation_suppressed() -> bool:
    """True on tracesec's own threads (the exporter): their I/O is never recorded or checked."""
    return _suppressed.get()


class Headers:
    """Request headers read lazily from their server-specific form; names are case-insensitive."""

    __slots__ = ()

    def get(self, name: str) -> str | None:
        raise NotImplementedError

    def items(self) -> list[tuple[str, str]]:
        """(lower-case name, value) pairs in the order received."""
        raise NotImplementedError


_SPECIAL_ENVIRON = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


class EnvironHeaders(Headers):
    """Headers of a WSGI environ (``HTTP_*`` keys plus CONTENT_TYPE/CONTENT_LENGTH)."""

    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        value = self._environ.get(key if key in _SPECIAL_ENVIRON else "HTTP_" + key)
        return value if isinstance(value, str) else None

    def items(self) -> list[tuple[str, str]]:
        pairs = []
        for key, value in self._environ.items():
            if key.startswith("HTTP_"):
                pairs.append((key[5:].lower().replace("_", "-"), value))
            elif key in _SPECIAL_ENVIRON and value:
                pairs.append((_SPECIAL_ENVIRON[key], value))
        return pairs


class ScopeHeaders(Headers):
    """Headers of an ASGI scope: raw (bytes, bytes) pairs, decoded as latin-1 like every ASGI framework.
    A lookup decodes only the value asked for: the index keeps names and values as bytes."""

    __slots__ = ("_by_name", "_raw")

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._by_name: dict[bytes, bytes] | None = None

    def get(self, name: str) -> str | None:
        by_name = self._by_name
        if by_name is None:
            by_name = self._by_name = {}
            for raw_name, raw_value in self._raw:
                key, value = bytes(raw_name).lower(), bytes(raw_value)
                by_name[key] = by_name[key] + b", " + value if key in by_name else value
        found = by_name.get(name.lower().encode("latin-1", "replace"))
        return None if found is None else found.decode("latin-1")

    def items(self) -> list[tuple[str, str]]:
        return [(bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1")) for k, v in self._raw]


class RequestContext(Span):
    """What tracesec knows about one request. It is also the request's server span, whose OpenTelemetry
    attributes the export worker shapes from these raw facts: one object per request, since every object
    made on the request path shows in the app's latency. Products keep their per-request state in
    ``state``."""

    __slots__ = (
        "_client_ip",
        "_state",
        "blocked",
        "config",
        "downstream",
        "events",
        "framework",
        "headers",
        "host",
        "method",
        "path",
        "path_params",
        "peer_ip",
        "peer_port",
        "query_string",
        "raw",
        "request_body",
        "request_body_error",
        "request_body_size",
        "request_body_truncated",
        "response_body",
        "response_body_size",
        "response_body_truncated",
        "response_headers",
        "route",
        "scheme",
        "status_code",
        "user",
    )

    def __init__(
        self,
        config: Config,
        framework: str,
        method: str,
        scheme: str,
        host: str,
        path: str,
        query_string: str,
        headers: Headers,
        peer_ip: str,
        peer_port: int | str | None,
        raw: Any = None,
        traceparent: str | None = None,
    ) -> None:
        """``raw`` is the server's own request object (WSGI environ, ASGI scope): its identity. A valid
        ``traceparent`` continues the caller's trace."""
        parent = parse_traceparent(traceparent) if traceparent else None
        if parent is None:
            Span.__init__(self, method, "server", new_trace_id())
        else:
            Span.__init__(self, method, "server", parent[0], parent[1])
        self.config = config
        self.raw = raw
        self.framework = framework
        self.method = method
        self.scheme = scheme
        self.host = host
        self.path = path
        self.query_string = query_string
        self.headers = headers
        self.peer_ip = peer_ip
        self.peer_port = peer_port
        self._client_ip: str | None = None
        self.route: str | None = None
        self.path_params: Mapping[str, Any] | None = None
        self.user: tuple[str, dict[str, Any]] | None = None
        self.request_body: bytearray | None = None
        self.request_body_size = 0
        self.request_body_truncated = False
        self.request_body_error: str | None = None
        self.status_code: int | None = None
        self.response_headers: list[tuple[str, str]] | list[tuple[bytes, bytes]] | None = None
        self.response_body: bytes | bytearray | None = None
        self.response_body_size = 0
        self.response_body_truncated = False
        self.blocked: SecurityEvent | None = None
        # Made on first use, as most requests never need them: less to allocate on the request path, and
        # less to hold while the span waits in the export queue.
        self.events: list[SecurityEvent] | None = None
        self.downstream: set[tuple[str, str]] | None = None
        self._state: dict[str, Any] | None = None

    @property
    def state(self) -> dict[str, Any]:
        """Per-request state of the products (the actor, extracted inputs, ...)."""
        state = self._state
        if state is None:
            state = self._state = {}
        return state

    def add_event(self, event: SecurityEvent) -> None:
        if self.events is None:
            self.events = [event]
        else:
            self.events.append(event)

    def add_dependency(self, kind: str, name: str) -> None:
        """A downstream service this request called (``("http", "api.example:443")``, ``("db", ...)``)."""
        if self.downstream is None:
            self.downstream = {(kind, name)}
        else:
            self.downstream.add((kind, name))

    def wire_attributes(self) -> dict[str, Any]:
        return server_attributes(self) | self.attributes

    @property
    def client_ip(self) -> str:
        """The client's address: the socket peer, or X-Forwarded-For when the peer is a trusted proxy."""
        if self._client_ip is None:
            self._client_ip = resolve_client_ip(
                self.peer_ip, self.headers.get("x-forwarded-for"), self.config.trusted_proxies
            )
        return self._client_ip

    def response_header_items(self) -> list[tuple[str, str]]:
        """(lower-case name, value) pairs of the response; ASGI's byte pairs are decoded as latin-1."""
        return [(_text(name).lower(), _text(value)) for name, value in self.response_headers or ()]

    def response_header(self, name: str) -> str | None:
        for key, value in self.response_header_items():
            if key == name:
                return value
        return None


def wsgi_string(text: str) -> str:
    """A decoded path in the WSGI convention (latin-1 code points of the raw UTF-8 bytes), so every core
    stores paths alike; ASCII, the common case, is already in that form."""
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("latin-1")


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def resolve_client_ip(
    peer: str,
    forwarded_for: str | None,
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
) -> str:
    """Walk X-Forwarded-For from the right while each hop is a trusted proxy; the first untrusted one is
    the client. Without trusted proxies the header is ignored, since any client can send it."""
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
