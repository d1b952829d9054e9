"""exfiltration: one response far above its route's size quantiles, or an actor's bytes from a route in a
window (plus the window before, so a burst straddling a boundary counts whole) far above what the route's
actors usually take in one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracesec.behavior.findings import RouteFinding
from tracesec.behavior.routes import RESPONSE_SIZE_QUANTILE

if TYPE_CHECKING:
    from tracesec.behavior.routes import RouteState, Totals


class ExfiltrationCheck(RouteFinding):
    event_type = "exfiltration"

    def figures(self, state: RouteState, totals: Totals, size: int) -> dict[str, Any]:
        if size >= state.size_limit:
            return {
                "signal": "response_size",
                "response_bytes": size,
                "threshold_bytes": state.size_limit,
                "usual_bytes": state.size_baseline.quantile(RESPONSE_SIZE_QUANTILE),
            }
        return {
            "signal": "actor_total",
            "actor_bytes": totals.bytes,
            "previous_window_bytes": totals.prior_bytes,
            "threshold_bytes": state.bytes_limit,
            "usual_bytes": state.bytes.quantile_bound(self.settings.baseline_quantile),
            "window_seconds": self.settings.window_seconds,
        }
