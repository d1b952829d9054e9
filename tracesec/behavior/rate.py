"""rate_anomaly: an actor calling a route far more often in a window than that route's actors usually do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracesec.behavior.findings import RouteFinding

if TYPE_CHECKING:
    from tracesec.behavior.routes import RouteState, Totals


class RateCheck(RouteFinding):
    event_type = "rate_anomaly"

    def figures(self, state: RouteState, totals: Totals, size: int) -> dict[str, Any]:
        return {
            "observed_calls": totals.calls,
            "threshold_calls": state.rate_limit,
            "usual_calls": state.calls.quantile_bound(self.settings.baseline_quantile),
            "window_seconds": self.settings.window_seconds,
        }
