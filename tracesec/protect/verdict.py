"""From a detector's finding to the contract's event: evidence attached, flood-limited, queued for export,
and in block mode raised as ``Blocked`` inside the sink so the sink never runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracesec.events import Blocked, SecurityEvent
from tracesec.protect.evidence import app_frame, request_attributes, shorten
from tracesec.protect.ratelimit import EventLimiter

if TYPE_CHECKING:
    from tracesec.context import RequestContext

Emit = Callable[[SecurityEvent], None]


@dataclass
class Finding:
    """What a sink check found: the event type, the sink and the value reaching it, and the user input
    that changed it (None for a finding without input, e.g. a metadata endpoint)."""

    type: str
    kind: str
    sink: str
    value: str
    input_path: str | None = None
    payload: str | None = None
    severity: str = "critical"
    blockable: bool = True
    """False for findings reported but never worth breaking the app for (the SDK reading metadata)."""
    attributes: dict[str, Any] = field(default_factory=dict)


class Verdict:
    """Monitor mode records; block mode also stops the sink."""

    def __init__(self, *, block: bool, limiter: EventLimiter, emit: Emit) -> None:
        self.block = block
        self.limiter = limiter
        self.emit = emit

    def report(self, ctx: RequestContext | None, finding: Finding) -> None:
        """The rate limit is asked first: an event neither blocked nor shipped (a flood of one payload in
        monitor mode) costs a counter increment, not evidence building."""
        blocked = self.block and finding.blockable
        route = None if ctx is None else ctx.route or ctx.path
        held = self.limiter.admit((finding.type, route, finding.sink, finding.input_path))
        if held is None and not blocked:
            return
        event = self.event(ctx, finding, blocked)
        if held is not None:
            if held:
                event.attributes["tracesec.protect.suppressed"] = held
            self.emit(event)
        if ctx is not None:
            ctx.add_event(event)
        if blocked:
            raise Blocked(event)

    @staticmethod
    def event(ctx: RequestContext | None, finding: Finding, blocked: bool) -> SecurityEvent:
        """The contract's event with its evidence: sink, input, the app's calling frame, request."""
        attributes: dict[str, Any] = {} if ctx is None else request_attributes(ctx)
        attributes["tracesec.sink"] = finding.sink
        attributes["tracesec.sink.kind"] = finding.kind
        attributes["tracesec.sink.value"] = shorten(finding.value)
        if finding.input_path is not None and finding.payload is not None:
            attributes["tracesec.input.source"] = finding.input_path.split(".", 1)[0]
            attributes["tracesec.input.path"] = finding.input_path
            attributes["tracesec.input.payload"] = shorten(finding.payload)
        location = app_frame(3)
        if location is not None:
            attributes["code.location"] = location
        attributes.update(finding.attributes)
        return SecurityEvent(
            finding.type,
            finding.severity,
            blocked=blocked,
            attributes=attributes,
            trace_id=None if ctx is None else ctx.trace_id,
            span_id=None if ctx is None else ctx.span_id,
        )
