"""exfiltration: one response far above its route's size quantiles, or an actor's bytes from a route in a
window far above what the route's actors usually take."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracesec.behavior.routes import RESPONSE_SIZE_QUANTILE, recorded_below
from tracesec.behavior.windowing import OncePerWindow
from tracesec.sketches import WindowedCountMin

if TYPE_CHECKING:
    from tracesec.behavior.actors import Actor
    from tracesec.behavior.report import Alerter
    from tracesec.behavior.routes import RouteState
    from tracesec.behavior.settings import BehaviorSettings
    from tracesec.context import RequestContext


class ExfiltrationCheck:
    def __init__(self, settings: BehaviorSettings, alerter: Alerter, now: float) -> None:
        self.settings = settings
        self.alerter = alerter
        self.bytes = WindowedCountMin(settings.window_seconds, settings.sketch_width, now=now)
        self._reported = OncePerWindow()

    def roll(self, start: float) -> None:
        self.bytes.roll(start)
        self._reported.clear()

    def observe(
        self, ctx: RequestContext, actor: Actor, state: RouteState, actor_route: str, now: float
    ) -> None:
        size = ctx.response_body_size
        state.sizes.add(size)
        if size <= 0:
            return
        total = self.bytes.current.add(actor_route, size)
        recorded = recorded_below(total, state.bytes_limit)
        state.bytes.record(recorded_below(total - size, state.bytes_limit), recorded)
        if size >= state.size_limit:
            figures = {
                "signal": "response_size",
                "response_bytes": size,
                "threshold_bytes": state.size_limit,
                "usual_bytes": state.size_baseline.quantile(RESPONSE_SIZE_QUANTILE),
            }
        elif total >= state.bytes_limit:
            figures = {
                "signal": "actor_total",
                "actor_bytes": total,
                "threshold_bytes": state.bytes_limit,
                "usual_bytes": state.bytes.quantile_bound(self.settings.baseline_quantile),
                "window_seconds": self.settings.window_seconds,
            }
        else:
            return
        if self._reported.first(actor_route):
            state.bytes.forget(recorded)
            self.alerter.alert(ctx, actor, "exfiltration", figures, actor.block_keys, now)
