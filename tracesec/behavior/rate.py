"""rate_anomaly: an actor calling a route far more often in a window than that route's actors usually do."""

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


class RateCheck:
    """Counts calls per (actor, route) in a count-min; compares with the route's per-actor baseline."""

    def __init__(self, settings: BehaviorSettings, alerter: Alerter, now: float) -> None:
        self.settings = settings
        self.alerter = alerter
        self.calls = WindowedCountMin(settings.window_seconds, settings.sketch_width, now=now)
        self._reported = OncePerWindow()

    def roll(self, start: float) -> None:
        self.calls.roll(start)
        self._reported.clear()

    def observe(
        self, ctx: RequestContext, actor: Actor, state: RouteState, actor_route: str, now: float
    ) -> None:
        count = self.calls.current.add(actor_route)
        if count & (count - 1) == 0 and count < state.rate_limit:
            state.calls.record(count - 1, count)
            if count == 1:
                state.actors.add(actor.key)
        if count >= state.rate_limit and self._reported.first(actor_route):
            state.calls.forget(recorded_below(count - 1, state.rate_limit))
            figures = {
                "observed_calls": count,
                "threshold_calls": state.rate_limit,
                "usual_calls": state.calls.quantile_bound(self.settings.baseline_quantile),
                "window_seconds": self.settings.window_seconds,
            }
            self.alerter.alert(ctx, actor, "rate_anomaly", figures, actor.block_keys, now)
