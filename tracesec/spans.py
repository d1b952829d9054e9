"""Spans as cheap records: ids and timestamps are taken on the request thread, attributes are shaped
and serialised on the export worker (``to_wire``)."""

from __future__ import annotations

import random
import time
from typing import Any

AttributeValue = str | int | float | bool | list[str] | list[int] | list[float] | list[bool]

_TRACEPARENT_VERSION = "00"


def new_trace_id() -> int:
    return random.getrandbits(128) or 1


def format_trace_id(trace_id: int) -> str:
    return f"{trace_id:032x}"


def format_span_id(span_id: int) -> str:
    return f"{span_id:016x}"


def parse_traceparent(header: str | None) -> tuple[int, int, bool] | None:
    """(trace id, parent span id, sampled) from a W3C ``traceparent``; None when absent or invalid."""
    if not header:
        return None
    parts = header.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or len(parts[3]) != 2:
        return None
    version = parts[0]
    if len(version) != 2 or version == "ff" or (version == _TRACEPARENT_VERSION and len(parts) != 4):
        return None
    try:
        trace_id, parent_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3], 16)
    except ValueError:
        return None
    if trace_id == 0 or parent_id == 0:
        return None
    return trace_id, parent_id, bool(flags & 1)


def format_traceparent(trace_id: int, span_id: int, sampled: bool = True) -> str:
    return f"{_TRACEPARENT_VERSION}-{trace_id:032x}-{span_id:016x}-{'01' if sampled else '00'}"


class Span:
    """One timed operation. ``kind`` is server, client or internal (OpenTelemetry span kinds)."""

    __slots__ = (
        "attributes",
        "end_ns",
        "kind",
        "name",
        "parent_id",
        "span_id",
        "start_ns",
        "status",
        "status_message",
        "trace_id",
    )

    export_kind = "spans"

    def __init__(
        self,
        name: str,
        kind: str,
        trace_id: int,
        parent_id: int | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.trace_id = trace_id
        self.parent_id = parent_id
        self.span_id = random.getrandbits(64) or 1
        self.attributes: dict[str, Any] = {} if attributes is None else attributes
        self.start_ns = time.time_ns()
        self.end_ns = 0
        self.status = "unset"
        self.status_message: str | None = None

    def end(self) -> None:
        if not self.end_ns:
            self.end_ns = time.time_ns()

    def record_exception(self, exc: BaseException) -> None:
        """Note an error the operation raised; the exception itself is left to propagate."""
        self.status = "error"
        self.status_message = f"{type(exc).__name__}: {exc}"[:512]
        self.attributes["error.type"] = type(exc).__qualname__
        self.attributes["exception.type"] = f"{type(exc).__module__}.{type(exc).__qualname__}"
        self.attributes["exception.message"] = str(exc)[:512]

    def wire_attributes(self) -> dict[str, Any]:
        """Attributes as shipped; subclasses shape raw request data here, on the worker thread."""
        return self.attributes

    def to_wire(self) -> dict[str, Any]:
        attributes = self.wire_attributes()  # first: shaping may rename the span (route known late)
        return {
            "trace_id": format_trace_id(self.trace_id),
            "span_id": format_span_id(self.span_id),
            "parent_span_id": None if self.parent_id is None else format_span_id(self.parent_id),
            "name": self.name,
            "kind": self.kind,
            "start_time_unix_nano": self.start_ns,
            "end_time_unix_nano": self.end_ns or self.start_ns,
            "status": self.status,
            "status_message": self.status_message,
            "attributes": attributes,
        }
