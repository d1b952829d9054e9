"""Window bookkeeping shared by the checks."""

from __future__ import annotations

from collections.abc import Hashable

from tracesec.sketches import window_start

_ONCE_LIMIT = 10_000


class OncePerWindow:
    """Remembers which findings were reported this window, so a finding is reported once per window."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: set[Hashable] = set()

    def first(self, finding: Hashable) -> bool:
        if finding in self._seen:
            return False
        if len(self._seen) >= _ONCE_LIMIT:
            self._seen.clear()
        self._seen.add(finding)
        return True

    def clear(self) -> None:
        self._seen.clear()


class Tumbling:
    """A check's own window length (when it differs from the engine's): one comparison per request."""

    __slots__ = ("end", "seconds", "start")

    def __init__(self, seconds: float, now: float) -> None:
        self.seconds = seconds
        self.start = window_start(now, seconds)
        self.end = self.start + seconds

    def advance(self, now: float) -> float | None:
        """The new window's start if ``now`` is past this one (which then moves on), else None."""
        if now < self.end:
            return None
        start = window_start(now, self.seconds)
        self.start, self.end = start, start + self.seconds
        return start
