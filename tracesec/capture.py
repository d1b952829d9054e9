"""Recording requests: which bodies are worth keeping, a tee that keeps the first bytes the app reads, and
the server span's OpenTelemetry attributes, shaped and redacted on the export worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tracesec.failsafe import note_internal_error
from tracesec.redaction import (
    redact_header,
    redact_json_body,
    redact_query,
    redact_text,
)

if TYPE_CHECKING:
    from tracesec.config import Config
    from tracesec.context import RequestContext

_TEXTUAL_TYPES = frozenset(
    {
        "application/json",
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/graphql",
        "application/javascript",
        "application/x-ndjson",
    }
)
_textual_cache: dict[str, bool] = {}


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_textual(content_type: str | None) -> bool:
    """JSON, form, text and XML bodies are captured, including vendor types like application/vnd.api+json
    and parameters like charset; binary and multipart bodies are only counted."""
    if not content_type:
        return False
    known = _textual_cache.get(content_type)
    if known is None:
        kind = media_type(content_type)
        known = (
            kind in _TEXTUAL_TYPES
            or kind.startswith("text/")
            or kind.endswith(("+json", "+xml"))
            or (kind.startswith("application/") and kind.endswith(("/json", "/xml")))
        )
        if len(_textual_cache) < 512:
            _textual_cache[content_type] = known
    return known


def keeps_request_body(config: Config, content_type: str | None) -> bool:
    """Whether to keep the first bytes of a request body: for the span (textual types, when bodies are
    captured) or for protection, which also reads multipart fields and file names as user input."""
    if not content_type:
        return False
    if is_textual(content_type):
        return config.capture_bodies or config.protect
    return config.protect and media_type(content_type) == "multipart/form-data"


def is_json(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


class BodyTee:
    """Stands in for ``wsgi.input``: the app reads exactly the bytes it would have read, and the first
    ``cap`` of them are kept for the span. Nothing is read ahead, nothing is buffered beyond the cap."""

    __slots__ = ("_cap", "_ctx", "_stream")

    def __init__(self, stream: Any, ctx: RequestContext, cap: int) -> None:
        self._stream = stream
        self._ctx = ctx
        self._cap = cap

    def _keep(self, data: Any) -> Any:
        keep_request_chunk(self._ctx, data, self._cap)
        return data

    def _kept(self, data: Any) -> Any:
        """``data`` as read, after keeping its first bytes; a failure to keep them stays inside."""
        try:
            self._keep(data)
        except Exception as exc:
            note_internal_error("capture.request_body", exc)
        return data

    def _guard(self, exc: BaseException) -> None:
        self._ctx.request_body_error = f"{type(exc).__name__}: {exc}"[:200]

    def read(self, *size: int | None) -> bytes:
        try:
            data = self._stream.read(*size)
        except Exception as exc:
            self._guard(exc)
            raise
        return self._kept(data)  # type: ignore[no-any-return]

    def readline(self, *size: int | None) -> bytes:
        try:
            data = self._stream.readline(*size)
        except Exception as exc:
            self._guard(exc)
            raise
        return self._kept(data)  # type: ignore[no-any-return]

    def readinto(self, buffer: Any) -> int:
        """Werkzeug reads through readinto when the stream offers it; streams without one get read()."""
        try:
            if hasattr(self._stream, "readinto"):
                count: int = self._stream.readinto(buffer) or 0
            else:
                data = self._stream.read(len(buffer))
                count = len(data)
                buffer[:count] = data
        except Exception as exc:
            self._guard(exc)
            raise
        if count:
            self._kept(memoryview(buffer)[:count])
        return count

    def readlines(self, hint: int = -1) -> list[bytes]:
        return [self._kept(line) for line in self._stream.readlines(hint)]

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            yield self._kept(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _keep_first_bytes(kept: bytearray, chunk: Any, cap: int) -> bool:
    """Append what still fits under ``cap``; True when some of ``chunk`` did not fit."""
    room = cap - len(kept)
    if room > 0:
        kept += chunk[:room]
    return len(chunk) > room


def keep_request_chunk(ctx: RequestContext, chunk: Any, cap: int) -> None:
    """Count a request body chunk the app read; keep its first bytes when the body is being kept."""
    ctx.request_body_size += len(chunk)
    if ctx.request_body is not None and _keep_first_bytes(ctx.request_body, chunk, cap):
        ctx.request_body_truncated = True


def response_cap(config: Config) -> int:
    """How many first bytes of a response body to keep: none when bodies are not captured."""
    return config.max_body_bytes if config.capture_bodies else 0


def keep_response_chunk(ctx: RequestContext, chunk: bytes, cap: int) -> None:
    """Count a response chunk and keep the body's first ``cap`` bytes whatever its content type (the
    export worker shows them for textual types only): deciding that on the request thread costs more than
    keeping them, since a body that fits in its first chunk, as most do, is kept by reference."""
    ctx.response_body_size += len(chunk)
    kept = ctx.response_body
    if kept is None and type(chunk) is bytes and len(chunk) <= cap:
        ctx.response_body = chunk  # bytes are immutable: no copy needed
    elif cap:
        if type(kept) is not bytearray:
            kept = ctx.response_body = bytearray(kept or b"")
        if _keep_first_bytes(kept, chunk, cap):
            ctx.response_body_truncated = True


def decode_body(data: bytes | bytearray, content_type: str | None) -> str:
    charset = "utf-8"
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return bytes(data).decode(charset, errors="replace")
    except LookupError:
        return bytes(data).decode("utf-8", errors="replace")


def shape_body(data: bytes | bytearray, content_type: str | None, extra: frozenset[str]) -> str:
    text = decode_body(data, content_type)
    if is_json(content_type):
        return redact_json_body(text, extra)
    if media_type(content_type) == "application/x-www-form-urlencoded":
        return redact_query(text, extra)
    return redact_text(text)


def to_text(value: str) -> str:
    """WSGI hands path and query as latin-1 code points of the raw bytes; show them as UTF-8 text."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8", errors="replace")
    except UnicodeEncodeError:
        return value


