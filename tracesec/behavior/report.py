"""Turning a check's finding into the contract's event, and (in block mode) into a timed block."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracesec.events import SecurityEvent

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.blocklist import Blocklist
    from tracesec.context import RequestContext

Emit = Callable[[SecurityEvent], None]


def report_event(
    ctx: RequestContext,
    emit: Emit,
    event_type: str,
    attributes: dict[str, Any],
    *,
    severity: str = "high",
    blocked: bool = False,
) -> SecurityEvent:
    """Build the event on the request's span, keep it on the request and hand it to the exporter."""
    event = SecurityEvent(
        event_type,
        severity,
        blocked=blocked,
        attributes=attributes,
        trace_id=ctx.trace_id,
        span_id=ctx.span_id,
    )
    ctx.add_event(event)
    emit(event)
    return event


def actor_attributes(ctx: RequestContext, actor: Actor) -> dict[str, Any]:
    """What every behavioural event says about who and where."""
    attributes: dict[str, Any] = dict(actor.span_attributes)
    attributes["client.address"] = ctx.client_ip
    attributes["http.request.method"] = ctx.method
    attributes["url.path"] = ctx.path
    if ctx.route is not None:
        attributes["http.route"] = ctx.route
    return attributes


class Alerter:
    """Shared by the checks: one event per finding, and a block of the offender when blocking is on."""

    def __init__(self, emit: Emit, blocklist: Blocklist, *, block: bool, block_seconds: float) -> None:
        self.emit = emit
        self.blocklist = blocklist
        self.block = block
        self.block_seconds = block_seconds

    def alert(
        self,
        ctx: RequestContext,
        actor: Actor,
        event_type: str,
        figures: dict[str, Any],
        block_keys: tuple[str, ...],
        now: float,
    ) -> SecurityEvent:
        """Report ``figures`` (what was observed against which threshold); block ``block_keys`` if on."""
        attributes = actor_attributes(ctx, actor)
        attributes.update({f"tracesec.behavior.{name}": value for name, value in figures.items()})
        if self.block and block_keys:
            until = now + self.block_seconds
            for key in block_keys:
                self.blocklist.block(key, until, event_type)
            attributes["tracesec.behavior.blocked_keys"] = list(block_keys)
            attributes["tracesec.behavior.blocked_until"] = until
        return report_event(ctx, self.emit, event_type, attributes)
