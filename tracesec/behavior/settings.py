"""Behaviour settings: what the engine needs of the ``behavior_*`` fields of ``tracesec.config.Config``
(same names and defaults, parsed and range-checked there), so the engine can be built without a Config.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Any

from tracesec.config import SESSION_COOKIES

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class BehaviorSettings:
    """Thresholds of the inline checks. A "window" is a tumbling window aligned on Unix time."""

    block: bool = False
    window_seconds: float = 60.0
    baseline_windows: int = 60
    warmup_windows: int = 5
    warmup_actors: int = 20
    baseline_quantile: float = 0.95
    rate_factor: float = 10.0
    rate_min_calls: int = 30
    enumeration_factor: float = 10.0
    enumeration_min_ids: int = 30
    exfiltration_factor: float = 10.0
    exfiltration_min_bytes: int = 1_000_000
    token_sharing_ips: int = 5
    token_sharing_window_seconds: float = 600.0
    stuffing_failures: int = 20
    stuffing_accounts: int = 5
    stuffing_window_seconds: float = 600.0
    auth_failure_statuses: frozenset[int] = frozenset({401, 403})
    login_routes: frozenset[str] = frozenset()
    scanner_not_found: int = 40
    scanner_probe_paths: int = 3
    scanner_user_agents: frozenset[str] = frozenset()
    api_key_headers: tuple[str, ...] = ("x-api-key",)
    session_cookies: frozenset[str] = SESSION_COOKIES
    block_seconds: float = 600.0
    deny_ips: tuple[Network, ...] = ()
    allow_ips: tuple[Network, ...] = ()
    deny_users: frozenset[str] = frozenset()
    allow_users: frozenset[str] = frozenset()
    deny_credentials: frozenset[str] = frozenset()
    allow_credentials: frozenset[str] = frozenset()
    max_routes: int = 1000
    max_actor_routes: int = 10_000
    max_object_ids: int = 65_536
    max_tracked_credentials: int = 1000
    sketch_width: int = 8192

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> BehaviorSettings:
        """Settings from ``config.behavior_<name>`` where present; block mode from ``config.mode``."""
        values: dict[str, Any] = {"block": getattr(config, "mode", "monitor") == "block"}
        for spec in dataclasses.fields(cls):
            name = "behavior_" + spec.name
            if hasattr(config, name):
                values[spec.name] = getattr(config, name)
        values.update(overrides)
        return cls(**values)
