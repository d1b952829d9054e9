"""Configuration: keyword overrides > ``TRACESEC_*`` environment > defaults, parsed once.

Every setting is one dataclass field whose metadata names its parser; the environment variable is
``TRACESEC_`` + the field name in upper case. Adding a setting is adding one field.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

ENV_PREFIX = "TRACESEC_"
MODES = ("monitor", "block", "off")
SESSION_COOKIES = frozenset(
    {"session", "sessionid", "connect.sid", "_session_id", "jsessionid", "phpsessid", "laravel_session"}
)


class ConfigError(ValueError):
    """An invalid setting; the message names the variable and the accepted values."""


Parser = Callable[[str, Any], Any]


def _text(raw: str, _meta: Any) -> str:
    return raw.strip()


def _optional_text(raw: str, _meta: Any) -> str | None:
    return raw.strip() or None


def _choice(raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise ValueError("one of " + ", ".join(choices))
    return value


def _flag(raw: str, _meta: Any) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("true or false (1/0, yes/no, on/off)")


def _integer(raw: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise ValueError(f"a whole number from {low} to {high}")
    return value


def _number(raw: str, bounds: tuple[float, float]) -> float:
    low, high = bounds
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"a number from {low:g} to {high:g}") from None
    if not low <= value <= high:
        raise ValueError(f"a number from {low:g} to {high:g}")
    return value


def _names(raw: str, _meta: Any) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


def _host_names(raw: str, _meta: Any) -> frozenset[str]:
    """Comma-separated host names, each optionally with a port (``internal-api:8443``, ``[::1]:8080``)."""
    names = _names(raw, _meta)
    for name in names:
        if name.startswith("["):
            _, colon, port = name.partition("]:")
        else:  # a bare IPv6 address has more than one colon and no port
            _, colon, port = name.partition(":") if name.count(":") == 1 else ("", "", "")
        if colon and not (port.isdigit() and 0 < int(port) < 1 << 16):
            raise ValueError("comma-separated host names, each optionally with a port from 1 to 65535")
    return names


def _items(raw: str, _meta: Any) -> tuple[str, ...]:
    """Comma-separated entries whose case matters (routes, JSON field paths)."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _texts(raw: str, _meta: Any) -> frozenset[str]:
    """Comma-separated values whose case matters (route templates, user ids)."""
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _name_list(raw: str, _meta: Any) -> tuple[str, ...]:
    """Comma-separated names, lower-cased, in the order given (earlier ones are tried first)."""
    return tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))


def _integers(raw: str, bounds: tuple[int, int]) -> frozenset[int]:
    return frozenset(_integer(part, bounds) for part in raw.split(",") if part.strip())


def _integrations(raw: str, _meta: Any) -> frozenset[str]:
    from tracesec.integrations import integration_names

    known = integration_names()
    names = _names(raw, None)
    if not names <= set(known):
        raise ValueError("comma-separated integration names: " + ", ".join(known))
    return names


