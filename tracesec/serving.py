"""What the WSGI and ASGI cores share: opening a server span and handing over a finished request."""

from __future__ import annotations

from tracesec import agent as agent_module
from tracesec.agent import Agent
from tracesec.capture import ServerSpan
from tracesec.context import RequestContext, _current
from tracesec.hooks import HOOKS, run_request_hooks
from tracesec.spans import new_trace_id, parse_traceparent


def serving_agent() -> Agent | None:
    """The agent that should trace this request: None when off or when the request is already traced
    (an explicit middleware around an auto-instrumented app)."""
    agent = agent_module._agent
    if agent is None or not agent.enabled or _current.get() is not None:
        return None
    return agent


def open_server_span(method: str, traceparent: str | None) -> ServerSpan:
    """A server span continuing the caller's W3C trace when it sent one."""
    parent = parse_traceparent(traceparent)
    if parent is None:
        return ServerSpan(method, new_trace_id(), None)
    return ServerSpan(method, parent[0], parent[1])


def finish_request(ctx: RequestContext) -> None:
    """End the span, run the request-end checks, queue it. Called once per request."""
    ctx.span.end()
    run_request_hooks(HOOKS.request_end, ctx, "request_end")
    agent = agent_module._agent
    if agent is not None:
        agent.enqueue(ctx.span)
