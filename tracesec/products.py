"""The security products and how each subscribes to the hook bus.

Integrations only raise facts (tracesec.hooks); the products here decide what they mean: protection checks
the sinks as they are called, behaviour checks run at request start and end (on the export worker in
monitor mode), discovery learns on the export worker, and the last two ship periodic state with the export
batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracesec.hooks import HOOKS

if TYPE_CHECKING:
    from tracesec.agent import Agent
    from tracesec.behavior import BehaviorEngine
    from tracesec.context import RequestContext
    from tracesec.discovery import Discovery
    from tracesec.protect.sinks import Protection


class Products:
    """The products one agent runs (each None when turned off)."""

    def __init__(self, agent: Agent) -> None:
        config = agent.config
        self.protection: Protection | None = None
        self.behavior: BehaviorEngine | None = None
        self.discovery: Discovery | None = None
        if config.protect:
            from tracesec.protect.sinks import Protection

            self.protection = Protection(config, emit=agent.enqueue)
            self.protection.subscribe(HOOKS)
        if config.behavior:
            from tracesec.behavior import BehaviorEngine, BehaviorSettings

            hash_key = (config.api_key or "tracesec").encode()
            self.behavior = BehaviorEngine(
                BehaviorSettings.from_config(config), emit=agent.enqueue, hash_key=hash_key
            )
            if self.behavior.settings.block:
                # A block decision must see a request before the actor's next one: the request thread.
                HOOKS.request_start.append(self.behavior.on_request_start)
                HOOKS.request_end.append(self.behavior.on_request_end)
            else:
                # Monitor mode refuses nobody: the checks wait for the export worker, off the app's latency.
                HOOKS.record_processors.append(self.behavior.on_request_end)
            HOOKS.record_processors.append(self.behavior.on_record)
            HOOKS.name_actor = self.behavior.actor_of
            HOOKS.contributors.append(self.behavior.snapshot)
        if config.discovery:
            from tracesec.discovery import Discovery

            self.discovery = Discovery(
                agent.service_name,
                sample_first=config.discovery_sample_first,
                sample_every=config.discovery_sample_every,
                max_endpoints=config.discovery_max_endpoints,
                infer_enums=config.discovery_enums,
            )
            HOOKS.record_processors.append(self.discovery.process)
            HOOKS.contributors.append(self.discovery.snapshot)

    def user_named(self, ctx: RequestContext) -> None:
        """The app called set_user: a deny-listed or blocked user is stopped right there."""
        if self.behavior is not None:
            self.behavior.check_user(ctx)

    def apply_reply(self, reply: dict[str, Any]) -> None:
        """The analysis service may answer a batch with actors to block."""
        blocklist = reply.get("blocklist")
        if self.behavior is not None and isinstance(blocklist, list) and blocklist:
            self.behavior.apply_blocklist(blocklist)

    def after_fork_in_child(self) -> None:
        """A forked worker starts its counts afresh: the parent ships what it had counted."""
        if self.protection is not None:
            self.protection.after_fork_in_child()
        if self.behavior is not None:
            self.behavior.reset()
