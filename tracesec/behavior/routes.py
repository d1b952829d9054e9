"""Per-route baselines: what a normal actor does on a route in one window.

During a window each route holds its actors' exact totals (calls, response bytes, distinct object IDs in
one entry; at most ``max_actor_routes`` new entries per window across routes) and the sizes of its first
``SIZES_PER_WINDOW`` responses (an array append; a quantile sketch update would cost four times as much).
The request path only adds to them and compares with the route's thresholds. When the window has
closed, the export worker learns from it: per measure, how many actors' totals reached at least 2**k (a
"reach" histogram, decayed over past windows), from which come a high quantile of the per-actor total and
the next thresholds; then it ships the window. Actors that tripped a check are left out, so attackers do
not become the norm. The table holds at most ``max_routes`` routes.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracesec.behavior.settings import BehaviorSettings
from tracesec.sketches import HyperLogLog, QuantileSketch

REACH_BITS = 64
RESPONSE_SIZE_QUANTILE = 0.99
SIZES_PER_WINDOW = 512
"""Response sizes a route keeps per window for its size baseline (8 bytes each)."""
ENTRIES_PER_ROUTE = 16
"""Exact entries every route gets per window beyond ``max_actor_routes``."""
_MIN_SIZES = 100
_ROUTE_HLL_PRECISION = 10


class Reach:
    """How many actors' window totals reached at least 2**k, decayed over past windows (``baseline``)."""

    __slots__ = ("actor_windows", "baseline")

    def __init__(self) -> None:
        self.baseline = [0.0] * REACH_BITS
        self.actor_windows = 0

    def fold(self, totals: Iterable[int], decay: float) -> None:
        """Add one window's per-actor totals (zeros are not counted); older windows weigh ``decay`` times
        less each time."""
        tops = [0] * (REACH_BITS + 1)
        for total in totals:
            tops[min(total.bit_length(), REACH_BITS)] += 1
        baseline = list(self.baseline)
        reached = 0
        for bit in range(REACH_BITS - 1, -1, -1):
            reached += tops[bit + 1]
            baseline[bit] = baseline[bit] * decay + reached
        self.baseline = baseline
        self.actor_windows += reached

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


class Totals:
    """One actor's window on one route. ``prior_bytes``: the actor's bytes from the route in the window
    before, so a burst straddling the boundary is judged whole. ``tripped``: a check fired on it, so it
    teaches no baseline."""

    __slots__ = ("bytes", "calls", "distinct", "prior_bytes", "tripped")

    def __init__(self, calls: int = 0, size: int = 0, distinct: int = 0, prior_bytes: int = 0) -> None:
        self.calls = calls
        self.bytes = size
        self.distinct = distinct
        self.prior_bytes = prior_bytes
        self.tripped = False


@dataclass
class ClosedWindow:
    """A route's finished window, waiting for the export worker to learn from it and ship it."""

    state: RouteState
    start: float
    sizes: array[int]
    totals: dict[str, Totals]
    untracked_actors: HyperLogLog
    """Actors counted in the count-mins because the window's exact entries were used up."""
    size_sketch: QuantileSketch = field(default_factory=QuantileSketch)
    """The sizes as a sketch, filled in when the worker learns from the window."""

    @property
    def route(self) -> str:
        return self.state.name


