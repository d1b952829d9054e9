"""Client spans for downstream calls (HTTP, database, process), made and finished the same way by every
integration.

Inside a request a span is a child of the request's server span and its dependency goes to the service
map; outside one nothing is recorded unless ``spans_outside_requests`` is on, so a script or background
job pays one ContextVar read. Work that costs (URL redaction, SQL sanitising) is deferred to the export
worker through ``ClientSpan.defer``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from tracesec.agent import active
from tracesec.config import Config
from tracesec.context import current, instrumentation_suppressed
from tracesec.failsafe import note_internal_error
from tracesec.spans import Span, new_trace_id


class ClientSpan(Span):
    """A downstream call. ``defer`` keeps raw values whose shaping is left to the export worker."""

    __slots__ = ("_deferred",)

    def __init__(self, name: str, trace_id: int, parent_id: int | None) -> None:
        super().__init__(name, "client", trace_id, parent_id)
        self._deferred: list[tuple[str, Callable[[Any], Any], Any]] = []

    def defer(self, attribute: str, shape: Callable[[Any], Any], raw: Any) -> None:
        """Set ``attribute`` to ``shape(raw)`` on the export worker, off the request thread."""
        self._deferred.append((attribute, shape, raw))

    def wire_attributes(self) -> dict[str, Any]:
        for attribute, shape, raw in self._deferred:
            try:
                self.attributes[attribute] = shape(raw)
            except Exception as exc:
                note_internal_error("span.shape", exc)
        self._deferred.clear()
        return self.attributes


def start_client_span(name: str) -> ClientSpan | None:
    """A new client span under the current request, or None when nothing is to be recorded."""
    if instrumentation_suppressed():
        return None
    ctx = current()
    if ctx is not None:
        return ClientSpan(name, ctx.trace_id, ctx.span_id)
    agent = active()
    if agent is not None and agent.config.spans_outside_requests:
        return ClientSpan(name, new_trace_id(), None)
    return None


def current_config() -> Config | None:
    """The settings in force here: the request's, else the installed agent's."""
    ctx = current()
    if ctx is not None:
        return ctx.config
    agent = active()
    return None if agent is None else agent.config


def note_dependency(kind: str, name: str) -> None:
    """Add (kind, name) to the current request's service map, e.g. ("postgresql", "appdb")."""
    ctx = current()
    if ctx is not None:
        ctx.add_dependency(kind, name)


def finish_client_span(span: ClientSpan, error: BaseException | None = None) -> None:
    """End the span, note the error the call raised (left to propagate), and queue it for export."""
    if error is not None:
        span.record_exception(error)
    span.end()
    agent = active()
    if agent is not None:
        agent.enqueue(span)


class SpanScope:
    """``with SpanScope(span):`` around the downstream call: finishes the span however the call ends.
    A None span makes it a no-op, so callers need no second code path when nothing is recorded."""

    __slots__ = ("span",)

    def __init__(self, span: ClientSpan | None) -> None:
        self.span = span

    def __enter__(self) -> ClientSpan | None:
        return self.span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.span is not None:
            finish_client_span(self.span, exc)
