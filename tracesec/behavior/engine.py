"""The behaviour engine the agent registers.

In block mode, the request thread names the actor at request start (refusing a blocked one) and counts at
request end what a block decision on the actor's next request needs. In monitor mode nobody is refused, so
those request-end checks wait for the export worker too (products.py wires this), off the app's latency.
The export worker always runs the span's actor attributes and the checks that can wait a flush interval
(``on_record``), learns route baselines from closed windows and ships them (``snapshot``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tracesec.behavior.actors import Actor, ActorResolver
from tracesec.behavior.blocklist import Blocklist
from tracesec.behavior.report import Alerter, Emit, actor_attributes, report_event
from tracesec.behavior.route_checks import RouteChecks
from tracesec.behavior.routes import ClosedWindow, RouteTable
from tracesec.behavior.scanner import ScannerCheck
from tracesec.behavior.settings import BehaviorSettings
from tracesec.behavior.stuffing import StuffingCheck
from tracesec.behavior.token_sharing import TokenSharingCheck
from tracesec.behavior.windowing import Tumbling
from tracesec.events import Blocked, SecurityEvent
from tracesec.sketches import CountMin, WindowedCountMin, snapshot_entry

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
        self.reset()

    def reset(self) -> None:
        """Start the counts afresh (also in a forked child, whose inherited counts the parent ships)."""
        now = self.clock()
        settings = self.settings
        self._lock = threading.Lock()  # a fork may have copied it held
        self.window = Tumbling(settings.window_seconds, now)
        self.routes = RouteTable(settings)
        self.route_checks = RouteChecks(settings, self.alerter, self.routes, now)
        self.token_sharing = TokenSharingCheck(settings, self.alerter, now)
        self.stuffing = StuffingCheck(settings, self.alerter, self.resolver.credential_hash, now)
        self.scanner = ScannerCheck(settings, self.alerter, now)
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._shipped: set[tuple[str, float]] = set()

    # Request path

    def on_request_start(self, ctx: RequestContext) -> None:
        """Name the actor of the request; refuse a blocked actor in block mode."""
        actor = self.actor_of(ctx)
        if self.settings.block and "actor_allowed" not in ctx.state:
            hit = self.blocklist.blocking(self._block_keys(ctx, actor), self.clock())
            if hit is not None:
                raise Blocked(self._refusal(ctx, actor, hit))

    def actor_of(self, ctx: RequestContext) -> Actor:
        """The request's actor, named on first use (an allow-listed one is marked so no check sees it)."""
        actor: Actor | None = ctx.state.get("actor")
        if actor is None:
            actor = ctx.state["actor"] = self.resolver.resolve(ctx)
            if self.blocklist.has_allow_list and self.blocklist.allowed(self._block_keys(ctx, actor)):
                ctx.state["actor_allowed"] = True
        return actor

    def check_user(self, ctx: RequestContext) -> None:
        """For ``set_user`` in block mode: the user becomes the actor, and a user blocked by id is refused
        (only known once the app says). In monitor mode the request's end names the user as its actor."""
        if ctx.user is None or not self.settings.block:
            return
        actor = self.resolver.named_user(ctx.user[0], ctx.state.get("actor"))
        ctx.state["actor"] = actor
        hit = self.blocklist.blocking(actor.block_keys, self.clock())
        if hit is not None and not self.blocklist.allowed(self._block_keys(ctx, actor)):
            raise Blocked(self._refusal(ctx, actor, hit))

    def on_request_end(self, ctx: RequestContext) -> None:
        """Run the checks that must see a request before the actor's next one (counts per actor and route,
        failures per IP) on the finished request: on its thread in block mode, on the export worker in
        monitor mode."""
        actor = self.actor_of(ctx)
        if ctx.user is not None and actor.kind != "user":
            actor = ctx.state["actor"] = self.resolver.named_user(ctx.user[0], actor)
        if ctx.blocked is not None or "actor_allowed" in ctx.state:
            return
        now = self.clock()
        if now >= self.window.end:
            self._roll(now)
        route = ctx.route
        if route is not None:
            state = self.routes.get(route, self.window.start)
            if state is not None:
                self.route_checks.observe(ctx, actor, state, now)
        status = ctx.status_code or 0
        if status >= 400:
            self.stuffing.observe(ctx, actor, now)
        if status >= 400 or route is None:
            self.scanner.observe_failure(ctx, actor, now)

    def _refusal(self, ctx: RequestContext, actor: Actor, hit: tuple[str, str]) -> SecurityEvent:
        attributes = actor_attributes(ctx, actor)
        attributes["tracesec.behavior.blocked_key"], attributes["tracesec.behavior.block_reason"] = hit
        return report_event(ctx, self.emit, "blocked_actor", attributes, blocked=True)

    def _block_keys(self, ctx: RequestContext, actor: Actor) -> tuple[str, ...]:
        return actor.block_keys if actor.kind == "ip" else (*actor.block_keys, f"ip:{ctx.client_ip}")

    def _roll(self, now: float) -> None:
        with self._lock:
            start = self.window.advance(now)
            if start is None:
                return
            self.route_checks.roll(start)
            self.scanner.roll(start)

    # Export worker

    def on_record(self, ctx: RequestContext) -> None:
        """Each finished request, on the export worker (a record processor): name the actor on its span,
        then run the checks that can wait a flush interval and would cost the request path most: a
        credential's client IPs (token_sharing) and the user agent (scanner tools)."""
        actor: Actor | None = ctx.state.get("actor")
        if actor is None:
            return
        ctx.attributes.update(actor.span_attributes)
        if ctx.blocked is not None or "actor_allowed" in ctx.state:
            return
        now = self.clock()
        if actor.credential_hash is not None:
            self.token_sharing.observe(ctx, actor, now)
        self.scanner.observe_agent(ctx, actor, now)

    def snapshot(self) -> Mapping[str, list[Any]]:
        """{"sketches": [...]} with every window closed since the last call, or {} when none closed; the
        route baselines and thresholds are learnt from those windows first.

        Registered as an export contributor: runs on the export worker at each flush, never on a request
        thread.
        """
        now = self.clock()
        self._roll(now)
        self.token_sharing.roll(now)
        self.stuffing.roll(now)
        self.routes.roll_all(self.window.start)
        closed = self.routes.take_closed()
        for window in closed:
            window.state.learn(window, self.settings)
        closed = [window for window in closed if window.sizes]
        entries = [*self._actor_route_entries(closed), *self._route_entries(closed)]
        for name, sketch in (
            ("ip_auth_failures", self.stuffing.failures),
            ("ip_not_found", self.scanner.not_found),
        ):
            completed = self._unshipped(name, sketch)
            if completed is not None:
                entries.append(self._entry(name, completed[1], completed[0], sketch.window_seconds))
        token_seconds = self.token_sharing.window.seconds
        closed_ips, self.token_sharing.closed = self.token_sharing.closed, []
        for start, tracked in closed_ips:
            for digest, ips in tracked.items():
                entries.append(self._entry("credential_ips", ips, start, token_seconds, digest))
        return {"sketches": entries} if entries else {}

    def _actor_route_entries(self, closed: list[ClosedWindow]) -> Iterator[dict[str, Any]]:
        """``actor_route_calls`` and ``actor_route_bytes`` per window: the exact tables poured into
        count-mins, plus the count-mins that stood in for actors without an entry."""
        checks, seconds, width = self.route_checks, self.settings.window_seconds, self.settings.sketch_width
        untracked = {
            "actor_route_calls": self._unshipped("actor_route_calls", checks.untracked_calls),
            "actor_route_bytes": self._unshipped("actor_route_bytes", checks.untracked_bytes),
        }
        starts = {window.start for window in closed}
        starts.update(completed[0] for completed in untracked.values() if completed is not None)
        for start in sorted(starts):
            counts = {name: CountMin(width) for name in untracked}
            for window in closed:
                if window.start == start:
                    for key, totals in window.totals.items():
                        actor_route = f"{key}\x1f{window.route}"
                        counts["actor_route_calls"].add(actor_route, totals.calls)
                        counts["actor_route_bytes"].add(actor_route, totals.bytes)
            for name, sketch in counts.items():
                completed = untracked[name]
                if completed is not None and completed[0] == start:
                    yield self._entry(name, sketch.merged(completed[1]), start, seconds)
                else:
                    yield self._entry(name, sketch, start, seconds)

    def _route_entries(self, closed: list[ClosedWindow]) -> Iterator[dict[str, Any]]:
        seconds = self.settings.window_seconds
        for window in closed:
            actors = window.untracked_actors
            for key in window.totals:
                actors.add(key)
            yield self._entry("route_response_bytes", window.size_sketch, window.start, seconds, window.route)
            yield self._entry("route_actors", actors, window.start, seconds, window.route)

    def _unshipped(self, name: str, sketch: WindowedCountMin) -> tuple[float, CountMin] | None:
        """The sketch's last closed window, once: None when there is none or it went out already."""
        completed = sketch.completed
        if completed is None or (name, completed[0]) in self._shipped:
            return None
        start = completed[0]
        self._shipped = {(n, s) for n, s in self._shipped if n != name or s >= start}
        self._shipped.add((name, start))
        return completed

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
