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
from typing import Any

ENV_PREFIX = "TRACESEC_"
MODES = ("monitor", "block", "off")


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


def _items(raw: str, _meta: Any) -> tuple[str, ...]:
    """Comma-separated entries whose case matters (routes, JSON field paths)."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


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
        frozenset(), _names, doc="comma-separated integration names not to patch (flask, sqlite3, ...)"
    )
    capture_bodies: bool = setting(True, _flag, doc="record request/response bodies of textual types")
    max_body_bytes: int = setting(16384, _integer, (0, 16 * 1024 * 1024), "body bytes kept per message")
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = setting(
        (), _networks, doc="proxies whose X-Forwarded-For is believed (IPs or CIDRs)"
    )
    redact_fields: frozenset[str] = setting(
        frozenset(), _names, doc="extra field/header names whose values are always redacted"
    )
    queue_size: int = setting(2048, _integer, (16, 1_000_000), "spans/events held before the oldest drop")
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
        frozenset(), _names, doc="hosts an input-chosen URL may reach although internal (an internal API)"
    )
    protect_max_inputs: int = setting(
        1000, _integer, (1, 100_000), "user inputs kept per request for the sink checks; more are counted"
    )
    protect_events_per_minute: int = setting(
        10, _integer, (1, 100_000), "events shipped per minute for one type, route, sink and input"
    )

    behavior: bool = setting(True, _flag, doc="inline behaviour checks (rates, token sharing, scanners...)")
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

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, current value, what it is for) for every setting, for docs and `tracesec config`."""
        return [
            (ENV_PREFIX + f.name.upper(), repr(getattr(self, f.name)), f.metadata["doc"])
            for f in dataclasses.fields(self)
        ]


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