def server_attributes(ctx: RequestContext) -> dict[str, Any]:
    """OpenTelemetry HTTP server attributes, redacted. Runs on the export worker."""
    config = ctx.config
    extra = config.redact_fields
    attributes: dict[str, Any] = {
        "http.request.method": ctx.method,
        "url.scheme": ctx.scheme,
        "url.path": to_text(ctx.path),
        "server.address": ctx.host or ctx.headers.get("host") or "",
        "client.address": ctx.client_ip,
        "network.peer.address": ctx.peer_ip,
        "tracesec.framework": ctx.framework,
    }
    if ctx.peer_port is not None and str(ctx.peer_port).isdigit():
        attributes["network.peer.port"] = int(ctx.peer_port)
    if ctx.query_string:
        attributes["url.query"] = redact_query(to_text(ctx.query_string), extra)
    if ctx.route is not None:
        attributes["http.route"] = ctx.route
        ctx.name = f"{ctx.method} {ctx.route}"
    if ctx.status_code is not None:
        attributes["http.response.status_code"] = ctx.status_code
        if ctx.status_code >= 500:
            ctx.status = "error"
    user_agent = ctx.headers.get("user-agent")
    if user_agent is not None:
        attributes["user_agent.original"] = user_agent
    for name, value in ctx.headers.items():
        key = f"http.request.header.{name}"
        attributes.setdefault(key, []).append(redact_header(name, to_text(value), extra))
    for name, value in ctx.response_header_items():
        key = f"http.response.header.{name}"
        attributes.setdefault(key, []).append(redact_header(name, value, extra))
    attributes["http.request.body.size"] = ctx.request_body_size
    attributes["http.response.body.size"] = ctx.response_body_size
    request_type = ctx.headers.get("content-type")
    if ctx.request_body and config.capture_bodies and is_textual(request_type):
        attributes["tracesec.request.body"] = shape_body(ctx.request_body, request_type, extra)
        attributes["tracesec.request.body.truncated"] = ctx.request_body_truncated
    if ctx.request_body_error:
        attributes["tracesec.request.body.error"] = ctx.request_body_error
    content_type = ctx.response_header("content-type")
    if ctx.response_body and is_textual(content_type):
        attributes["tracesec.response.body"] = shape_body(ctx.response_body, content_type, extra)
        attributes["tracesec.response.body.truncated"] = ctx.response_body_truncated
    if ctx.user is not None:
        attributes["enduser.id"] = ctx.user[0]
    if ctx.downstream:
        attributes["tracesec.dependencies"] = sorted(f"{kind}:{name}" for kind, name in ctx.downstream)
    if ctx.events:
        attributes["tracesec.event_ids"] = [event.event_id for event in ctx.events]
    if ctx.blocked is not None:
        attributes["tracesec.blocked"] = True
        attributes["tracesec.blocked.reason"] = ctx.blocked.type
    return attributes
