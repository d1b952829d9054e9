"""enumeration: an actor touching far more distinct object IDs (path parameter values) on a route in a
window than the route's actors usually do (BOLA probing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracesec.behavior.findings import RouteFinding

if TYPE_CHECKING:
    from tracesec.behavior.routes import RouteState, Totals


class EnumerationCheck(RouteFinding):
    event_type = "enumeration"

    def figures(self, state: RouteState, totals: Totals, size: int) -> dict[str, Any]:
        return {
            "distinct_ids": totals.distinct,
            "threshold_ids": state.ids_limit,
            "usual_ids": state.ids.quantile_bound(self.settings.baseline_quantile),
            "window_seconds": self.settings.window_seconds,
        }
