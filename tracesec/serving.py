"""What the WSGI and ASGI cores share: which agent serves a request, and handing over a finished one."""

from __future__ import annotations

import time
from typing import Any

from tracesec import agent as agent_module
from tracesec.agent import Agent
from tracesec.context import RequestContext, _current
from tracesec.hooks import HOOKS, run_request_hooks


def serving_agent(raw: Any) -> Agent | None:
    """The agent that should trace the request whose environ/scope is ``raw``: None when off, or when this
    very request is already being traced (an explicit middleware around an auto-instrumented app)."""
    agent = agent_module._agent
    if agent is None or not agent.enabled:
        return None
    active = _current.get()
    if active is not None and active.raw is raw and not active.end_ns:
        return None
    return agent


def finish_request(ctx: RequestContext) -> None:
    """End the span, run the request-end checks, queue it. Called once per request."""
    if not ctx.end_ns:
        ctx.end_ns = time.time_ns()
    if HOOKS.request_end:
        run_request_hooks(HOOKS.request_end, ctx, "request_end")
    agent = agent_module._agent
    if agent is not None:
        agent.exporter.enqueue(ctx)
