"""The collector's settings and where they come from when not given: kept free of the web stack so
``tracesec --help`` works without the collector extra installed."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

API_KEYS_VARIABLE = "TRACESEC_COLLECTOR_API_KEYS"


@dataclass(frozen=True)
class CollectorSettings:
    db_path: Path
    api_keys: frozenset[str] = field(default_factory=frozenset)
    max_body_bytes: int = 16 * 1024 * 1024
    queue_size: int = 64
    retry_after_seconds: int = 1
    retention_days: float | None = 7.0
    """Rows older than this are deleted (None: kept forever)."""
    max_db_mb: int | None = None
    """While the database uses more, its oldest spans and events are deleted (None: no limit)."""
    retention_interval_seconds: float = 60.0
    drift_grace_minutes: float = 10.0
    """A service's learning period: no api_drift events before it has been reporting this long."""
    block_seconds: float = 600.0
    """How long a pushed block lasts."""
    block_min_instances: int = 2
    """Instances that must flag an actor before it is blocked everywhere (a blocked_actor decision:
    one is enough)."""
    analysis_interval_seconds: float = 60.0
    """How often the baseline job runs, and the longest a cached behaviour analysis (flows, clusters,
    actor deviations) is served before it is computed again."""
    baseline_bucket_seconds: int = 3600
    """Width of a baseline bucket (the default suits the daily season of 24 buckets)."""
    analysis_window_hours: float = 24.0
    """Recent server spans the behaviour analysis reads (bounded further, see behaviour.py)."""


def default_db_path() -> Path:
    """Where the database lives unless --db says otherwise: the user's data folder, so the collector
    finds its data again whatever folder it is started from."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "tracesec" / "collector.sqlite"


def api_keys_from_env(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    environ = os.environ if environ is None else environ
    return frozenset(key.strip() for key in environ.get(API_KEYS_VARIABLE, "").split(",") if key.strip())
