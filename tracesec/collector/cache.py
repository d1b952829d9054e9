"""Results of analyses too costly to run on every request (flows, clusters, actor deviations), computed
on the first request and served until they are ``max_age_seconds`` old; a key is computed by one thread
at a time, so a burst of requests costs one computation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

MAX_ENTRIES = 256
"""Keys (e.g. services) kept; the least recently computed goes first."""


class RefreshingCache(Generic[V]):
    def __init__(self, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value of ``key`` while fresh, else ``compute()`` (stored for the next callers)."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)
            if entry is not None and time.monotonic() - entry[0] < self.max_age_seconds:
                return entry[1]
            value = compute()
            with self._guard:
                self._entries.pop(key, None)
                self._entries[key] = (time.monotonic(), value)
                while len(self._entries) > MAX_ENTRIES:
                    oldest = next(iter(self._entries))
                    del self._entries[oldest]
                    self._locks.pop(oldest, None)
            return value
