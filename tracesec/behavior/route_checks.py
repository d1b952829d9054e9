"""The request path of the per-route checks (rate, enumeration, exfiltration).

An actor's calls, bytes and distinct object IDs on a route this window live in one exact entry of the
route's table, so a request costs a few dict and integer operations; a check runs only once a total
reaches the route's threshold (the export worker learns the baselines from the closed tables). When the
window's entries are used up (``max_actor_routes``, say an actor flood), totals come from count-mins
instead; likewise the novelty of an (actor, route, ID) once ``max_object_ids`` pairs were seen. Memory
stays bounded either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tracesec.behavior.enumeration import EnumerationCheck
from tracesec.behavior.exfiltration import ExfiltrationCheck
from tracesec.behavior.rate import RateCheck
from tracesec.behavior.routes import SIZES_PER_WINDOW, Totals, adjacent
from tracesec.sketches import CountMin, WindowedCountMin

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.report import Alerter
    from tracesec.behavior.routes import RouteState, RouteTable
    from tracesec.behavior.settings import BehaviorSettings
    from tracesec.context import RequestContext


class RouteChecks:
    def __init__(self, settings: BehaviorSettings, alerter: Alerter, routes: RouteTable, now: float) -> None:
        self.routes = routes
        self.rate = RateCheck(settings, alerter)
        self.enumeration = EnumerationCheck(settings, alerter)
        self.exfiltration = ExfiltrationCheck(settings, alerter)
        seconds, width = settings.window_seconds, settings.sketch_width
        self.untracked_calls = WindowedCountMin(seconds, width, now=now)
        self.untracked_bytes = WindowedCountMin(seconds, width, now=now)
        self.untracked_ids = WindowedCountMin(seconds, width, now=now)
        self.untracked_pairs = WindowedCountMin(seconds, width, now=now)
        self.seconds = seconds
        self.prior_bytes: CountMin | None = None
        """The window before's ``untracked_bytes``, when that window directly precedes this one."""
        self.max_object_ids = settings.max_object_ids
        self.seen_ids: set[int] = set()
        """Hashes of the (actor, route, (parameter, value)) seen this window."""

    def roll(self, start: float) -> None:
        for sketch in (self.untracked_calls, self.untracked_bytes, self.untracked_ids, self.untracked_pairs):
            sketch.roll(start)
        completed = self.untracked_bytes.completed
        adjoining = completed is not None and adjacent(completed[0], start, self.seconds)
        self.prior_bytes = completed[1] if completed is not None and adjoining else None
        self.seen_ids = set()
        self.routes.new_window()
        for check in (self.rate, self.enumeration, self.exfiltration):
            check.roll()

    def observe(self, ctx: RequestContext, actor: Actor, state: RouteState, now: float) -> None:
        key = actor.key
        size = ctx.response_body_size
        if len(state.sizes) < SIZES_PER_WINDOW:
            state.sizes.append(size)
        totals = state.totals.get(key) or self.routes.totals_for(state, key)
        untracked = totals is None
        if totals is None:
            totals = self._untracked_totals(key, state, size)
        calls = totals.calls = totals.calls + 1
        if calls >= state.rate_limit:
            self.rate.exceeded(ctx, actor, state, totals, size, now)
        if size > 0:
            total = totals.bytes = totals.bytes + size
            if total + totals.prior_bytes >= state.bytes_limit or size >= state.size_limit:
                self.exfiltration.exceeded(ctx, actor, state, totals, size, now)
        params = ctx.path_params
        if params:
            new = self._new_ids(key, state.name, params)
            if new:
                if untracked:
                    totals.distinct = self.untracked_ids.current.add(f"{key}\x1f{state.name}", new)
                else:
                    totals.distinct += new
                if totals.distinct >= state.ids_limit:
                    self.enumeration.exceeded(ctx, actor, state, totals, size, now)

    def _new_ids(self, key: str, route: str, params: Mapping[str, Any]) -> int:
        """How many of the request's (parameter, value) pairs the actor had not touched on the route."""
        new = 0
        seen = self.seen_ids
        for item in params.items():
            pair = hash((key, route, item))
            if pair in seen:
                continue
            if len(seen) < self.max_object_ids:
                seen.add(pair)
                new += 1
            elif self.untracked_pairs.current.add(f"{key}\x1f{route}\x1f{item[0]}\x1f{item[1]}") == 1:
                new += 1
        return new

    def _untracked_totals(self, key: str, state: RouteState, size: int) -> Totals:
        """Calls and bytes before this request (and bytes in the window before), for an actor without an
        exact entry: the count-mins (which this updates) stand in for it, keyed as shipped
        ("<actor>\\x1f<route>")."""
        actor_route = f"{key}\x1f{state.name}"
        calls = self.untracked_calls.current.add(actor_route)
        if calls == 1:
            state.untracked_actors.add(key)
        if size <= 0:
            return Totals(calls - 1)
        before = self.untracked_bytes.current.add(actor_route, size) - size
        exact = state.previous.get(key)
        if exact is not None:
            prior = exact.bytes
        else:
            prior = 0 if self.prior_bytes is None else self.prior_bytes.estimate(actor_route)
        return Totals(calls - 1, before, prior_bytes=prior)
