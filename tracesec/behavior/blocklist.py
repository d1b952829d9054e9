"""Who may not call: actors blocked for a while after a high-severity event (or by the collector), and
static deny/allow lists by IP or CIDR, user id and credential hash.

Keys are ``ip:<address>``, ``user:<id>`` and ``credential:<hash>`` (the hash shown on spans and events).
"""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Iterable

from tracesec.behavior.settings import Network

_CIDR_CACHE_LIMIT = 4096


class Blocklist:
    """Timed blocks in a bounded table; static lists are fixed at construction."""

    def __init__(
        self,
        *,
        deny_ips: tuple[Network, ...] = (),
        allow_ips: tuple[Network, ...] = (),
        deny_users: Iterable[str] = (),
        allow_users: Iterable[str] = (),
        deny_credentials: Iterable[str] = (),
        allow_credentials: Iterable[str] = (),
        max_entries: int = 100_000,
    ) -> None:
        self.max_entries = max_entries
        self._until: dict[str, tuple[float, str]] = {}
        self._deny = _StaticList(deny_ips, deny_users, deny_credentials)
        self._allow = _StaticList(allow_ips, allow_users, allow_credentials)

    def __len__(self) -> int:
        return len(self._until)

    def block(self, key: str, until: float, reason: str) -> None:
        """Block ``key`` until the Unix time ``until`` (a longer block already in place stays)."""
        current = self._until.get(key)
        if current is not None and current[0] >= until:
            return
        if current is None and len(self._until) >= self.max_entries:
            self._make_room(until)
            if len(self._until) >= self.max_entries:
                return
        self._until[key] = (until, reason)

    @property
    def has_allow_list(self) -> bool:
        return bool(self._allow)

    def allowed(self, keys: Iterable[str]) -> bool:
        """True when any key is on the static allow list: such actors are never checked nor blocked."""
        return self._allow.matches(keys) is not None

    def blocking(self, keys: Iterable[str], now: float) -> tuple[str, str] | None:
        """(key, reason) of the first key blocked at ``now``; None when the caller may proceed."""
        keys = tuple(keys)
        if self._until:
            for key in keys:
                entry = self._until.get(key)
                if entry is not None and entry[0] > now:
                    return key, entry[1]
        denied = self._deny.matches(keys)
        return None if denied is None else (denied, "deny_list")

    def entries(self, now: float) -> list[tuple[str, float, str]]:
        """(key, until, reason) of the blocks still in force."""
        return [(key, until, reason) for key, (until, reason) in self._until.items() if until > now]

    def _make_room(self, until: float) -> None:
        """Drop expired blocks, else the one ending soonest (never one outlasting the newcomer)."""
        soonest = heapq.nsmallest(
            max(1, len(self._until) // 10), self._until.items(), key=lambda kv: kv[1][0]
        )
        for key, (ends, _) in soonest:
            if ends <= until:
                del self._until[key]


class _StaticList:
    """Exact keys in a set; CIDR ranges checked only when some are configured, with a bounded cache."""

    def __init__(self, ips: tuple[Network, ...], users: Iterable[str], credentials: Iterable[str]) -> None:
        self._exact = {f"user:{user}" for user in users} | {f"credential:{c}" for c in credentials}
        self._networks = []
        for network in ips:
            if network.num_addresses == 1:
                self._exact.add(f"ip:{network.network_address}")
            else:
                self._networks.append(network)
        self._in_networks: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._exact or self._networks)

    def matches(self, keys: Iterable[str]) -> str | None:
        if not self:
            return None
        for key in keys:
            if key in self._exact or (self._networks and key.startswith("ip:") and self._in_range(key[3:])):
                return key
        return None

    def _in_range(self, address: str) -> bool:
        known = self._in_networks.get(address)
        if known is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                return False
            known = any(ip in network for network in self._networks)
            if len(self._in_networks) >= _CIDR_CACHE_LIMIT:
                self._in_networks.clear()
            self._in_networks[address] = known
        return known
