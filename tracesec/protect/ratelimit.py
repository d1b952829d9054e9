"""Flood control for protection events: an attacker replaying one payload must not flood the exporter.

At most ``per_minute`` events per key (type, route, sink, input path) are shipped in each minute; the next
shipped event of a key says how many were held back before it. Keys are kept in LRU order and bounded,
so memory stays flat however many routes and inputs an attacker tries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

WINDOW_SECONDS = 60.0
MAX_KEYS = 4096


class EventLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self.clock = clock
        self.suppressed_total = 0
        self._keys: OrderedDict[Hashable, list[float]] = OrderedDict()  # key -> [window start, sent, held]
        self._lock = threading.Lock()

    def admit(self, key: Hashable) -> int | None:
        """None when the event is held back; otherwise how many of this key were held back since the
        last one shipped."""
        now = self.clock()
        with self._lock:
            entry = self._keys.get(key)
            if entry is None:
                entry = self._keys[key] = [now, 0, 0]
                if len(self._keys) > self.max_keys:
                    self._keys.popitem(last=False)
            else:
                self._keys.move_to_end(key)
                if now - entry[0] >= WINDOW_SECONDS:
                    entry[0], entry[1] = now, 0
            if entry[1] >= self.per_minute:
                entry[2] += 1
                self.suppressed_total += 1
                return None
            entry[1] += 1
            held, entry[2] = int(entry[2]), 0
            return held

    def after_fork_in_child(self) -> None:
        """A lock held by another thread at fork time would never be released in the child."""
        self._lock = threading.Lock()
