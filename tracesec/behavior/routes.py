"""Per-route baselines: what a normal actor does on a route in one window.

For each route the table keeps, per measure (calls, distinct object IDs, bytes), how many actors' window
totals reached at least 2**k (a "reach" histogram: updated only when a total crosses a power of two, so it
costs nearly nothing per request), decayed over past windows. From it comes a high quantile of the per-actor
total, and the threshold that a check compares with. Thresholds are recomputed once per window and route,
never per request. The table holds at most ``max_routes`` routes.
"""

from __future__ import annotations

import math
import threading

from tracesec.behavior.settings import BehaviorSettings
from tracesec.sketches import HyperLogLog, QuantileSketch

REACH_BITS = 48
RESPONSE_SIZE_QUANTILE = 0.99
_MIN_SIZES = 100
_ROUTE_HLL_PRECISION = 10


class Reach:
    """How many actors' totals reached at least 2**k: this window (``current``) and before (``baseline``)."""

    __slots__ = ("actor_windows", "baseline", "current")

    def __init__(self) -> None:
        self.current = [0] * REACH_BITS
        self.baseline = [0.0] * REACH_BITS
        self.actor_windows = 0

    def record(self, before: int, after: int) -> None:
        """An actor's window total went from ``before`` to ``after``."""
        low, high = before.bit_length(), min(after.bit_length(), REACH_BITS)
        current = self.current
        while low < high:
            current[low] += 1
            low += 1

    def forget(self, recorded: int) -> None:
        """Take out an actor whose window total reached ``recorded``: one that tripped a check must not
        become part of what is normal."""
        current = self.current
        for bit in range(min(recorded.bit_length(), REACH_BITS)):
            if current[bit]:
                current[bit] -= 1

    def fold(self, decay: float) -> None:
        """Close the window: older windows weigh ``decay`` times less each time."""
        self.baseline = [old * decay + new for old, new in zip(self.baseline, self.current, strict=True)]
        self.actor_windows += self.current[0]
        self.current = [0] * REACH_BITS

    def quantile_bound(self, quantile: float) -> float | None:
        """The per-actor total below which ``quantile`` of actors stay: found between the powers of two
        it falls between, then placed log-linearly within them."""
        total = self.baseline[0]
        if total <= 0:
            return None
        allowed = (1.0 - quantile) * total
        for bit in range(1, REACH_BITS):
            above = self.baseline[bit]
            if above <= allowed:
                below = self.baseline[bit - 1]
                share = (below - allowed) / (below - above) if below > above else 1.0
                return float(2.0 ** (bit - 1 + share))
        return 2.0**REACH_BITS


class RouteState:
    """One route's window measures and the thresholds derived from its past windows."""

    __slots__ = (
        "actors",
        "bytes",
        "bytes_limit",
        "calls",
        "ids",
        "ids_limit",
        "rate_limit",
        "size_baseline",
        "size_limit",
        "sizes",
        "start",
        "windows",
    )

    def __init__(self, start: float) -> None:
        self.start = start
        self.windows = 0
        self.calls = Reach()
        self.ids = Reach()
        self.bytes = Reach()
        self.sizes = QuantileSketch()
        self.size_baseline = QuantileSketch()
        self.actors = HyperLogLog(_ROUTE_HLL_PRECISION)
        self.rate_limit = math.inf
        self.ids_limit = math.inf
        self.bytes_limit = math.inf
        self.size_limit = math.inf

    def close_window(self, settings: BehaviorSettings) -> None:
        """Fold this window into the baselines and derive the next thresholds."""
        if self.calls.current[0]:
            self.windows += 1
        decay = 1.0 - 1.0 / settings.baseline_windows
        for reach in (self.calls, self.ids, self.bytes):
            reach.fold(decay)
        self.size_baseline = self.size_baseline.merged(self.sizes)
        self.sizes = QuantileSketch()
        self.actors = HyperLogLog(_ROUTE_HLL_PRECISION)
        warm = self.windows >= settings.warmup_windows and self.calls.actor_windows >= settings.warmup_actors
        if not warm:
            return
        quantile = settings.baseline_quantile
        self.rate_limit = _limit(
            self.calls.quantile_bound(quantile), settings.rate_factor, settings.rate_min_calls
        )
        self.ids_limit = _limit(
            self.ids.quantile_bound(quantile), settings.enumeration_factor, settings.enumeration_min_ids
        )
        floor = settings.exfiltration_min_bytes
        self.bytes_limit = _limit(self.bytes.quantile_bound(quantile), settings.exfiltration_factor, floor)
        if self.size_baseline.count >= _MIN_SIZES:
            usual = self.size_baseline.quantile(RESPONSE_SIZE_QUANTILE)
            self.size_limit = _limit(usual, settings.exfiltration_factor, floor)


def recorded_below(value: int, limit: float) -> int:
    """The largest total a check recorded into a Reach when it only records totals under ``limit``."""
    return value if value < limit else math.ceil(limit) - 1


def _limit(usual: float | None, factor: float, floor: float) -> float:
    return math.inf if usual is None else max(floor, factor * usual)


class RouteTable:
    """Route template -> RouteState, bounded; states roll lazily when first touched in a new window."""

    def __init__(self, settings: BehaviorSettings) -> None:
        self.settings = settings
        self._routes: dict[str, RouteState] = {}
        self._lock = threading.Lock()
        self.closed: list[tuple[str, float, QuantileSketch, HyperLogLog]] = []
        """(route, window start, response sizes, distinct actors) of windows closed, not yet shipped."""

    def __len__(self) -> int:
        return len(self._routes)

    def get(self, route: str, start: float) -> RouteState | None:
        """The route's state for the window beginning at ``start``; None once the table is full."""
        state = self._routes.get(route)
        if state is None:
            if len(self._routes) >= self.settings.max_routes:
                return None
            state = self._routes.setdefault(route, RouteState(start))
        if state.start != start:
            self._roll(route, state, start)
        return state

    def roll_all(self, start: float) -> None:
        """Close every route window older than ``start`` (at snapshot time, for idle routes)."""
        for route, state in list(self._routes.items()):
            if state.start < start:
                self._roll(route, state, start)

    def take_closed(self) -> list[tuple[str, float, QuantileSketch, HyperLogLog]]:
        with self._lock:
            closed, self.closed = self.closed, []
        return closed

    def _roll(self, route: str, state: RouteState, start: float) -> None:
        with self._lock:
            if state.start >= start:
                return
            self.closed.append((route, state.start, state.sizes, state.actors))
            state.close_window(self.settings)
            del self.closed[: -2 * self.settings.max_routes]
            state.start = start
