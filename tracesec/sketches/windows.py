"""Count-min per tumbling time window.

Windows start at multiples of their length in Unix time, so every process and host cuts them at the same
instants and the collector can add up the sketches of one window from all of them.
"""

from __future__ import annotations

import math

from tracesec.sketches.countmin import CountMin


def window_start(now: float, window_seconds: float) -> float:
    """The start of the window ``now`` falls in."""
    return math.floor(now / window_seconds) * window_seconds


class WindowedCountMin:
    """Counts in ``current``; at each new window the finished sketch moves to ``completed`` (for shipping)."""

    __slots__ = ("completed", "current", "depth", "start", "width", "window_seconds")

    def __init__(self, window_seconds: float, width: int = 8192, depth: int = 4, now: float = 0.0) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self.window_seconds = window_seconds
        self.width, self.depth = width, depth
        self.start = window_start(now, window_seconds)
        self.current = CountMin(width, depth)
        self.completed: tuple[float, CountMin] | None = None

    def roll(self, start: float) -> None:
        """Begin the window starting at ``start``; a no-op unless it is later than the current one."""
        if start <= self.start:
            return
        self.completed = (self.start, self.current)
        self.current = CountMin(self.width, self.depth)
        self.start = start