class RouteState:
    """One route's current window and the thresholds learnt from its past windows."""

    __slots__ = (
        "bytes",
        "bytes_limit",
        "calls",
        "ids",
        "ids_limit",
        "name",
        "pending",
        "previous",
        "rate_limit",
        "size_baseline",
        "size_limit",
        "sizes",
        "start",
        "totals",
        "untracked_actors",
        "windows",
    )

    def __init__(self, name: str, start: float) -> None:
        self.name = name
        self.start = start
        self.windows = 0
        self.calls = Reach()
        self.ids = Reach()
        self.bytes = Reach()
        self.sizes = array("q")
        self.size_baseline = QuantileSketch()
        self.totals: dict[str, Totals] = {}
        self.previous: dict[str, Totals] = {}
        self.pending: ClosedWindow | None = None
        """The last closed window, folded into the baselines once the next one closes: an actor whose burst
        trips a check in the next window is left out of both."""
        """The window before's totals (empty when that window saw no traffic on the route)."""
        self.untracked_actors = HyperLogLog(_ROUTE_HLL_PRECISION)
        self.rate_limit = math.inf
        self.ids_limit = math.inf
        self.bytes_limit = math.inf
        self.size_limit = math.inf

    def close_window(self, start: float, seconds: float) -> ClosedWindow:
        """Begin the window at ``start`` (windows are ``seconds`` long); the finished one is returned for
        the export worker."""
        closed = ClosedWindow(self, self.start, self.sizes, self.totals, self.untracked_actors)
        self.previous = self.totals if adjacent(self.start, start, seconds) else {}
        self.start = start
        self.sizes = array("q")
        self.totals = {}
        self.untracked_actors = HyperLogLog(_ROUTE_HLL_PRECISION)
        return closed

    def learn(self, window: ClosedWindow, settings: BehaviorSettings) -> None:
        """Ready a closed window for shipping, and fold the window before it into the baselines and derive
        the thresholds from them (export worker)."""
        for size in window.sizes:
            window.size_sketch.add(size)
        pending, self.pending = self.pending, window
        if pending is not None:
            self._fold(pending, settings)

    def _fold(self, window: ClosedWindow, settings: BehaviorSettings) -> None:
        normal = [totals for totals in window.totals.values() if not totals.tripped]
        if normal:
            self.windows += 1
        decay = 1.0 - 1.0 / settings.baseline_windows
        self.calls.fold((totals.calls for totals in normal), decay)
        self.ids.fold((totals.distinct for totals in normal), decay)
        self.bytes.fold((totals.bytes for totals in normal), decay)
        self.size_baseline = self.size_baseline.merged(window.size_sketch)
        warm = self.windows >= settings.warmup_windows and self.calls.actor_windows >= settings.warmup_actors
        if warm:
            self._derive_limits(settings)

    def _derive_limits(self, settings: BehaviorSettings) -> None:
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


def adjacent(earlier: float, later: float, seconds: float) -> bool:
    """Whether the window starting at ``later`` directly follows the one starting at ``earlier`` (starts
    are computed in floating point, so not compared exactly)."""
    return later - earlier < 1.5 * seconds


def _limit(usual: float | None, factor: float, floor: float) -> float:
    return math.inf if usual is None else max(floor, factor * usual)


class RouteTable:
    """Route template -> RouteState, bounded; states roll lazily when first touched in a new window."""

    def __init__(self, settings: BehaviorSettings) -> None:
        self.settings = settings
        self._routes: dict[str, RouteState] = {}
        self._lock = threading.Lock()
        self.tracked = 0
        """Exact (actor, route) entries opened in the engine's current window, across all routes."""
        self.closed: deque[ClosedWindow] = deque()
        """Windows closed and not yet learnt from and shipped, oldest first: while the export worker is
        late, the oldest go once they hold more than two windows' worth of entries or routes."""
        self._closed_entries = 0

    def __len__(self) -> int:
        return len(self._routes)

    def get(self, route: str, start: float) -> RouteState | None:
        """The route's state for the window beginning at ``start``; None once the table is full."""
        state = self._routes.get(route)
        if state is None:
            if len(self._routes) >= self.settings.max_routes:
                return None
            state = self._routes.setdefault(route, RouteState(route, start))
        if state.start != start:
            self._roll(state, start)
        return state

    def totals_for(self, state: RouteState, actor_key: str) -> Totals | None:
        """A new exact entry for the actor on this route; None when this window's entries are used up
        (every route still gets ``ENTRIES_PER_ROUTE``, so a flood on one route leaves the others learning)."""
        if self.tracked >= self.settings.max_actor_routes and len(state.totals) >= ENTRIES_PER_ROUTE:
            return None
        self.tracked += 1
        before = state.previous.get(actor_key)
        totals = state.totals[actor_key] = Totals(prior_bytes=0 if before is None else before.bytes)
        return totals

    def new_window(self) -> None:
        """The engine's window rolled: a fresh allowance of exact entries."""
        self.tracked = 0

    def roll_all(self, start: float) -> None:
        """Close every route window older than ``start`` (at snapshot time, for idle routes)."""
        for state in list(self._routes.values()):
            if state.start < start:
                self._roll(state, start)

    def take_closed(self) -> list[ClosedWindow]:
        with self._lock:
            closed, self.closed, self._closed_entries = list(self.closed), deque(), 0
        return closed

    def _roll(self, state: RouteState, start: float) -> None:
        with self._lock:
            if state.start >= start:
                return
            window = state.close_window(start, self.settings.window_seconds)
            self.closed.append(window)
            self._closed_entries += len(window.totals)
            per_window = self.settings.max_actor_routes + ENTRIES_PER_ROUTE * len(self._routes)
            entries, routes = 2 * per_window, 2 * self.settings.max_routes
            while self._closed_entries > entries or len(self.closed) > routes:
                self._closed_entries -= len(self.closed.popleft().totals)
