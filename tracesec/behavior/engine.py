"""The behaviour engine the agent registers: actors at request start (and blocking), the inline checks at
request end, and the periodic sketch snapshot for the collector."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tracesec.behavior.actors import Actor, ActorResolver
from tracesec.behavior.blocklist import Blocklist
from tracesec.behavior.enumeration import EnumerationCheck
from tracesec.behavior.exfiltration import ExfiltrationCheck
from tracesec.behavior.rate import RateCheck
from tracesec.behavior.report import Alerter, Emit, actor_attributes, report_event
from tracesec.behavior.routes import RouteTable
from tracesec.behavior.scanner import ScannerCheck
from tracesec.behavior.settings import BehaviorSettings
from tracesec.behavior.stuffing import StuffingCheck
from tracesec.behavior.token_sharing import TokenSharingCheck
from tracesec.behavior.windowing import Tumbling
from tracesec.events import Blocked
from tracesec.sketches import WindowedCountMin, snapshot_entry

if TYPE_CHECKING:
    from tracesec.context import RequestContext

BLOCKLIST_KINDS = ("ip", "user", "credential")


class BehaviorEngine:
    """Per-process behaviour state in bounded structures; safe to call from many request threads (counts
    may lose an increment under contention, which estimates tolerate; window changes take a lock)."""

    def __init__(
        self,
        settings: BehaviorSettings | None = None,
        emit: Emit = lambda event: None,
        *,
        clock: Callable[[], float] = time.time,
        hash_key: bytes = b"tracesec",
    ) -> None:
        self.settings = settings or BehaviorSettings()
        self.emit = emit
        self.clock = clock
        self.resolver = ActorResolver(self.settings.api_key_headers, self.settings.session_cookies, hash_key)
        self.blocklist = Blocklist(
            deny_ips=self.settings.deny_ips,
            allow_ips=self.settings.allow_ips,
            deny_users=self.settings.deny_users,
            allow_users=self.settings.allow_users,
            deny_credentials=self.settings.deny_credentials,
            allow_credentials=self.settings.allow_credentials,
        )
        self.alerter = Alerter(
            emit, self.blocklist, block=self.settings.block, block_seconds=self.settings.block_seconds
        )
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start the counts afresh (also in a forked child, whose inherited counts the parent ships)."""
        now = self.clock()
        settings = self.settings
        self.window = Tumbling(settings.window_seconds, now)
        self.routes = RouteTable(settings)
        self.rate = RateCheck(settings, self.alerter, now)
        self.enumeration = EnumerationCheck(settings, self.alerter, now)
        self.exfiltration = ExfiltrationCheck(settings, self.alerter, now)
        self.token_sharing = TokenSharingCheck(settings, self.alerter, now)
        self.stuffing = StuffingCheck(settings, self.alerter, self.resolver.credential_hash, now)
        self.scanner = ScannerCheck(settings, self.alerter, now)
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._shipped: set[tuple[str, float]] = set()

    # Request path

    def on_request_start(self, ctx: RequestContext) -> None:
        """Name the actor on the request and its span; in block mode, refuse a blocked actor."""
        actor = self.resolver.resolve(ctx)
        ctx.state["actor"] = actor
        ctx.span.attributes.update(actor.span_attributes)
        keys = self._block_keys(ctx, actor)
        if self.blocklist.allowed(keys):
            ctx.state["actor_allowed"] = True
            return
        if not self.settings.block:
            return
        hit = self.blocklist.blocking(keys, self.clock())
        if hit is not None:
            attributes = actor_attributes(ctx, actor)
            attributes["tracesec.behavior.blocked_key"], attributes["tracesec.behavior.block_reason"] = hit
            raise Blocked(report_event(ctx, self.emit, "blocked_actor", attributes, blocked=True))

    def check_user(self, ctx: RequestContext) -> None:
        """For ``set_user``: refuse a user blocked by id, in block mode (only known once the app says)."""
        if not self.settings.block or ctx.user is None:
            return
        actor = self.resolver.resolve(ctx)
        hit = self.blocklist.blocking(actor.block_keys, self.clock())
        if hit is not None and not self.blocklist.allowed(self._block_keys(ctx, actor)):
            attributes = actor_attributes(ctx, actor)
            attributes["tracesec.behavior.blocked_key"], attributes["tracesec.behavior.block_reason"] = hit
            raise Blocked(report_event(ctx, self.emit, "blocked_actor", attributes, blocked=True))

    def on_request_end(self, ctx: RequestContext) -> None:
        """Run the inline checks on a finished request."""
        actor: Actor | None = ctx.state.get("actor")
        if actor is None or ctx.user is not None:
            actor = self.resolver.resolve(ctx)
            ctx.state["actor"] = actor
            ctx.span.attributes.update(actor.span_attributes)
        if ctx.blocked is not None or "actor_allowed" in ctx.state:
            return
        now = self.clock()
        if now >= self.window.end:
            self._roll(now)
        route = ctx.route
        if route is not None:
            state = self.routes.get(route, self.window.start)
            if state is not None:
                actor_route = f"{actor.key}\x1f{route}"
                self.rate.observe(ctx, actor, state, actor_route, now)
                self.enumeration.observe(ctx, actor, state, actor_route, now)
                self.exfiltration.observe(ctx, actor, state, actor_route, now)
        self.token_sharing.observe(ctx, actor, now)
        self.stuffing.observe(ctx, actor, now)
        self.scanner.observe(ctx, actor, now)

    def _block_keys(self, ctx: RequestContext, actor: Actor) -> tuple[str, ...]:
        return actor.block_keys if actor.kind == "ip" else (*actor.block_keys, f"ip:{ctx.client_ip}")

    def _roll(self, now: float) -> None:
        with self._lock:
            start = self.window.advance(now)
            if start is None:
                return
            for check in (self.rate, self.enumeration, self.exfiltration, self.scanner):
                check.roll(start)

    # Export worker

    def snapshot(self) -> Mapping[str, list[Any]]:
        """{"sketches": [...]} with every window closed since the last call, or {} when none closed.

        Registered as an export contributor: runs on the export worker, never on a request thread.
        """
        now = self.clock()
        self._roll(now)
        self.token_sharing.roll(now)
        self.stuffing.roll(now)
        self.routes.roll_all(self.window.start)
        seconds = self.settings.window_seconds
        entries = []
        for name, sketch in self._windowed_counts():
            if sketch.completed is not None and (name, sketch.completed[0]) not in self._shipped:
                start, counts = sketch.completed
                self._shipped = {(n, s) for n, s in self._shipped if n != name or s >= start}
                self._shipped.add((name, start))
                entries.append(self._entry(name, counts, start, sketch.window_seconds))
        for route, start, sizes, actors in self.routes.take_closed():
            entries.append(self._entry("route_response_bytes", sizes, start, seconds, route))
            entries.append(self._entry("route_actors", actors, start, seconds, route))
        token_seconds = self.token_sharing.window.seconds
        closed, self.token_sharing.closed = self.token_sharing.closed, []
        for start, tracked in closed:
            for digest, ips in tracked.items():
                entries.append(self._entry("credential_ips", ips, start, token_seconds, digest))
        return {"sketches": entries} if entries else {}

    def _windowed_counts(self) -> Iterable[tuple[str, WindowedCountMin]]:
        yield "actor_route_calls", self.rate.calls
        yield "actor_route_bytes", self.exfiltration.bytes
        yield "ip_auth_failures", self.stuffing.failures
        yield "ip_not_found", self.scanner.not_found

    def _entry(self, name: str, sketch: Any, start: float, seconds: float, key: str | None = None) -> Any:
        return snapshot_entry(
            name, sketch, window_start=start, window_seconds=seconds, process_id=self.process_id, key=key
        )

    def apply_blocklist(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Apply blocks pushed by the collector: ``{"kind": "ip"|"user"|"credential", "value": str,
        "seconds": float, "reason": str}``. Malformed entries are skipped; returns how many applied."""
        now = self.clock()
        applied = 0
        for entry in entries:
            kind, value, seconds = entry.get("kind"), entry.get("value"), entry.get("seconds")
            if kind not in BLOCKLIST_KINDS or not isinstance(value, str) or not value:
                continue
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
                continue
            reason = entry.get("reason")
            self.blocklist.block(
                f"{kind}:{value}", now + seconds, reason if isinstance(reason, str) else "collector"
            )
            applied += 1
        return applied