def _networks(raw: str, _meta: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ValueError("a comma-separated list of IP addresses or CIDR ranges") from None
    return tuple(networks)


def _endpoint(raw: str, _meta: Any) -> str:
    value = raw.strip()
    if value == "console" or value.startswith(("http://", "https://", "file://")):
        if value.startswith("file://") and len(value) <= len("file://"):
            raise ValueError("file:///path/to/spans.jsonl with a path")
        return value
    raise ValueError("http(s)://host:port, file:///path.jsonl or console")


def setting(default: Any, parse: Parser, meta: Any = None, doc: str = "") -> Any:
    """Declare one setting: its default, how to parse its environment text, and what it is for."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("settings take immutable defaults")
    return field(default=default, metadata={"parse": parse, "meta": meta, "doc": doc})


@dataclass(frozen=True)
class Config:
    """All of tracesec's settings. Build it with :meth:`Config.load`, never field by field."""

    service: str | None = setting(None, _optional_text, doc="service name; default: the app's module")
    mode: str = setting("monitor", _choice, MODES, "monitor (report), block (also stop), off (no patching)")
    endpoint: str = setting(
        "http://127.0.0.1:4319", _endpoint, doc="analysis service URL, file:///path.jsonl or console"
    )
    api_key: str | None = setting(None, _optional_text, doc="bearer key sent to the analysis service")
    disabled_integrations: frozenset[str] = setting(
        frozenset(), _integrations, doc="comma-separated integration names not to patch (flask, sqlite3, ...)"
    )
    capture_bodies: bool = setting(True, _flag, doc="record request/response bodies of textual types")
    max_body_bytes: int = setting(16384, _integer, (0, 16 * 1024 * 1024), "body bytes kept per message")
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = setting(
        (), _networks, doc="proxies whose X-Forwarded-For is believed (IPs or CIDRs)"
    )
    redact_fields: frozenset[str] = setting(
        frozenset(), _names, doc="extra field/header names whose values are always redacted"
    )
    queue_size: int = setting(
        2048,
        _integer,
        (16, 1_000_000),
        "spans/events held; when full, new spans drop (an event drops the oldest)",
    )
    batch_size: int = setting(512, _integer, (1, 100_000), "items per export batch")
    max_batch_bytes: int = setting(4_000_000, _integer, (10_000, 64_000_000), "serialised bytes per batch")
    flush_interval: float = setting(5.0, _number, (0.01, 3600.0), "seconds between exports")
    export_timeout: float = setting(10.0, _number, (0.1, 300.0), "seconds one export request may take")
    retry_max_time: float = setting(60.0, _number, (0.0, 3600.0), "seconds a batch is retried before drop")
    shutdown_timeout: float = setting(3.0, _number, (0.0, 120.0), "seconds the exit flush may take")
    log_level: str = setting(
        "warning", _choice, ("debug", "info", "warning", "error"), "level of tracesec's own log"
    )
    traceparent_allow_hosts: frozenset[str] = setting(
        frozenset(), _names, doc="hosts sent a traceparent (example.com, *.example.com); empty: every host"
    )
    traceparent_deny_hosts: frozenset[str] = setting(
        frozenset(), _names, doc="hosts never sent a traceparent (third parties that reject unknown headers)"
    )
    capture_db_parameters: bool = setting(False, _flag, doc="record SQL parameter values on database spans")
    spans_outside_requests: bool = setting(
        False, _flag, doc="record downstream-call spans made outside any request (scripts, jobs)"
    )

    protect: bool = setting(True, _flag, doc="runtime protection at the sinks (SQL, shell, path, outbound)")
    protect_allow_routes: tuple[str, ...] = setting(
        (), _items, doc="routes never checked at the sinks: templates or paths, a trailing * matches a prefix"
    )
    protect_allow_inputs: tuple[str, ...] = setting(
        (), _items, doc="inputs that may carry SQL, commands or paths (query.sql, body.items.*.template)"
    )
    protect_allow_hosts: frozenset[str] = setting(
        frozenset(),
        _host_names,
        doc="hosts an input-chosen URL may reach although internal (an internal API)",
    )
    protect_max_inputs: int = setting(
        1000, _integer, (1, 100_000), "user inputs kept per request for the sink checks; more are counted"
    )
    protect_events_per_minute: int = setting(
        10, _integer, (1, 100_000), "events shipped per minute for one type, route, sink and input"
    )

    behavior: bool = setting(True, _flag, doc="inline behaviour checks (rates, token sharing, scanners...)")
    behavior_window_seconds: float = setting(
        60.0, _number, (1.0, 3600.0), "window of the rate, enumeration, exfiltration and scanner checks"
    )
    behavior_baseline_windows: int = setting(
        60, _integer, (2, 10_000), "windows a route's baseline remembers (exponential decay)"
    )
    behavior_warmup_windows: int = setting(
        5, _integer, (1, 1000), "windows with traffic before a route's baseline is trusted"
    )
    behavior_warmup_actors: int = setting(
        20, _integer, (1, 1_000_000), "actor-windows a route needs before its baseline is trusted"
    )
    behavior_baseline_quantile: float = setting(
        0.95, _number, (0.5, 0.999), "per-actor quantile of a route's baseline the factors multiply"
    )
    behavior_rate_factor: float = setting(10.0, _number, (1.0, 1000.0), "rate_anomaly: times the usual calls")
    behavior_rate_min_calls: int = setting(
        30, _integer, (1, 1_000_000), "rate_anomaly: calls never flagged below"
    )
    behavior_enumeration_factor: float = setting(
        10.0, _number, (1.0, 1000.0), "enumeration: times the usual distinct object IDs"
    )
    behavior_enumeration_min_ids: int = setting(
        30, _integer, (1, 1_000_000), "enumeration: distinct object IDs never flagged below"
    )
    behavior_exfiltration_factor: float = setting(
        10.0, _number, (1.0, 1000.0), "exfiltration: times the usual response size / bytes per actor"
    )
    behavior_exfiltration_min_bytes: int = setting(
        1_000_000, _integer, (0, 10**12), "exfiltration: bytes never flagged below"
    )
    behavior_token_sharing_ips: int = setting(
        5, _integer, (2, 10_000), "token_sharing: client IPs of one credential within its window"
    )
    behavior_token_sharing_window_seconds: float = setting(
        600.0, _number, (1.0, 86_400.0), "token_sharing: window in seconds"
    )
    behavior_stuffing_failures: int = setting(
        20, _integer, (1, 100_000), "credential_stuffing: failed authentications per client IP"
    )
    behavior_stuffing_accounts: int = setting(
        5, _integer, (2, 100_000), "credential_stuffing: distinct accounts failing from one client IP"
    )
    behavior_stuffing_window_seconds: float = setting(
        600.0, _number, (1.0, 86_400.0), "credential_stuffing: window in seconds"
    )
    behavior_auth_failure_statuses: frozenset[int] = setting(
        frozenset({401, 403}), _integers, (100, 599), "comma-separated statuses meaning failed authentication"
    )
    behavior_login_routes: frozenset[str] = setting(
        frozenset(), _texts, doc="comma-separated login route templates or paths (any 4xx/5xx is a failure)"
    )
    behavior_scanner_not_found: int = setting(40, _integer, (1, 100_000), "scanner: 404s per client IP")
    behavior_scanner_probe_paths: int = setting(
        3, _integer, (1, 100_000), "scanner: well-known probe paths (/.env, /.git/...) per client IP"
    )
    behavior_scanner_user_agents: frozenset[str] = setting(
        frozenset(), _names, doc="extra comma-separated user-agent substrings that name a scanner"
    )
    behavior_api_key_headers: tuple[str, ...] = setting(
        ("x-api-key",), _name_list, doc="comma-separated headers an API key is read from, in order"
    )
    behavior_session_cookies: frozenset[str] = setting(
        SESSION_COOKIES, _names, doc="comma-separated session cookie names (a session names the actor)"
    )
    behavior_block_seconds: float = setting(
        600.0, _number, (1.0, 86_400.0), "block mode: seconds an offending actor stays blocked"
    )
    behavior_deny_ips: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = setting(
        (), _networks, doc="client IPs or CIDRs always refused in block mode"
    )
    behavior_allow_ips: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = setting(
        (), _networks, doc="client IPs or CIDRs never checked nor blocked"
    )
    behavior_deny_users: frozenset[str] = setting(
        frozenset(), _texts, doc="user ids (set_user) always refused in block mode"
    )
    behavior_allow_users: frozenset[str] = setting(
        frozenset(), _texts, doc="user ids never checked nor blocked"
    )
    behavior_deny_credentials: frozenset[str] = setting(
        frozenset(), _names, doc="credential hashes (tracesec.credential.hash) always refused in block mode"
    )
    behavior_allow_credentials: frozenset[str] = setting(
        frozenset(), _names, doc="credential hashes never checked nor blocked"
    )
    behavior_max_routes: int = setting(
        1000, _integer, (1, 100_000), "routes with behaviour baselines (beyond: route checks skipped)"
    )
    behavior_max_actor_routes: int = setting(
        10_000, _integer, (0, 10_000_000), "exact (actor, route) totals per window; beyond: count-mins"
    )
    behavior_max_object_ids: int = setting(
        65_536,
        _integer,
        (0, 10_000_000),
        "exact (actor, route, object ID) pairs per window; beyond: count-min",
    )
    behavior_max_tracked_credentials: int = setting(
        1000, _integer, (0, 1_000_000), "credentials whose client IPs are shipped as a HyperLogLog per window"
    )
    behavior_sketch_width: int = setting(8192, _integer, (64, 1 << 24), "count-min width (4 rows of it)")
    discovery: bool = setting(True, _flag, doc="learn the API inventory (endpoints, schemas, auth, labels)")
    discovery_sample_first: int = setting(
        20, _integer, (0, 100_000), "requests analysed in full per endpoint and status before sampling"
    )
    discovery_sample_every: int = setting(
        50, _integer, (1, 1_000_000), "after that, one request in this many is analysed"
    )
    discovery_max_endpoints: int = setting(
        1000, _integer, (1, 100_000), "distinct endpoints tracked per process; more are counted as dropped"
    )
    discovery_enums: bool = setting(
        True, _flag, doc="document small closed sets of short tokens as enums (the only values shipped)"
    )

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Parse settings once: overrides beat the environment, which beats the defaults."""
        env = os.environ if environ is None else environ
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(overrides) - set(known)
        if unknown:
            raise ConfigError(
                f"unknown setting(s) {', '.join(sorted(unknown))}; accepted: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {}
        for name, spec in known.items():
            variable = ENV_PREFIX + name.upper()
            parse: Parser = spec.metadata["parse"]
            meta = spec.metadata["meta"]
            if name in overrides:
                raw = overrides[name]
                if raw is None and spec.default is None:
                    values[name] = None
                    continue
                if not isinstance(raw, str):
                    values[name] = _check_type(variable, name, raw, spec.default, parse, meta)
                    continue
                origin = f"install({name}=...)"
            elif variable in env:
                raw, origin = env[variable], variable
            else:
                continue
            try:
                values[name] = parse(raw, meta)
            except ValueError as exc:
                raise ConfigError(f"{origin}: invalid value {raw!r}; accepted: {exc}") from None
        return cls(**values)

    def describe(self) -> list[SettingInfo]:
        """Every setting with its value here and its default, for ``tracesec config`` and the docs."""
        return [
            SettingInfo(
                ENV_PREFIX + f.name.upper(),
                _show(getattr(self, f.name)),
                _show(f.default),
                accepted(f.metadata["parse"], f.metadata["meta"]),
                f.metadata["doc"],
            )
            for f in dataclasses.fields(self)
        ]


class SettingInfo(NamedTuple):
    variable: str
    value: str
    default: str
    accepted: str
    doc: str


_LIST_PARSERS: dict[Parser, str] = {
    _names: "comma-separated names (any case)",
    _host_names: "comma-separated names (any case)",
    _items: "comma-separated entries",
    _texts: "comma-separated entries",
    _name_list: "comma-separated names, in order of preference",
}


def accepted(parse: Parser, meta: Any) -> str:
    """What a setting accepts, in the words its parser uses to refuse a bad value (one source of truth);
    list parsers refuse nothing, so they are described here."""
    if parse in _LIST_PARSERS:
        return _LIST_PARSERS[parse]
    if parse is _integers:
        low, high = meta
        return f"comma-separated whole numbers from {low} to {high}"
    try:
        parse("\x00not a valid value\x00", meta)
    except ValueError as exc:
        return str(exc)
    return "text"


def _show(value: Any) -> str:
    """A value as a user would write it in the environment."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (frozenset, set, tuple, list)):
        return ",".join(sorted(str(item) for item in value))
    return str(value)


def _check_type(variable: str, name: str, value: Any, default: Any, parse: Parser, meta: Any) -> Any:
    """Accept a typed keyword override, validated by round-tripping it through the text parser."""
    if isinstance(value, bool) or isinstance(default, bool):
        text = "1" if value is True else "0" if value is False else str(value)
    elif isinstance(value, (frozenset, set, list, tuple)):
        text = ",".join(str(v) for v in value)
    else:
        text = str(value)
    try:
        return parse(text, meta)
    except ValueError as exc:
        raise ConfigError(
            f"install({name}=...) / {variable}: invalid value {value!r}; accepted: {exc}"
        ) from None
