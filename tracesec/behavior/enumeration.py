"""enumeration: an actor touching far more distinct object IDs on a route than actors usually do (BOLA
probing). Distinct IDs are counted without sets: a count-min of (actor, route, parameter, value) says when a
pair is new, and only then does the actor's distinct count (a second count-min) go up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracesec.behavior.routes import recorded_below
from tracesec.behavior.windowing import OncePerWindow
from tracesec.sketches import WindowedCountMin

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.report import Alerter
    from tracesec.behavior.routes import RouteState
    from tracesec.behavior.settings import BehaviorSettings
    from tracesec.context import RequestContext

MAX_PARAMS = 4
"""Path parameters looked at per request; a template rarely has more object IDs than this."""


class EnumerationCheck:
    def __init__(self, settings: BehaviorSettings, alerter: Alerter, now: float) -> None:
        self.settings = settings
        self.alerter = alerter
        self.seen = WindowedCountMin(settings.window_seconds, settings.sketch_width, now=now)
        self.distinct = WindowedCountMin(settings.window_seconds, settings.sketch_width, now=now)
        self._reported = OncePerWindow()

    def roll(self, start: float) -> None:
        self.seen.roll(start)
        self.distinct.roll(start)
        self._reported.clear()

    def observe(
        self, ctx: RequestContext, actor: Actor, state: RouteState, actor_route: str, now: float
    ) -> None:
        params = ctx.path_params
        if not params:
            return
        for index, (name, value) in enumerate(params.items()):
            if index == MAX_PARAMS:
                break
            if self.seen.current.add(f"{actor_route}\x1f{name}\x1f{value}") != 1:
                continue
            distinct = self.distinct.current.add(actor_route)
            if distinct < state.ids_limit:
                state.ids.record(distinct - 1, distinct)
            elif self._reported.first(actor_route):
                state.ids.forget(recorded_below(distinct - 1, state.ids_limit))
                figures = {
                    "distinct_ids": distinct,
                    "threshold_ids": state.ids_limit,
                    "usual_ids": state.ids.quantile_bound(self.settings.baseline_quantile),
                    "window_seconds": self.settings.window_seconds,
                }
                self.alerter.alert(ctx, actor, "enumeration", figures, actor.block_keys, now)
